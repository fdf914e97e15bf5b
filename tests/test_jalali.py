"""Tests for bot.jalali: Tehran local time, Jalali formatting, parsing and query bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from persiantools.jdatetime import MONTH_NAMES_FA, WEEKDAY_NAMES_FA, JalaliDate

from bot import jalali as j
from bot.text import to_persian_digits

TEHRAN = ZoneInfo("Asia/Tehran")

# Aware UTC instants across the range both Jalali libraries agree on.
instants = st.datetimes(
    min_value=datetime(1925, 1, 2), max_value=datetime(2120, 12, 30), timezones=st.just(UTC)
)
dates = st.dates(min_value=date(1921, 3, 21), max_value=date(2121, 3, 20))


# ---------------------------------------------------------------------------------------------
# check values from shared/persian.md
# ---------------------------------------------------------------------------------------------


def test_check_values() -> None:
    assert j.format_date(date(2026, 3, 21)) == "۱ فروردین ۱۴۰۵"
    assert j.format_date(date(2026, 11, 28)) == "۷ آذر ۱۴۰۵"
    assert j.weekday_name(date(2026, 11, 28)) == "شنبه"
    assert j.parse_jalali_date("1405/01/01") == date(2026, 3, 21)
    assert j.parse_jalali_date("۱۴۰۵/۰۹/۰۷") == date(2026, 11, 28)


def test_default_zone_is_tehran() -> None:
    assert j.DEFAULT_TZ_NAME == "Asia/Tehran"
    assert j.DEFAULT_TZ == TEHRAN


# ---------------------------------------------------------------------------------------------
# to_local and formatting
# ---------------------------------------------------------------------------------------------


def test_to_local_requires_aware_datetimes() -> None:
    naive = datetime(2026, 11, 28, 10, 35)
    for fn in (j.to_local, j.format_datetime, j.format_time, j.format_date, j.local_day_bounds):
        with pytest.raises(ValueError):
            fn(naive)


def test_iran_has_no_dst_since_2022() -> None:
    summer_2026 = datetime(2026, 6, 21, 12, tzinfo=UTC)
    summer_2021 = datetime(2021, 6, 21, 12, tzinfo=UTC)
    assert j.to_local(summer_2026).utcoffset() == timedelta(hours=3, minutes=30)
    assert j.to_local(summer_2021).utcoffset() == timedelta(hours=4, minutes=30)
    assert j.format_time(summer_2026) == "۱۵:۳۰"
    assert j.format_time(summer_2021) == "۱۶:۳۰"


def test_format_datetime() -> None:
    dt = datetime(2026, 11, 28, 10, 35, tzinfo=UTC)  # 14:05 in Tehran
    assert j.format_datetime(dt) == "۷ آذر ۱۴۰۵، ساعت ۱۴:۰۵"
    assert j.format_time(dt) == "۱۴:۰۵"
    assert j.format_date(dt) == "۷ آذر ۱۴۰۵"
    assert j.format_numeric_date(dt) == "۱۴۰۵/۰۹/۰۷"


def test_format_time_pads_hours() -> None:
    assert j.format_time(datetime(2026, 11, 28, 5, 35, tzinfo=UTC)) == "۰۹:۰۵"


def test_local_date_is_used_near_midnight() -> None:
    before = datetime(2026, 11, 28, 20, 29, tzinfo=UTC)  # 23:59 Tehran
    after = datetime(2026, 11, 28, 20, 30, tzinfo=UTC)  # 00:00 Tehran, next day
    assert j.format_date(before) == "۷ آذر ۱۴۰۵"
    assert j.format_date(after) == "۸ آذر ۱۴۰۵"
    assert j.weekday_name(after) == "یکشنبه"
    assert j.format_datetime(after) == "۸ آذر ۱۴۰۵، ساعت ۰۰:۰۰"


def test_explicit_timezone() -> None:
    dt = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    assert j.format_datetime(dt, tz=UTC) == "۷ آذر ۱۴۰۵، ساعت ۲۲:۰۰"
    assert j.format_datetime(dt, tz="UTC") == "۷ آذر ۱۴۰۵، ساعت ۲۲:۰۰"
    assert j.format_datetime(dt) == "۸ آذر ۱۴۰۵، ساعت ۰۱:۳۰"
    plus_one = timezone(timedelta(hours=1))
    assert j.to_local(dt, plus_one).hour == 23


def test_format_date_of_a_plain_date_ignores_tz() -> None:
    assert j.format_date(date(2026, 11, 28), tz="Pacific/Kiritimati") == "۷ آذر ۱۴۰۵"


def test_numeric_date_and_weekdays() -> None:
    assert j.format_numeric_date(date(2026, 3, 21)) == "۱۴۰۵/۰۱/۰۱"
    week = [j.weekday_name(date(2026, 11, 28) + timedelta(days=i)) for i in range(7)]
    assert week == ["شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه"]


@given(dates)
def test_format_date_agrees_with_persiantools(d: date) -> None:
    jd = JalaliDate(d)
    expected = f"{jd.day} {MONTH_NAMES_FA[jd.month]} {jd.year}"
    assert j.format_date(d) == to_persian_digits(expected)
    assert j.weekday_name(d) == WEEKDAY_NAMES_FA[jd.weekday()]
    assert j.format_date_with_weekday(d) == f"{WEEKDAY_NAMES_FA[jd.weekday()]} {j.format_date(d)}"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), "کمتر از یک دقیقه"),
        (timedelta(seconds=59), "کمتر از یک دقیقه"),
        (timedelta(seconds=-30), "کمتر از یک دقیقه"),  # clock skew
        (timedelta(minutes=1), "یک دقیقه"),
        (timedelta(minutes=5, seconds=59), "۵ دقیقه"),
        (timedelta(minutes=59), "۵۹ دقیقه"),
        (timedelta(hours=1), "یک ساعت"),
        (timedelta(hours=3, minutes=50), "۳ ساعت"),
        (timedelta(hours=23, minutes=59), "۲۳ ساعت"),
        (timedelta(days=1), "یک روز"),
        (timedelta(days=2, hours=4, minutes=10), "۲ روز و ۴ ساعت"),
        (timedelta(days=400), "۴۰۰ روز"),
    ],
)
def test_format_age(delta: timedelta, expected: str) -> None:
    assert j.format_age(delta) == expected


# ---------------------------------------------------------------------------------------------
# parse_jalali_date
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1405/09/01", date(2026, 11, 22)),
        ("۱۴۰۵/۰۹/۰۱", date(2026, 11, 22)),
        ("١٤٠٥/٠٩/٠١", date(2026, 11, 22)),
        ("1405-9-1", date(2026, 11, 22)),
        ("۱۴۰۵.۰۹.۰۱", date(2026, 11, 22)),
        ("۱۴۰۵٫۰۹٫۰۱", date(2026, 11, 22)),
        (" 1405 / 9 / 1 ", date(2026, 11, 22)),
        ("\u200f۱۴۰۵/۰۹/۰۱\u200e", date(2026, 11, 22)),
        ("1403/12/30", date(2025, 3, 20)),  # 1403 is a leap year
        ("1300/01/01", date(1921, 3, 21)),
        ("1499/12/29", date(2121, 3, 20)),
    ],
)
def test_parse_jalali_date_accepts(typed: str, expected: date) -> None:
    assert j.parse_jalali_date(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "1405/13/01",
        "1405/00/01",
        "1405/01/00",
        "1405/01/32",
        "1405/07/31",  # second half of the year has 30-day months
        "1404/12/30",  # 1404 is not a leap year
        "1405/12/30",
        "1405/09-01",  # mixed separators
        "1405/9",
        "05/09/01",
        "01/09/1405",
        "2026/11/28",  # Gregorian typed by mistake
        "1299/12/29",
        "1500/01/01",
        "14050/09/01",
        "1405/009/01",
        "۱۴۰۵/۰۹/۰۱ صبح",
        "امروز",
    ],
)
def test_parse_jalali_date_rejects(typed: str) -> None:
    assert j.parse_jalali_date(typed) is None


@given(st.text(max_size=60))
def test_parse_jalali_date_never_raises(s: str) -> None:
    out = j.parse_jalali_date(s)
    assert out is None or isinstance(out, date)


@given(st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99), st.sampled_from("/-.٫"))
def test_parse_jalali_date_any_numbers(y: int, m: int, d: int, sep: str) -> None:
    out = j.parse_jalali_date(f"{y:04d}{sep}{m}{sep}{d}")
    valid = 1300 <= y <= 1499 and JalaliDate.check_date(y, m, d)
    assert (out is not None) == valid


@given(dates)
def test_parse_jalali_date_reads_back_numeric_dates(d: date) -> None:
    assert j.parse_jalali_date(j.format_numeric_date(d)) == d


# ---------------------------------------------------------------------------------------------
# query bounds
# ---------------------------------------------------------------------------------------------


def test_local_day_bounds() -> None:
    start, end = j.local_day_bounds(date(2026, 11, 28))
    assert start == datetime(2026, 11, 27, 20, 30, tzinfo=UTC)
    assert end == datetime(2026, 11, 28, 20, 30, tzinfo=UTC)
    assert start.tzinfo is UTC and end.tzinfo is UTC


def test_local_day_bounds_in_the_dst_era() -> None:
    start, end = j.local_day_bounds(date(2021, 6, 1))
    assert start == datetime(2021, 5, 31, 19, 30, tzinfo=UTC)
    assert end - start == timedelta(days=1)


def test_local_day_bounds_other_zone() -> None:
    assert j.local_day_bounds(date(2026, 11, 28), tz=UTC) == (
        datetime(2026, 11, 28, tzinfo=UTC),
        datetime(2026, 11, 29, tzinfo=UTC),
    )


def test_week_and_month_bounds() -> None:
    wednesday = date(2026, 12, 2)
    assert j.jalali_week_bounds(wednesday) == (
        datetime(2026, 11, 27, 20, 30, tzinfo=UTC),  # Saturday 7 Azar, 00:00 Tehran
        datetime(2026, 12, 4, 20, 30, tzinfo=UTC),  # Saturday 14 Azar, 00:00 Tehran
    )
    assert j.jalali_month_bounds(wednesday) == (
        datetime(2026, 11, 21, 20, 30, tzinfo=UTC),  # 1 Azar 1405
        datetime(2026, 12, 21, 20, 30, tzinfo=UTC),  # 1 Dey 1405
    )
    # Esfand of a leap year has 30 days.
    start, end = j.jalali_month_bounds(date(2025, 3, 1))
    assert end - start == timedelta(days=30)


@given(instants)
def test_bounds_contain_the_instant(dt: datetime) -> None:
    for bounds in (j.local_day_bounds, j.jalali_week_bounds, j.jalali_month_bounds):
        start, end = bounds(dt)
        assert start <= dt < end
        assert start.utcoffset() == timedelta(0) and end.utcoffset() == timedelta(0)
    week_start, _ = j.jalali_week_bounds(dt)
    assert j.weekday_name(week_start) == "شنبه"
    month_start, month_end = j.jalali_month_bounds(dt)
    assert JalaliDate(j.to_local(month_start).date()).day == 1
    assert JalaliDate(j.to_local(month_end).date()).day == 1
