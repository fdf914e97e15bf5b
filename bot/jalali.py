"""Solar Hijri (Jalali) dates and Tehran local time for display and day/week/month queries.

Timestamps are stored as aware UTC datetimes; citizens and staff think in Jalali dates on
Tehran's clock. Every function takes an optional ``tz`` (a ``tzinfo`` or an IANA name) so
tests and other deployments need not assume Tehran. Iran has had no DST since 2022; zoneinfo
knows the history, so old timestamps still convert correctly.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

from persiantools.jdatetime import JalaliDate

from bot.i18n import N_, _
from bot.text import count_in_words, normalize, to_persian_digits

DEFAULT_TZ_NAME: Final = "Asia/Tehran"
DEFAULT_TZ: Final = ZoneInfo(DEFAULT_TZ_NAME)

#: Jalali month names, as catalog message ids (the Persian is in the catalog like every word).
MONTHS: Final = (
    N_("Farvardin"),
    N_("Ordibehesht"),
    N_("Khordad"),
    N_("Tir"),
    N_("Mordad"),
    N_("Shahrivar"),
    N_("Mehr"),
    N_("Aban"),
    N_("Azar"),
    N_("Dey"),
    N_("Bahman"),
    N_("Esfand"),
)
#: The Iranian week starts on Saturday; Friday is the weekend.
WEEKDAYS: Final = (
    N_("Saturday"),
    N_("Sunday"),
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
)


def month_name(month: int) -> str:
    """The Persian name of Jalali month 1-12: «فروردین» … «اسفند»."""
    return _(MONTHS[month - 1])


#: Years accepted by :func:`parse_jalali_date` (Gregorian 1921-2121). Outside this range a
#: four-digit year is far more likely a Gregorian year typed by mistake.
MIN_YEAR: Final = 1300
MAX_YEAR: Final = 1499

TzLike = tzinfo | str | None


def _zone(tz: TzLike) -> tzinfo:
    if tz is None:
        return DEFAULT_TZ
    if isinstance(tz, str):
        return ZoneInfo(tz)
    return tz


def to_local(dt: datetime, tz: TzLike = None) -> datetime:
    """Convert an aware datetime to local (default Tehran) time.

    A naive datetime is refused: guessing whether it meant UTC or Tehran would silently shift
    times by 3.5 hours.
    """
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise ValueError("naive datetime: attach a timezone (stored times are UTC)")
    return dt.astimezone(_zone(tz))


def _local_date(d: date | datetime, tz: TzLike) -> date:
    """The calendar date of ``d``: a datetime is first moved to local time, a date is as is."""
    if isinstance(d, datetime):
        return to_local(d, tz).date()
    return d


def _jalali(d: date | datetime, tz: TzLike) -> JalaliDate:
    return JalaliDate(_local_date(d, tz))


def format_date(d: date | datetime, tz: TzLike = None) -> str:
    """«۷ آذر ۱۴۰۵» for a date, or for an aware datetime's local date."""
    j = _jalali(d, tz)
    return f"{to_persian_digits(j.day)} {month_name(j.month)} {to_persian_digits(j.year)}"


def format_date_with_weekday(d: date | datetime, tz: TzLike = None) -> str:
    """«شنبه ۷ آذر ۱۴۰۵»: the weekday before the date, for a day's report."""
    return f"{weekday_name(d, tz)} {format_date(d, tz)}"


def _clock(local: datetime) -> str:
    return to_persian_digits(f"{local.hour:02d}:{local.minute:02d}")


def format_time(dt: datetime, tz: TzLike = None) -> str:
    """«۱۴:۰۵»: 24-hour local time, hours zero-padded so times line up in lists."""
    return _clock(to_local(dt, tz))


def format_datetime(dt: datetime, tz: TzLike = None) -> str:
    """«۷ آذر ۱۴۰۵، ساعت ۱۴:۰۵» in local time."""
    local = to_local(dt, tz)
    return _("{date}, at {time}").format(date=format_date(local.date()), time=_clock(local))


