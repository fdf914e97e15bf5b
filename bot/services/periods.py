"""What period a manager asks for: «today», «week», «month» or a Jalali date range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from bot import jalali, text
from bot.domain.periods import Period, PeriodKind
from bot.i18n import _

WORDS: dict[str, tuple[PeriodKind, int]] = {
    "today": (PeriodKind.DAY, 0),
    "امروز": (PeriodKind.DAY, 0),
    "yesterday": (PeriodKind.DAY, -1),
    "دیروز": (PeriodKind.DAY, -1),
    "week": (PeriodKind.WEEK, 0),
    "هفته": (PeriodKind.WEEK, 0),
    "month": (PeriodKind.MONTH, 0),
    "ماه": (PeriodKind.MONTH, 0),
}
MAX_RANGE = timedelta(days=370)


@dataclass(frozen=True)
class Requested:
    start: datetime
    end: datetime
    period: Period | None  # None for a custom range (no drill-down buttons)
    title: str | None  # None: the period's own title


def parse(args: list[str], now: datetime, tz: tzinfo) -> Requested | None:
    """None when the arguments are not a period (the caller shows the usage)."""
    words = [text.normalize(a) for a in args if text.normalize(a)]
    if len(words) <= 1:
        word = words[0].lower() if words else "today"
        if word in WORDS:
            kind, shift = WORDS[word]
            period = Period.containing(kind, now + timedelta(days=shift), tz)
            start, end = period.bounds(tz)
            return Requested(start, end, period, None)
        day = jalali.parse_jalali_date(word)
        if day is None:
            return None
        period = Period.containing(PeriodKind.DAY, day, tz)
        start, end = period.bounds(tz)
        return Requested(start, end, period, None)
    if len(words) != 2:
        return None
    first, last = jalali.parse_jalali_date(words[0]), jalali.parse_jalali_date(words[1])
    if first is None or last is None or last < first:
        return None
    start, _first_end = jalali.local_day_bounds(first, tz)
    _last_start, end = jalali.local_day_bounds(last, tz)
    if end - start > MAX_RANGE:
        return None
    title = _("Report for {start} to {end}").format(
        start=jalali.format_date(first), end=jalali.format_date(last)
    )
    return Requested(start, end, None, title)
