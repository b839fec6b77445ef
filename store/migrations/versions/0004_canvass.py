"""canvass: EMS progress reports imported, the current report's properties, weekly reports and
the charts attached to their messages

Written by hand, for these tables only (store/canvass_models.py). The same progress file is one
import: canvass_import is unique on (poll_id, sha256).

Revision ID: 0004_canvass
Revises: 0001_core
Create Date: 2026-11-25
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004_canvass"
down_revision = "0001_core"
branch_labels = None
depends_on = None

STRING = sqlmodel.sql.sqltypes.AutoString
WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def _text(name: str, nullable: bool = False, length: int | None = None) -> sa.Column:
    return sa.Column(name, STRING(length=length) if length else STRING(), nullable=nullable)


def _int(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _date(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Date(), nullable=nullable)


def _flag(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "canvass_import",
        _int("id"),
        _int("poll_id"),
        _text("sha256", length=64),
        _text("filename"),
        _date("report_date", nullable=False),
        _int("properties"),
        _text("status"),
        sa.Column("imported_at", WHEN(), nullable=False),
        _text("imported_by"),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "sha256"),
    )
    op.create_index("ix_canvass_import_poll_report", "canvass_import", ["poll_id", "report_date"])

    op.create_table(
        "canvass_property",
        _int("id"),
        _int("poll_id"),
        _int("import_id"),
        _int("line"),
        _text("property_ref", length=100),
        _text("uprn", nullable=True, length=20),
        _text("district", length=50),
        _int("route"),
        _text("status"),
        _date("first_contact"),
        _date("last_contact"),
        _int("contacts"),
        _flag("canvass_form"),
        _flag("personal_contact"),
        _date("personal_contact_date"),
        _date("response_date"),
        _int("potential_electors"),
        _date("identified"),
        _int("itrs"),
        _date("first_itr"),
        _date("last_itr"),
        _flag("itr_visit"),
        _int("applications"),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.ForeignKeyConstraint(["import_id"], ["canvass_import.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "property_ref"),
    )
    op.create_index("ix_canvass_property_import_id", "canvass_property", ["import_id"])
    op.create_index("ix_canvass_property_poll_district", "canvass_property", ["poll_id", "district"])

    op.create_table(
        "canvass_report",
        _int("id"),
        _int("poll_id"),
        _text("week", length=10),
        _int("import_id"),
        _date("report_date", nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("chart", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.Column("updated_at", WHEN(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.ForeignKeyConstraint(["import_id"], ["canvass_import.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "week"),
    )
    op.create_index("ix_canvass_report_poll_id", "canvass_report", ["poll_id"])

    op.create_table(
        "canvass_attachment",
        _int("id"),
        _text("dedupe_key", length=300),
        _text("filename"),
        _text("content_type"),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )


def downgrade() -> None:
    for table in ("canvass_attachment", "canvass_report", "canvass_property", "canvass_import"):
        op.drop_table(table)
