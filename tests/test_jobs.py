"""Work jobs shared by several runners (one per process) over one database: each job is done
once, a person has one open job per kind across processes, a killed runner's job is taken over
when its lease has run out (the files reach the asker once), and a job failing MAX_ATTEMPTS
times ends failed with its asker told.

Each runner has its own engine, as a process would; the clock is the test's, so a lease runs
out (and a retry comes due) when the test moves it. The exports are real: the files are built
in the export process from the seeded cases; Bot API calls go to a recording `send`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.config import load_settings
from bot.domain.jobs import MAX_ATTEMPTS, ExportParams, JobKind, ReportParams
from bot.domain.purposes import Purpose
from bot.services import export
from bot.services import jobs as jobs_module
from bot.services.delivery import Retry
from bot.services.export import Exports
from bot.services.export_job import ExportWork
from bot.services.jobs import RETRY_AFTER, JobRunner, Upload, forget_finished_jobs
from bot.services.report_job import ReportWork
from bot.services.runtime import Runtime
from bot.storage import desk as desk_store
from bot.storage.db import create_engine
from bot.storage.rows import OutboxRow, WorkJobRow, every
from bot.storage.tables import outbox, work_jobs
from bot.views import export as export_views
from tests.clock import Clock
from tests.test_reports import DAY, NOW, TZ
from tests.test_reports import seed_database as seed_cases

BOUND = 60.0  # seconds: only how long a failing test waits before it reports
LEASE = 30.0
YESTERDAY_CASES = 70  # what the seed files on DAY
ASKERS = (8201, 8202, 8203)


async def seed_database(db_url: str) -> None:
    """The report's seed, and the askers as supervisors (an export job checks its asker's
    role again when it runs)."""
    await seed_cases(db_url)
    await give_role(db_url, ASKERS, "supervisor")


async def give_role(db_url: str, people: tuple[int, ...], role: str | None) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            for person in people:
                await desk_store.set_role(conn, person, role, NOW)
    finally:
        await engine.dispose()


def runtime(db_url: str, clock: Clock) -> Runtime:
    settings = load_settings(
        bot_token="123456:JOBS-test-token",
        database_url=db_url,
        lease_seconds=LEASE,
        _env_file=None,
    )
    return Runtime(engine=create_engine(db_url), settings=settings, clock=clock)


@dataclass
class Telegram:
    """Records the calls the runners make now (not through the outbox)."""

    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    fail_uploads: bool = False
    uploads_tried: int = 0
    next_id: int = 100

    def sender(self, name: str) -> Callable[[str, dict[str, Any]], Awaitable[Any]]:
        async def send(method: str, params: dict[str, Any]) -> dict[str, Any]:
            await asyncio.sleep(0)  # a Bot API call yields
            if method == "sendDocument":
                assert isinstance(params["document"], Upload)
                assert params["document"].path.stat().st_size > 0
                self.uploads_tried += 1
                if self.fail_uploads:
                    raise ConnectionError("upload cut off")
                params = {**params, "document": params["document"].filename}
            self.calls.append((name, method, params))
            self.next_id += 1
            return {"message_id": self.next_id, "chat": {"id": params["chat_id"]}}

        return send

    def documents(self) -> list[tuple[str, int, str]]:
        return [
            (who, p["chat_id"], p["document"]) for who, m, p in self.calls if m == "sendDocument"
        ]


def runner(rt: Runtime, telegram: Telegram, name: str) -> JobRunner:
    return JobRunner(
        rt,
        [ExportWork(Exports(rt)), ReportWork()],
        telegram.sender(name),
        lambda exc: Retry(str(exc)),
        poll_seconds=0.05,
    )


def crash(job_runner: JobRunner) -> list[asyncio.Task[Any]]:
    """What SIGKILL does to a runner: its coroutines stop where they are (the export process
    goes with it), and nothing of its graceful stop runs: its leases stay in the table."""
    tasks = [
        t for t in (job_runner._task, job_runner._heartbeat.task, *job_runner._tasks.values()) if t
    ]
    for task in tasks:
        task.cancel()
    return tasks


def export_params() -> ExportParams:
    start, end = DAY.bounds(TZ)
    return ExportParams(start=start, end=end, period_key=DAY.key, title=None, include_phone=True)


def report_params() -> ReportParams:
    start, end = DAY.bounds(TZ)
    return ReportParams(start=start, end=end, period_key=DAY.key, title=None)


async def jobs_of(rt: Runtime) -> list[WorkJobRow]:
    async with rt.engine.connect() as conn:
        rows = await conn.execute(select(work_jobs).order_by(work_jobs.c.id))
        return every(rows.mappings(), WorkJobRow)


async def queued_calls(rt: Runtime) -> list[OutboxRow]:
    async with rt.engine.connect() as conn:
        rows = await conn.execute(select(outbox).order_by(outbox.c.id))
        return every(rows.mappings(), OutboxRow)


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    async def wait() -> None:
        while True:  # a condition, polled
            if await check():
                return
            await asyncio.sleep(0.02)

    await asyncio.wait_for(wait(), BOUND)


async def all_ended(rt: Runtime) -> bool:
    return all(j["status"] not in ("queued", "running") for j in await jobs_of(rt))


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)  # the seed's «now»: DAY is yesterday


async def test_two_runners_do_each_job_once(db_url: str, clock: Clock) -> None:
    await seed_database(db_url)
    rts = [runtime(db_url, clock) for _ in range(2)]
    telegram = Telegram()
    runners = [runner(rt, telegram, name) for rt, name in zip(rts, "ab", strict=True)]
    try:
        # Queued from either process before any runner looks: both race for them.
        for index, asker in enumerate(ASKERS):
            by = runners[index % 2]
            assert await by.request(
                JobKind.EXPORT, requested_by=asker, chat_id=asker, params=export_params()
            )
            assert await by.request(
                JobKind.REPORT, requested_by=asker, chat_id=-100500, params=report_params()
            )
        for each in runners:
            each.start()
        await until(lambda: all_ended(rts[0]))
    finally:
        for each in runners:
            await each.stop()
    jobs = await jobs_of(rts[0])
    assert [j["status"] for j in jobs] == ["done"] * 6
    assert all(j["attempts"] == 1 for j in jobs)
    # Each asker got their two files once (from whichever runner took the job).
    documents = sorted((chat, name) for _who, chat, name in telegram.documents())
    assert documents == sorted(
        (asker, f"cases-1405-09-06.{ext}") for asker in ASKERS for ext in ("xlsx", "csv")
    )
    # A status message each (the runner posted it: nobody had), told «ready» once, through
    # the outbox; each report is one chart and its summary, once.
    posted = [p for _who, m, p in telegram.calls if m == "sendMessage"]
    assert sorted(p["chat_id"] for p in posted) == sorted(ASKERS)
    rows = await queued_calls(rts[0])
    assert all(r["purpose"] == Purpose.JOB_RESULT for r in rows)
    ready = export_views.ready(YESTERDAY_CASES)
    edits = [r for r in rows if r["method"] == "editMessageText"]
    assert sorted(r["chat_id"] for r in edits) == sorted(ASKERS)
    assert all(r["payload"]["text"] == ready for r in edits)
    assert sum(r["method"] == "sendPhoto" for r in rows) == len(ASKERS)
    for rt in rts:
        await rt.engine.dispose()


async def test_one_open_job_per_person_and_kind_across_processes(db_url: str, clock: Clock) -> None:
    rts = [runtime(db_url, clock) for _ in range(2)]
    telegram = Telegram()
    a, b = (runner(rt, telegram, name) for rt, name in zip(rts, "ab", strict=True))
    try:
        first = await a.request(
            JobKind.EXPORT, requested_by=8201, chat_id=8201, params=export_params(), hold=True
        )
        assert first is not None
        # The other process refuses the same person's second export; another kind, or
        # another person, is queued.
        again = await b.request(
            JobKind.EXPORT, requested_by=8201, chat_id=8201, params=export_params()
        )
        assert again is None
        assert await b.request(
            JobKind.REPORT, requested_by=8201, chat_id=8201, params=report_params()
        )
        assert await b.request(
            JobKind.EXPORT, requested_by=8202, chat_id=8202, params=export_params()
        )
        # Held by the asker's handler (posting the status message): no runner takes it.
        assert next(j["id"] for j in await jobs_of(rts[1]) if j["kind"] == "export") == first
        await a.withdraw(first, "the asker has not started the bot")
        assert await b.request(
            JobKind.EXPORT, requested_by=8201, chat_id=8201, params=export_params()
        )
        # Jobs ended over 30 days ago go in the sweep; the open ones stay.
        clock.advance(days=31)
        assert await forget_finished_jobs(rts[0]) == 1  # the withdrawn one
        assert {j["status"] for j in await jobs_of(rts[0])} == {"queued"}
    finally:
        for rt in rts:
            await rt.engine.dispose()


async def test_a_killed_runners_export_is_taken_over_and_sent_once(
    db_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first runner is killed while its export process is held mid-way; the second waits
    for the lease, then builds the export again, reusing the status message."""
    await seed_database(db_url)
    monkeypatch.setattr(export, "CHUNK_ROWS", 28)
    hold = multiprocessing.get_context("spawn").Event()  # never set: the build stays held
    rts = [runtime(db_url, clock) for _ in range(2)]
    telegram = Telegram()
    killed = runner(rts[0], telegram, "killed")
    export_work = killed.works[0]
    assert isinstance(export_work, ExportWork)
    export_work.exports.hold, export_work.exports.hold_after_rows = hold, 28
    survivor = runner(rts[1], telegram, "survivor")
    asker = ASKERS[0]
    job_id = await killed.request(
        JobKind.EXPORT, requested_by=asker, chat_id=asker, params=export_params()
    )
    killed.start()
    try:

        async def held_mid_way() -> bool:
            return "export" in [p.name for p in multiprocessing.active_children()]

        await until(held_mid_way)
        await asyncio.gather(*crash(killed), return_exceptions=True)
        [job] = await jobs_of(rts[1])
        assert job["status"] == "running" and job["lease_holder"] == killed.holder
        status_id = job["status_message_id"]
        assert status_id is not None

        survivor.start()
        assert await survivor.take_due() == []  # the dead runner's lease still runs
        clock.advance(seconds=LEASE + 1)
        rts[1].ring_jobs()
        await until(lambda: all_ended(rts[1]))
    finally:
        await survivor.stop()
        for rt in rts:
            await rt.engine.dispose()
    [job] = await jobs_of(runtime(db_url, clock))
    assert job["id"] == job_id and job["status"] == "done" and job["attempts"] == 2
    assert [who for who, _chat, _name in telegram.documents()] == ["survivor", "survivor"]
    # One status message, posted by the first runner and edited by the second.
    posted = [who for who, m, _p in telegram.calls if m == "sendMessage"]
    assert posted == ["killed"]
    edits = [p for who, m, p in telegram.calls if m == "editMessageText" and who == "survivor"]
    assert edits and all(p["message_id"] == status_id for p in edits)
    assert edits[0]["text"] == export_views.progress(0)