def format_numeric_date(d: date | datetime, tz: TzLike = None) -> str:
    """«۱۴۰۵/۰۹/۰۷»: compact, sortable form for tables and exports."""
    j = _jalali(d, tz)
    return to_persian_digits(f"{j.year:04d}/{j.month:02d}/{j.day:02d}")


def weekday_name(d: date | datetime, tz: TzLike = None) -> str:
    """Persian weekday name, «شنبه» … «جمعه»."""
    # date.weekday(): Monday is 0, so Saturday (5) maps to index 0.
    return _(WEEKDAYS[(_local_date(d, tz).weekday() + 2) % 7])


def format_age(delta: timedelta) -> str:
    """How long ago / how long open, coarse on purpose: «۵ دقیقه», «۳ ساعت», «۲ روز و ۴ ساعت».

    Units are truncated, never rounded up. A negative delta (clock skew between servers) is
    treated as zero rather than shown as a confusing negative age.
    """
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        text = _("{n} days").format(n=_count(days))
        if not hours:
            return text
        return _("{days} and {hours}").format(days=text, hours=_hours(hours))
    if hours:
        return _hours(hours)
    if minutes:
        return _("{n} minutes").format(n=_count(minutes))
    return _("less than a minute")


def _hours(n: int) -> str:
    return _("{n} hours").format(n=_count(n))


def _count(n: int) -> str:
    """«یک روز», not «۱ روز»; other counts in digits, short enough for a card's line."""
    return count_in_words(n) if n == 1 else to_persian_digits(n)


_JALALI_DATE: Final = re.compile(
    r"([0-9]{4}) ?([/\-.\u066b]) ?([0-9]{1,2}) ?\2 ?([0-9]{1,2})", re.ASCII
)


def parse_jalali_date(text: str) -> date | None:
    """Read «۱۴۰۵/۰۹/۰۱», "1405-9-1" or «۱۴۰۵.۰۹.۰۱» (year first) into a Gregorian date.

    The separator must be the same twice; impossible dates (month 13, Esfand 30 in a common
    year) and years outside MIN_YEAR..MAX_YEAR give None. Never raises.
    """
    if not isinstance(text, str) or len(text) > 40:
        return None
    m = _JALALI_DATE.fullmatch(normalize(text))
    if not m:
        return None
    year, month, day = int(m[1]), int(m[3]), int(m[4])
    if not MIN_YEAR <= year <= MAX_YEAR or not JalaliDate.check_date(year, month, day):
        return None
    return JalaliDate(year, month, day).to_gregorian()


def _day_start_utc(d: date, tz: TzLike) -> datetime:
    return datetime.combine(d, time(0), tzinfo=_zone(tz)).astimezone(UTC)


def local_day_bounds(d: date | datetime, tz: TzLike = None) -> tuple[datetime, datetime]:
    """Half-open ``[start, end)`` of a local day as aware UTC datetimes, for "today" queries."""
    day = _local_date(d, tz)
    return _day_start_utc(day, tz), _day_start_utc(day + timedelta(days=1), tz)


def jalali_week_bounds(d: date | datetime, tz: TzLike = None) -> tuple[datetime, datetime]:
    """Half-open UTC bounds of the Saturday-to-Friday week containing ``d`` (local date)."""
    day = _local_date(d, tz)
    saturday = day - timedelta(days=(day.weekday() + 2) % 7)
    return _day_start_utc(saturday, tz), _day_start_utc(saturday + timedelta(days=7), tz)


def jalali_month_bounds(d: date | datetime, tz: TzLike = None) -> tuple[datetime, datetime]:
    """Half-open UTC bounds of the Jalali month containing ``d`` (local date)."""
    j = _jalali(d, tz)
    first = JalaliDate(j.year, j.month, 1).to_gregorian()
    last = first + timedelta(days=JalaliDate.days_in_month(j.month, j.year) - 1)
    return _day_start_utc(first, tz), _day_start_utc(last + timedelta(days=1), tz)
