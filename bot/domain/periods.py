"""Report periods: a Jalali day, week (Saturday to Friday) or month on the local clock.

A period is named by its kind and first local day, and `key`/`parse` turn it into a short ASCII
string and back, so it can ride in callback data and in `scheduled_pushes.period_key`. Its
bounds are half-open ``[start, end)`` in aware UTC, the form the report queries take.

`read_period` reads what a manager types after /report or /export: a Persian word («امروز»،
«دیروز»، «هفته»، «هفتهٔ گذشته»، «ماه»، «ماه گذشته»), its Latin code ("today", "week", …), one
Jalali date or a range of two («از ۱۴۰۵/۰۹/۰۱ تا ۱۴۰۵/۰۹/۰۷»), in Persian or Latin digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

from bot import jalali, text


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


#: What a manager may type for a period: the kind, and how many periods back from the current
#: one. Persian first: it is what the usage line teaches. Compared after `text.word_key`.
PERIOD_WORDS: dict[str, tuple[PeriodKind, int]] = {
    "امروز": (PeriodKind.DAY, 0),
    "دیروز": (PeriodKind.DAY, -1),
    "هفته": (PeriodKind.WEEK, 0),
    "این هفته": (PeriodKind.WEEK, 0),
    "هفتهٔ گذشته": (PeriodKind.WEEK, -1),
    "هفتهٔ قبل": (PeriodKind.WEEK, -1),
    "هفتهٔ پیش": (PeriodKind.WEEK, -1),
    "ماه": (PeriodKind.MONTH, 0),
    "این ماه": (PeriodKind.MONTH, 0),
    "ماه گذشته": (PeriodKind.MONTH, -1),
    "ماه قبل": (PeriodKind.MONTH, -1),
    "ماه پیش": (PeriodKind.MONTH, -1),
    "today": (PeriodKind.DAY, 0),
    "yesterday": (PeriodKind.DAY, -1),
    "week": (PeriodKind.WEEK, 0),
    "last_week": (PeriodKind.WEEK, -1),
    "month": (PeriodKind.MONTH, 0),
    "last_month": (PeriodKind.MONTH, -1),
}
_PERIOD_KEYS = {text.word_key(w): named for w, named in PERIOD_WORDS.items()}
#: «از … تا …» around a range are optional words.
_RANGE_FROM = "از"
_RANGE_TO = ("تا", "to", "-", "–", "—")
#: The longest range a report or an export may cover.
MAX_RANGE_DAYS = 370


@dataclass(frozen=True, slots=True)
class DayRange:
    """Local days from `first` to `last`, both included: a report over a custom range."""

    first: date
    last: date


def read_period(words: list[str], now: datetime, tz: tzinfo) -> Period | DayRange | None:
    """What period `words` (the command's arguments) name on the local clock at `now`.

    No words is today. None when the words are not a period, a date is impossible, a range
    runs backwards or is longer than MAX_RANGE_DAYS: the caller shows the usage.
    """
    words = [w for w in (text.normalize(w) for w in words) if w]
    if not words:
        return Period.containing(PeriodKind.DAY, now, tz)
    named = _PERIOD_KEYS.get(text.word_key(" ".join(words)))
    if named is not None:
        return _shifted(*named, now, tz)
    if words[0] == _RANGE_FROM:
        words = words[1:]
    if len(words) == 3 and words[1].casefold() in _RANGE_TO:
        words = [words[0], words[2]]
    days = [jalali.parse_jalali_date(w) for w in words]
    if not days or len(days) > 2 or any(d is None for d in days):
        return None
    first, last = days[0], days[-1]
    assert first is not None and last is not None
    if len(days) == 1:
        return Period(PeriodKind.DAY, first)
    if last < first or (last - first).days >= MAX_RANGE_DAYS:
        return None
    return DayRange(first, last)


def _shifted(kind: PeriodKind, back: int, now: datetime, tz: tzinfo) -> Period:
    period = Period.containing(kind, now, tz)
    for _step in range(-back):
        period = Period.containing(kind, period.first_day - timedelta(days=1), tz)
    return period
