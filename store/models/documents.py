"""The documents' tables: candidates, the details notices need, documents, their versions and the
named steps each version goes through (proof-check, approval, publication).

Natural keys make every write idempotent: a candidate by (poll, election, area, surname,
forenames); the details by poll; a document by (poll, key, scope); a version by (document,
number); a step by (version, step).

A version's ``context`` is the data it was rendered from, already formatted (dates as a notice
writes them), so that its HTML, PDF and Word are reproducible from the row alone and its
``content_hash`` changes exactly when what the notice says changes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models.core import utcnow

CANDIDATE_STATUSES = ("nominated", "withdrawn", "invalid")
# generated -> proofed -> approved -> published; a version whose content was overtaken by a newer
# one before publication is superseded (a published version stays published: it was on the wall).
VERSION_STATUSES = ("generated", "proofed", "approved", "published", "superseded")
STEPS = ("proof", "approval", "publication")


class Candidate(SQLModel, table=True):
    """A person nominated at one election of a poll, in one electoral area (ward, division,
    constituency). ``address`` is what the statement of persons nominated shows: the home
    address, or the statement that stands in for it when the candidate asked for it not to be
    made public."""

    __tablename__ = "candidate"
    __table_args__ = (UniqueConstraint("poll_id", "election_id", "area", "surname", "forenames"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    election_id: str = Field(max_length=200)
    area: str = Field(max_length=200)
    surname: str = Field(max_length=200)
    forenames: str = Field(max_length=200)
    commonly_used_surname: str | None = None
    commonly_used_forenames: str | None = None
    address: str
    description: str | None = None  # as on the nomination paper; may be blank
    party: str | None = None  # the registered party, where the description is a party's
    party_membership: str | None = None  # Wales: the statement of party membership
    list_party: str | None = None  # list elections: the party whose list the candidate is on
    list_position: int | None = None
    proposer: str | None = None
    seconder: str | None = None
    agent_name: str | None = None
    agent_address: str | None = None  # the election agent's office
    status: str = "nominated"  # nominated | withdrawn | invalid
    status_reason: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class DocumentDetails(SQLModel, table=True):
    """What notices need that the timetable does not hold: the council, the Returning Officer,
    the electoral areas and their seats, polling stations, postal vote opening sessions."""

    __tablename__ = "document_details"
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", unique=True)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_by: str
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Document(SQLModel, table=True):
    """One notice or letter of a poll: ``key`` is its kind (notice_of_election, sopn, ...),
    ``scope`` what it is for (an election id, or whatever a letter is addressed to)."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("poll_id", "key", "scope"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    key: str = Field(max_length=100)
    scope: str = Field(max_length=300)
    title: str
    event_key: str | None = None  # the timetable event its publishing deadline comes from
    due_at: dt.datetime | None = None  # the publishing deadline
    blocked: str | None = None  # why it cannot be generated yet (a missing value), if so
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class DocumentVersion(SQLModel, table=True):
    __tablename__ = "document_version"
    __table_args__ = (UniqueConstraint("document_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    number: int
    status: str = "generated"
    template: str
    content_hash: str = Field(max_length=64)
    context: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    html: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str
    created_at: dt.datetime = Field(default_factory=utcnow)
    superseded_at: dt.datetime | None = None


class DocumentStep(SQLModel, table=True):
    """A named step on a version: who proof-checked it, who approved it, when it was published
    (and where). Written once; the audit trail has the same in its own words."""

    __tablename__ = "document_step"
    __table_args__ = (UniqueConstraint("version_id", "step"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="document_version.id", index=True)
    step: str  # proof | approval | publication
    person_id: int | None = Field(default=None, foreign_key="person.id")
    actor: str  # the person's email, or "flow:<name>"
    at: dt.datetime = Field(default_factory=utcnow)
    note: str | None = None
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
