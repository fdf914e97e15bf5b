"""How the reads that run on every filing, every /queue, «شکایت‌های من» and /find grow with the
number of stored cases.

Seeds one database (SQLite in a temp dir, or with --postgres a fresh PostgreSQL database),
migrated to head, growing it to 10k, 100k and 1M cases with the seeding of
bench/summary_bench.py (two years of resolved cases with their audit trail), each background
case given a citizen out of a pool, a place in Tehran, one of 20 descriptions and its search
text as filing writes it. A fixed set is added once and stays the same at every size: one
citizen's 12 cases (2 of them today), 150 unclaimed cases (the /queue backlog), 3 open cases
of the business a new complaint names, and 5 cases with a rare word. So a read bounded by what
it returns costs the same at every size; a read that grows with the table shows it in the ratio.

The reads are the bot's own functions on the bot's engine: the filing-time duplicates check
(`duplicates.open_matches`, by name and by place) and the daily count (`cases.count_since`);
`desk.queue`; a page of `cases.of_citizen`; and `desk.find` for a rare word, a word in 5% of
the cases and one in every case. Beside them, the outbox's look for due lane heads
(`outbox.due_heads`, every worker's each poll and after each send), with one private chat
known per two stored cases and 30 messages waiting, against the form it had before (the due
heads' chats `IN` every private chat). Each is timed best of --repeat (median in brackets) after
warm-up runs, with the ratio of the best against the first size, and the database's plan for
each statement is printed.

Run: .venv/bin/python bench/scale_bench.py [--sizes 10000,100000,1000000] [--repeat 15]
     [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import postgres_database
from bench.summary_bench import (
    CITIZEN,
    NOW,
    OFFICERS,
    _case,
    _user,
    background,
    measured_day,
    write,
)
from bot import text
from bot.chat_kinds import PRIVATE
from bot.domain.purposes import Purpose
from bot.services import duplicates
from bot.storage import cases as case_store
from bot.storage import desk as desk_store
from bot.storage import outbox as outbox_store
from bot.storage.db import create_engine
from bot.storage.migrate import upgrade
from bot.storage.tables import cases, chat_kinds, outbox, users

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
POOL = 20_000  # background citizens
FIRST_CITIZEN = 10_000
ME = 7  # the citizen whose cases and daily count are read
MY_CASES, MY_TODAY = 12, 2
BACKLOG = 150
DUP_BUSINESS = "فروشگاه 42"  # also a background name: its closed cases grow with the table
DUP_OPEN = 3
RARE = "زعفران‌فروشی"
RARE_CASES = 5
PLACE = (35.70, 51.40)  # where the new complaint is; background cases spread around it
DESCRIPTIONS = (
    "قیمت را بیشتر از برچسب حساب کرد",
    "فاکتور نداد و گفت نقدی بپردازید",
    "کالای تاریخ‌گذشته روی قفسه بود",
    "وزن کالا از مقدار روی بسته کمتر بود",
    "برچسب قیمت نداشت",
    "گران‌فروشی در ساعت شلوغی",
    "کالا را به شرط خرید جنس دیگر فروخت",
    "کارت‌خوان را خراب اعلام کرد",
    "نان کم‌وزن و سوخته بود",
    "مرغ را بالاتر از نرخ مصوب فروخت",
    "روغن را احتکار کرده بود",
    "پول اضافه را پس نداد",
    "بلیت را دو برابر فروخت",
    "کرایه را بیشتر از نرخ گرفت",
    "اجناس قاچاق می‌فروخت",
    "کیفیت کالا با تبلیغ فرق داشت",
    "خدمات پس از فروش را انجام نداد",
    "بیعانه را پس نداد",
    "ضمانت‌نامه را قبول نکرد",
    "تخفیف دروغین اعلام کرده بود",
)
COMMON = "فروشگاه"  # every business name
CHATS_PER_CASE = 0.5  # private chats the bot knows, per stored case
WAITING = 30  # messages in the outbox, to citizens' chats (and 5 to the staff group)
STAFF_GROUP = -1001234567890
FIVE_PERCENT = "احتکار"  # one description in 20


def _described(row: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A summary_bench row as the bot would store it now: a citizen, a place, a description,
    and the search text filing writes."""
    i = row["id"]
    row["citizen_id"] = FIRST_CITIZEN + i % POOL
    row["description"] = f"{DESCRIPTIONS[i % len(DESCRIPTIONS)]}؛ فاکتور {i}"
    row["latitude"] = PLACE[0] + rng.uniform(-0.15, 0.15)
    row["longitude"] = PLACE[1] + rng.uniform(-0.2, 0.2)
    row["search_text"] = text.search_text(row["business"], row["description"])
    return row


