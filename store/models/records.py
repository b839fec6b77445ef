"""What pollflow keeps of what it did: the outbox of messages and the audit trail."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from store.models.core import utcnow


class NotificationStatus(StrEnum):
    """A message's place in the outbox (store/outbox.py). Stored as its value, and equal to it."""

    QUEUED = "queued"
    SENDING = "sending"  # claimed by a sender, under a lease
    SENT = "sent"
    FAILED = "failed"  # given up on
    GATHERED = "gathered"  # folded into one message that gathers a person's messages (gathered_into)


class Notification(SQLModel, table=True):
    """The outbox: every message pollflow sends, queued first, delivered exactly once."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_status_next", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=300)
    kind: str  # reminder | approaching | overdue | missed | digest | moved | unblocked | ...
    channel: str  # email | sms | webhook
    recipient: str
    subject: str
    body: str
    poll_id: int | None = Field(default=None, foreign_key="poll.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    work_item_id: int | None = Field(default=None, foreign_key="work_item.id")
    status: str = NotificationStatus.QUEUED
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow)
    claimed_until: dt.datetime | None = None
    provider_id: str | None = None  # GOV.UK Notify's id for the message
    last_error: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None
    # Temporary failures are retried until then (the message is no use later); None: three days.
    useful_until: dt.datetime | None = None
    gathered_into: int | None = None  # the message this one was folded into


class AuditEntry(SQLModel, table=True):
    """Append-only: the application never updates or deletes a row (and, on PostgreSQL, the
    database refuses to)."""

    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, index=True)
    actor: str  # a person's email, "local-shell:<user>" or "flow:<name>"
    # Who was authenticated, how (password, sso, token, local-shell, automation) and through what
    # (web, cli, flow): set from store.identity.acting, never from what a caller typed.
    # (No foreign key: SQLite cannot add one to a table, and the trail must outlive any row.)
    person_id: int | None = Field(default=None, index=True)
    auth_method: str | None = None
    via: str | None = None
    action: str  # planned | replanned | moved | completed | notified | ...
    poll_id: int | None = Field(default=None, foreign_key="poll.id", index=True)
    subject: str | None = None  # a work item or event key
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    flow_run_id: str | None = None
    # The chain (store.audit): the previous entry's hash, and SHA-256 over this entry's fields and
    # prev_hash. Null only on an entry written outside pollflow, which verify names.
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)
