"""How the cost of a daily summary grows with the number of stored cases.

Seeds one SQLite database (migrated to head) in a temp dir, growing it to 10k, 100k and 1M
cases spread over two years. The measured day always holds the same ~100 new cases and their
movements, and the open backlog is the same size, so an ideal summary costs the same at every
size. Each size is timed twice: with the schema as migrated (which has an index on
``case_events(at)`` since migration 0004), and, as the baseline, with that index dropped for
the run: the audit-trail period query then scans every event ever written.

Run: .venv/bin/python bench/summary_bench.py [--sizes 10000,100000,1000000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.domain import tracking
from bot.domain.periods import Period, PeriodKind
from bot.services.reports import summarize
from bot.storage.db import create_engine
from bot.storage.migrate import upgrade
from bot.storage.tables import case_events, cases, ratings, users

TZ = ZoneInfo("Asia/Tehran")
NOW = datetime(2026, 11, 28, 6, 30, tzinfo=UTC)  # Saturday 7 Azar 1405, 10:00 Tehran
DAY = Period.last_complete(PeriodKind.DAY, NOW, TZ)
DAY_START, DAY_END = DAY.bounds(TZ)
SPAN = timedelta(days=730)
# Background cases live (filed, claimed, resolved) well before the measured day.
BACKGROUND_END = DAY_START - timedelta(days=3)
MEASURED_DAY_CASES = 100
BATCH = 50_000
CITIZEN = 1
OFFICERS = tuple(range(100, 120))
VIOLATIONS = ("overpricing", "fraud", "short_weight", "no_price_label", "forced_sale", "other")
PROVINCES = ("23", "10", "07", "09", "03", "30")
EVENT_INDEX = "ix_case_events_at"


def _code(i: int) -> str:
    body = f"{100_000_000 + i:09d}"
    return body + tracking.check_digit(body)


def _case(i: int, created: datetime, status: str, holder: int | None) -> dict[str, Any]:
    return {
        "id": i,
        "code": _code(i),
        "citizen_id": CITIZEN,
        "status": status,
        "violation": VIOLATIONS[i % len(VIOLATIONS)],
        "sector": "food",
        "province": PROVINCES[i % len(PROVINCES)],
        "city": "تهران",
        "business": f"فروشگاه {i % 5000}",
        "business_key": f"فروشگاه {i % 5000}",
        "address": "خیابان انقلاب",
        "description": "شرح",
        "urgent": False,
        "holder_id": holder,
        "created_at": created,
        "updated_at": created,
    }


def _event(case_id: int, action: str, at: datetime, frm: str | None, to: str) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "at": at,
        "actor_id": OFFICERS[case_id % len(OFFICERS)],
        "action": action,
        "from_status": frm,
        "to_status": to,
        "public": True,
    }


def _lifecycle(case_id: int, created: datetime, claim: timedelta, resolve: timedelta | None):
    """Events of one case: filed, claimed, and resolved unless `resolve` is None."""
    yield _event(case_id, "submit", created, None, "new")
    yield _event(case_id, "claim", created + claim, "new", "claimed")
    if resolve is not None:
        yield _event(case_id, "resolve", created + resolve, "claimed", "resolved")


def background(first_id: int, count: int, rng: random.Random) -> Iterator[tuple[dict, list]]:
    """Old, resolved cases spread over two years before the measured day."""
    span = int((BACKGROUND_END - (NOW - SPAN)).total_seconds())
    # Ids follow filing time within a batch, as they do in a real database.
    offsets = sorted(rng.randrange(span) for _ in range(count))
    for case_id, offset in zip(range(first_id, first_id + count), offsets, strict=True):
        created = NOW - SPAN + timedelta(seconds=offset)
        claim = timedelta(minutes=rng.randrange(10, 600))
        resolve = claim + timedelta(minutes=rng.randrange(60, 2400))
        row = _case(case_id, created, "resolved", OFFICERS[case_id % len(OFFICERS)])
        yield row, list(_lifecycle(case_id, created, claim, resolve))


def measured_day(first_id: int, rng: random.Random) -> Iterator[tuple[dict, list]]:
    """The day's ~100 cases: some still open, some claimed and resolved within the day."""
    for n in range(MEASURED_DAY_CASES):
        case_id = first_id + n
        created = DAY_START + timedelta(seconds=rng.randrange(80_000))
        claim = timedelta(minutes=rng.randrange(5, 300))
        resolve = claim + timedelta(minutes=rng.randrange(30, 600)) if n % 2 else None
        status = "resolved" if resolve is not None else "claimed"
        row = _case(case_id, created, status, OFFICERS[n % len(OFFICERS)])
        yield row, list(_lifecycle(case_id, created, claim, resolve))


