"""A wave of new cases against Telegram's 20 messages a minute per group: cards waiting, and the
oldest card's age, with one staff group or three (STAFF_ROUTES), with the digest or without.

The real bot runs in-process (as the end-to-end tests do) against the fake Bot API server on
127.0.0.1 with Telegram's real limits, on a fresh SQLite database, on a real clock. New cases
are written at ``--rate`` a minute for ``--minutes`` (as filing writes them: the case and its
card's outbox row in one transaction, the card to the case's desk), a third each in Tehran,
Fars and Markazi. With three groups, Tehran's and Fars's cases are routed to groups of their
own. Every second it reads the outbox: cards waiting, and how long the oldest has waited. The
baseline is the same run with the digest switched off (`DIGEST_AFTER` out of reach).

    .venv/bin/python bench/card_wave.py                   # 100 a minute for 2 minutes
    .venv/bin/python bench/card_wave.py --rate 200 --minutes 3
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.summary_bench import CITIZEN, _case, _user  # noqa: E402
from bot.domain.purposes import Purpose  # noqa: E402
from bot.domain.routing import CaseKeys  # noqa: E402
from bot.localapi import FakeTelegram, Limits  # noqa: E402
from bot.services import delivery  # noqa: E402
from bot.storage import cases as case_store  # noqa: E402
from bot.storage import outbox as outbox_store  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.tables import outbox, users  # noqa: E402
from tests.harness import STAFF_CHAT_ID, Bot, make_settings  # noqa: E402

TEHRAN_DESK, FARS_DESK = -1003000000023, -1003000000007
PROVINCES = ("23", "07", "00")  # Tehran, Fars, Markazi
ROUTES = f"province:23={TEHRAN_DESK}, province:07={FARS_DESK}"


class RealClock:
    """The bot's clock in this bench: the wall clock (the tests' clock stands still)."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Figures:
    name: str
    cases: int = 0
    waiting_max: int = 0
    oldest_max: float = 0.0
    waiting_at_end: int = 0  # when the wave ended
    oldest_at_end: float = 0.0
    posts: int = 0  # messages posted into the groups
    digests: int = 0
    listed: int = 0  # cases listed in digests
    drained_after: float | None = None  # seconds after the wave's end until no card waited


async def sample(bot: Bot) -> tuple[int, float]:
    async with bot.services.rt.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(outbox.c.created_at).where(
                    outbox.c.status == "pending", outbox.c.purpose == Purpose.CASE_CARD.value
                )
            )
        ).all()
    if not rows:
        return 0, 0.0
    now = datetime.now(UTC)
    return len(rows), max((now - r[0]).total_seconds() for r in rows)


async def produce(bot: Bot, rate: float, minutes: float, first_id: int) -> int:
    """New cases at `rate` a minute, each with its card queued to its desk, as filing does."""
    rt = bot.services.rt
    every = 60.0 / rate
    start = time.monotonic()
    count = int(rate * minutes)
    for n in range(count):
        await asyncio.sleep(max(0.0, start + n * every - time.monotonic()))  # the wave's pace
        now = rt.now()
        values = _case(first_id + n, now, "new", None)
        values["province"] = PROVINCES[n % len(PROVINCES)]
        values.pop("id")
        keys = CaseKeys(values["province"], values["sector"], values["violation"])
        desk = rt.settings.desk_for(keys)
        assert desk is not None
        async with rt.engine.begin() as conn:
            case_id = await case_store.insert_case(conn, values)
            await outbox_store.enqueue(
                conn,
                chat_id=desk.chat_id,
                method="sendMessage",
                payload={},
                purpose=Purpose.CASE_CARD,
                case_id=case_id,
                now=now,
            )
        rt.ring()
    return count


async def run(args: argparse.Namespace, groups: int, digest: bool) -> Figures:
    name = f"{groups} group{'s' if groups > 1 else ''}, {'digest' if digest else 'card each'}"
    figures = Figures(name)
    saved = delivery.DIGEST_AFTER
    delivery.DIGEST_AFTER = saved if digest else timedelta.max
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/wave.sqlite3"
        await upgrade(url)
        async with FakeTelegram(token="123456:CARD-WAVE-abcdef", limits=Limits()) as server:
            desks = [STAFF_CHAT_ID, TEHRAN_DESK, FARS_DESK][:groups]
            for chat_id in desks:
                server.group(chat_id, title="کارشناسان")
            server.expect_refusal(lambda call: call.error_code == 429)
            extra = {"staff_routes": ROUTES} if groups == 3 else {}
            settings = make_settings(server, url, chat_messages_per_second=3, **extra)
            bot = Bot(server, settings, RealClock())  # type: ignore[arg-type]
            await bot.start()
            try:
                async with bot.services.rt.engine.begin() as conn:
                    await conn.execute(sa.insert(users).values(**_user(CITIZEN)))
                producer = asyncio.create_task(
                    produce(bot, args.rate, args.minutes, random.randint(1, 10**8))
                )
                while not producer.done():
                    waiting, oldest = await sample(bot)
                    figures.waiting_max = max(figures.waiting_max, waiting)
                    figures.oldest_max = max(figures.oldest_max, oldest)
                    await asyncio.wait({producer}, timeout=1.0)
                figures.cases = producer.result()
                figures.waiting_at_end, figures.oldest_at_end = await sample(bot)
                ended = time.monotonic()
                while time.monotonic() - ended < args.drain:
                    waiting, oldest = await sample(bot)
                    figures.oldest_max = max(figures.oldest_max, oldest)
                    if not waiting:
                        figures.drained_after = time.monotonic() - ended
                        break
                    await asyncio.sleep(1.0)  # a sampling interval, not a synchronisation
            finally:
                await bot.stop()
            for chat_id in desks:
                for message in server.messages(chat_id):
                    figures.posts += 1
                    if "پروندهٔ جدید" in (message.text or ""):
                        figures.digests += 1
                        figures.listed += len(message.buttons())
    delivery.DIGEST_AFTER = saved
    return figures


def report(rows: list[Figures], args: argparse.Namespace) -> None:
    print(
        f"\n{args.rate:g} new cases a minute for {args.minutes:g} min; Telegram's limits "
        "(20 messages a minute per group); SQLite"
    )
    print(
        f"{'configuration':<24}{'cases':>6}{'waiting max':>12}{'oldest max':>11}"
        f"{'at wave end':>12}{'oldest then':>12}{'posts':>7}{'digests':>8}{'listed':>7}"
        f"{'drained':>10}"
    )
    for f in rows:
        drained = f">{args.drain:g} s" if f.drained_after is None else f"{f.drained_after:.0f} s"
        print(
            f"{f.name:<24}{f.cases:>6}{f.waiting_max:>12}{f.oldest_max:>10.0f}s"
            f"{f.waiting_at_end:>12}{f.oldest_at_end:>11.0f}s{f.posts:>7}{f.digests:>8}"
            f"{f.listed:>7}{drained:>10}"
        )


async def main_async(args: argparse.Namespace) -> None:
    rows = []
    for groups in (1, 3):
        for digest in (False, True):
            rows.append(await run(args, groups, digest))
            print(f"done: {rows[-1].name}", flush=True)
    report(rows, args)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=100.0, help="new cases a minute")
    p.add_argument("--minutes", type=float, default=2.0)
    p.add_argument("--drain", type=float, default=60.0, help="seconds to watch after the wave")
    asyncio.run(main_async(p.parse_args()))


if __name__ == "__main__":
    main()
