"""Work jobs: exports and reports as rows any process may take (lease, retries, one open job
per person and kind), instead of tasks inside the process that received the command.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table(
        "work_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("origin_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("origin_message_id", sa.BigInteger(), nullable=True),
        sa.Column("origin_thread_id", sa.BigInteger(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_message_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_holder", sa.String(length=96), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_jobs")),
    )
    op.create_index("ix_work_jobs_status_lease_until", "work_jobs", ["status", "lease_until"])
    op.create_index("ix_work_jobs_finished_at", "work_jobs", ["finished_at"])
    op.create_index(
        "uq_work_jobs_open",
        "work_jobs",
        ["requested_by", "kind"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("uq_work_jobs_open", table_name="work_jobs")
    op.drop_index("ix_work_jobs_finished_at", table_name="work_jobs")
    op.drop_index("ix_work_jobs_status_lease_until", table_name="work_jobs")
    op.drop_table("work_jobs")
