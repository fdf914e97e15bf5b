"""What period a manager asks for (read by `bot.domain.periods.read_period`), with its bounds
and, for a custom range, its title."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot import jalali
from bot.domain.periods import DayRange, Period, read_period
from bot.i18n import _


@dataclass(frozen=True)
class Requested:
    start: datetime
    end: datetime
    period: Period | None  # None for a custom range (no drill-down buttons)
    title: str | None  # None: the period's own title


def parse(args: list[str], now: datetime, tz: tzinfo) -> Requested | None:
    """None when the arguments are not a period (the caller shows the usage)."""
    asked = read_period(args, now, tz)
    if asked is None:
        return None
    if isinstance(asked, Period):
        start, end = asked.bounds(tz)
        return Requested(start, end, asked, None)
    return _range(asked, tz)


def _range(asked: DayRange, tz: tzinfo) -> Requested:
    start, _first_end = jalali.local_day_bounds(asked.first, tz)
    _last_start, end = jalali.local_day_bounds(asked.last, tz)
    title = _("Report for {start} to {end}").format(
        start=jalali.format_date(asked.first), end=jalali.format_date(asked.last)
    )
    return Requested(start, end, None, title)
