"""staff: polling places, stations and districts; the staff register; per poll the staffing plan,
posts, recruitment answers, offers, training sessions and bookings

Written by hand, for these tables only (store/staff_models.py). One person is never booked twice
on a day: staff_post is unique on (staff_id, duty_date).

Revision ID: 0002_staff
Revises: 0001_core
Create Date: 2026-11-24
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002_staff"
down_revision = "0001_core"
branch_labels = None
depends_on = None

STRING = sqlmodel.sql.sqltypes.AutoString
WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _text(name: str, nullable: bool = False, length: int | None = None) -> sa.Column:
    return sa.Column(name, STRING(length=length) if length else STRING(), nullable=nullable)


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, WHEN(), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _json(name: str) -> sa.Column:
    return sa.Column(name, sa.JSON(), nullable=False)


def _where() -> list[sa.Column]:
    return [
        _text("postcode", nullable=True),
        sa.Column("easting", sa.Float(), nullable=True),
        sa.Column("northing", sa.Float(), nullable=True),
    ]


def _indexes(table: str, columns: list[str]) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "polling_place",
        _id(),
        _text("ref", length=100),
        _text("name"),
        _text("address"),
        *_where(),
        _text("uprn", nullable=True),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_table(
        "polling_station",
        _id(),
        _text("code", length=100),
        _text("name"),
        _int("place_id", nullable=True),
        _text("address"),
        *_where(),
        _text("uprn", nullable=True),
        _text("area", nullable=True),
        _text("districts"),
        _text("inspector_group", nullable=True),
        _int("electorate", nullable=True),
        _int("postal_voters", nullable=True),
        _int("properties", nullable=True),
        _text("source"),
        sa.Column("active", sa.Boolean(), nullable=False),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["place_id"], ["polling_place.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    _indexes("polling_station", ["place_id"])
    op.create_table(
        "polling_district",
        _id(),
        _text("ref", length=100),
        _text("name"),
        _int("station_id", nullable=True),
        _int("electorate", nullable=True),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["station_id"], ["polling_station.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    _indexes("polling_district", ["station_id"])
    op.create_table(
        "staff_member",
        _id(),
        _text("email", length=320),
        _text("name"),
        _text("phone", nullable=True),
        _text("address"),
        *_where(),
        _json("roles"),
        _json("experience"),
        _text("performance"),
        _text("notes"),
        _text("preferred_area", nullable=True),
        _json("preferred_stations"),
        _json("preferred_colleagues"),
        _text("payroll_ref", nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sensitive", sa.Text(), nullable=True),
        _when("sensitive_given_at", nullable=True),
        _when("sensitive_purged_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "staffing_plan",
        _id(),
        _int("poll_id"),
        _when("recruitment_close"),
        _when("training_deadline"),
        sa.Column("count_date", sa.Date(), nullable=False),
        _int("expected_ballot_papers", nullable=True),
        _int("expected_postal_votes", nullable=True),
        _json("areas"),
        _when("invitations_sent_at", nullable=True),
        _when("allocated_at", nullable=True),
        _when("experience_recorded_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id"),
    )
    op.create_table(
        "staff_recruitment",
        _id(),
        _int("poll_id"),
        _int("staff_id"),
        _text("status"),
        _when("invited_at"),
        _when("responded_at", nullable=True),
        _text("responded_via", nullable=True),
        _int("chasers"),
        _when("last_chased_at", nullable=True),
        _json("available_dates"),
        _json("roles"),
        _text("note", nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "staff_id"),
    )
    _indexes("staff_recruitment", ["poll_id", "staff_id", "status"])
    op.create_table(
        "staff_post",
        _id(),
        _int("poll_id"),
        _text("key", length=200),
        _text("kind"),
        _text("role"),
        _int("station_id", nullable=True),
        _text("group_name", nullable=True),
        _int("slot"),
        _text("label"),
        sa.Column("duty_date", sa.Date(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _int("staff_id", nullable=True),
        _text("status"),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        _text("pinned_by", nullable=True),
        _text("unfilled_reason", nullable=True),
        _when("updated_at"),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"]),
        sa.ForeignKeyConstraint(["station_id"], ["polling_station.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "key"),
        sa.UniqueConstraint("staff_id", "duty_date", name="uq_staff_post_one_duty_a_day"),
    )
    _indexes("staff_post", ["poll_id", "staff_id", "station_id"])
    op.create_table(
        "staff_offer",
        _id(),
        _int("poll_id"),
        _int("post_id"),
        _int("staff_id"),
        _text("status"),
        _when("offered_at"),
        _when("answered_at", nullable=True),
        _int("chasers"),
        _when("last_chased_at", nullable=True),
        _text("reason", nullable=True),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.ForeignKeyConstraint(["post_id"], ["staff_post.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("post_id", "staff_id"),
    )
    _indexes("staff_offer", ["poll_id", "post_id", "staff_id", "status"])
    op.create_table(
        "staff_training_session",
        _id(),
        _int("poll_id"),
        _text("code", length=50),
        _text("title"),
        _text("venue"),
        _when("starts_at"),
        _when("ends_at"),
        _int("capacity"),
        _json("roles"),
        _when("created_at"),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "code"),
    )
    _indexes("staff_training_session", ["poll_id"])
    op.create_table(
        "staff_training_booking",
        _id(),
        _int("session_id"),
        _int("staff_id"),
        _text("status"),
        _when("booked_at"),
        _when("marked_at", nullable=True),
        _text("marked_by", nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["staff_training_session.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "staff_id"),
    )
    _indexes("staff_training_booking", ["session_id", "staff_id"])


def downgrade() -> None:
    for table in (
        "staff_training_booking",
        "staff_training_session",
        "staff_offer",
        "staff_post",
        "staff_recruitment",
        "staffing_plan",
        "staff_member",
        "polling_district",
        "polling_station",
        "polling_place",
    ):
        op.drop_table(table)
