"""audit chain: each audit entry carries the previous entry's hash and its own (store/audit.py)

- audit_entry.prev_hash, audit_entry.hash: SHA-256 over the entry's fields and prev_hash, so that
  ``pollflow audit verify`` shows an entry rewritten, deleted, moved or backdated outside pollflow.
- pollflow_audit_head(key), PostgreSQL only: takes the trail's advisory lock, then reads the last
  entry's id and hash, in one round trip (store/audit.py says why the read must follow the lock).
- The entries already there are chained in id order, as they stand: the chain vouches for them
  from now on, not for what happened to them before.

Revision ID: 0007_audit_chain
Revises: 0006_messages
Create Date: 2026-12-04
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from store.audit import GENESIS, entry_hash

revision = "0007_audit_chain"
down_revision = "0006_messages"
branch_labels = None
depends_on = None

STRING = sqlmodel.sql.sqltypes.AutoString
WHEN = sqlmodel.sql.sqltypes.UTCDateTime

# audit_entry as this migration knows it (not the model, which later migrations may change).
ENTRIES = sa.table(
    "audit_entry",
    sa.column("id", sa.Integer()),
    sa.column("at", WHEN()),
    sa.column("actor", STRING()),
    sa.column("person_id", sa.Integer()),
    sa.column("auth_method", STRING()),
    sa.column("via", STRING()),
    sa.column("action", STRING()),
    sa.column("poll_id", sa.Integer()),
    sa.column("subject", STRING()),
    sa.column("details", sa.JSON()),
    sa.column("flow_run_id", STRING()),
    sa.column("prev_hash", STRING()),
    sa.column("hash", STRING()),
)
# VOLATILE plpgsql: its query takes its own snapshot, after the lock is granted; a single SELECT
# calling the lock would read in the snapshot it took before waiting, and miss the entry the
# writer it waited for committed.
PG_HEAD = """
CREATE OR REPLACE FUNCTION pollflow_audit_head(key integer) RETURNS TABLE(id integer, hash varchar) AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(key, 'audit_entry'::regclass::oid::int);
    RETURN QUERY SELECT e.id, e.hash::varchar FROM audit_entry e ORDER BY e.id DESC LIMIT 1;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""
SQLITE_NO_UPDATE = (
    "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
)


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: SQLite's batch copies the table and would lose its triggers.
    op.add_column("audit_entry", sa.Column("prev_hash", STRING(length=64), nullable=True))
    op.add_column("audit_entry", sa.Column("hash", STRING(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_HEAD)
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    # The UPDATE trigger refuses any change to an entry: lifted for the backfill only, inside
    # this migration's transaction, so no one else ever sees the trail unguarded.
    if postgres:
        op.execute("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
    prev = GENESIS
    updates = []
    for row in bind.execute(sa.select(ENTRIES).order_by(ENTRIES.c.id)).mappings():
        fields = {**row, "prev_hash": prev}
        prev = entry_hash(fields)
        updates.append({"entry_id": row["id"], "new_prev": fields["prev_hash"], "new_hash": prev})
    if updates:
        bind.execute(
            ENTRIES.update()
            .where(ENTRIES.c.id == sa.bindparam("entry_id"))
            .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash")),
            updates,
        )
    if postgres:
        op.execute("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_no_update")
    else:
        op.execute(SQLITE_NO_UPDATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS pollflow_audit_head(integer)")
        op.drop_column("audit_entry", "hash")
        op.drop_column("audit_entry", "prev_hash")
        return
    # SQLite drops a column by copying the table, which loses the triggers: put them back.
    with op.batch_alter_table("audit_entry") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
    op.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
    op.execute(SQLITE_NO_UPDATE)
    op.execute(
        "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
    )
