"""Figures for managers: what came in, what moved and what is stuck, in one period.

Framework-free: scheduled jobs and the /report command call `summarize` and hand the result to
`bot.views.summary`. Every query is bounded by the period on an indexed column
(``cases.created_at``, ``case_events.at``, ``ratings.created_at``), by the open backlog
(``cases.status``) or by the ids found that way, so a daily summary costs the same whether the
database holds ten thousand cases or a million. ``case_events.at`` needs its own index for that
(``ix_case_events_at``); the ``(case_id, at)`` index cannot serve a time-range query.

Percentiles are computed in Python from the period's rows: portable across SQLite and PostgreSQL,
and cheap because a period holds few rows.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot import jalali
from bot.domain.lifecycle import OPEN_STATES, Action, Status
from bot.i18n import N_
from bot.storage.tables import case_events, cases, ratings, units, users

DEFAULT_SLA = timedelta(days=3)
TOP_BUSINESSES = 5
# Bound on ids per IN (...) list: well under SQLite's and asyncpg's parameter limits.
_ID_BATCH = 500
_OPEN = tuple(s.value for s in OPEN_STATES)

# Short, staff-facing status names for reports and exports (the citizen sees STATUS_LABELS).
STAFF_STATUS_LABELS: dict[Status, str] = {
    Status.NEW: N_("new, unclaimed"),
    Status.CLAIMED: N_("with an officer"),
    Status.REFERRED: N_("referred to a unit"),
    Status.AWAITING_CITIZEN: N_("waiting for the citizen"),
    Status.RESOLVED: N_("case resolved"),
    Status.CLOSED: N_("case closed"),
    Status.REJECTED: N_("case rejected"),
    Status.MERGED: N_("case merged"),
    Status.REOPENED: N_("case reopened"),
}


# ---------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------


class PeriodKind(StrEnum):
    DAY = "d"
    WEEK = "w"  # Saturday to Friday
    MONTH = "m"  # a Jalali month


@dataclass(frozen=True, slots=True)
class Period:
    """A local calendar period, named by its first local day so it fits in callback_data."""

    kind: PeriodKind
    first_day: date

    @classmethod
    def containing(cls, kind: PeriodKind, day: date | datetime, tz: tzinfo) -> Period:
        """The period of `kind` that contains `day` (a datetime is read on the local clock)."""
        local = day.astimezone(tz).date() if isinstance(day, datetime) else day
        start, _end = _bounds(kind, local, tz)
        return cls(kind, start.astimezone(tz).date())

    @classmethod
    def last_complete(cls, kind: PeriodKind, now: datetime, tz: tzinfo) -> Period:
        """The latest period that has ended by `now`: what a scheduled push reports."""
        current = cls.containing(kind, now, tz)
        return cls.containing(kind, current.first_day - timedelta(days=1), tz)

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """Half-open ``[start, end)`` in aware UTC, for `summarize` and `export_cases`."""
        return _bounds(self.kind, self.first_day, tz)

    def last_day(self, tz: tzinfo) -> date:
        _start, end = self.bounds(tz)
        return end.astimezone(tz).date() - timedelta(days=1)

    @property
    def key(self) -> str:
        """ASCII ``"d:20261128"``: short enough to live inside callback_data."""
        return f"{self.kind.value}:{self.first_day:%Y%m%d}"

    @classmethod
    def parse(cls, key: str) -> Period | None:
        """Inverse of `key`; None for anything malformed (callback data can be forged)."""
        kind_text, _sep, day_text = key.partition(":")
        if len(day_text) != 8 or not day_text.isascii() or not day_text.isdigit():
            return None
        try:
            kind = PeriodKind(kind_text)
            day = datetime.strptime(day_text, "%Y%m%d").date()
        except ValueError:
            return None
        return cls(kind, day)


def _bounds(kind: PeriodKind, day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    if kind is PeriodKind.DAY:
        return jalali.local_day_bounds(day, tz)
    if kind is PeriodKind.WEEK:
        return jalali.jalali_week_bounds(day, tz)
    return jalali.jalali_month_bounds(day, tz)


# ---------------------------------------------------------------------------------------------
# The summary
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitCount:
    unit_id: int | None  # None: not referred to any unit
    name: str | None
    count: int


@dataclass(frozen=True, slots=True)
class BusinessCount:
    key: str  # cases.business_key
    name: str  # the most recent spelling a citizen used (user text: escape it)
    count: int


@dataclass(frozen=True, slots=True)
class HolderLoad:
    holder_id: int
    name: str  # the officer's Telegram first name, "" if unknown (user text: escape it)
    open_cases: int


@dataclass(frozen=True, slots=True)
class OverdueCase:
    code: str
    status: str
    created_at: datetime
    age: timedelta


@dataclass(frozen=True, slots=True)
class Summary:
    """Everything a manager's digest shows for the half-open period ``[start, end)``."""

    start: datetime
    end: datetime
    now: datetime
    sla: timedelta
    # Cases that entered a state in the period (each case counted once per state).
    new: int
    claimed: int
    referred: int
    resolved: int
    rejected: int
    # The open backlog at `now`.
    backlog: int
    backlog_by_status: tuple[tuple[str, int], ...]
    oldest_open_age: timedelta | None
    median_open_age: timedelta | None
    # Time from filing to the first claim, for cases first claimed in the period.
    claim_count: int
    claim_median: timedelta | None
    claim_p90: timedelta | None
    # Time from filing to resolution, for cases resolved in the period.
    resolve_median: timedelta | None
    resolve_p90: timedelta | None
    # SLA breaches: open cases older than `sla`, and period resolutions that took longer.
    overdue_open: int
    overdue_resolved: int
    overdue: tuple[OverdueCase, ...]  # the open ones, oldest first
    # New cases in the period, by catalogue code / unit; most first, then by code.
    by_violation: tuple[tuple[str, int], ...]
    by_province: tuple[tuple[str, int], ...]
    by_unit: tuple[UnitCount, ...]
    top_businesses: tuple[BusinessCount, ...]
    workload: tuple[HolderLoad, ...]  # open cases per holder, most loaded first
    ratings_count: int
    ratings_mean: float | None


