"""Copy a whole installation's database into a new one: `python -m bot copy-data` (SQLite to
PostgreSQL, when one host becomes several processes).

All or nothing: the target is written in one transaction, and the source is read in one read
transaction (one snapshot, even if something still writes to it). Rows stream through in
batches, so memory stays flat however large the tables. Values go through the same Table
objects the bot uses, so each column type converts as it does for the bot (aware UTC
datetimes, booleans); JSON columns are copied as their text, so SQL NULL and JSON null stay
apart. The target's sequences are set past the copied ids, so new rows get fresh ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.util import CommandError
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.storage.db import create_engine, is_sqlite, snapshot
from bot.storage.migrate import current_revision, head_revision, upgrade
from bot.storage.tables import metadata

log = logging.getLogger(__name__)

BATCH_ROWS = 5000
# Tables a fresh migration fills with defaults (0002 seeds the four units): in an otherwise
# empty target their rows are the migration's, not anyone's data, and the source's replace them.
SEEDED = frozenset({"units"})
INT32 = (-(2**31), 2**31 - 1)


class CopyRefused(Exception):
    """The copy was not started, or was rolled back; the message says why, in one line."""


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def matches(self) -> bool:
        return self.source == self.target


@dataclass(frozen=True)
class CopyReport:
    counts: tuple[TableCount, ...]

    @property
    def complete(self) -> bool:
        return all(c.matches for c in self.counts)


class CountsDiffer(Exception):
    """Some table's rows in the target did not come to the source's count: rolled back."""

    def __init__(self, report: CopyReport) -> None:
        super().__init__("row counts differ")
        self.report = report


def tables() -> list[Table]:
    """Every application table, parents before children (alembic_version is not among them)."""
    return list(metadata.sorted_tables)


async def copy_data(
    source_url: str, target_url: str, *, batch_rows: int = BATCH_ROWS
) -> CopyReport:
    """Copy every table of the source (at the migration head) into the empty target.

    The target is migrated to head first. Raises CopyRefused before writing (or after rolling
    back) and CountsDiffer if the counts came out different (rolled back too)."""
    if is_sqlite(source_url):
        path = source_url.split(":///", 1)[1].split("?", 1)[0]
        # Opening a missing file would create an empty database there.
        if not await asyncio.to_thread(Path(path).is_file):
            raise CopyRefused(f"the source database file {path} does not exist")
    source = create_engine(source_url)
    target = create_engine(target_url)
    try:
        async with snapshot(source) as src:  # one read transaction: one snapshot
            revision, head = await current_revision(src), head_revision()
            if revision != head:
                raise CopyRefused(
                    f"the source is at migration {revision or 'none'}, not {head}: migrate it "
                    "first (python -m bot migrate with DATABASE_URL set to it)"
                )
            try:
                await upgrade(target)
            except CommandError as exc:
                raise CopyRefused(f"the target could not be migrated: {exc}") from exc
            async with target.begin() as dst:
                return await _copy_all(src, dst, batch_rows)
    finally:
        await source.dispose()
        await target.dispose()


async def _copy_all(src: AsyncConnection, dst: AsyncConnection, batch_rows: int) -> CopyReport:
    used = [t.name for t in tables() if t.name not in SEEDED and await _has_rows(dst, t)]
    if used:
        raise CopyRefused(
            "the target already holds rows (in " + ", ".join(used) + "); copy only into a "
            "new, empty database"
        )
    for table in tables():
        if table.name in SEEDED:
            await dst.execute(table.delete())
    for table in tables():
        copied = await _copy_table(src, dst, table, batch_rows)
        log.info("copied %d rows of %s", copied, table.name)
    if dst.dialect.name == "postgresql":
        for table in tables():
            await _reset_sequences(dst, table)
    counts = [TableCount(t.name, await _count(src, t), await _count(dst, t)) for t in tables()]
    report = CopyReport(tuple(counts))
    if not report.complete:
        raise CountsDiffer(report)
    return report


async def _has_rows(conn: AsyncConnection, table: Table) -> bool:
    return (await conn.execute(select(1).select_from(table).limit(1))).first() is not None


async def _count(conn: AsyncConnection, table: Table) -> int:
    return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


def _json_key(column: Column[Any]) -> str:
    return f"{column.name}__json"


async def _copy_table(
    src: AsyncConnection, dst: AsyncConnection, table: Table, batch_rows: int
) -> int:
    """Stream `table` from the source into the target; returns the rows copied."""
    pg = dst.dialect.name == "postgresql"
    json_columns = [c for c in table.columns if isinstance(c.type, JSON)]
    # A column referring to its own table (a case merged into another) may point at a row
    # further on: written empty first, and set once every row is in.
    later = [c for c in table.columns if any(fk.column.table is table for fk in c.foreign_keys)]
    keys = list(table.primary_key.columns)
    assert not later or len(keys) == 1, "a self-reference is set again by a one-column key"
    picked: list[ColumnElement[Any]] = [
        type_coerce(c, Text).label(_json_key(c)) if c in json_columns else c for c in table.columns
    ]
    values: dict[str, ColumnElement[Any]] = {}
    for c in json_columns:
        raw = bindparam(_json_key(c), type_=Text)
        values[c.name] = cast(raw, c.type) if pg else raw
    insert = table.insert().values(values) if values else table.insert()
    checks = _checks(table) if pg else []
    pending: dict[str, list[tuple[Any, Any]]] = {c.name: [] for c in later}
    copied = 0
    query = select(*picked).order_by(*table.primary_key.columns)
    result = await src.stream(query.execution_options(yield_per=batch_rows))
    async for batch in result.mappings().partitions(batch_rows):
        rows = [dict(r) for r in batch]
        for row in rows:
            for check in checks:
                check(row)
            for c in later:
                if row[c.name] is not None:
                    pending[c.name].append((row[keys[0].name], row[c.name]))
                    row[c.name] = None
        await dst.execute(insert, rows)
        copied += len(rows)
    for c in later:
        fix = update(table).where(keys[0] == bindparam("row_key"))
        fix = fix.values({c.name: bindparam("ref")})
        refs = pending[c.name]
        for start in range(0, len(refs), batch_rows):
            chunk = refs[start : start + batch_rows]
            await dst.execute(fix, [{"row_key": k, "ref": v} for k, v in chunk])
    return copied


def _checks(table: Table) -> list[Callable[[Mapping[str, Any]], None]]:
    """What PostgreSQL refuses and SQLite keeps: a string past its length or with a NUL, an
    INTEGER past 32 bits. Named here by table, column and row, instead of a bare driver error
    halfway through."""
    pk = [c.name for c in table.primary_key.columns]
    found: list[Callable[[Mapping[str, Any]], None]] = []

    def refuse(row: Mapping[str, Any], column: str, problem: str) -> None:
        where = ", ".join(f"{k}={row[k]}" for k in pk)
        raise CopyRefused(
            f"{table.name}.{column} of the row {where} {problem}: PostgreSQL cannot store it; "
            "correct that row in the source, then copy again (nothing was written)"
        )

    for c in table.columns:
        name = c.name
        if isinstance(c.type, String):
            length = c.type.length

            def text_ok(
                row: Mapping[str, Any], name: str = name, length: int | None = length
            ) -> None:
                value = row[name]
                if value is None:
                    return
                if length is not None and len(value) > length:
                    refuse(row, name, f"is {len(value)} characters long, more than {length}")
                if "\x00" in value:
                    refuse(row, name, "holds a NUL character")

            found.append(text_ok)
        elif isinstance(c.type, Integer) and not isinstance(c.type, BigInteger):

            def int_ok(row: Mapping[str, Any], name: str = name) -> None:
                value = row[name]
                if value is not None and not INT32[0] <= value <= INT32[1]:
                    refuse(row, name, f"holds {value}, past a 32-bit INTEGER")

            found.append(int_ok)
    return found


async def _reset_sequences(dst: AsyncConnection, table: Table) -> None:
    """Set each serial column's sequence so the next row gets max + 1 (1 if the table is
    empty); columns without a sequence (Telegram ids, text keys) are skipped."""
    for column in table.primary_key.columns:
        if not isinstance(column.type, Integer):
            continue
        sequence = (
            await dst.execute(select(func.pg_get_serial_sequence(table.name, column.name)))
        ).scalar_one()
        if sequence is None:
            continue
        highest = (await dst.execute(select(func.max(column)))).scalar_one()
        used = highest is not None and highest >= 1
        await dst.execute(select(func.setval(sequence, highest if used else 1, used)))


def format_counts(report: CopyReport) -> str:
    """The counts as a plain table, a mismatch marked."""
    width = max(len("table"), *(len(c.table) for c in report.counts))
    lines = [f"{'table':<{width}}  {'source':>10}  {'target':>10}"]
    lines += [
        f"{c.table:<{width}}  {c.source:>10}  {c.target:>10}" + ("" if c.matches else "  DIFFERS")
        for c in report.counts
    ]
    return "\n".join(lines)