async def test_a_job_failing_every_attempt_ends_failed_and_the_asker_is_told(
    db_url: str, clock: Clock
) -> None:
    await seed_database(db_url)
    rt = runtime(db_url, clock)
    telegram = Telegram(fail_uploads=True)
    job_runner = runner(rt, telegram, "a")
    asker = ASKERS[0]
    job_id = await job_runner.request(
        JobKind.EXPORT, requested_by=asker, chat_id=asker, params=export_params(), hold=True
    )
    assert job_id is not None
    await job_runner.hand_over(job_id, None)  # the handler could not post the status message
    job_runner.start()
    try:
        for attempt in range(1, MAX_ATTEMPTS):

            async def waiting(attempt: int = attempt) -> bool:
                [job] = await jobs_of(rt)
                return job["status"] == "queued" and job["attempts"] == attempt

            await until(waiting)
            assert await job_runner.take_due() == []  # not before its retry is due
            clock.advance(seconds=(RETRY_AFTER * attempt).total_seconds() + 1)
            rt.ring_jobs()
        await until(lambda: all_ended(rt))
    finally:
        await job_runner.stop()
    [job] = await jobs_of(rt)
    assert job["status"] == "failed" and job["attempts"] == MAX_ATTEMPTS
    assert "upload cut off" in (job["error"] or "")
    # Every attempt built the files and tried the upload; nothing reached the asker but the
    # «could not be prepared» on their status message.
    assert telegram.documents() == [] and telegram.uploads_tried == MAX_ATTEMPTS
    [told] = await queued_calls(rt)
    assert told["method"] == "editMessageText" and told["chat_id"] == asker
    # The runner posted the status message at the first attempt; the others reused it.
    assert [m for _w, m, _p in telegram.calls if m == "sendMessage"] == ["sendMessage"]
    assert told["payload"]["message_id"] == job["status_message_id"] is not None
    assert told["payload"]["text"] == export_views.failed()
    await rt.engine.dispose()


