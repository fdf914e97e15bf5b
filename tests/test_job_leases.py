"""Scheduled jobs run in one process at a time (bot/storage/leases.py, bot.app.run_housekeeping):
with several processes a summary or an alert sweep runs once per tick, and when the process
that runs it dies another takes over LEASE_SECONDS after the run it missed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.app import Housekeeping, run_housekeeping
from bot.storage import leases
from bot.storage.db import create_engine
from tests.clock import START
from tests.harness import Bot, running_bot

EVERY = timedelta(seconds=60)


async def test_one_holder_at_a_time_and_a_takeover_once_it_runs_out(db_url: str) -> None:
    engine = create_engine(db_url)
    until = START + timedelta(seconds=90)
    try:
        async with engine.begin() as conn:
            assert await leases.take(conn, "sweep", "a", START, until)
            assert not await leases.take(conn, "sweep", "b", START, until)
            assert await leases.take(conn, "sweep", "a", START + EVERY, until + EVERY)  # renewed
            assert not await leases.take(conn, "sweep", "b", until, until + EVERY)
            assert await leases.take(conn, "other-job", "b", START, until)  # per job
            assert await leases.take(conn, "sweep", "b", until + EVERY, until + 2 * EVERY)
            assert not await leases.take(conn, "sweep", "a", until + EVERY, until + 2 * EVERY)
    finally:
        await engine.dispose()


async def test_two_processes_starting_together_make_one_holder(db_url: str) -> None:
    engines = [create_engine(db_url) for _ in range(4)]

    async def take(i: int) -> bool:
        async with engines[i].begin() as conn:
            return await leases.take(conn, "push", f"p{i}", START, START + EVERY)

    try:
        taken = await asyncio.gather(*(take(i) for i in range(4)), return_exceptions=True)
    finally:
        for engine in engines:
            await engine.dispose()
    assert sorted(taken, key=str) == [False, False, False, True]


async def test_the_bots_job_runs_in_the_holder_only_until_it_dies(db_url: str) -> None:
    runs: list[str] = []

    def job_for(name: str) -> Housekeeping:
        async def work(_services: object) -> None:
            runs.append(name)

        return Housekeeping("count", work, EVERY, EVERY)

    async with running_bot(db_url, lease_seconds=5) as bot:
        assert await _tick(bot, job_for("one"), "process-one")
        assert not await _tick(bot, job_for("two"), "process-two")
        bot.clock.advance(seconds=60)
        assert await _tick(bot, job_for("one"), "process-one")  # renews at every run
        bot.clock.advance(seconds=64)  # process one missed its run, the lease is not out yet
        assert not await _tick(bot, job_for("two"), "process-two")
        bot.clock.advance(seconds=2)  # one interval and LEASE_SECONDS after its last run
        assert await _tick(bot, job_for("two"), "process-two")
        assert not await _tick(bot, job_for("one"), "process-one")  # back: not a second runner
    assert runs == ["one", "one", "two"]


async def _tick(bot: Bot, job: Housekeeping, holder: str) -> bool:
    return await run_housekeeping(bot.services, job, holder)
