"""Does /export stall the bot? Another user's answer time while an export of N rows is built.

Seeds a database (SQLite, or PostgreSQL with --postgres; migrated to head) with N cases filed on
one day, each with its audit trail (filed, claimed, most resolved) and a phone, then runs the
real bot against the fake Bot API server (`tests.harness.running_bot`). An admin sends
`/export yesterday` (phones included); while the export is being made, other users send /start
one after another (one every 0.1 s at most, each time another user, so that the bot's own pace
of 30 messages a second is never what is measured), and the time to each answer is recorded.
In the same run, on the same database:

- **quiet**: no export running (the baseline);
- **during export (as built)**: the bot as it is: the export runs in a separate process,
  started from a background task;
- **in a thread instead**: the same work (reading in chunks, writing) in a worker thread with
  its own event loop: off the event loop, but sharing the interpreter lock with it;
- **on the loop (as before)**: the whole period read at once and written on the event loop,
  which is how /export worked before.

Run: .venv/bin/python bench/export_bench.py [--rows 20000] [--quiet-samples 50] [--postgres]
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
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bench.common import postgres_database  # noqa: E402
from bot.domain import tracking  # noqa: E402
from bot.domain.periods import Period, PeriodKind  # noqa: E402
from bot.localapi import FakeUser  # noqa: E402
from bot.services import export  # noqa: E402
from bot.services.export import Exports  # noqa: E402
from bot.storage.db import create_engine  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.tables import case_events, cases, users  # noqa: E402
from tests.clock import START  # noqa: E402
from tests.harness import Bot, running_bot  # noqa: E402

ADMIN, CITIZEN, OTHER, OTHERS = 9001, 1, 40_000, 100
ASK_EVERY = 0.1  # seconds
OFFICERS = tuple(range(100, 120))
TZ_NAME = "Asia/Tehran"
VIOLATIONS = ("overpricing", "fraud", "short_weight", "no_price_label", "forced_sale", "other")
PROVINCES = ("23", "10", "07", "09", "03", "30")
BATCH = 5000
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def _code(i: int) -> str:
    body = f"{100_000_000 + i:09d}"
    return body + tracking.check_digit(body)


def _rows(count: int, rng: random.Random) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    from zoneinfo import ZoneInfo

    day = Period.last_complete(PeriodKind.DAY, START, ZoneInfo(TZ_NAME))
    day_start, _day_end = day.bounds(ZoneInfo(TZ_NAME))
    offsets = sorted(rng.randrange(86_000) for _ in range(count))
    for case_id, offset in enumerate(offsets, start=1):
        created = day_start + timedelta(seconds=offset)
        officer = OFFICERS[case_id % len(OFFICERS)]
        resolved = case_id % 3 != 0
        row = {
            "id": case_id,
            "code": _code(case_id),
            "citizen_id": CITIZEN,
            "status": "resolved" if resolved else "claimed",
            "violation": VIOLATIONS[case_id % len(VIOLATIONS)],
            "sector": "food",
            "province": PROVINCES[case_id % len(PROVINCES)],
            "city": "تهران",
            "business": f"فروشگاه زنجیره‌ای شمارهٔ {case_id % 5000}",
            "business_key": f"فروشگاه زنجیره‌ای شمارهٔ {case_id % 5000}",
            "address": "خیابان انقلاب، نرسیده به چهارراه ولیعصر، کوچهٔ بهار، پلاک ۱۲",
            "description": "قیمت برنج را بیش از قیمت روی بسته حساب کردند.",
            "contact_phone": f"+98912{case_id:07d}",
            "urgent": case_id % 10 == 0,
            "holder_id": officer,
            "outcome": "branch" if resolved else None,
            "created_at": created,
            "updated_at": created,
        }
        events = [
            _event(case_id, "submit", created, None, "new", None),
            _event(case_id, "claim", created + timedelta(minutes=30), "new", "claimed", officer),
        ]
        if resolved:
            at = created + timedelta(hours=5)
            events.append(_event(case_id, "resolve", at, "claimed", "resolved", officer))
        yield row, events


def _event(
    case_id: int, action: str, at: Any, frm: str | None, to: str, actor: int | None
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "at": at,
        "actor_id": actor,
        "action": action,
        "from_status": frm,
        "to_status": to,
        "public": True,
    }


async def seed(url: str, count: int) -> None:
    await upgrade(url)
    engine = create_engine(url)
    at = START - timedelta(days=30)
    people = [CITIZEN, *OFFICERS]
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(users),
                [{"id": u, "first_name": "x", "created_at": at, "updated_at": at} for u in people],
            )
            batch: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            for row, evs in _rows(count, random.Random(1405)):
                batch.append(row)
                events.extend(evs)
                if len(batch) >= BATCH:
                    await conn.execute(insert(cases), batch)
                    await conn.execute(insert(case_events), events)
                    batch, events = [], []
            if batch:
                await conn.execute(insert(cases), batch)
                await conn.execute(insert(case_events), events)
    finally:
        await engine.dispose()


async def answer_time(user: FakeUser) -> float:
    """Seconds from sending /start to the welcome; then a pause to one ask per ASK_EVERY, so
    that the bot's own pace (30 messages a second overall, as Telegram's) is never reached
    and measured instead."""
    started = time.perf_counter()
    await user.send_text("/start")
    await user.expect_message("سلام", timeout=600)
    took = time.perf_counter() - started
    await asyncio.sleep(max(0.0, ASK_EVERY - took))
    return took


def others(bot: Bot) -> Iterator[FakeUser]:
    """Other users in turn, so that no one chat meets the bot's per-chat pace."""
    users = [bot.server.user(OTHER + i, first_name="علی") for i in range(OTHERS)]
    while True:
        yield from users


