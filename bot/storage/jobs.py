"""Work jobs (the `work_jobs` table): queue one, take it under a lease, settle it.

A runner takes a job that is queued or whose holder's lease has run out (`claim`: `FOR UPDATE
SKIP LOCKED` on PostgreSQL, so concurrent runners neither wait for one another nor take the
same job; on SQLite the write transaction runs alone). Every take counts an attempt, a takeover
after a holder died too, so a job that kills its process is not tried for ever. A settle names
its holder: one that stalled past its lease and lost the job leaves it to whoever took it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.jobs import FINISHED, OPEN, JobKind, JobParams, JobStatus
from bot.storage.rows import WorkJobRow, every, one
from bot.storage.tables import work_jobs

_NO_LEASE: dict[str, Any] = {"lease_holder": None, "lease_until": None}
_OPEN = [s.value for s in OPEN]


async def enqueue(
    conn: AsyncConnection,
    *,
    kind: JobKind,
    requested_by: int,
    chat_id: int,
    params: JobParams,
    now: datetime,
    origin: tuple[int, int, int | None] | None = None,
    held_by: str | None = None,
    held_until: datetime | None = None,
) -> int | None:
    """Queue a job; None when the person already has one of this kind open (in any process).
    `held_by` keeps it from the runners until `held_until` or until `hand_over` (the handler
    posts the status message first)."""
    chat, message, thread = origin if origin is not None else (None, None, None)
    try:
        async with conn.begin_nested():
            result = await conn.execute(
                insert(work_jobs).values(
                    kind=kind.value,
                    requested_by=requested_by,
                    chat_id=chat_id,
                    origin_chat_id=chat,
                    origin_message_id=message,
                    origin_thread_id=thread,
                    params=params.model_dump(mode="json"),
                    status=JobStatus.QUEUED.value,
                    attempts=0,
                    lease_holder=held_by,
                    lease_until=held_until,
                    created_at=now,
                )
            )
    except IntegrityError:  # uq_work_jobs_open: one is queued or running
        return None
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def hand_over(
    conn: AsyncConnection, job_id: int, holder: str, status_message_id: int | None
) -> None:
    """The handler is done with its job: record the status message, let the runners take it."""
    await conn.execute(
        update(work_jobs)
        .where(
            work_jobs.c.id == job_id,
            work_jobs.c.lease_holder == holder,
            work_jobs.c.status == JobStatus.QUEUED.value,
        )
        .values(status_message_id=status_message_id, **_NO_LEASE)
    )


async def get(conn: AsyncConnection, job_id: int) -> WorkJobRow | None:
    row = (await conn.execute(select(work_jobs).where(work_jobs.c.id == job_id))).mappings()
    return one(row.first(), WorkJobRow)


def _takeable(now: datetime, kind: JobKind) -> Any:
    """Open jobs of `kind` nobody holds: queued, or their holder's lease has run out."""
    return and_(
        work_jobs.c.kind == kind.value,
        work_jobs.c.status.in_(_OPEN),
        or_(work_jobs.c.lease_until.is_(None), work_jobs.c.lease_until <= now),
    )


async def any_takeable(conn: AsyncConnection, now: datetime, *, kind: JobKind) -> bool:
    query = select(work_jobs.c.id).where(_takeable(now, kind)).limit(1)
    return (await conn.execute(query)).first() is not None


@dataclass(frozen=True)
class Claimed:
    """A job just taken, and whether a runner had started it before (a retry, a takeover, a
    runner that stopped): its status message then shows an earlier run's progress."""

    job: WorkJobRow
    resumed: bool