def write(sync_engine: sa.Engine, generated: Iterator[tuple[dict, list]]) -> None:
    """Bulk inserts (executemany) in big batches inside one transaction."""
    with sync_engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
        case_rows: list[dict] = []
        event_rows: list[dict] = []
        for row, events in generated:
            case_rows.append(row)
            event_rows.extend(events)
            if len(case_rows) >= BATCH:
                _flush(conn, case_rows, event_rows)
        _flush(conn, case_rows, event_rows)
    with sync_engine.connect() as conn:
        # One huge transaction leaves a huge WAL; a running bot checkpoints every 1000 pages.
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _flush(conn: sa.Connection, case_rows: list[dict], event_rows: list[dict]) -> None:
    if case_rows:
        _insert_many(conn, cases, case_rows)
        _insert_many(conn, case_events, event_rows)
        rated = [
            {"case_id": e["case_id"], "citizen_id": CITIZEN, "score": 1 + e["case_id"] % 5,
             "created_at": e["at"] + timedelta(hours=1)}
            for e in event_rows
            if e["action"] == "resolve"
        ]  # fmt: skip
        if rated:
            _insert_many(conn, ratings, rated)
    case_rows.clear()
    event_rows.clear()


def _stored(value: Any) -> Any:
    """A value as SQLAlchemy's SQLite DateTime stores it (naive UTC text), else unchanged."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _insert_many(conn: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    """One driver-level executemany: per-row Core processing would dominate the seeding."""
    columns = list(rows[0])
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    conn.exec_driver_sql(sql, [tuple(_stored(row[c]) for c in columns) for row in rows])


async def time_summary(url: str, repeat: int) -> tuple[float, float]:
    """(best, median) wall time of `summarize` for the measured day, in milliseconds.

    The best run is the cost itself; the median shows how much other load on the machine
    added to it.
    """
    engine = create_engine(url)
    try:
        for _ in range(3):  # warm the connection, SQLAlchemy's statement cache and the pages
            await summarize(engine, DAY_START, DAY_END, now=NOW)
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            result = await summarize(engine, DAY_START, DAY_END, now=NOW)
            runs.append((time.perf_counter() - started) * 1000)
        assert result.new == MEASURED_DAY_CASES, result.new
        return min(runs), statistics.median(runs)
    finally:
        await engine.dispose()


def events_plan(sync_engine: sa.Engine) -> str:
    """SQLite's plan for the period query on the audit trail (the one that needs the index)."""
    sql = (
        "EXPLAIN QUERY PLAN SELECT case_id FROM case_events "
        "WHERE at >= '2026-11-26 20:30:00.000000' AND at < '2026-11-27 20:30:00.000000' "
        "AND action IN ('claim','refer','resolve','reject')"
    )
    with sync_engine.connect() as conn:
        return "; ".join(str(r[-1]) for r in conn.exec_driver_sql(sql))


HEADER = (
    f"{'cases':>10} {'events':>10} {'seed s':>7}"
    "   as migrated: best (median) ratio   without ix_case_events_at: best (median) ratio"
)


def _timing(figures: tuple[float, float], base: float) -> str:
    best, middle = figures
    return f"   {best:>8.1f} ms ({middle:>6.1f}) {best / base:>5.1f}x"


async def measure(url: str, sync_engine: sa.Engine, repeat: int) -> tuple[tuple, tuple, str]:
    """Timings as migrated and without the audit-trail time index, and SQLite's plan."""
    migrated = await time_summary(url, repeat)
    plan = events_plan(sync_engine)
    with sync_engine.begin() as conn:
        conn.exec_driver_sql(f"DROP INDEX {EVENT_INDEX}")
    without = await time_summary(url, repeat)
    with sync_engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE INDEX {EVENT_INDEX} ON case_events (at)")
    return migrated, without, plan


def count_events(sync_engine: sa.Engine) -> int:
    with sync_engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(case_events)
        return int(conn.execute(query).scalar_one())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(135)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        await upgrade(url)
        sync_engine = sa.create_engine(f"sqlite:///{path}")
        with sync_engine.begin() as conn:
            conn.execute(insert(users), [_user(CITIZEN), *(_user(o) for o in OFFICERS)])
        write(sync_engine, measured_day(1, rng))
        stored = MEASURED_DAY_CASES
        print(f"measured day: {DAY.key} ({DAY_START:%Y-%m-%d %H:%M} to {DAY_END:%H:%M} UTC)")
        print(HEADER)
        base: tuple[float, float] | None = None
        for size in sizes:
            started = time.perf_counter()
            write(sync_engine, background(stored + 1, size - stored, rng))
            seeded, stored = time.perf_counter() - started, size
            migrated, without, plan = await measure(url, sync_engine, args.repeat)
            base = base or (migrated[0], without[0])
            line = f"{size:>10,} {count_events(sync_engine):>10,} {seeded:>7.1f}"
            print(line + _timing(migrated, base[0]) + _timing(without, base[1]))
            print(f"{'':>10} plan as migrated: {plan}")
        sync_engine.dispose()


def _user(uid: int) -> dict[str, Any]:
    at = NOW - SPAN
    return {"id": uid, "first_name": f"u{uid}", "created_at": at, "updated_at": at}


if __name__ == "__main__":
    asyncio.run(main())
