"""Every channel into one desk: a case's channel and who took it; cases without a Telegram
citizen (a call, the web desk) with the caller's name; a draft kind, so that a desk member's
phone call is a draft apart from their own complaint; indexes for the duplicate check (place)
and for a card's supporting reports (merged_into).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("citizen_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.add_column(
            sa.Column("channel", sa.String(length=16), server_default="chat", nullable=False)
        )
        batch_op.add_column(sa.Column("taken_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("caller_name", sa.String(length=120), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_taken_by_users"), "users", ["taken_by"], ["id"]
        )
        batch_op.create_index(
            batch_op.f("ix_cases_latitude_longitude"), ["latitude", "longitude"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cases_merged_into"), ["merged_into"], unique=False)
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="complaint", nullable=False)
        )
        batch_op.drop_constraint(batch_op.f("uq_drafts_user_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_drafts_user_id_kind"), ["user_id", "kind"])


def downgrade() -> None:
    # A user's call drafts go first: one draft per user again.
    op.execute(
        "DELETE FROM attachments"
        " WHERE draft_id IN (SELECT id FROM drafts WHERE kind <> 'complaint')"
    )
    op.execute("DELETE FROM drafts WHERE kind <> 'complaint'")
    with op.batch_alter_table("drafts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_drafts_user_id_kind"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_drafts_user_id"), ["user_id"])
        batch_op.drop_column("kind")
    # Cases without a citizen cannot be kept under the old schema's NOT NULL.
    op.execute("DELETE FROM cases WHERE citizen_id IS NULL")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_merged_into"))
        batch_op.drop_index(batch_op.f("ix_cases_latitude_longitude"))
        batch_op.drop_constraint(batch_op.f("fk_cases_taken_by_users"), type_="foreignkey")
        batch_op.drop_column("caller_name")
        batch_op.drop_column("taken_by")
        batch_op.drop_column("channel")
        batch_op.alter_column("citizen_id", existing_type=sa.BigInteger(), nullable=False)
