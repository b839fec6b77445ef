"""Acting as a person from the command line, as they would: with their own access token.

``token_for`` makes a token for someone in the store; ``tokens_for_by`` sets POLLFLOW_TOKEN to the
token of the person a command's ``--by`` names (when they are in the store), so the older command
tests keep their ``--by`` and now prove it. A ``--by`` naming no one in the store gets no token,
and the command refuses it.
"""

from __future__ import annotations

import contextlib
import os

from sqlmodel import select

from store.db import session_scope
from store.identity.credentials import set_password
from store.identity.tokens import create_token
from store.models import Person
from store.people import add_person

PASSWORD = "staple battery horse 2027"


def token_for(email: str, name: str = "tests") -> str:
    with session_scope() as session:
        person = session.exec(select(Person).where(Person.email == email.lower())).first()
        if person is None:
            raise LookupError(email)
        _, secret = create_token(session, person, name, "tests")
    return secret


@contextlib.contextmanager
def token_of(email: str | None):
    before = os.environ.pop("POLLFLOW_TOKEN", None)
    try:
        if email:
            os.environ["POLLFLOW_TOKEN"] = token_for(email)
        yield
    finally:
        os.environ.pop("POLLFLOW_TOKEN", None)
        if before is not None:
            os.environ["POLLFLOW_TOKEN"] = before


@contextlib.contextmanager
def tokens_for_by(args):
    """POLLFLOW_TOKEN for the person ``--by`` names in ``args``, if they are in the store."""
    args = list(args)
    email = args[args.index("--by") + 1] if "--by" in args[:-1] else None
    if email:
        with session_scope() as session:
            if session.exec(select(Person).where(Person.email == email.lower())).first() is None:
                email = None  # no one of that name: no token, and the command refuses the --by
    with token_of(email):
        yield


def seed_account(session, email: str, name: str, roles: list[str], password: str = PASSWORD):
    """A person with roles and a password (the workspace tests' team)."""
    person, _ = add_person(session, email, name, roles, "tests")
    set_password(session, person, password)
    return person
