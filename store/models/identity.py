"""Who may sign in and what they may do: the council's roles and their permissions, the
credentials of each person, web sessions, personal access tokens and single-use links.

Secrets are never stored: a session id, an access token or a link's token is kept as its SHA-256,
so a copy of the database lets nobody sign in; a password as its argon2 hash.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from store.models.core import utcnow


class Role(SQLModel, table=True):
    """A role of the council's own. ``key`` is what people hold and the work catalogue names
    (it never changes); ``name`` is what the council calls it (an admin may rename it)."""

    __tablename__ = "role"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=80)
    name: str = Field(max_length=200)
    permissions: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)


class Account(SQLModel, table=True):
    """A person's way in: a password (argon2), a single sign-on identity, or both."""

    __tablename__ = "account"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    password_hash: str | None = None
    sso_subject: str | None = Field(default=None, unique=True, max_length=500)  # "issuer|sub"
    failed_attempts: int = 0
    locked_until: dt.datetime | None = None
    sessions_valid_from: dt.datetime = Field(default_factory=utcnow)  # "sign out everywhere"
    updated_at: dt.datetime = Field(default_factory=utcnow)


class WebSession(SQLModel, table=True):
    """One sign-in. The cookie carries the id; the row holds its hash, how the person signed in,
    and the form token (CSRF) every form of the session must send back."""

    __tablename__ = "web_session"
    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(unique=True, max_length=64)
    person_id: int = Field(foreign_key="person.id", index=True)
    method: str  # password | sso
    csrf: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    ended_at: dt.datetime | None = None


class AccessToken(SQLModel, table=True):
    """A personal access token for the command line (``POLLFLOW_TOKEN``): shown once, kept hashed,
    revocable."""

    __tablename__ = "access_token"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str = Field(max_length=200)
    token_hash: str = Field(unique=True, max_length=64)
    hint: str = Field(max_length=20)  # the first characters, to tell tokens apart in a list
    created_at: dt.datetime = Field(default_factory=utcnow)
    created_by: str
    revoked_at: dt.datetime | None = None


class SignInLink(SQLModel, table=True):
    """A single-use link sent by email: an invitation (set a password) or a password reset."""

    __tablename__ = "sign_in_link"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    purpose: str  # invitation | reset
    token_hash: str = Field(unique=True, max_length=64)
    expires_at: dt.datetime
    used_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    created_by: str


class Council(SQLModel, table=True):
    """The council's details, one row: its name, its Returning Officer, where to write to, and the
    public address of the workspace (every link pollflow sends starts with it)."""

    __tablename__ = "council"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    returning_officer: str | None = None
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    public_url: str | None = None
    updated_at: dt.datetime = Field(default_factory=utcnow)
    updated_by: str | None = None
