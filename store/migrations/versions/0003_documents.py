"""documents: candidates, document details, documents, their versions and their named steps

Revision ID: 0003_documents
Revises: 0001_core
Create Date: 2026-11-23 05:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003_documents"
down_revision = "0001_core"
branch_labels = None
depends_on = None

STRING = sqlmodel.sql.sqltypes.AutoString
MOMENT = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("election_id", STRING(length=200), nullable=False),
        sa.Column("area", STRING(length=200), nullable=False),
        sa.Column("surname", STRING(length=200), nullable=False),
        sa.Column("forenames", STRING(length=200), nullable=False),
        sa.Column("commonly_used_surname", STRING(), nullable=True),
        sa.Column("commonly_used_forenames", STRING(), nullable=True),
        sa.Column("address", STRING(), nullable=False),
        sa.Column("description", STRING(), nullable=True),
        sa.Column("party", STRING(), nullable=True),
        sa.Column("party_membership", STRING(), nullable=True),
        sa.Column("list_party", STRING(), nullable=True),
        sa.Column("list_position", sa.Integer(), nullable=True),
        sa.Column("proposer", STRING(), nullable=True),
        sa.Column("seconder", STRING(), nullable=True),
        sa.Column("agent_name", STRING(), nullable=True),
        sa.Column("agent_address", STRING(), nullable=True),
        sa.Column("status", STRING(), nullable=False),
        sa.Column("status_reason", STRING(), nullable=True),
        sa.Column("created_at", MOMENT(), nullable=False),
        sa.Column("updated_at", MOMENT(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "election_id", "area", "surname", "forenames"),
    )
    op.create_index("ix_candidate_poll_id", "candidate", ["poll_id"], unique=False)

    op.create_table(
        "document_details",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_by", STRING(), nullable=False),
        sa.Column("updated_at", MOMENT(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id"),
    )

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("key", STRING(length=100), nullable=False),
        sa.Column("scope", STRING(length=300), nullable=False),
        sa.Column("title", STRING(), nullable=False),
        sa.Column("event_key", STRING(), nullable=True),
        sa.Column("due_at", MOMENT(), nullable=True),
        sa.Column("blocked", STRING(), nullable=True),
        sa.Column("created_at", MOMENT(), nullable=False),
        sa.Column("updated_at", MOMENT(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("poll_id", "key", "scope"),
    )
    op.create_index("ix_document_poll_id", "document", ["poll_id"], unique=False)

    op.create_table(
        "document_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", STRING(), nullable=False),
        sa.Column("template", STRING(), nullable=False),
        sa.Column("content_hash", STRING(length=64), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("created_by", STRING(), nullable=False),
        sa.Column("created_at", MOMENT(), nullable=False),
        sa.Column("superseded_at", MOMENT(), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "number"),
    )
    op.create_index("ix_document_version_document_id", "document_version", ["document_id"], unique=False)

    op.create_table(
        "document_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("step", STRING(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("actor", STRING(), nullable=False),
        sa.Column("at", MOMENT(), nullable=False),
        sa.Column("note", STRING(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["version_id"], ["document_version.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version_id", "step"),
    )
    op.create_index("ix_document_step_version_id", "document_step", ["version_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_document_step_version_id", table_name="document_step")
    op.drop_table("document_step")
    op.drop_index("ix_document_version_document_id", table_name="document_version")
    op.drop_table("document_version")
    op.drop_index("ix_document_poll_id", table_name="document")
    op.drop_table("document")
    op.drop_table("document_details")
    op.drop_index("ix_candidate_poll_id", table_name="candidate")
    op.drop_table("candidate")