def grown(rows: Iterator[tuple[dict, list]], rng: random.Random) -> Iterator[tuple[dict, list]]:
    for row, events in rows:
        yield _described(row, rng), events


def fixed_set(first_id: int) -> Iterator[tuple[dict, list]]:
    """The rows every size shares (see the module docstring), filed in the last week."""
    i = first_id
    today = NOW - timedelta(hours=2)

    def case(created: Any, status: str, **values: Any) -> dict[str, Any]:
        nonlocal i
        row = _case(i, created, status, None if status == "new" else OFFICERS[0])
        name = f"فروشگاه ثابت {i}"  # not one of the background names
        row.update(business=name, business_key=name, latitude=None, longitude=None)
        row["description"] = f"{DESCRIPTIONS[i % len(DESCRIPTIONS)]}؛ فاکتور {i}"
        row.update(values)
        row["search_text"] = text.search_text(row["business"], row["description"])
        i += 1
        return row

    for n in range(MY_CASES):
        created = today - timedelta(minutes=n) if n < MY_TODAY else today - timedelta(days=n)
        yield case(created, "resolved", citizen_id=ME), []
    for n in range(BACKLOG):
        yield case(today - timedelta(minutes=20 * n), "new", urgent=n % 10 == 0), []
    for n in range(DUP_OPEN):
        created = today - timedelta(days=n)
        yield case(created, "claimed", business=DUP_BUSINESS, business_key=DUP_BUSINESS), []
    for n in range(RARE_CASES):
        yield case(today - timedelta(days=n), "resolved", description=f"{RARE} کم‌فروشی کرد"), []


# -- the reads ---------------------------------------------------------------------------------

Read = Callable[[AsyncConnection], Awaitable[Any]]


def _key(word: str) -> str:
    return text.search_key(word)


async def _before(conn: AsyncConnection, key: str) -> list[Any]:
    query = (
        sa.select(cases)
        .where(cases.c.business_key.contains(key, autoescape=True))
        .order_by(cases.c.created_at.desc())
        .limit(20)
    )
    return list((await conn.execute(query)).all())


async def _outbox_before(conn: AsyncConnection) -> list[Any]:
    """The look for citizens' due heads as it was: `chat_id IN (every private chat)`, which
    SQLite answers by reading the whole of chat_kinds."""
    earlier = outbox.alias("earlier")
    private_chats = sa.select(chat_kinds.c.chat_id).where(chat_kinds.c.kind == PRIVATE)
    held_back = sa.exists().where(
        earlier.c.chat_id == outbox.c.chat_id,
        earlier.c.status == "pending",
        earlier.c.id < outbox.c.id,
    )
    query = (
        sa.select(outbox)
        .where(
            outbox.c.status == "pending",
            outbox.c.next_attempt_at <= NOW,
            outbox.c.chat_id.in_(private_chats),
            outbox.c.lease_until.is_(None),
            ~held_back,
        )
        .order_by(outbox.c.id)
        .limit(16)
    )
    return list((await conn.execute(query)).all())


