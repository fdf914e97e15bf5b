"""Figures for managers: what came in, what moved and what is stuck, in one period.

Framework-free: scheduled jobs and the /report command call `summarize` and hand the
`bot.domain.summary.Summary` to `bot.views.summary`. The queries live in `bot.storage.reports`;
each is bounded by the period on an indexed column or by the open backlog, so a daily summary
costs the same whether the database holds ten thousand cases or a million.

Percentiles are computed in Python from the period's rows: portable across SQLite and PostgreSQL,
and cheap because a period holds few rows.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.domain.lifecycle import OPEN_STATES, Action, Status
from bot.domain.summary import BusinessCount, HolderLoad, OverdueCase, Summary, UnitCount
from bot.i18n import N_
from bot.storage import reports as report_store

DEFAULT_SLA = timedelta(days=3)
TOP_BUSINESSES = 5
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
# The summary
# ---------------------------------------------------------------------------------------------


def median(values: Sequence[timedelta]) -> timedelta | None:
    """Middle value (mean of the two middle ones for an even count); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


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
        new_rows = await report_store.filed_cases(conn, start, end)
        flow = await _flow(conn, start, end)
        backlog = await report_store.cases_in_states(conn, _OPEN)
        holders = {r["holder_id"] for r in backlog if r["holder_id"]}
        names = await report_store.first_names(conn, holders)
        unit_names = await report_store.unit_names(conn)
        ratings_count, ratings_sum = await report_store.ratings_in(conn, start, end)
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
    events = await report_store.events_in(conn, start, end, [a.value for a in _FLOW_ACTIONS])
    flow = _Flow({}, {}, set(), {}, set(), set())
    for case_id, action, at, created_at in events:
        flow.created[case_id] = created_at
        if action == Action.CLAIM:
            flow.first_claim[case_id] = min(at, flow.first_claim.get(case_id, at))
        elif action == Action.RESOLVE:
            flow.last_resolve[case_id] = max(at, flow.last_resolve.get(case_id, at))
        elif action == Action.REFER:
            flow.referred.add(case_id)
        else:
            flow.rejected.add(case_id)
    # A re-claim is not a first response: drop cases already claimed before the period.
    flow.claimed_before = await report_store.had_event_before(
        conn, flow.first_claim, Action.CLAIM.value, start
    )
    return flow


def _backlog_figures(
    rows: Sequence[Mapping[str, Any]], now: datetime, sla: timedelta, names: dict[int, str]
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


def _breakdowns(rows: Sequence[Mapping[str, Any]], unit_names: dict[int, str]) -> dict[str, Any]:
    units_count = Counter(r["unit_id"] for r in rows)
    by_unit = sorted(units_count.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or 0))
    return {
        "by_channel": tuple(_ranked(Counter(r["channel"] for r in rows))),
        "by_violation": tuple(_ranked(Counter(r["violation"] for r in rows))),
        "by_province": tuple(_ranked(Counter(r["province"] for r in rows))),
        "by_unit": tuple(
            UnitCount(uid, unit_names.get(uid) if uid is not None else None, n)
            for uid, n in by_unit
        ),
        "top_businesses": tuple(_top_businesses(rows)),
    }


def _top_businesses(rows: Sequence[Mapping[str, Any]]) -> list[BusinessCount]:
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
