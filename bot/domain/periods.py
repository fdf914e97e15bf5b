"""Report periods: a Jalali day, week (Saturday to Friday) or month on the local clock.

A period is named by its kind and first local day, and `key`/`parse` turn it into a short ASCII
string and back, so it can ride in callback data and in `scheduled_pushes.period_key`. Its
bounds are half-open ``[start, end)`` in aware UTC, the form the report queries take.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from bot import jalali


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