READS: dict[str, Read] = {
    "duplicates by name": lambda c: duplicates.open_matches(
        c, business=DUP_BUSINESS, city="تهران", citizen_id=ME
    ),
    "duplicates by place": lambda c: duplicates.open_matches(
        c, business="نام تازه", city="تهران", latitude=PLACE[0], longitude=PLACE[1], citizen_id=ME
    ),
    "daily count": lambda c: case_store.count_since(c, ME, NOW - timedelta(hours=10)),
    "/queue": lambda c: desk_store.queue(c),
    "my cases (page 1)": lambda c: case_store.of_citizen(c, ME, offset=0, limit=5),
    "/find rare word": lambda c: desk_store.find(c, search_key=_key(RARE), code=None, phone=None),
    "/find 5% word": lambda c: desk_store.find(
        c, search_key=_key(FIVE_PERCENT), code=None, phone=None
    ),
    "/find every case": lambda c: desk_store.find(
        c, search_key=_key(COMMON), code=None, phone=None
    ),
    # The query /find ran before migration 0016 (the business key only, by LIKE '%…%'): the
    # baseline, a pass over every case whatever the word.
    "/find before 0016": lambda c: _before(c, _key(RARE)),
    "outbox look, citizens": lambda c: outbox_store.due_heads(c, NOW, private=True, limit=16),
    "outbox look, groups": lambda c: outbox_store.due_heads(c, NOW, private=False, limit=16),
    "outbox look before": lambda c: _outbox_before(c),
}
CHECKS: dict[str, Callable[[Any], bool]] = {
    "duplicates by name": lambda r: len(r) == DUP_OPEN,
    "daily count": lambda r: r == MY_TODAY,
    "/queue": lambda r: r[1] == BACKLOG,
    "my cases (page 1)": lambda r: r[1] == MY_CASES,
    "/find rare word": lambda r: len(r) == RARE_CASES,
    "/find every case": lambda r: len(r) == 20,
    "outbox look, citizens": lambda r: len(r) == 16,
    "outbox look, groups": lambda r: len(r) == 1,  # one lane: the group's oldest
    "outbox look before": lambda r: len(r) == 16,
}


async def time_read(engine: AsyncEngine, name: str, repeat: int) -> tuple[float, float]:
    """(best, median) of one read in milliseconds, each on a pooled connection as the bot
    takes one."""
    read = READS[name]
    for _ in range(3):
        async with engine.connect() as conn:
            result = await read(conn)
    assert CHECKS.get(name, lambda _r: True)(result), (name, result)
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        async with engine.connect() as conn:
            await read(conn)
        runs.append((time.perf_counter() - started) * 1000)
    return min(runs), statistics.median(runs)


async def plans(engine: AsyncEngine, name: str) -> list[str]:
    """The database's plan for every statement the read runs, one line each."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with engine.connect() as conn:
            await READS[name](conn)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    out = []
    async with engine.connect() as conn:
        for statement, parameters in seen:
            if engine.dialect.name == "sqlite":
                rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                out.append("; ".join(str(r[-1]) for r in rows))
            else:
                rows = await conn.exec_driver_sql("EXPLAIN " + statement, parameters)
                nodes = [str(r[0]).strip().removeprefix("->  ") for r in rows]
                out.append("; ".join(n.split("  (cost")[0] for n in nodes if "(cost" in n))
    return [line for line in out if line]  # the connection's own statements plan nothing


# -- seeding -----------------------------------------------------------------------------------


def _citizens() -> list[dict[str, Any]]:
    return [_user(ME), *(_user(FIRST_CITIZEN + n) for n in range(POOL))]


async def seed_postgres(url: str, rows: Iterator[tuple[dict, list]]) -> None:
    """The same cases through COPY (the audit trail is left out: no read here touches it)."""
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn)
    try:
        batch: list[dict[str, Any]] = []
        for row, _events in rows:
            batch.append(row)
            if len(batch) >= 20_000:
                await _copy(conn, batch)
        await _copy(conn, batch)
        await conn.execute("ANALYZE cases")
    finally:
        await conn.close()


def _naive(value: Any) -> Any:
    """UTC without a zone, as `UTCDateTime` stores it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


async def _copy(conn: asyncpg.Connection, batch: list[dict[str, Any]]) -> None:
    if batch:
        columns = list(batch[0])
        records = [tuple(_naive(r[c]) for c in columns) for r in batch]
        await conn.copy_records_to_table("cases", records=records, columns=columns)
        batch.clear()


