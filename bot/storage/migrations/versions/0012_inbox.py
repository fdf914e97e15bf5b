"""Inbox: updates committed as they arrive, handled per sender in order under a lease.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("lane_key", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("flood_warning", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("lease_holder", sa.String(length=96), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox")),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbox_handled_at_update_id"), ["handled_at", "update_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inbox_lane_key_handled_at_update_id"),
            ["lane_key", "handled_at", "update_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_lane_key_handled_at_update_id"))
        batch_op.drop_index(batch_op.f("ix_inbox_handled_at_update_id"))
    op.drop_table("inbox")
