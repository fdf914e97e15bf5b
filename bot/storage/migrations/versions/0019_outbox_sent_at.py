"""An index on the outbox's (status, sent_at): the sweep deletes messages sent more than
OUTBOX_KEEP_DAYS ago, oldest first, a batch at a time, and without it each batch read and
sorted every sent row (inside SQLite's write lock).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_status_sent_at", "outbox", ["status", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_status_sent_at", table_name="outbox")
