"""Receipt latency when many citizens file at once and the staff group is at its limit.

N simulated citizens fill in a complaint each (through the real bot, against the fake Bot API
server on 127.0.0.1 with Telegram's real rate limits: 30 messages a second overall, 20 a
minute into a group), then all press «تأیید و ارسال» at the same moment. Each submission
queues the citizen's receipt (the tracking code) and a card for the staff group. The script
prints, per citizen, the time from the press to the receipt: median, 90th percentile and
maximum; and when the last staff card arrived (that one is bound by the group's limit either
way).

It runs twice in one process, each on a fresh database:

- **strict order** (the baseline): the outbox worker as it was before lanes, one row at a time
  in id order, so receipts wait behind earlier cases' cards;
- **lanes**: the worker as it is, chat by chat, citizens first.

Run from the repository root:

    .venv/bin/python bench/receipt_latency.py                  # 50 citizens, SQLite
    .venv/bin/python bench/receipt_latency.py --citizens 100 --postgres

The baseline with N citizens takes about N/20 minutes (the cards' pace); --skip-baseline
leaves it out.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

import bot.app  # noqa: E402
from bot.localapi import FakeUser, Limits  # noqa: E402
from bot.services.delivery import OutboxWorker  # noqa: E402
from bot.storage import outbox as outbox_store  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from tests.flows import answer_until_evidence, finish_after_evidence, start_filing  # noqa: E402
from tests.harness import FAST_SERVER_RATE, STAFF_CHAT_ID, running_bot  # noqa: E402

RECEIVED = "شکایت شما دریافت و ثبت شد"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
FIRST_CITIZEN = 50001


class StrictOrderWorker(OutboxWorker):
    """The baseline: the worker before lanes, one pass over the due rows in id order."""

    async def _run(self) -> None:
        while not self._stopping:
            self.rt.outbox_bell.clear()
            try:
                pause = await self.deliver_due()
            except Exception:
                pause = self.rt.settings.outbox_poll_seconds
            if self._stopping:
                break
            try:
                await asyncio.wait_for(self.rt.outbox_bell.wait(), timeout=pause)
            except TimeoutError:
                pass

    async def deliver_due(self) -> float:
        async with self.rt.engine.connect() as conn:
            rows = await outbox_store.due(conn, self.rt.now())
        for row in rows:
            if self._stopping:
                break
            pause = await self._deliver(row)
            if pause:
                return pause
        return 0.0 if len(rows) >= 50 else self.rt.settings.outbox_poll_seconds


@asynccontextmanager
async def database(postgres: bool) -> AsyncIterator[str]:
    if not postgres:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
            await upgrade(url)
            yield url
        return
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        url = f"{base}/{name}"
        await upgrade(url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def run(worker_cls: type[OutboxWorker], citizens: int, postgres: bool) -> dict[str, Any]:
    bot.app.OutboxWorker = worker_cls  # type: ignore[misc]  # what build_application builds
    try:
        async with (
            database(postgres) as url,
            running_bot(url, limits=Limits(private_per_second=FAST_SERVER_RATE)) as b,
        ):
            loop = asyncio.get_running_loop()
            # Many citizens at once can bunch up on the way and meet a 429 from the server's
            # overall window; the bot waits and retries. Counted and printed, not a failure here.
            b.server.expect_refusal(lambda call: call.error_code == 429)
            staff = b.server.group(STAFF_CHAT_ID, title="Staff")
            people = [
                b.server.user(FIRST_CITIZEN + i, first_name=f"شهروند{i}") for i in range(citizens)
            ]
            started = time.monotonic()

            async def prepare(u: FakeUser) -> None:
                await start_filing(u)
                await answer_until_evidence(u)
                await finish_after_evidence(u, phone=None)

            await asyncio.gather(*(prepare(u) for u in people))
            prepared = time.monotonic() - started
            go = asyncio.Event()

            async def submit(u: FakeUser) -> float:
                await go.wait()
                pressed = loop.time()
                await u.press("تأیید و ارسال")
                await u.expect_message(RECEIVED, timeout=citizens * 10 + 120)
                return loop.time() - pressed

            tasks = [asyncio.create_task(submit(u)) for u in people]
            await asyncio.sleep(0)
            t0 = loop.time()
            go.set()
            latencies = await asyncio.gather(*tasks)
            await b.server.wait_until(
                lambda: sum("🆕" in (m.text or "") for m in staff.inbox) == citizens,
                timeout=citizens * 10 + 120,
            )
            cards = loop.time() - t0
            retries = sum(call.error_code == 429 for call in b.server.calls)
            return {
                "latencies": sorted(latencies),
                "prepared": prepared,
                "cards": cards,
                "429s": retries,
            }
    finally:
        bot.app.OutboxWorker = OutboxWorker  # type: ignore[misc]


def _line(name: str, result: dict[str, Any]) -> str:
    lat = result["latencies"]
    p90 = lat[min(len(lat) - 1, round(0.9 * (len(lat) - 1)))]
    return (
        f"{name:<14} {statistics.median(lat):9.2f} s {p90:9.2f} s {max(lat):9.2f} s"
        f" {result['cards']:11.1f} s {result['prepared']:9.1f} s {result['429s']:6d}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{args.citizens} citizens press «تأیید و ارسال» at once; {backend}; Telegram's limits")
    head = ("worker", "receipt p50", "p90", "max", "last card", "filling", "429s")
    print(
        f"{head[0]:<14} {head[1]:>11} {head[2]:>11} {head[3]:>11} {head[4]:>13} {head[5]:>11}"
        f" {head[6]:>6}"
    )
    results = {}
    if not args.skip_baseline:
        results["strict order"] = await run(StrictOrderWorker, args.citizens, args.postgres)
        print(_line("strict order", results["strict order"]), flush=True)
    results["lanes"] = await run(OutboxWorker, args.citizens, args.postgres)
    print(_line("lanes", results["lanes"]), flush=True)
    if "strict order" in results:
        old = statistics.median(results["strict order"]["latencies"])
        new = statistics.median(results["lanes"]["latencies"])
        print(f"median receipt latency: {old / new:.0f}x lower with lanes")


if __name__ == "__main__":
    asyncio.run(main())
