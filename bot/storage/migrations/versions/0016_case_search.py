"""/find through a trigram index: `cases.search_text` (filled from the existing cases), on
SQLite an FTS5 trigram table kept in step by triggers, on PostgreSQL a pg_trgm GIN index. And
the duplicates check's indexes gain the status: (business_key, status) and (status, latitude,
longitude) replace (business_key) and (latitude, longitude).

The keys are made by `bot.text.search_text`, the function that writes them for new cases: a
later change to that function needs a migration that fills the column again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

import logging

import sqlalchemy as sa
from alembic import op

from bot import text
from bot.storage import search
from bot.storage.tables import SEARCH_FTS, SEARCH_TRGM_INDEX

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    op.add_column("cases", sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    _fill(op.get_bind())
    _duplicates_indexes()
    if op.get_bind().dialect.name == "sqlite":
        for statement in search.fts_ddl():
            op.execute(statement)
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        _warn_if_blind(op.get_bind())
        op.create_index(
            SEARCH_TRGM_INDEX,
            "cases",
            ["search_text"],
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )


def _warn_if_blind(bind: sa.Connection) -> None:
    """pg_trgm takes letters by the database's LC_CTYPE: under "C" or "POSIX" no Persian
    letter is one, the index holds nothing of Persian text and every search reads all of it."""
    probe = "\u0633\u0644\u0627\u0645"  # a Persian word
    found = bind.execute(sa.text("SELECT cardinality(show_trgm(:w))"), {"w": probe}).scalar()
    if not found:
        logging.getLogger("alembic").warning(
            "pg_trgm finds no trigrams in Persian text under this database's LC_CTYPE (C or "
            "POSIX?): /find will read every case. Create the database with a UTF-8 LC_CTYPE "
            "such as C.UTF-8 or fa_IR.UTF-8."
        )


def _duplicates_indexes() -> None:
    """The filing-time duplicates check: the status joins the business and place indexes."""
    op.drop_index("ix_cases_business_key", table_name="cases")
    op.create_index("ix_cases_business_key_status", "cases", ["business_key", "status"])
    op.drop_index("ix_cases_latitude_longitude", table_name="cases")
    op.create_index(
        "ix_cases_status_latitude_longitude", "cases", ["status", "latitude", "longitude"]
    )


def _fill(bind: sa.Connection) -> None:
    """Every existing case's key, in batches by id."""
    cases = sa.table(
        "cases", sa.column("id"), sa.column("business"), sa.column("description"),
        sa.column("search_text"),
    )  # fmt: skip
    update = (
        sa.update(cases)
        .where(cases.c.id == sa.bindparam("case_id"))
        .values(search_text=sa.bindparam("key"))
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(cases.c.id, cases.c.business, cases.c.description)
            .where(cases.c.id > last)
            .order_by(cases.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            update,
            [{"case_id": r.id, "key": text.search_text(r.business, r.description)} for r in rows],
        )
        last = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER {SEARCH_FTS}_{trigger}")
        op.execute(f"DROP TABLE {SEARCH_FTS}")
    else:
        op.drop_index(SEARCH_TRGM_INDEX, table_name="cases")
    op.drop_index("ix_cases_status_latitude_longitude", table_name="cases")
    op.create_index("ix_cases_latitude_longitude", "cases", ["latitude", "longitude"])
    op.drop_index("ix_cases_business_key_status", table_name="cases")
    op.create_index("ix_cases_business_key", "cases", ["business_key"])
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("search_text")