async def claim(
    conn: AsyncConnection,
    now: datetime,
    holder: str,
    until: datetime,
    *,
    kind: JobKind,
    limit: int,
) -> list[Claimed]:
    """Take up to `limit` jobs of `kind` nobody holds (queued, or their lease ran out), oldest
    first, for `holder` until `until`; in a write transaction."""
    query = (
        select(work_jobs.c.id, work_jobs.c.started_at)
        .where(_takeable(now, kind))
        .order_by(work_jobs.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=work_jobs)
    before = {job_id: started is not None for job_id, started in await conn.execute(query)}
    if not before:
        return []
    taken = await conn.execute(
        update(work_jobs)
        .where(work_jobs.c.id.in_(before))
        .values(
            status=JobStatus.RUNNING.value,
            attempts=work_jobs.c.attempts + 1,
            lease_holder=holder,
            lease_until=until,
            started_at=func.coalesce(work_jobs.c.started_at, now),  # the first start
        )
        .returning(*work_jobs.c)
    )
    jobs = sorted(every(taken.mappings(), WorkJobRow), key=lambda r: r["id"])
    return [Claimed(job, before[job["id"]]) for job in jobs]


async def renew(
    conn: AsyncConnection, job_ids: list[int], holder: str, until: datetime
) -> list[int]:
    """Extend `holder`'s leases on these running jobs; returns those it still holds."""
    if not job_ids:
        return []
    result = await conn.execute(
        update(work_jobs)
        .where(_ours(holder), work_jobs.c.id.in_(job_ids))
        .values(lease_until=until)
        .returning(work_jobs.c.id)
    )
    return sorted(result.scalars())


async def set_status_message(
    conn: AsyncConnection, job_id: int, holder: str, message_id: int
) -> None:
    """The status message a runner had to post (the handler's never got recorded)."""
    await conn.execute(
        update(work_jobs)
        .where(_ours(holder), work_jobs.c.id == job_id)
        .values(status_message_id=message_id)
    )


async def finish(
    conn: AsyncConnection,
    job_id: int,
    holder: str,
    now: datetime,
    *,
    status: JobStatus = JobStatus.DONE,
    error: str | None = None,
) -> bool:
    """Settle a job `holder` still holds as done (or failed, cancelled); False if it lost it."""
    result = await conn.execute(
        update(work_jobs)
        .where(_ours(holder), work_jobs.c.id == job_id)
        .values(
            status=status.value,
            finished_at=now,
            error=error[:1000] if error else None,
            **_NO_LEASE,
        )
    )
    return bool(result.rowcount)


async def retry(
    conn: AsyncConnection, job_id: int, holder: str, error: str, not_before: datetime
) -> bool:
    """Put the job back in the queue; no runner takes it before `not_before` (held by nobody,
    its lease only says until when to wait). False if `holder` lost it."""
    result = await conn.execute(
        update(work_jobs)
        .where(_ours(holder), work_jobs.c.id == job_id)
        .values(
            status=JobStatus.QUEUED.value,
            error=error[:1000],
            lease_holder=None,
            lease_until=not_before,
        )
    )
    return bool(result.rowcount)


async def release(conn: AsyncConnection, job_ids: list[int], holder: str) -> None:
    """Give back jobs a stopping runner had in hand: queued again for anybody at once, the
    attempt not counted (the job did not fail)."""
    if job_ids:
        await conn.execute(
            update(work_jobs)
            .where(_ours(holder), work_jobs.c.id.in_(job_ids))
            .values(
                status=JobStatus.QUEUED.value,
                attempts=work_jobs.c.attempts - 1,
                **_NO_LEASE,
            )
        )


async def cancel(conn: AsyncConnection, job_id: int, now: datetime, reason: str) -> None:
    """Withdraw a queued job (its asker could not be reached before it started)."""
    await conn.execute(
        update(work_jobs)
        .where(work_jobs.c.id == job_id, work_jobs.c.status == JobStatus.QUEUED.value)
        .values(status=JobStatus.CANCELLED.value, finished_at=now, error=reason, **_NO_LEASE)
    )


async def forget_finished(conn: AsyncConnection, before: datetime) -> int:
    """Delete jobs that ended before `before`; returns how many."""
    result = await conn.execute(
        delete(work_jobs).where(
            work_jobs.c.status.in_([s.value for s in FINISHED]),
            work_jobs.c.finished_at < before,
        )
    )
    return int(result.rowcount or 0)


def _ours(holder: str) -> Any:
    return (work_jobs.c.status == JobStatus.RUNNING.value) & (work_jobs.c.lease_holder == holder)
