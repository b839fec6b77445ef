"""messages: how long a message is worth sending, messages gathered into one, and how each
person prefers to hear

- notification.useful_until: a temporary failure is retried (with backoff) until then, not a
  fixed number of times; past it the message fails, saying why.
- notification.gathered_into: a message folded into one that gathers a person's messages
  (tasks/messaging/gather.py); its status is then 'gathered'.
- work_item.escalated_due_at: overdue work raised with the managers, for which due date.
- person.hear_by (email | text | webhook | digest) and person.webhook_url: each person's own
  choice, within what the alert policy requires (config/alerts.yaml).

Revision ID: 0006_messages
Revises: 0005_identity
Create Date: 2026-12-04
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006_messages"
down_revision = "0005_identity"
branch_labels = None
depends_on = None

WHEN = sqlmodel.sql.sqltypes.UTCDateTime
STRING = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("notification") as table:
        table.add_column(sa.Column("useful_until", WHEN(), nullable=True))
        table.add_column(sa.Column("gathered_into", sa.Integer(), nullable=True))
    with op.batch_alter_table("work_item") as table:
        table.add_column(sa.Column("escalated_due_at", WHEN(), nullable=True))
    with op.batch_alter_table("person") as table:
        table.add_column(sa.Column("hear_by", STRING(length=20), nullable=False, server_default="email"))
        table.add_column(sa.Column("webhook_url", STRING(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person") as table:
        table.drop_column("webhook_url")
        table.drop_column("hear_by")
    with op.batch_alter_table("work_item") as table:
        table.drop_column("escalated_due_at")
    with op.batch_alter_table("notification") as table:
        table.drop_column("gathered_into")
        table.drop_column("useful_until")
