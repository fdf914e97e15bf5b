"""The API key a web case was filed with, as a column of the case (`cases.api_key`): what a
key may read back. Cases filed before kept it as a system note on the case ("open311:NAME",
no actor, not public); the notes become the column and go (staff saw them in the timeline as
an unexplained Latin line).

A plain ADD COLUMN and CREATE INDEX: on SQLite a batch rebuild of `cases` would drop the
triggers of the /find index (see `bot.storage.tables.SEARCH_FTS`).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

NOTE = "open311:"


def upgrade() -> None:
    op.add_column("cases", sa.Column("api_key", sa.String(length=64), nullable=True))
    op.create_index("ix_cases_api_key_created_at", "cases", ["api_key", "created_at"])
    notes = sa.table(
        "case_events",
        sa.column("case_id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("actor_id", sa.BigInteger),
        sa.column("public", sa.Boolean),
        sa.column("note", sa.Text),
    )
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("api_key", sa.String))
    system_note = sa.and_(
        notes.c.action == "note",
        notes.c.actor_id.is_(None),
        notes.c.public.is_(False),
        notes.c.note.like(NOTE + "%"),
    )
    op.execute(
        cases.update()
        .values(
            api_key=sa.select(sa.func.substr(notes.c.note, len(NOTE) + 1))
            .where(notes.c.case_id == cases.c.id, system_note)
            .limit(1)
            .scalar_subquery()
        )
        .where(sa.exists().where(notes.c.case_id == cases.c.id, system_note))
    )
    op.execute(notes.delete().where(system_note))


def downgrade() -> None:
    op.drop_index("ix_cases_api_key_created_at", table_name="cases")
    # SQLite's own DROP COLUMN (3.35+), not a batch rebuild: the /find triggers stay.
    op.execute("ALTER TABLE cases DROP COLUMN api_key")
