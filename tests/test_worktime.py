"""Working time on the Iranian week (pure), the yearly holiday files and their settings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from persiantools.jdatetime import JalaliDate

from bot.config import DEFAULT_HOLIDAYS_DIR, ConfigError, load_settings
from bot.domain import holidays
from bot.domain.worktime import FRIDAY, Shift, WorkCalendar, parse_shift

TEHRAN = ZoneInfo("Asia/Tehran")
HOUR = timedelta(hours=1)
US = timedelta(microseconds=1)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, tz: ZoneInfo = TEHRAN) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=tz)


# Wednesday 2 December 2026 = 11 Azar 1405; the week runs Saturday 28 Nov to Friday 4 Dec.
WED = (2026, 12, 2)
CAL = WorkCalendar.iranian(TEHRAN)


# -- examples ------------------------------------------------------------------------------------


def test_a_full_day_a_half_thursday_and_no_friday() -> None:
    assert CAL.between(at(2026, 11, 28), at(2026, 11, 29)) == 8 * HOUR  # Saturday
    assert CAL.between(at(2026, 12, 3), at(2026, 12, 4)) == 4 * HOUR  # Thursday: 08–12
    assert CAL.between(at(2026, 12, 4), at(2026, 12, 5)) == timedelta(0)  # Friday
    assert CAL.between(at(2026, 11, 28), at(2026, 12, 5)) == 5 * 8 * HOUR + 4 * HOUR


def test_wednesday_afternoon_to_saturday_morning_is_one_working_day_not_three() -> None:
    filed = at(*WED, 14)
    assert CAL.between(filed, at(2026, 12, 4, 23, 59)) == 6 * HOUR  # 2 on Wed + 4 on Thu
    assert CAL.between(filed, at(2026, 12, 5, 10)) == 8 * HOUR
    assert CAL.add(filed, 8 * HOUR) == at(2026, 12, 5, 10)
    assert CAL.add(filed, 2 * HOUR) == at(*WED, 16)  # the earliest moment, not Thursday 08:00


def test_outside_hours_counts_nothing_and_add_starts_at_the_next_opening() -> None:
    assert CAL.between(at(*WED, 16), at(2026, 12, 3, 8)) == timedelta(0)
    assert CAL.add(at(2026, 12, 4, 10), HOUR) == at(2026, 12, 5, 9)  # Friday → Saturday 09:00
    assert CAL.add(at(*WED, 6), timedelta(minutes=30)) == at(*WED, 8, 30)
    assert CAL.add(at(*WED, 15), timedelta(0)) == at(*WED, 15)


def test_thursday_is_configurable() -> None:
    off = WorkCalendar.iranian(TEHRAN, thursday=None)
    full = WorkCalendar.iranian(TEHRAN, thursday=Shift(time(8), time(16)))
    thursday = (at(2026, 12, 3), at(2026, 12, 4))
    assert off.between(*thursday) == timedelta(0)
    assert full.between(*thursday) == 8 * HOUR
    assert off.add(at(*WED, 15), 2 * HOUR) == at(2026, 12, 5, 9)


def test_holidays_pause_the_clock() -> None:
    sunday = date(2026, 11, 29)
    cal = WorkCalendar.iranian(TEHRAN, holidays=[sunday])
    assert cal.between(at(2026, 11, 29), at(2026, 11, 30)) == timedelta(0)
    assert cal.add(at(2026, 11, 28, 10), 8 * HOUR) == at(2026, 11, 30, 10)
    assert not cal.is_working_day(sunday) and cal.is_working_day(date(2026, 11, 30))


def test_any_time_zone_of_the_inputs_gives_the_same_answer() -> None:
    start, end = at(*WED, 14), at(2026, 12, 5, 10)
    assert CAL.between(start.astimezone(UTC), end.astimezone(UTC)) == 8 * HOUR
    due = CAL.add(start.astimezone(UTC), 8 * HOUR)
    assert due.tzinfo is UTC and due == end


def test_refusals() -> None:
    with pytest.raises(ValueError):
        CAL.between(datetime(2026, 12, 2, 14), at(*WED, 15))
    with pytest.raises(ValueError):
        CAL.add(at(*WED, 14), -HOUR)
    with pytest.raises(ValueError):
        Shift(time(16), time(8))
    never = WorkCalendar(TEHRAN, (None,) * 7)
    with pytest.raises(ValueError):
        never.add(at(*WED), HOUR)
    assert CAL.between(at(*WED, 15), at(*WED, 14)) == timedelta(0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("08:00-16:00", Shift(time(8), time(16))),
        (" 7:30 – 13:00 ", Shift(time(7, 30), time(13))),
        ("00:00-24:00", Shift(time(0), time.max)),
        ("off", None),
        ("", None),
    ],
)
def test_parse_shift(raw: str, expected: Shift | None) -> None:
    assert parse_shift(raw) == expected


@pytest.mark.parametrize("raw", ["8-16", "16:00-08:00", "08:00", "25:00-26:00", "۰۸:۰۰-۱۶:۰۰"])
def test_parse_shift_refuses(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_shift(raw)


def test_a_whole_day_shift_ends_at_midnight() -> None:
    cal = WorkCalendar.iranian(TEHRAN, hours=Shift(time(0), time.max), thursday=None)
    assert cal.between(at(*WED), at(2026, 12, 3)) == 24 * HOUR
    assert cal.add(at(*WED, 12), 12 * HOUR) == at(2026, 12, 3)


# -- properties ----------------------------------------------------------------------------------

ZONES = [TEHRAN, ZoneInfo("UTC"), ZoneInfo("Europe/Berlin")]  # Berlin: clocks change
LO, HI = datetime(2025, 12, 1), datetime(2027, 6, 1)


@st.composite
def calendars(draw: st.DrawFn) -> WorkCalendar:
    tz = draw(st.sampled_from(ZONES))
    opens = draw(st.integers(0, 12 * 60))
    closes = draw(st.integers(opens + 30, 24 * 60))  # short days make `add` search for years
    end = time.max if closes == 24 * 60 else time(closes // 60, closes % 60)
    hours = Shift(time(opens // 60, opens % 60), end)
    thursday = draw(st.sampled_from([None, Shift(time(8), time(12)), hours]))
    days = draw(st.sets(st.dates(LO.date(), HI.date()), max_size=40))
    return WorkCalendar.iranian(tz, hours=hours, thursday=thursday, holidays=days)


# Compared in UTC: Python compares two datetimes of one zone by their wall clocks.
moments = st.datetimes(LO, HI, timezones=st.sampled_from(ZONES), allow_imaginary=False).map(
    lambda d: d.astimezone(UTC)
)
amounts = st.timedeltas(timedelta(0), timedelta(days=10))


@settings(max_examples=300, deadline=None)
@given(calendars(), moments, moments, moments)
def test_monotonic_and_additive(cal: WorkCalendar, a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    assert cal.between(a, b) <= cal.between(a, c)
    assert cal.between(b, c) <= cal.between(a, c)
    assert cal.between(a, c) == cal.between(a, b) + cal.between(b, c)
    assert cal.between(a, c) <= c - a


@settings(max_examples=300, deadline=None)
@given(calendars(), moments, moments)
def test_never_counts_fridays_or_holidays(cal: WorkCalendar, a: datetime, b: datetime) -> None:
    a, b = sorted((a, b))
    day = a.astimezone(cal.tz).date()
    while day <= b.astimezone(cal.tz).date():
        if day.weekday() == FRIDAY or day in cal.holidays:
            start = datetime.combine(day, time(0), tzinfo=cal.tz)
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=cal.tz)
            assert cal.between(max(a, start), min(b, end)) == timedelta(0)
        day += timedelta(days=1)


@settings(max_examples=300, deadline=None)
@given(calendars(), moments, amounts)
def test_adding_then_measuring_round_trips(
    cal: WorkCalendar, start: datetime, amount: timedelta
) -> None:
    due = cal.add(start, amount)
    assert due >= start
    assert cal.between(start, due) == amount
    if amount:
        # The last instant counted is working time, on a working day.
        assert cal.between(due - US, due) == US
        assert cal.is_working_day((due - US).astimezone(cal.tz).date())


@settings(max_examples=200, deadline=None)
@given(calendars(), moments, moments)
def test_measuring_then_adding_gives_the_earliest_equal_moment(
    cal: WorkCalendar, a: datetime, b: datetime
) -> None:
    a, b = sorted((a, b))
    due = cal.add(a, cal.between(a, b))
    assert due <= b
    assert cal.between(due, b) == timedelta(0)


# -- holiday files -------------------------------------------------------------------------------


def _file(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_shipped_1405_file_is_valid_and_covers_the_year() -> None:
    [path] = [p for p in holidays.files_in(DEFAULT_HOLIDAYS_DIR) if p.stem == "1405"]
    parsed = holidays.parse(path.read_bytes(), source=path.name)
    assert parsed.year == 1405
    assert "update" in json.loads(path.read_text(encoding="utf-8"))["note"].lower()
    days = {h.day for h in parsed.holidays}
    assert {date(2026, 3, 21), date(2026, 3, 24), date(2026, 6, 4), date(2027, 2, 11)} <= days
    assert date(2027, 3, 20) in days  # 29 Esfand, oil nationalisation day
    assert all(JalaliDate(d).year == 1405 for d in days)
    assert 20 <= len(days) <= 30
    assert any(h.lunar for h in parsed.holidays) and not all(h.lunar for h in parsed.holidays)


def test_persian_and_ascii_digits_are_both_accepted(tmp_path: Path) -> None:
    _file(
        tmp_path,
        "1405.json",
        {
            "year": "۱۴۰۵",
            "holidays": [
                {"date": "۱۴۰۵/۰۹/۰۸", "name": "آزمایشی"},
                {"date": "1405-9-9", "name": "دومی", "lunar": True},
            ],
        },
    )
    assert holidays.load_folder(tmp_path) == {date(2026, 11, 29), date(2026, 11, 30)}


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"year": 1405, "holidays": [{"date": "1405/12/30", "name": "x"}]}, "not a valid"),
        ({"year": 1405, "holidays": [{"date": "1405/13/01", "name": "x"}]}, "not a valid"),
        ({"year": 1405, "holidays": [{"date": "1406/01/01", "name": "x"}]}, "not in the year"),
        ({"year": 1405, "holidays": [{"date": "1405/01/01"}]}, "name is missing"),
        ({"year": 1405, "holidays": [{"date": "1405/01/01", "name": " "}]}, "name is missing"),
        ({"year": 1405, "holidays": [{"data": "1405/01/01", "name": "x"}]}, "unknown keys"),
        ({"year": 1405, "holidays": [{"date": 14050101, "name": "x"}]}, "must be a string"),
        ({"year": 1405, "holidays": [{"date": "1405/01/01", "name": "x", "lunar": "y"}]}, "lunar"),
        ({"year": 2026, "holidays": []}, "out of range"),
        ({"holidays": []}, "year"),
        ({"year": 1405, "holidays": {}}, "must be a list"),
        ({"year": 1405, "days": []}, "unknown keys"),
        ([], "JSON object"),
    ],
)
def test_bad_files_are_refused_naming_the_entry(
    tmp_path: Path, data: object, complaint: str
) -> None:
    _file(tmp_path, "1405.json", data)
    with pytest.raises(holidays.HolidayFileError, match=complaint) as caught:
        holidays.load_folder(tmp_path)
    assert "1405.json" in str(caught.value)


def test_a_file_must_hold_the_year_it_is_named_after(tmp_path: Path) -> None:
    _file(tmp_path, "1406.json", {"year": 1405, "holidays": []})
    with pytest.raises(holidays.HolidayFileError, match=r"1406\.json"):
        holidays.load_folder(tmp_path)
    (tmp_path / "1406.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(holidays.HolidayFileError, match="JSON"):
        holidays.load_folder(tmp_path)


def test_settings_check_hours_thresholds_and_the_holiday_folder(tmp_path: Path) -> None:
    base = {"bot_token": "123:abcdef", "_env_file": None}
    s = load_settings(**base)
    assert (s.work_hours, s.work_thursday_hours) == ("08:00-16:00", "08:00-12:00")
    assert s.holidays_dir == DEFAULT_HOLIDAYS_DIR
    assert load_settings(**base, work_thursday_hours="OFF").work_thursday_hours == "off"
    bad = [
        ({"work_hours": "off"}, "WORK_HOURS"),
        ({"work_thursday_hours": "8-12"}, "WORK_THURSDAY_HOURS"),
        ({"holidays_dir": str(tmp_path / "missing")}, "HOLIDAYS_DIR"),
        ({"sla_referral_escalate_work_hours": 8}, "SLA_REFERRAL_ESCALATE_WORK_HOURS"),
        ({"spike_business_threshold": 1}, "SPIKE_BUSINESS_THRESHOLD"),
        ({"spike_window_minutes": 0}, "SPIKE_WINDOW_MINUTES"),
    ]
    for override, name in bad:
        with pytest.raises(ConfigError, match=name):
            load_settings(**base, **override)
    _file(tmp_path, "1405.json", {"year": 1405, "holidays": [{"date": "1405/07/31", "name": "x"}]})
    with pytest.raises(ConfigError, match=r"HOLIDAYS_DIR is invalid: 1405.json"):
        load_settings(**base, holidays_dir=str(tmp_path))