@dataclass
class Builds:
    """What the export process was asked for: whether each build had the phones."""

    phones: list[bool] = field(default_factory=list)


def watch_builds(job_runner: JobRunner) -> Builds:
    work = job_runner.works[0]
    assert isinstance(work, ExportWork)
    builds, build = Builds(), work.exports.build

    async def recording(*args: Any, include_phone: bool, **kw: Any) -> Any:
        builds.phones.append(include_phone)
        return await build(*args, include_phone=include_phone, **kw)

    work.exports.build = recording  # type: ignore[method-assign]
    return builds


async def test_an_export_whose_asker_lost_their_role_before_it_ran_is_not_made(
    db_url: str, clock: Clock
) -> None:
    """Queued by a supervisor who is then removed from the desk: when a runner takes the job,
    no file is built or sent; the status message says why, and the job ends failed."""
    await seed_database(db_url)
    rt = runtime(db_url, clock)
    telegram = Telegram()
    job_runner = runner(rt, telegram, "a")
    builds = watch_builds(job_runner)
    asker = ASKERS[0]
    assert await job_runner.request(
        JobKind.EXPORT, requested_by=asker, chat_id=asker, params=export_params()
    )
    await give_role(db_url, (asker,), None)
    job_runner.start()
    try:
        await until(lambda: all_ended(rt))
    finally:
        await job_runner.stop()
    [job] = await jobs_of(rt)
    assert job["status"] == "failed" and "no longer" in (job["error"] or "")
    assert builds.phones == [] and telegram.documents() == []
    [told] = await queued_calls(rt)
    assert told["method"] == "editMessageText" and told["chat_id"] == asker
    assert told["payload"]["message_id"] == job["status_message_id"] is not None
    assert told["payload"]["text"] == export_views.no_longer_allowed()
    await rt.engine.dispose()


