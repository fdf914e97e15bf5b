"""The manager's digest as data: what came in, what moved and what is stuck in one period.

`bot.services.reports.summarize` computes a `Summary`; `bot.views.summary` and `bot.charts`
draw it. Plain frozen values, so each side can be tested without the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


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
    # New cases in the period by the channel they came in by (bot.domain.channels), most first.
    by_channel: tuple[tuple[str, int], ...] = ()
