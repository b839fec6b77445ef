"""The annual canvass's tables: the EMS progress reports imported, the properties as the newest
report has them, the weekly reports sent to the manager, and the charts attached to them.

- ``canvass_import``: every progress file imported, kept for the audit trail and the week-on-week
  trend: who imported it, when, its SHA-256 (the same file twice is one import), the date it
  reports on, and its figures. The newest report (by its report date, then by when it came) is
  ``current``; the others are ``superseded``.
- ``canvass_property``: one row per property as the current report has it (a newer report
  replaces them all; the older reports' figures stay in ``canvass_import``).
- ``canvass_report``: the weekly report of a registration year: its figures and chart, one per
  ISO week.
- ``canvass_attachment``: the file an outbox message carries (the chart), by the message's dedupe
  key: what was sent stays what was sent, whatever later reports say.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models.core import utcnow


class CanvassImport(SQLModel, table=True):
    __tablename__ = "canvass_import"
    __table_args__ = (
        UniqueConstraint("poll_id", "sha256"),
        Index("ix_canvass_import_poll_report", "poll_id", "report_date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id")
    sha256: str = Field(max_length=64)
    filename: str
    report_date: dt.date  # the day the EMS report describes ("as at")
    properties: int
    status: str = "current"  # current | superseded
    imported_at: dt.datetime = Field(default_factory=utcnow)
    imported_by: str
    figures: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CanvassProperty(SQLModel, table=True):
    __tablename__ = "canvass_property"
    __table_args__ = (
        UniqueConstraint("poll_id", "property_ref"),
        Index("ix_canvass_property_poll_district", "poll_id", "district"),
    )
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id")
    import_id: int = Field(foreign_key="canvass_import.id", index=True)
    line: int  # where it was in the file
    property_ref: str = Field(max_length=100)
    uprn: str | None = Field(default=None, max_length=20)
    district: str = Field(max_length=50)
    route: int  # 1 matched, 2 unmatched, 3 defined
    status: str  # outstanding | responded | no_change | changes | empty
    first_contact: dt.date | None = None
    last_contact: dt.date | None = None
    contacts: int = 0
    canvass_form: bool = False
    personal_contact: bool = False
    personal_contact_date: dt.date | None = None
    response_date: dt.date | None = None
    potential_electors: int = 0
    identified: dt.date | None = None
    itrs: int = 0
    first_itr: dt.date | None = None
    last_itr: dt.date | None = None
    itr_visit: bool = False
    applications: int = 0


class CanvassReport(SQLModel, table=True):
    __tablename__ = "canvass_report"
    __table_args__ = (UniqueConstraint("poll_id", "week"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    week: str = Field(max_length=10)  # ISO week, e.g. 2027-W36
    import_id: int = Field(foreign_key="canvass_import.id")
    report_date: dt.date
    figures: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    chart: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class CanvassAttachment(SQLModel, table=True):
    __tablename__ = "canvass_attachment"
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=300)  # the outbox message's
    filename: str
    content_type: str
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)
