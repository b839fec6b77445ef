"""Passwords (argon2, through pwdlib), sign-in with throttling and lockout, single sign-on
identities, and the single-use links that invite a person or reset a password.

A failed sign-in says only "email or password not right", whether or not the email is known, so
the page cannot be used to find out who works here. Five failures in a row lock the account for
fifteen minutes; the person is told the account is locked, and when it opens again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlmodel import Session

from store.audit import record
from store.identity.secrets import digest, new_secret
from store.models import Account, Person, SignInLink, utcnow
from timetables.clock import local
from timetables.errors import PollflowError

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
LINK_LIFETIMES = {"invitation": dt.timedelta(days=7), "reset": dt.timedelta(hours=1)}
MIN_PASSWORD = 12


class SignInError(PollflowError):
    """A sign-in, link or password refused; the message is safe to show."""


@cache
def _hasher():
    from pwdlib import PasswordHash

    return PasswordHash.recommended()  # argon2id


def check_password_rules(password: str, email: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise SignInError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > 1000:
        raise SignInError("the password must have at most 1,000 characters")
    if password.lower() == email.lower() or email.split("@")[0].lower() in password.lower():
        raise SignInError("the password must not contain your email address")


def account_of(session: Session, person: Person) -> Account:
    account = session.scalars(select(Account).where(Account.person_id == person.id)).first()
    if account is None:
        account = Account(person_id=person.id)
        session.add(account)
        session.flush()
    return account


def set_password(session: Session, person: Person, password: str) -> None:
    check_password_rules(password, person.email)
    account = account_of(session, person)
    account.password_hash = _hasher().hash(password)
    account.failed_attempts, account.locked_until, account.updated_at = 0, None, utcnow()


@dataclass
class SignIn:
    person: Person | None
    error: str | None = None


def sign_in_with_password(
    session: Session, email: str, password: str, now: dt.datetime | None = None
) -> SignIn:
    """The person, or why not. Records the failure (and lockout) so throttling survives restarts."""
    now = now or utcnow()
    refusal = "Email address or password not right"
    person = session.scalars(select(Person).where(Person.email == email.strip().lower())).first()
    account = (
        session.scalars(select(Account).where(Account.person_id == person.id)).first() if person else None
    )
    if person is None or account is None or not account.password_hash or not person.active:
        _hasher().verify(password or "x", _dummy_hash())  # the same time taken as for a real account
        return SignIn(None, refusal)
    if account.locked_until and account.locked_until > now:
        return SignIn(
            None,
            f"This account is locked after {MAX_FAILURES} failed sign-ins: try again after "
            f"{local(account.locked_until):%H:%M}, or reset your password",
        )
    if not _hasher().verify(password, account.password_hash):
        account.failed_attempts += 1
        if account.failed_attempts >= MAX_FAILURES:
            account.locked_until, account.failed_attempts = now + LOCKOUT, 0
            record(session, person.email, "account locked", details={"minutes": LOCKOUT.seconds // 60})
        return SignIn(None, refusal)
    account.failed_attempts, account.locked_until = 0, None
    return SignIn(person)


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not a password of anyone's")


def link_sso(session: Session, person: Person, subject: str) -> None:
    account = account_of(session, person)
    account.sso_subject = subject


def person_for_sso(session: Session, issuer: str, sub: str, email: str | None) -> Person | None:
    """The person an SSO identity belongs to: by its subject once linked, else by a verified email
    of someone already in the team (linked then). Nobody is created by signing in."""
    subject = f"{issuer}|{sub}"
    account = session.scalars(select(Account).where(Account.sso_subject == subject)).first()
    if account is not None:
        person = session.get(Person, account.person_id)
        return person if person and person.active else None
    if not email:
        return None
    person = session.scalars(select(Person).where(Person.email == email.lower())).first()
    if person is None or not person.active:
        return None
    link_sso(session, person, subject)
    return person


def make_link(session: Session, person: Person, purpose: str, by: str, now: dt.datetime | None = None) -> str:
    """A new single-use link token (the caller puts it in a URL and sends it by email)."""
    token = new_secret()
    now = now or utcnow()
    session.add(
        SignInLink(
            person_id=person.id,
            purpose=purpose,
            token_hash=digest(token),
            expires_at=now + LINK_LIFETIMES[purpose],
            created_by=by,
        )
    )
    session.flush()
    return token


def open_link(session: Session, token: str, now: dt.datetime | None = None) -> tuple[SignInLink, Person]:
    """The link and its person, if it is still good; else a SignInError saying why."""
    now = now or utcnow()
    link = session.scalars(select(SignInLink).where(SignInLink.token_hash == digest(token))).first()
    if link is None:
        raise SignInError("This link is not valid: ask your Electoral Services Manager for a new one")
    if link.used_at is not None:
        raise SignInError("This link has been used already: sign in, or ask for a new link")
    if link.expires_at < now:
        raise SignInError("This link has expired: ask your Electoral Services Manager for a new one")
    person = session.get(Person, link.person_id)
    return link, person


def use_link(session: Session, token: str, password: str, now: dt.datetime | None = None) -> Person:
    link, person = open_link(session, token, now)
    set_password(session, person, password)
    link.used_at = now or utcnow()
    if link.purpose == "reset":
        sign_out_everywhere(session, person)  # whoever knew the old password is signed out
    return person


def sign_out_everywhere(session: Session, person: Person) -> None:
    """Every session of the person ends (tokens stay: they are revoked one by one)."""
    account = account_of(session, person)
    account.sessions_valid_from = utcnow()
