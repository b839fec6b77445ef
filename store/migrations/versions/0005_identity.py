"""identity: the council's roles, accounts, web sessions, access tokens, sign-in links, the
council's details; the audit trail records who was authenticated, how and through what

Written by hand, for these tables only (store/models/identity.py). The default roles are seeded
here (store.models.people.DEFAULT_ROLES), so that every store has them from the start.

Revision ID: 0005_identity
Revises: 0001_core
Create Date: 2026-12-03
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005_identity"
down_revision = "0001_core"
branch_labels = None
depends_on = None

STRING = sqlmodel.sql.sqltypes.AutoString
WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _person() -> sa.Column:
    return sa.Column("person_id", sa.Integer(), nullable=False)


def upgrade() -> None:
    role = op.create_table(
        "role",
        _id(),
        sa.Column("key", STRING(length=80), nullable=False),
        sa.Column("name", STRING(length=200), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "account",
        _id(),
        _person(),
        sa.Column("password_hash", STRING(), nullable=True),
        sa.Column("sso_subject", STRING(length=500), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", WHEN(), nullable=True),
        sa.Column("sessions_valid_from", WHEN(), nullable=False),
        sa.Column("updated_at", WHEN(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id"),
        sa.UniqueConstraint("sso_subject"),
    )
    op.create_table(
        "web_session",
        _id(),
        sa.Column("id_hash", STRING(length=64), nullable=False),
        _person(),
        sa.Column("method", STRING(), nullable=False),
        sa.Column("csrf", STRING(length=64), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.Column("ended_at", WHEN(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("id_hash"),
    )
    op.create_index("ix_web_session_person_id", "web_session", ["person_id"])
    op.create_table(
        "access_token",
        _id(),
        _person(),
        sa.Column("name", STRING(length=200), nullable=False),
        sa.Column("token_hash", STRING(length=64), nullable=False),
        sa.Column("hint", STRING(length=20), nullable=False),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.Column("created_by", STRING(), nullable=False),
        sa.Column("revoked_at", WHEN(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_access_token_person_id", "access_token", ["person_id"])
    op.create_table(
        "sign_in_link",
        _id(),
        _person(),
        sa.Column("purpose", STRING(), nullable=False),
        sa.Column("token_hash", STRING(length=64), nullable=False),
        sa.Column("expires_at", WHEN(), nullable=False),
        sa.Column("used_at", WHEN(), nullable=True),
        sa.Column("created_at", WHEN(), nullable=False),
        sa.Column("created_by", STRING(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_sign_in_link_person_id", "sign_in_link", ["person_id"])
    op.create_table(
        "council",
        _id(),
        sa.Column("name", STRING(), nullable=False),
        sa.Column("returning_officer", STRING(), nullable=True),
        sa.Column("address", STRING(), nullable=True),
        sa.Column("email", STRING(), nullable=True),
        sa.Column("phone", STRING(), nullable=True),
        sa.Column("public_url", STRING(), nullable=True),
        sa.Column("updated_at", WHEN(), nullable=False),
        sa.Column("updated_by", STRING(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.add_column("audit_entry", sa.Column("person_id", sa.Integer(), nullable=True))
    op.add_column("audit_entry", sa.Column("auth_method", STRING(), nullable=True))
    op.add_column("audit_entry", sa.Column("via", STRING(), nullable=True))
    op.create_index("ix_audit_entry_person_id", "audit_entry", ["person_id"])
    # My work, the workspace's busiest page: one person's open work, soonest first.
    op.create_index("ix_work_item_owner_status_due", "work_item", ["owner_id", "status", "due_at"])

    from store.models.core import utcnow
    from store.models.people import DEFAULT_ROLES

    now = utcnow()
    op.bulk_insert(
        role,
        [
            {"key": key, "name": name, "permissions": list(perms), "created_at": now}
            for key, (name, perms) in DEFAULT_ROLES.items()
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_work_item_owner_status_due", table_name="work_item")
    op.drop_index("ix_audit_entry_person_id", table_name="audit_entry")
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("via")
        batch.drop_column("auth_method")
        batch.drop_column("person_id")
    for name in ("council", "sign_in_link", "access_token", "web_session", "account", "role"):
        op.drop_table(name)
