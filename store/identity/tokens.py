"""Personal access tokens: how a person acts from the command line (``POLLFLOW_TOKEN``).

A token is ``pf_`` and 43 random characters, shown once when made; the store keeps its SHA-256.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from store.identity.secrets import digest, new_secret
from store.models import AccessToken, Person, utcnow
from timetables.errors import PollflowError

PREFIX = "pf_"


class TokenRefused(PollflowError):
    """A token that is not (or no longer) good."""


def create_token(session: Session, person: Person, name: str, by: str) -> tuple[AccessToken, str]:
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise PollflowError("a token needs a name of 1 to 200 characters (say where it is used)")
    secret = new_secret(PREFIX)
    row = AccessToken(
        person_id=person.id, name=name, token_hash=digest(secret), hint=secret[:7], created_by=by
    )
    session.add(row)
    session.flush()
    return row, secret


def person_for_token(session: Session, secret: str) -> tuple[Person, AccessToken]:
    secret = secret.strip()
    if not secret.startswith(PREFIX):
        raise TokenRefused("POLLFLOW_TOKEN is not a pollflow access token (they start pf_)")
    row = session.scalars(select(AccessToken).where(AccessToken.token_hash == digest(secret))).first()
    if row is None:
        raise TokenRefused(
            "POLLFLOW_TOKEN is not a token this store knows: create one with `pollflow tokens create`"
        )
    if row.revoked_at is not None:
        raise TokenRefused(f"POLLFLOW_TOKEN ({row.hint}…, '{row.name}') was revoked: create a new one")
    person = session.get(Person, row.person_id)
    if person is None or not person.active:
        raise TokenRefused("POLLFLOW_TOKEN belongs to someone who is no longer active")
    return person, row


def tokens_of(session: Session, person: Person | None = None) -> list[AccessToken]:
    query = select(AccessToken).order_by(AccessToken.created_at)
    if person is not None:
        query = query.where(AccessToken.person_id == person.id)
    return list(session.scalars(query).all())


def revoke(session: Session, token_id: int, person: Person | None = None) -> AccessToken:
    """Revoke a token (``person``: only if it is theirs). Revoking twice changes nothing."""
    row = session.get(AccessToken, token_id)
    if row is None or (person is not None and row.person_id != person.id):
        raise PollflowError(f"no access token {token_id}" + (" of yours" if person else ""))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row