async def grow(url: str, sync_engine: sa.Engine | None, rows: Iterator[tuple[dict, list]]) -> float:
    started = time.perf_counter()
    if sync_engine is not None:
        write(sync_engine, rows)
        with sync_engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        await seed_postgres(url, rows)
    return time.perf_counter() - started


async def _execute(url: str, sync_engine: sa.Engine | None, statement: Any, rows: list) -> None:
    if sync_engine is not None:
        with sync_engine.begin() as conn:
            conn.execute(statement, rows)
        return
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(statement, rows)
    finally:
        await engine.dispose()


async def _seed_outbox(url: str, sync_engine: sa.Engine | None) -> None:
    """WAITING messages due to as many citizens, and 5 to the staff group."""
    due = NOW - timedelta(seconds=5)
    rows = [
        {
            "chat_id": chat,
            "method": "sendMessage",
            "payload": {"text": "x"},
            "purpose": Purpose.CITIZEN_NOTICE.value,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": due,
            "created_at": due,
        }
        for chat in [*(FIRST_CITIZEN + 7 * n for n in range(WAITING)), *[STAFF_GROUP] * 5]
    ]
    await _execute(url, sync_engine, insert(outbox), rows)


async def _know_chats(url: str, sync_engine: sa.Engine | None, known: int, count: int) -> None:
    """Private chats known from `known` up to `count` (the waiting messages' chats among the
    first)."""
    for first in range(known, count, 100_000):
        rows = [
            {"chat_id": FIRST_CITIZEN + n, "kind": PRIVATE, "seen_at": NOW}
            for n in range(first, min(count, first + 100_000))
        ]
        await _execute(url, sync_engine, insert(chat_kinds), rows)


async def run(url: str, sizes: list[int], repeat: int) -> None:
    await upgrade(url)
    postgres = url.startswith("postgresql")
    sync_engine = None if postgres else sa.create_engine(url.replace("+aiosqlite", ""))
    people = [*_citizens(), _user(CITIZEN), *(_user(o) for o in OFFICERS)]
    await _execute(url, sync_engine, insert(users), people)
    await _seed_outbox(url, sync_engine)
    chats = 0  # private chats known so far
    rng = random.Random(135)
    stored = 0
    fixed = list(fixed_set(1))
    measured = list(grown(measured_day(len(fixed) + 1, rng), rng))
    await grow(url, sync_engine, iter(fixed + measured))
    stored = len(fixed) + len(measured)
    backend = "PostgreSQL" if postgres else "SQLite"
    print(f"{backend}; best of {repeat} (median) in ms; ratio of the best to the first size")
    base: dict[str, float] = {}
    for size in sizes:
        seeded = await grow(
            url, sync_engine, grown(background(stored + 1, size - stored, rng), rng)
        )
        await _know_chats(url, sync_engine, chats, int(size * CHATS_PER_CASE))
        chats = int(size * CHATS_PER_CASE)
        stored = size
        engine = create_engine(url)
        try:
            print(f"\n{size:,} cases (seeded in {seeded:.1f} s)")
            for name in READS:
                best, middle = await time_read(engine, name, repeat)
                base.setdefault(name, best)
                print(f"  {name:<20} {best:>8.2f} ms ({middle:>7.2f}) {best / base[name]:>6.1f}x")
            if size == sizes[-1] or size == sizes[0]:
                print("  plans:")
                for name in READS:
                    for line in await plans(engine, name):
                        print(f"    {name}: {line}")
        finally:
            await engine.dispose()
    if sync_engine is not None:
        sync_engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--postgres", action="store_true", help="a fresh database on 127.0.0.1")
    parser.add_argument("--pg-admin-dsn", default=PG_ADMIN_DSN)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.postgres:
        async with postgres_database(args.pg_admin_dsn, "scale") as url:
            await run(url, sizes, args.repeat)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            await run(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}", sizes, args.repeat)


if __name__ == "__main__":
    asyncio.run(main())
