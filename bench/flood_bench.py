"""How long another citizen waits for an answer while one user floods the bot.

The real bot (the `Application` that `bot.app.build_application` builds, with the production
flood guard, 20 updates per 10 s, and pacing, 3 messages a second into one private chat) runs
in this process against the fake Bot API server (bot/localapi) with Telegram's real rate
windows, on a fresh database (SQLite in a temp dir, or with --postgres a fresh PostgreSQL
database). Each round:

  quiet   a citizen sends /help; the time until the help screen reaches them is measured.
  flood   a flooder (a new user each round, so the guard starts fresh) sends --flood /start
          at once; right after them another citizen sends /help, measured the same way. The
          round ends when the flooder's backlog is worked off (their admitted /start answered
          and the one warning sent), which is also printed.

The quiet figure is the baseline, measured in the same run. Each /help comes from a new user,
so one citizen's pacing never delays the next measurement.

Run from the repository root:

    .venv/bin/python bench/flood_bench.py [--rounds 5] [--flood 120] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bot.localapi import Limits  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from tests.harness import Bot, running_bot  # noqa: E402

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
HELP = "راهنمای کار با ربات"
SLOW_DOWN = "با سرعت زیاد"
FLOOD_LIMIT, FLOOD_WINDOW = 20, 10.0


@contextlib.asynccontextmanager
async def database(postgres: bool) -> AsyncIterator[str]:
    if not postgres:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
            await upgrade(url)
            yield url
        return
    admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        await upgrade(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def ask_help(bot: Bot, user_id: int) -> float:
    citizen = bot.server.user(user_id, first_name="آرام")
    started = time.perf_counter()
    await citizen.send_text("/help")
    await citizen.expect_message(HELP, timeout=120)
    return time.perf_counter() - started


async def flood_round(bot: Bot, flooder_id: int, other_id: int, count: int) -> tuple[float, float]:
    """(the other citizen's wait, the time until the flooder's backlog was worked off)."""
    flooder = bot.server.user(flooder_id, first_name="پرحرف")
    started = time.perf_counter()
    for _ in range(count):
        await flooder.send_text("/start")
    other_wait = await ask_help(bot, other_id)
    admitted = min(count, FLOOD_LIMIT)
    expected = admitted + (1 if count > FLOOD_LIMIT else 0)
    await bot.server.wait_until(
        lambda: len(flooder.inbox) >= expected, 180, describe=lambda: "flooder's backlog"
    )
    backlog = time.perf_counter() - started
    warnings = [m for m in flooder.inbox if SLOW_DOWN in (m.text or "")]
    assert len(flooder.inbox) == expected and len(warnings) == (expected - admitted), (
        f"flooder got {len(flooder.inbox)} messages, {len(warnings)} warnings"
    )
    return other_wait, backlog


def fmt(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:8.1f} ms   max {max(values) * 1000:8.1f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--flood", type=int, default=120, help="updates the flooder sends")
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()

    quiet: list[float] = []
    flooded: list[float] = []
    backlogs: list[float] = []
    async with (
        database(args.postgres) as url,
        running_bot(
            url,
            limits=Limits(),  # Telegram's real windows
            chat_messages_per_second=3,  # the production default
            flood_max_updates=FLOOD_LIMIT,
            flood_window_seconds=FLOOD_WINDOW,
        ) as bot,
    ):
        await ask_help(bot, 7_000_000)  # warm up: connections, first queries
        for i in range(args.rounds):
            quiet.append(await ask_help(bot, 7_100_000 + i))
            other, backlog = await flood_round(bot, 7_200_000 + i, 7_300_000 + i, args.flood)
            flooded.append(other)
            backlogs.append(backlog)
            print(
                f"round {i + 1}: quiet {quiet[-1] * 1000:7.1f} ms   under flood "
                f"{other * 1000:7.1f} ms   flooder's backlog done after {backlog:5.2f} s",
                flush=True,
            )
        refused = bot.server.refused
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\n{backend}, {args.rounds} rounds, flooder sends {args.flood} /start at once")
    print(f"other citizen's /help, quiet:        {fmt(quiet)}")
    print(f"other citizen's /help, under flood:  {fmt(flooded)}")
    ratio = statistics.median(flooded) / statistics.median(quiet)
    print(f"under flood / quiet (medians):       {ratio:.1f}x")
    print(f"flooder's backlog worked off after:  median {statistics.median(backlogs):.2f} s")
    print(f"refused Bot API calls: {len(refused)}")


if __name__ == "__main__":
    asyncio.run(main())
