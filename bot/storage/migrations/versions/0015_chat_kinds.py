"""Chat kinds: whether an id is a private chat or a group, as the messenger said.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_kinds",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_chat_kinds")),
    )
    # A user's id is their private chat with the bot: the people already met are known.
    op.execute(
        "INSERT INTO chat_kinds (chat_id, kind, seen_at) "
        "SELECT id, 'private', updated_at FROM users"
    )


def downgrade() -> None:
    op.drop_table("chat_kinds")
