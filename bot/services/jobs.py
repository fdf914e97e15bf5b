"""The job runner: does the long work (exports, reports) queued in `work_jobs`, in any process.

A handler queues a job (`request`) and returns; every process runs a runner, which takes jobs
nobody holds under a lease of LEASE_SECONDS, renews it while the work runs, and settles the
job when it ends. What the work has to tell (the status message's last words, a group's «sent
to your private chat», a report's chart and figures) is queued in the outbox in the transaction
that marks the job done, so it goes out once, after the work, whichever process did it. A job
whose holder died is taken over when its lease has run out and done again from the start; one
that raises is tried again after RETRY_AFTER, MAX_ATTEMPTS times in all (a takeover counts),
and then fails for good with its asker told; one whose settling itself keeps failing ends
failed at the next attempt, its asker told if that can be queued then (a database blip) and
not otherwise (what it queues is refused), instead of being taken over every lease for ever.

The runner is woken when a job is queued in this process (`rt.jobs_bell`) and polls otherwise,
for the jobs other processes queued and for retries that came due. Each kind has a number of
places per process: an export (a separate OS process building files) runs one at a time, a
report does not wait behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from bot.domain.jobs import MAX_ATTEMPTS, JobKind, JobParams, JobStatus
from bot.domain.purposes import Purpose
from bot.services.delivery import Fatal
from bot.services.heartbeat import Heartbeat
from bot.services.inbox import holder_name
from bot.services.runtime import Runtime
from bot.storage import jobs as job_store
from bot.storage import outbox as outbox_store
from bot.storage.rows import WorkJobRow

log = logging.getLogger(__name__)

Send = Callable[[str, dict[str, Any]], Awaitable[Any]]
POLL_SECONDS = 5.0
RETRY_AFTER = timedelta(seconds=30)  # times the attempts made
KEEP_FINISHED = timedelta(days=30)  # jobs that ended are deleted after this
STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class Upload:
    """A file on disk as a call's parameter: the application's `send` opens and uploads it."""

    path: Path
    filename: str


@dataclass(frozen=True)
class Call:
    """A Bot API call queued in the outbox when the job is settled."""

    chat_id: int
    method: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class GiveUp(Exception):
    """The work cannot succeed (files too large to send): failed now, without a retry, and
    `calls` tell the asker why."""

    reason: str
    calls: tuple[Call, ...] = ()


@dataclass(frozen=True)
class JobContext:
    """What a job's work may use while it runs."""

    rt: Runtime
    send: Send  # a Bot API call made now (progress, files), not through the outbox
    holder: str
    resumed: bool  # a runner had started this job before: it starts again from the beginning

    async def remember_status_message(self, job_id: int, message_id: int) -> None:
        async with self.rt.engine.begin() as conn:
            await job_store.set_status_message(conn, job_id, self.holder, message_id)


class Work(Protocol):
    """One kind of job: how to do it, and what its asker reads when it failed for good."""

    kind: JobKind
    places: int  # jobs of this kind one process runs at once

    async def run(self, job: WorkJobRow, ctx: JobContext) -> list[Call]: ...

    def failed(self, job: WorkJobRow) -> list[Call]: ...


@dataclass(frozen=True)
class Origin:
    """The group message that asked: where a notice about the job replies (in its topic)."""

    chat_id: int
    message_id: int
    thread_id: int | None


def reply_to(job: WorkJobRow) -> dict[str, Any]:
    """Parameters that make a message to the asking group a reply to the command, in its topic
    (what PTB's reply_text did in the handler); nothing for a private chat."""
    if job["origin_chat_id"] is None or job["origin_message_id"] is None:
        return {}
    extra: dict[str, Any] = {
        "reply_parameters": {
            "message_id": job["origin_message_id"],
            "allow_sending_without_reply": True,
        }
    }
    if job["origin_thread_id"] is not None:
        extra["message_thread_id"] = job["origin_thread_id"]
    return extra


