"""Web sessions. The cookie holds a random id; the store holds its hash, how the person signed in
and the session's form token. Idle time is carried in the signed cookie (store.identity is told
the last-seen time), so that reading a page never writes to the store.

Idle timeout 30 minutes, absolute 12 hours (a long count night fits in one sign-in).
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlmodel import Session

from store.identity.secrets import digest, new_secret
from store.models import Account, Person, WebSession, utcnow

IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)


def start(session: Session, person: Person, method: str) -> tuple[WebSession, str]:
    secret = new_secret()
    row = WebSession(
        id_hash=digest(secret), person_id=person.id, method=method, csrf=secrets.token_urlsafe(24)
    )
    session.add(row)
    session.flush()
    return row, secret


def find(session: Session, secret: str, now: dt.datetime | None = None) -> tuple[WebSession, Person] | None:
    """The live session and its person, or None (ended, too old, signed out everywhere, inactive)."""
    now = now or utcnow()
    found = session.execute(
        select(WebSession, Person, Account)
        .join(Person, Person.id == WebSession.person_id)
        .outerjoin(Account, Account.person_id == Person.id)
        .where(WebSession.id_hash == digest(secret))
    ).first()
    if found is None:
        return None
    row, person, account = found
    if row.ended_at is not None or row.created_at + ABSOLUTE < now or not person.active:
        return None
    if account is not None and row.created_at < account.sessions_valid_from:
        return None
    return row, person


def end(session: Session, secret: str) -> None:
    row = session.scalars(select(WebSession).where(WebSession.id_hash == digest(secret))).first()
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
