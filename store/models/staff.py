"""Tables for polling stations and temporary election staff: the stations register imported from
the EMS, the staff register, and per poll the posts to fill, each person's answers, offers and
training.

Natural keys with unique constraints make every write idempotent: a station by its code, a
person by email, a post by (poll, key), a person's recruitment by (poll, person), an offer by
(post, person), a training session by (poll, code), a booking by (session, person).

The store itself refuses to book one person twice on a day: ``staff_post`` is unique on
(staff_id, duty_date) (NULLs, vacant posts, are distinct on SQLite and PostgreSQL alike).

Bank details and National Insurance numbers are kept, if at all, only as a Fernet token in
``staff_member.sensitive`` (store/staff_crypto.py): never in clear, never in the audit trail.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.models.core import utcnow

# The roles temporary staff are appointed to, in the order posts are listed.
STAFF_ROLES = (
    "presiding-officer",
    "poll-clerk",
    "polling-station-inspector",
    "postal-vote-opener",
    "count-supervisor",
    "count-assistant",
)
ROLE_LABELS = {
    "presiding-officer": "Presiding Officer",
    "poll-clerk": "Poll Clerk",
    "polling-station-inspector": "Polling Station Inspector",
    "postal-vote-opener": "Postal Vote Opener",
    "count-supervisor": "Count Supervisor",
    "count-assistant": "Count Assistant",
}
POST_KINDS = ("station", "inspector", "count", "postal")
# vacant: nobody; allocated: somebody, not yet offered; offered: waiting for their answer;
# accepted: appointed.
POST_STATUSES = ("vacant", "allocated", "offered", "accepted")
RECRUITMENT_STATUSES = ("invited", "available", "declined", "lapsed")
OFFER_STATUSES = ("offered", "accepted", "declined", "withdrawn", "lapsed", "retracted")
BOOKING_STATUSES = ("booked", "attended", "absent", "cancelled")


class PollingPlace(SQLModel, table=True):
    """A building where one or more polling stations are."""

    __tablename__ = "polling_place"
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=100)
    name: str
    address: str = ""
    postcode: str | None = None
    easting: float | None = None
    northing: float | None = None
    uprn: str | None = None
    updated_at: dt.datetime = Field(default_factory=utcnow)


class PollingStation(SQLModel, table=True):
    __tablename__ = "polling_station"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=100)
    name: str
    place_id: int | None = Field(default=None, foreign_key="polling_place.id", index=True)
    address: str = ""
    postcode: str | None = None
    easting: float | None = None
    northing: float | None = None
    uprn: str | None = None
    area: str | None = None  # electoral area (ward, division)
    districts: str = ""  # the polling district references it serves, comma-separated
    inspector_group: str | None = None
    electorate: int | None = None
    postal_voters: int | None = None
    properties: int | None = None  # addresses in an address-level export
    source: str = ""  # the format and file it came from
    active: bool = True
    updated_at: dt.datetime = Field(default_factory=utcnow)


class PollingDistrict(SQLModel, table=True):
    __tablename__ = "polling_district"
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=100)
    name: str = ""
    station_id: int | None = Field(default=None, foreign_key="polling_station.id", index=True)
    electorate: int | None = None
    updated_at: dt.datetime = Field(default_factory=utcnow)


class StaffMember(SQLModel, table=True):
    """A person on the register of temporary staff (not a council officer: those are Person)."""

    __tablename__ = "staff_member"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)  # lower-case
    name: str
    phone: str | None = None
    address: str = ""
    postcode: str | None = None
    easting: float | None = None
    northing: float | None = None
    roles: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    experience: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # role -> polls
    performance: str = ""  # "", "good" or "concern" (a concern keeps them out of charge)
    notes: str = ""
    preferred_area: str | None = None
    preferred_stations: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    preferred_colleagues: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    payroll_ref: str | None = None
    active: bool = True
    sensitive: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # Fernet token
    sensitive_given_at: dt.datetime | None = None
    sensitive_purged_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class StaffingPlan(SQLModel, table=True):
    """A poll's staffing: its dates, expected volumes and how far recruitment has gone."""

    __tablename__ = "staffing_plan"
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", unique=True)
    recruitment_close: dt.datetime
    training_deadline: dt.datetime
    count_date: dt.date
    expected_ballot_papers: int | None = None  # given by the user; else estimated
    expected_postal_votes: int | None = None
    # The electoral areas (wards) the poll's stations are in; empty: every active station.
    areas: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    invitations_sent_at: dt.datetime | None = None
    allocated_at: dt.datetime | None = None  # the first allocation: replacements follow
    experience_recorded_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class StaffRecruitment(SQLModel, table=True):
    """One person's invitation to one poll and their answer."""

    __tablename__ = "staff_recruitment"
    __table_args__ = (UniqueConstraint("poll_id", "staff_id"), Index("ix_staff_recruitment_status", "status"))
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    staff_id: int = Field(foreign_key="staff_member.id", index=True)
    status: str = "invited"
    invited_at: dt.datetime = Field(default_factory=utcnow)
    responded_at: dt.datetime | None = None
    responded_via: str | None = None  # web | cli | officer
    chasers: int = 0
    last_chased_at: dt.datetime | None = None
    available_dates: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # ISO
    roles: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # willing roles
    note: str | None = None


