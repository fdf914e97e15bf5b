"""/find's text match, served by a trigram index on both databases.

`cases.search_text` holds each case's search key (`bot.text.search_text`), written with the
case; a query's key comes from the same function, so both backends compare the same strings and
the match is a plain substring test. SQLite answers it from an FTS5 table with the trigram
tokenizer (the key as one phrase: its trigrams in a row, which is the substring), PostgreSQL
from a pg_trgm GIN index (``LIKE '%key%'``). Neither can serve fewer than three characters.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, select
from sqlalchemy import text as sql

from bot.storage.tables import SEARCH_FTS, SEARCH_TRGM_INDEX, cases

# External content: the FTS table keeps only the index and reads the text from `cases`.
# case_sensitive 1: the keys are already case-folded, and an exact comparison is what LIKE
# does on PostgreSQL.
FTS_TABLE = (
    f"CREATE VIRTUAL TABLE {SEARCH_FTS} USING fts5(search_text, content='cases', "
    "content_rowid='id', tokenize='trigram case_sensitive 1')"
)
FTS_TRIGGERS = (
    f"CREATE TRIGGER {SEARCH_FTS}_insert AFTER INSERT ON cases BEGIN "
    f"INSERT INTO {SEARCH_FTS} (rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER {SEARCH_FTS}_delete AFTER DELETE ON cases BEGIN "
    f"INSERT INTO {SEARCH_FTS} ({SEARCH_FTS}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER {SEARCH_FTS}_update AFTER UPDATE OF search_text ON cases BEGIN "
    f"INSERT INTO {SEARCH_FTS} ({SEARCH_FTS}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {SEARCH_FTS} (rowid, search_text) VALUES (new.id, new.search_text); END",
)
FTS_REBUILD = f"INSERT INTO {SEARCH_FTS} ({SEARCH_FTS}) VALUES ('rebuild')"


def fts_ddl() -> list[str]:
    """The statements that create SQLite's search index and fill it from `cases` (migration
    0016, and any later batch migration that rebuilds `cases`, which drops the triggers)."""
    return [FTS_TABLE, *FTS_TRIGGERS, FTS_REBUILD]


def _like_pattern(key: str) -> str:
    escaped = key.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def matches(dialect: str, key: str, newest: int) -> ColumnElement[bool]:
    """Cases whose search text contains `key` (a `bot.text.search_key`, 3+ characters); on
    SQLite only the `newest` of them (by id), which FTS5 reads from the end of its lists."""
    if dialect == "sqlite":
        phrase = '"' + key.replace('"', '""') + '"'
        hits = (
            select(sql("rowid"))
            .select_from(sql(SEARCH_FTS))
            .where(sql(f"{SEARCH_FTS} MATCH :phrase").bindparams(phrase=phrase))
            .order_by(sql("rowid DESC"))
            .limit(newest)
        )
        return cases.c.id.in_(hits)
    # A literal pattern (not '%' || :key || '%'): the planner reads its trigrams.
    return cases.c.search_text.like(_like_pattern(key), escape="/")


def compared(dialect: str) -> Callable[[object, str | None, str, bool, object], bool]:
    """Alembic's `include_object` for comparing a database with `metadata`: SQLite's FTS
    table and its shadow tables are not in `metadata`, and the GIN index is PostgreSQL's."""

    def include(_obj: object, name: str | None, type_: str, _reflected: bool, _to: object) -> bool:
        if type_ == "table" and (name or "").startswith(SEARCH_FTS):
            return False
        return not (type_ == "index" and name == SEARCH_TRGM_INDEX and dialect != "postgresql")

    return include