async def test_an_export_whose_asker_no_longer_sees_phones_is_built_without_them(
    db_url: str, clock: Clock
) -> None:
    """Queued with phones by a supervisor who is a manager by the time it runs: the files are
    made without the phones (a manager's export)."""
    await seed_database(db_url)
    rt = runtime(db_url, clock)
    telegram = Telegram()
    job_runner = runner(rt, telegram, "a")
    builds = watch_builds(job_runner)
    asker = ASKERS[0]
    assert export_params().include_phone
    assert await job_runner.request(
        JobKind.EXPORT, requested_by=asker, chat_id=asker, params=export_params()
    )
    await give_role(db_url, (asker,), "manager")
    job_runner.start()
    try:
        await until(lambda: all_ended(rt))
    finally:
        await job_runner.stop()
    [job] = await jobs_of(rt)
    assert job["status"] == "done"
    assert builds.phones == [False]
    assert [chat for _who, chat, _name in telegram.documents()] == [asker, asker]
    await rt.engine.dispose()


async def test_a_job_whose_settling_always_fails_ends_failed_instead_of_running_for_ever(
    db_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a finished report queues is refused every time (the outbox insert raises): each
    attempt's lease runs out and the job is taken again; after its last attempt and the attempt
    that only tells its asker, it ends failed with nothing queued, and is never taken again."""
    await seed_database(db_url)
    rt = runtime(db_url, clock)
    refused: list[str] = []

    async def refuse(conn: Any, **row: Any) -> None:
        refused.append(row["method"])
        raise ValueError("refused")

    monkeypatch.setattr(jobs_module.outbox_store, "enqueue", refuse)
    job_runner = runner(rt, Telegram(), "a")
    asker = ASKERS[0]
    job_id = await job_runner.request(
        JobKind.REPORT, requested_by=asker, chat_id=asker, params=report_params()
    )
    job_runner.start()
    try:
        for attempt in range(1, MAX_ATTEMPTS + 2):

            async def lost(attempt: int = attempt) -> bool:
                [job] = await jobs_of(rt)
                return job["attempts"] == attempt and job_id not in job_runner._tasks

            await until(lost)
            [job] = await jobs_of(rt)
            assert job["status"] == "running"  # held until its lease runs out
            clock.advance(seconds=LEASE + 1)
            rt.ring_jobs()
        await until(lambda: all_ended(rt))
        clock.advance(seconds=LEASE + 1)
        assert await job_runner.take_due() == []
    finally:
        await job_runner.stop()
    [job] = await jobs_of(rt)
    assert job["status"] == "failed" and job["error"] == "could not be settled"
    assert job["attempts"] == MAX_ATTEMPTS + 2
    # The report's photo was refused each time it was made, then the «could not be made»,
    # once as the last attempt's word and once more as the job was closed.
    assert refused == ["sendPhoto"] * MAX_ATTEMPTS + ["sendMessage"] * 2
    assert await queued_calls(rt) == []
    await rt.engine.dispose()


async def test_one_blip_while_telling_the_asker_of_a_job_its_holders_left_still_tells_them(
    db_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MAX_ATTEMPTS holders died in turn; the attempt that fails the job cannot queue its
    «could not be made» once (a database blip): the next one ends the job and tells."""
    await seed_database(db_url)
    rt = runtime(db_url, clock)
    real = jobs_module.outbox_store.enqueue
    blips: list[str] = []

    async def once(conn: Any, **row: Any) -> Any:
        if not blips:
            blips.append(row["method"])
            raise ConnectionError("database blip")
        return await real(conn, **row)

    monkeypatch.setattr(jobs_module.outbox_store, "enqueue", once)
    job_runner = runner(rt, Telegram(), "a")
    asker = ASKERS[0]
    job_id = await job_runner.request(
        JobKind.REPORT, requested_by=asker, chat_id=asker, params=report_params()
    )
    async with rt.engine.begin() as conn:  # as the last of MAX_ATTEMPTS dead holders left it
        await conn.execute(
            update(work_jobs)
            .where(work_jobs.c.id == job_id)
            .values(
                status="running",
                attempts=MAX_ATTEMPTS,
                lease_holder="dead",
                lease_until=rt.now(),
                started_at=rt.now(),
            )
        )
    clock.advance(seconds=1)
    job_runner.start()
    try:

        async def lost() -> bool:
            [job] = await jobs_of(rt)
            return job["attempts"] == MAX_ATTEMPTS + 1 and job_id not in job_runner._tasks

        await until(lost)
        assert blips == ["sendMessage"]
        clock.advance(seconds=LEASE + 1)
        rt.ring_jobs()
        await until(lambda: all_ended(rt))
    finally:
        await job_runner.stop()
    [job] = await jobs_of(rt)
    assert job["status"] == "failed" and job["attempts"] == MAX_ATTEMPTS + 2
    [told] = await queued_calls(rt)
    assert told["chat_id"] == asker and told["method"] == "sendMessage"
    await rt.engine.dispose()