async def quiet(bot: Bot, samples: int) -> list[float]:
    turn = others(bot)
    return [await answer_time(next(turn)) for _ in range(samples)]


async def during_export(bot: Bot) -> tuple[list[float], float]:
    """Answer times of /start sent one after another while the export runs; its wall time."""
    admin = bot.server.user(ADMIN, first_name="مدیر")
    turn = others(bot)
    before = len([m for m in admin.inbox if m.kind == "document"])

    def done() -> bool:
        return len([m for m in admin.inbox if m.kind == "document"]) >= before + 2

    started = time.perf_counter()
    await admin.send_text("/export yesterday")
    await admin.expect_message("آماده‌سازی", timeout=600)
    times: list[float] = []
    while not done():
        times.append(await answer_time(next(turn)))
    await bot.server.wait_until(done, 600)
    return times, time.perf_counter() - started


def on_the_loop(rows: int) -> Any:
    """`Exports.build` as the export was built before: on the event loop, in one piece."""

    async def build(self: Exports, start: Any, end: Any, folder: Path, **kwargs: Any) -> Any:
        kwargs.pop("progress", None)
        return await export.write_export(
            self.rt.engine,
            start,
            end,
            folder,
            tz=self.rt.settings.tz,
            max_rows=self.max_rows,
            chunk_rows=rows + 1,
            **kwargs,
        )

    return build


def in_a_thread() -> Any:
    """`Exports.build` with the same work in a worker thread (its own event loop and engine)
    instead of a process: the alternative that was measured and not taken."""

    async def build(self: Exports, start: Any, end: Any, folder: Path, **kwargs: Any) -> Any:
        kwargs.pop("progress", None)

        async def work() -> Any:
            engine = create_engine(self.rt.settings.database_url)
            try:
                return await export.write_export(
                    engine,
                    start,
                    end,
                    folder,
                    tz=self.rt.settings.tz,
                    max_rows=self.max_rows,
                    **kwargs,
                )
            finally:
                await engine.dispose()

        return await asyncio.to_thread(asyncio.run, work())

    return build


def line(name: str, times: list[float], wall: float | None = None) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    extra = f"   export took {wall:6.2f} s" if wall is not None else ""
    return (
        f"{name:<40} n={len(times):4d}  median {statistics.median(times) * 1000:8.1f} ms  "
        f"p95 {p95 * 1000:8.1f} ms  max {max(times) * 1000:8.1f} ms{extra}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--quiet-samples", type=int, default=30)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--pg-admin-dsn", default=PG_ADMIN_DSN)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="export-bench-") as folder:
        if args.postgres:
            async with postgres_database(args.pg_admin_dsn, "eb") as url:
                await run(url, args)
        else:
            await run(f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}", args)


async def run(url: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    await seed(url, args.rows)
    print(f"seeded {args.rows:,} cases in {time.perf_counter() - started:.1f} s")
    async with running_bot(url, admin_ids=[ADMIN], export_max_rows=max(args.rows, 1)) as bot:
        calm = await quiet(bot, args.quiet_samples)
        results = {"during export (as built: a process)": await during_export(bot)}
        for name, build in (
            ("during export, in a thread instead", in_a_thread()),
            ("during export, on the loop (as before)", on_the_loop(args.rows)),
        ):
            real = Exports.build
            Exports.build = build  # type: ignore[method-assign]
            try:
                results[name] = await during_export(bot)
            finally:
                Exports.build = real  # type: ignore[method-assign]
    print(f"export of {args.rows:,} rows (XLSX and CSV, phones included)")
    print(line("quiet (no export)", calm))
    for name, (times, wall) in results.items():
        print(line(name, times, wall))


if __name__ == "__main__":
    asyncio.run(main())