class StaffPost(SQLModel, table=True):
    """One post to fill at a poll: a station's presiding officer, its second poll clerk, an
    inspector for a group of stations, a count assistant, a postal opener at one session."""

    __tablename__ = "staff_post"
    __table_args__ = (
        UniqueConstraint("poll_id", "key"),
        UniqueConstraint("staff_id", "duty_date", name="uq_staff_post_one_duty_a_day"),
    )
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    key: str = Field(max_length=200)  # e.g. station:S12:poll-clerk:2
    kind: str  # station | inspector | count | postal
    role: str
    station_id: int | None = Field(default=None, foreign_key="polling_station.id", index=True)
    group_name: str | None = None  # inspector group or session
    slot: int = 1
    label: str
    duty_date: dt.date
    starts: dt.time
    ends: dt.time
    active: bool = True
    staff_id: int | None = Field(default=None, foreign_key="staff_member.id", index=True)
    status: str = "vacant"
    pinned: bool = False
    pinned_by: str | None = None
    unfilled_reason: str | None = None
    updated_at: dt.datetime = Field(default_factory=utcnow)


class StaffOffer(SQLModel, table=True):
    """An offer of a post to a person, and what became of it."""

    __tablename__ = "staff_offer"
    __table_args__ = (UniqueConstraint("post_id", "staff_id"), Index("ix_staff_offer_status", "status"))
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    post_id: int = Field(foreign_key="staff_post.id", index=True)
    staff_id: int = Field(foreign_key="staff_member.id", index=True)
    status: str = "offered"
    offered_at: dt.datetime = Field(default_factory=utcnow)
    answered_at: dt.datetime | None = None
    chasers: int = 0
    last_chased_at: dt.datetime | None = None
    reason: str | None = None


class TrainingSession(SQLModel, table=True):
    __tablename__ = "staff_training_session"
    __table_args__ = (UniqueConstraint("poll_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True)
    code: str = Field(max_length=50)
    title: str
    venue: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    roles: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # empty: all
    created_at: dt.datetime = Field(default_factory=utcnow)


class TrainingBooking(SQLModel, table=True):
    __tablename__ = "staff_training_booking"
    __table_args__ = (UniqueConstraint("session_id", "staff_id"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="staff_training_session.id", index=True)
    staff_id: int = Field(foreign_key="staff_member.id", index=True)
    status: str = "booked"
    booked_at: dt.datetime = Field(default_factory=utcnow)
    marked_at: dt.datetime | None = None
    marked_by: str | None = None