def median(values: Sequence[timedelta]) -> timedelta | None:
    """Middle value (mean of the two middle ones for an even count); None when empty."""
    return statistics.median(sorted(values)) if values else None


def percentile(values: Sequence[timedelta], fraction: float) -> timedelta | None:
    """Nearest-rank percentile: the smallest value with at least `fraction` of values at or
    below it. It is always an observed duration, which reads honestly in a digest."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def _ranked(counter: Counter[Any]) -> list[tuple[Any, int]]:
    """Most first; ties by key so the order is stable between runs."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))


def _batches(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for i in range(0, len(ordered), _ID_BATCH):
        yield ordered[i : i + _ID_BATCH]


def _check_bounds(start: datetime, end: datetime, now: datetime) -> None:
    for value in (start, end, now):
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass aware UTC datetimes")
    if not start < end:
        raise ValueError("empty period: start must be before end")


async def summarize(
    engine: AsyncEngine,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    sla: timedelta = DEFAULT_SLA,
) -> Summary:
    """Compute the manager's summary for ``[start, end)`` with the backlog as of `now`."""
    _check_bounds(start, end, now)
    start, end, now = (d.astimezone(UTC) for d in (start, end, now))
    async with engine.connect() as conn:
        new_rows = await _new_cases(conn, start, end)
        flow = await _flow(conn, start, end)
        backlog = await _open_cases(conn)
        names = await _holder_names(conn, {r["holder_id"] for r in backlog if r["holder_id"]})
        unit_names = await _unit_names(conn)
        ratings_count, ratings_sum = await _ratings(conn, start, end)
    return Summary(
        start=start,
        end=end,
        now=now,
        sla=sla,
        new=len(new_rows),
        **flow.figures(sla),
        **_backlog_figures(backlog, now, sla, names),
        **_breakdowns(new_rows, unit_names),
        ratings_count=ratings_count,
        ratings_mean=ratings_sum / ratings_count if ratings_count else None,
    )


async def _new_cases(conn: AsyncConnection, start: datetime, end: datetime) -> list[Any]:
    """Cases filed in the period (the SUBMIT event is written with the same `created_at`)."""
    stmt = select(
        cases.c.violation,
        cases.c.province,
        cases.c.unit_id,
        cases.c.business,
        cases.c.business_key,
        cases.c.created_at,
        cases.c.id,
    ).where(cases.c.created_at >= start, cases.c.created_at < end)
    return list((await conn.execute(stmt)).mappings())


@dataclass
class _Flow:
    """Case movements in the period, per case id."""

    created: dict[int, datetime]
    first_claim: dict[int, datetime]  # earliest claim in the period
    claimed_before: set[int]  # of those, cases already claimed before the period
    last_resolve: dict[int, datetime]  # latest resolution in the period
    referred: set[int]
    rejected: set[int]

    def figures(self, sla: timedelta) -> dict[str, Any]:
        to_claim = [
            at - self.created[cid]
            for cid, at in self.first_claim.items()
            if cid not in self.claimed_before
        ]
        to_resolve = [at - self.created[cid] for cid, at in self.last_resolve.items()]
        return {
            "claimed": len(self.first_claim),
            "referred": len(self.referred),
            "resolved": len(self.last_resolve),
            "rejected": len(self.rejected),
            "claim_count": len(to_claim),
            "claim_median": median(to_claim),
            "claim_p90": percentile(to_claim, 0.9),
            "resolve_median": median(to_resolve),
            "resolve_p90": percentile(to_resolve, 0.9),
            "overdue_resolved": sum(1 for d in to_resolve if d > sla),
        }


_FLOW_ACTIONS = (Action.CLAIM, Action.REFER, Action.RESOLVE, Action.REJECT)


async def _flow(conn: AsyncConnection, start: datetime, end: datetime) -> _Flow:
    stmt = (
        select(case_events.c.case_id, case_events.c.action, case_events.c.at, cases.c.created_at)
        .join(cases, cases.c.id == case_events.c.case_id)
        .where(
            case_events.c.at >= start,
            case_events.c.at < end,
            case_events.c.action.in_([a.value for a in _FLOW_ACTIONS]),
        )
    )
    flow = _Flow({}, {}, set(), {}, set(), set())
    for case_id, action, at, created_at in await conn.execute(stmt):
        flow.created[case_id] = created_at
        if action == Action.CLAIM:
            flow.first_claim[case_id] = min(at, flow.first_claim.get(case_id, at))
        elif action == Action.RESOLVE:
            flow.last_resolve[case_id] = max(at, flow.last_resolve.get(case_id, at))
        elif action == Action.REFER:
            flow.referred.add(case_id)
        else:
            flow.rejected.add(case_id)
    flow.claimed_before = await _claimed_before(conn, flow.first_claim, start)
    return flow


async def _claimed_before(conn: AsyncConnection, ids: Iterable[int], start: datetime) -> set[int]:
    """Which of `ids` had a claim before `start` (a re-claim is not a first response)."""
    found: set[int] = set()
    for batch in _batches(ids):
        stmt = (
            select(case_events.c.case_id)
            .where(
                case_events.c.case_id.in_(batch),
                case_events.c.action == Action.CLAIM.value,
                case_events.c.at < start,
            )
            .distinct()
        )
        found.update((await conn.execute(stmt)).scalars())
    return found


async def _open_cases(conn: AsyncConnection) -> list[Any]:
    stmt = select(cases.c.code, cases.c.status, cases.c.created_at, cases.c.holder_id).where(
        cases.c.status.in_(_OPEN)
    )
    return list((await conn.execute(stmt)).mappings())


async def _holder_names(conn: AsyncConnection, ids: set[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for batch in _batches(ids):
        stmt = select(users.c.id, users.c.first_name).where(users.c.id.in_(batch))
        names.update({uid: name or "" for uid, name in await conn.execute(stmt)})
    return names


async def _unit_names(conn: AsyncConnection) -> dict[int, str]:
    return {uid: name for uid, name in await conn.execute(select(units.c.id, units.c.name))}


async def _ratings(conn: AsyncConnection, start: datetime, end: datetime) -> tuple[int, int]:
    stmt = select(func.count(), func.coalesce(func.sum(ratings.c.score), 0)).where(
        ratings.c.created_at >= start, ratings.c.created_at < end
    )
    count, total = (await conn.execute(stmt)).one()
    return int(count), int(total)


def _backlog_figures(
    rows: list[Any], now: datetime, sla: timedelta, names: dict[int, str]
) -> dict[str, Any]:
    ages = [now - r["created_at"] for r in rows]
    overdue = sorted(
        (
            OverdueCase(r["code"], r["status"], r["created_at"], now - r["created_at"])
            for r in rows
            if now - r["created_at"] > sla
        ),
        key=lambda c: (c.created_at, c.code),
    )
    loads = Counter(r["holder_id"] for r in rows if r["holder_id"] is not None)
    return {
        "backlog": len(rows),
        "backlog_by_status": tuple(_ranked(Counter(r["status"] for r in rows))),
        "oldest_open_age": max(ages) if ages else None,
        "median_open_age": median(ages),
        "overdue_open": len(overdue),
        "overdue": tuple(overdue),
        "workload": tuple(
            HolderLoad(holder, names.get(holder, ""), n) for holder, n in _ranked(loads)
        ),
    }


def _breakdowns(rows: list[Any], unit_names: dict[int, str]) -> dict[str, Any]:
    units_count = Counter(r["unit_id"] for r in rows)
    by_unit = sorted(units_count.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or 0))
    return {
        "by_violation": tuple(_ranked(Counter(r["violation"] for r in rows))),
        "by_province": tuple(_ranked(Counter(r["province"] for r in rows))),
        "by_unit": tuple(
            UnitCount(uid, unit_names.get(uid) if uid is not None else None, n)
            for uid, n in by_unit
        ),
        "top_businesses": tuple(_top_businesses(rows)),
    }


def _top_businesses(rows: list[Any]) -> list[BusinessCount]:
    """Most-complained-of businesses, spelled as in their most recent complaint."""
    counts: Counter[str] = Counter()
    latest: dict[str, tuple[datetime, int, str]] = {}
    for r in rows:
        key = r["business_key"]
        counts[key] += 1
        seen = (r["created_at"], r["id"], r["business"])
        if key not in latest or seen[:2] > latest[key][:2]:
            latest[key] = seen
    ranked = sorted(counts, key=lambda k: (-counts[k], -latest[k][0].timestamp(), k))
    return [BusinessCount(k, latest[k][2], counts[k]) for k in ranked[:TOP_BUSINESSES]]