@dataclass
class JobRunner:
    rt: Runtime
    works: Sequence[Work]
    send: Send
    classify: Callable[[Exception], Exception]
    poll_seconds: float = POLL_SECONDS
    holder: str = field(default_factory=holder_name)

    def __post_init__(self) -> None:
        self._by_kind = {work.kind: work for work in self.works}
        self._tasks: dict[int, asyncio.Task[None]] = {}  # job id -> its work
        self._kinds: dict[int, JobKind] = {}
        self._settling: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._heartbeat = Heartbeat(
            self.rt, "job", self.holder, lambda: self._tasks, job_store.renew, self._taken_over
        )
        self._stopping = False

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.rt.settings.lease_seconds)

    # -- queueing (the handlers' side) -----------------------------------------------------

    async def request(
        self,
        kind: JobKind,
        *,
        requested_by: int,
        chat_id: int,
        params: JobParams,
        origin: Origin | None = None,
        hold: bool = False,
    ) -> int | None:
        """Queue a job; None while the person has one of this kind open (in any process).
        With `hold`, no runner takes it until `hand_over` (or a lease's time, if the asker's
        process dies first): the handler posts the status message meanwhile."""
        now = self.rt.now()
        async with self.rt.engine.begin() as conn:
            job_id = await job_store.enqueue(
                conn,
                kind=kind,
                requested_by=requested_by,
                chat_id=chat_id,
                params=params,
                now=now,
                origin=(origin.chat_id, origin.message_id, origin.thread_id) if origin else None,
                held_by=self.holder if hold else None,
                held_until=now + self.lease if hold else None,
            )
        if job_id is not None and not hold:
            self.rt.ring_jobs()
        return job_id

    async def hand_over(self, job_id: int, status_message_id: int | None) -> None:
        """The held job may start; its status message is `status_message_id` (None: the
        runner posts one)."""
        async with self.rt.engine.begin() as conn:
            await job_store.hand_over(conn, job_id, self.holder, status_message_id)
        self.rt.ring_jobs()

    async def withdraw(self, job_id: int, reason: str) -> None:
        """Cancel a queued job (its asker cannot be reached)."""
        async with self.rt.engine.begin() as conn:
            await job_store.cancel(conn, job_id, self.rt.now(), reason)

    # -- running -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="job-runner")
        self._heartbeat.start()

    async def stop(self) -> None:
        """Stop taking jobs; the jobs in hand are stopped and given back, for this or another
        process to start again (their attempt not counted)."""
        self._stopping = True
        self.rt.ring_jobs()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=STOP_GRACE_SECONDS)
            except TimeoutError:
                self._task.cancel()
            self._task = None
        held = sorted(set(self._tasks) - self._settling)  # a job being settled ends first
        tasks = list(self._tasks.values())
        for job_id in held:
            self._tasks[job_id].cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._heartbeat.stop()
        self._tasks.clear()
        self._kinds.clear()
        if held:
            try:
                async with self.rt.engine.begin() as conn:
                    await job_store.release(conn, held, self.holder)
            except Exception:  # their leases run out instead
                log.warning("could not give back %d jobs", len(held), exc_info=True)

    async def _run(self) -> None:
        while not self._stopping:
            self.rt.jobs_bell.clear()
            try:
                await self.take_due()
            except Exception:  # the runner must outlive a database blip
                log.exception("job runner pass failed")
            if self._stopping:
                break
            try:
                await asyncio.wait_for(self.rt.jobs_bell.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass

    async def take_due(self) -> list[int]:
        """Start each job nobody holds, as far as this process has places; their ids."""
        started: list[int] = []
        for kind, work in self._by_kind.items():
            room = work.places - sum(k is kind for k in self._kinds.values())
            if room <= 0 or self._stopping:
                continue
            now = self.rt.now()
            # A read first, so that an idle bot does not take SQLite's write lock each poll.
            async with self.rt.engine.connect() as conn:
                if not await job_store.any_takeable(conn, now, kind=kind):
                    continue
            async with self.rt.engine.begin() as conn:
                jobs = await job_store.claim(
                    conn, now, self.holder, now + self.lease, kind=kind, limit=room
                )
            for claimed in jobs:
                job_id = claimed.job["id"]
                self._kinds[job_id] = kind
                self._tasks[job_id] = asyncio.create_task(
                    self._do(claimed, work), name=f"job-{job_id}"
                )
                started.append(job_id)
        return started

    def _taken_over(self, job_ids: set[int]) -> None:
        """Jobs whose leases another process holds now (this one stalled past its lease): they
        are stopped here (a job being settled ends first)."""
        for job_id in job_ids - self._settling:
            task = self._tasks.get(job_id)
            if task is not None:
                log.warning("job %s was taken over by another process; stopped here", job_id)
                task.cancel()

    async def _do(self, claimed: job_store.Claimed, work: Work) -> None:
        job_id = claimed.job["id"]
        try:
            await self._attempt(claimed, work)
        except asyncio.CancelledError:
            raise
        except Exception:  # settling failed (the database): the lease runs out, then a retry
            log.exception("job %s could not be settled", job_id)
        finally:
            if self._tasks.get(job_id) is asyncio.current_task():
                del self._tasks[job_id]
                self._kinds.pop(job_id, None)
            self._settling.discard(job_id)
            self.rt.ring_jobs()  # a place is free

    async def _attempt(self, claimed: job_store.Claimed, work: Work) -> None:
        job = claimed.job
        if job["attempts"] > MAX_ATTEMPTS + 1:  # even telling its asker could not be settled
            log.error("job %s failed for good: it could not be settled", job["id"])
            try:
                calls = work.failed(job)
            except Exception:  # what it would tell cannot even be written: it ends untold
                log.exception("job %s: its asker's notice could not be made", job["id"])
                calls = []
            return await self._settle(job, JobStatus.FAILED, "could not be settled", calls, True)
        if job["attempts"] > MAX_ATTEMPTS:  # taken over after it took its process down again
            log.error("job %s failed for good: its holders died %d times", job["id"], MAX_ATTEMPTS)
            return await self._settle(job, JobStatus.FAILED, "holders died", work.failed(job))
        ctx = JobContext(self.rt, self.send, self.holder, claimed.resumed)
        try:
            calls = await work.run(job, ctx)
        except GiveUp as given_up:
            return await self._settle(job, JobStatus.FAILED, given_up.reason, list(given_up.calls))
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if isinstance(self.classify(exc), Fatal) or job["attempts"] >= MAX_ATTEMPTS:
                log.exception("job %s failed for good", job["id"])
                told = work.failed(await self._reread(job))  # the status message it posted
                return await self._settle(job, JobStatus.FAILED, reason, told)
            wait = RETRY_AFTER * job["attempts"]
            log.warning("job %s failed, tried again in %s", job["id"], wait, exc_info=True)
            self._settling.add(job["id"])
            async with self.rt.engine.begin() as conn:
                await job_store.retry(conn, job["id"], self.holder, reason, self.rt.now() + wait)
            return None
        return await self._settle(job, JobStatus.DONE, None, calls)

    async def _reread(self, job: WorkJobRow) -> WorkJobRow:
        async with self.rt.engine.connect() as conn:
            return await job_store.get(conn, job["id"]) or job

    async def _settle(
        self,
        job: WorkJobRow,
        status: JobStatus,
        error: str | None,
        calls: list[Call],
        last_word: bool = False,
    ) -> None:
        """Mark the job and queue what it tells, in one transaction; nothing if it was lost.
        With `last_word` (the settling failed before), what it tells is queued if it can be,
        in a savepoint, and the job ends either way."""
        self._settling.add(job["id"])
        now = self.rt.now()
        queued = False
        async with self.rt.engine.begin() as conn:
            if not await job_store.finish(
                conn, job["id"], self.holder, now, status=status, error=error
            ):
                log.warning("job %s was taken over meanwhile; its result is dropped", job["id"])
                return
            try:
                async with conn.begin_nested() if last_word else contextlib.nullcontext():
                    for call in calls:
                        await outbox_store.enqueue(
                            conn,
                            chat_id=call.chat_id,
                            method=call.method,
                            payload=call.payload,
                            purpose=Purpose.JOB_RESULT,
                            now=now,
                        )
                queued = bool(calls)
            except Exception:
                if not last_word:
                    raise
                log.exception("job %s: its asker could not be told", job["id"])
        if queued:
            self.rt.ring()


async def forget_finished_jobs(rt: Runtime) -> int:
    """Delete jobs that ended more than KEEP_FINISHED ago (the sweep)."""
    async with rt.engine.begin() as conn:
        return await job_store.forget_finished(conn, rt.now() - KEEP_FINISHED)
