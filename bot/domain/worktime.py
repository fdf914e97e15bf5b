"""Working time on the Iranian week, for SLA clocks that must not tick over weekends and holidays.

A case filed on Wednesday afternoon has not waited "two days" by Saturday morning: the office
was closed on Thursday afternoon, Friday and any public holiday. `WorkCalendar` answers two
questions: how much working time lies between two instants (`between`), and when a given
amount of working time will have passed (`add`). Both work on aware datetimes and count in the
calendar's time zone, so they agree with what staff see on the wall clock in Tehran.

Pure and framework-free; the holiday list comes from data (`bot.domain.holidays`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

# Python's weekday numbers (Monday = 0): the Iranian week runs Saturday (5) to Friday (4).
SATURDAY, SUNDAY, MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = 5, 6, 0, 1, 2, 3, 4
FULL_DAYS = (SATURDAY, SUNDAY, MONDAY, TUESDAY, WEDNESDAY)

# `add` gives up after this many days without a single working minute (a misconfiguration,
# e.g. every day listed as a holiday), instead of looping for ever.
SEARCH_LIMIT_DAYS = 3700


@dataclass(frozen=True, order=True)
class Shift:
    """Office hours of one day, [start, end) on the local clock."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("a shift must end after it starts")


def parse_shift(value: str) -> Shift | None:
    """ "08:00-16:00" -> Shift(08:00, 16:00); "off" (or "") -> None; ValueError otherwise."""
    raw = value.strip().lower()
    if raw in ("", "off", "none", "closed"):
        return None
    start, sep, end = raw.replace("–", "-").partition("-")
    if not sep:
        raise ValueError("must be like 08:00-16:00, or off")
    return Shift(_clock(start), _clock(end))


def _clock(value: str) -> time:
    hours, sep, minutes = value.strip().partition(":")
    if not (sep and hours.isascii() and hours.isdigit() and minutes.isascii()):
        raise ValueError("times must be HH:MM")
    if not (minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        raise ValueError("times must be HH:MM")
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0:
        return time.max  # "…-24:00": to the end of the day
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError("times must be HH:MM")
    return time(h, m)


@dataclass(frozen=True)
class WorkCalendar:
    """Which local hours of which days count as working time.

    `week[d]` is the shift on Python weekday `d`, or None for a day off; `holidays` are local
    dates on which nobody works whatever the weekday."""

    tz: tzinfo
    week: tuple[Shift | None, ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("week needs one entry per weekday")

    @classmethod
    def iranian(
        cls,
        tz: tzinfo,
        *,
        hours: Shift = Shift(time(8), time(16)),
        thursday: Shift | None = Shift(time(8), time(12)),
        holidays: Iterable[date] = (),
    ) -> WorkCalendar:
        """Saturday to Wednesday at `hours`, Thursday at `thursday` (None: off), Friday off."""
        week: list[Shift | None] = [None] * 7
        for day in FULL_DAYS:
            week[day] = hours
        week[THURSDAY] = thursday
        return cls(tz, tuple(week), frozenset(holidays))

    # -- one day -----------------------------------------------------------------------------

    def shift_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's working interval (aware, in UTC), or None on a day off or a holiday."""
        if day in self.holidays:
            return None
        shift = self.week[day.weekday()]
        if shift is None:
            return None
        start = datetime.combine(day, shift.start, tzinfo=self.tz)
        if shift.end == time.max:
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)
        else:
            end = datetime.combine(day, shift.end, tzinfo=self.tz)
        # In UTC, so that differences are elapsed time even on a day the clocks change.
        return start.astimezone(UTC), end.astimezone(UTC)

    def is_working_day(self, day: date) -> bool:
        return self.shift_on(day) is not None

    # -- spans -------------------------------------------------------------------------------

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in [start, end); zero when end is not after start."""
        _require_aware(start, end)
        if end <= start:
            return timedelta(0)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        total = timedelta(0)
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            shift = self.shift_on(day)
            if shift is not None:
                lo, hi = max(shift[0], start), min(shift[1], end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The earliest instant at which `amount` of working time has passed since `start`.

        `between(start, add(start, amount)) == amount` for every amount >= 0."""
        _require_aware(start)
        if amount < timedelta(0):
            raise ValueError("amount must not be negative")
        if amount == timedelta(0):
            return start
        left = amount
        origin, start = start, start.astimezone(UTC)
        day = start.astimezone(self.tz).date()
        for _ in range(SEARCH_LIMIT_DAYS):
            shift = self.shift_on(day)
            if shift is not None:
                lo, hi = max(shift[0], start), shift[1]
                if hi > lo:
                    if left <= hi - lo:
                        return (lo + left).astimezone(origin.tzinfo)
                    left -= hi - lo
            day += timedelta(days=1)
        raise ValueError("no working time in the calendar")


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("naive datetime: working time needs aware datetimes")
