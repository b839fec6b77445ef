"""The store's tables (SQLModel).

Every table has a natural key with a unique constraint, so that writing the same thing twice
writes it once: an election by its Democracy Club id, a timetable event by (poll, key, election),
a work item by (poll, key), a reminder by (work item, when), a notification by its dedupe key.

Datetimes are aware: SQLModel stores them in UTC (timestamptz on PostgreSQL) and returns them in
UTC; ``timetables.clock.local`` shows them in Europe/London.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class WorkStatus(StrEnum):
    """A work item's status. Stored as its value, and equal to it: ``WorkStatus.OPEN == "open"``."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Poll(SQLModel, table=True):
    """What is planned together: one election, or several combined on one polling day."""

    __tablename__ = "poll"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=400)  # the election ids joined with "+"
    title: str
    nation: str
    poll_date: dt.date
    status: str = Field(default="planned")  # planned | cancelled
    overlay: str | None = None  # the council overlay file used, if any
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Election(SQLModel, table=True):
    __tablename__ = "election"
    id: int | None = Field(default=None, primary_key=True)
    election_id: str = Field(unique=True, max_length=200)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    kind: str
    nation: str
    title: str


class DateOverride(SQLModel, table=True):
    """A date someone fixed (--set): kept through every replan."""

    __tablename__ = "date_override"
    __table_args__ = (UniqueConstraint("poll_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    key: str
    value: str  # YYYY-MM-DD or YYYY-MM-DDTHH:MM, as given
    set_by: str | None = None
    set_at: dt.datetime = Field(default_factory=utcnow)


class TimetableEvent(SQLModel, table=True):
    __tablename__ = "timetable_event"
    __table_args__ = (UniqueConstraint("poll_id", "key", "scope"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    key: str
    scope: str = "*"  # the election id the event belongs to, or "*" when shared by all
    label: str
    date: dt.date
    time: dt.time | None = None
    earliest: dt.date | None = None
    due_at: dt.datetime = Field(index=True)  # the deadline
    bound: str
    citation: str
    provisional: bool = False
    overridden: bool = False


class WorkItem(SQLModel, table=True):
    __tablename__ = "work_item"
    __table_args__ = (
        UniqueConstraint("poll_id", "key"),
        Index("ix_work_item_status_due", "status", "due_at"),
        Index("ix_work_item_owner_status_due", "owner_id", "status", "due_at"),  # a person's work
    )
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    key: str
    title: str
    description: str | None = None
    owner_role: str
    owner_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    due_at: dt.datetime
    anchor: str  # the event (or "poll") the due date is counted from
    event_key: str | None = None  # the statutory event this work delivers, if any
    needs_signoff: bool = False
    source: str = "catalogue"  # catalogue | overlay
    status: str = WorkStatus.OPEN
    completed_at: dt.datetime | None = None
    completed_by_id: int | None = Field(default=None, foreign_key="person.id")
    note: str | None = None
    election_id: str | None = None  # the election, where a combined poll has one item per election
    # The due date the overdue (or missed) alert was raised for: one alert per due date.
    alerted_due_at: dt.datetime | None = None
    escalated_due_at: dt.datetime | None = None  # raised with the managers, for this due date
    created_at: dt.datetime = Field(default_factory=utcnow)


class WorkDependency(SQLModel, table=True):
    __tablename__ = "work_dependency"
    __table_args__ = (UniqueConstraint("work_item_id", "depends_on_id"),)
    id: int | None = Field(default=None, primary_key=True)
    work_item_id: int = Field(foreign_key="work_item.id", index=True)
    depends_on_id: int = Field(foreign_key="work_item.id", index=True)


class Reminder(SQLModel, table=True):
    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("work_item_id", "label"),
        Index("ix_reminder_due", "sent_at", "remind_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    work_item_id: int = Field(foreign_key="work_item.id", index=True)
    label: str  # e.g. "5 working days before", "on the day"
    remind_at: dt.datetime
    sent_at: dt.datetime | None = None  # when its notification was queued
