"""Held citizen inputs, the status a question returns to, prompts named by their action.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_inputs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("attachment", sa.JSON(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("media_group_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_held_inputs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_inputs")),
    )
    op.create_index(op.f("ix_held_inputs_user_id_id"), "held_inputs", ["user_id", "id"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("asked_from", sa.String(length=24), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("pending_at", sa.DateTime(), nullable=True))
    # Cases already waiting for an answer were all asked from `claimed` or `referred`; the
    # audit trail says which (the status before the latest ask).
    op.execute(
        """
        UPDATE cases SET asked_from = (
            SELECT e.from_status FROM case_events e
            WHERE e.case_id = cases.id AND e.action = 'ask'
            ORDER BY e.id DESC LIMIT 1
        )
        WHERE status = 'awaiting_citizen'
        """
    )
    # The old pending "answer:ID" was the desk's question; it now lives in the case itself.
    op.execute("UPDATE users SET pending_input = NULL WHERE pending_input LIKE 'answer:%'")
    op.execute("UPDATE staff_prompts SET action = 'return_referral' WHERE action = 'return'")


def downgrade() -> None:
    op.execute("UPDATE staff_prompts SET action = 'return' WHERE action = 'return_referral'")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("pending_at")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("asked_from")
    op.drop_index(op.f("ix_held_inputs_user_id_id"), table_name="held_inputs")
    op.drop_table("held_inputs")
