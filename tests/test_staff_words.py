"""What staff and managers type beside the Latin codes: Persian words for periods, outcomes,
units and roles (bot/domain/periods.py, bot/domain/staff_words.py), and the help lines that
teach them, which must name only words the parsers read."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.lifecycle import Outcome
from bot.domain.periods import DayRange, Period, PeriodKind, read_period
from bot.domain.roles import Role
from bot.domain.staff_words import (
    UnitName,
    read_change,
    read_outcome,
    read_role,
    read_unit,
)
from bot.text import word_key
from bot.views import staff as views
from handlers.managers import _usage as report_usage

TZ = ZoneInfo("Asia/Tehran")
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # Saturday 7 Azar 1405, Tehran
UNITS = [
    UnitName("it_cyber", "فناوری اطلاعات و امنیت فضای مجازی"),
    UnitName("joint_patrols", "هماهنگی امور گشت‌های مشترک"),
    UnitName("market_regulation", "تنظیم بازار"),
    UnitName("tehran_office", "تعزیرات حکومتی استان تهران"),
]


def _quoted(line: str) -> list[str]:
    return re.findall(r"«([^«»]+)»", line)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([], Period(PeriodKind.DAY, date(2026, 11, 28))),
        (["امروز"], Period(PeriodKind.DAY, date(2026, 11, 28))),
        (["today"], Period(PeriodKind.DAY, date(2026, 11, 28))),
        (["دیروز"], Period(PeriodKind.DAY, date(2026, 11, 27))),
        (["YESTERDAY"], Period(PeriodKind.DAY, date(2026, 11, 27))),
        (["هفته"], Period(PeriodKind.WEEK, date(2026, 11, 28))),
        (["این", "هفته"], Period(PeriodKind.WEEK, date(2026, 11, 28))),
        (["هفتهٔ", "گذشته"], Period(PeriodKind.WEEK, date(2026, 11, 21))),
        (["هفته‌ی", "گذشته"], Period(PeriodKind.WEEK, date(2026, 11, 21))),
        (["هفته", "قبل"], Period(PeriodKind.WEEK, date(2026, 11, 21))),
        (["last_week"], Period(PeriodKind.WEEK, date(2026, 11, 21))),
        (["ماه"], Period(PeriodKind.MONTH, date(2026, 11, 22))),  # 1 Azar 1405
        (["ماه", "گذشته"], Period(PeriodKind.MONTH, date(2026, 10, 23))),  # 1 Aban 1405
        (["۱۴۰۵/۰۹/۰۱"], Period(PeriodKind.DAY, date(2026, 11, 22))),
        (["۱۴۰۵/۰۹/۰۱", "1405-09-07"], DayRange(date(2026, 11, 22), date(2026, 11, 28))),
        (
            ["از", "۱۴۰۵/۰۹/۰۱", "تا", "۱۴۰۵/۰۹/۰۷"],
            DayRange(date(2026, 11, 22), date(2026, 11, 28)),
        ),
        (["۱۴۰۵/۰۹/۰۷", "۱۴۰۵/۰۹/۰۱"], None),  # backwards
        (["1404/01/01", "1405/09/07"], None),  # longer than a year
        (["1405/13/01"], None),
        (["هفتگی"], None),
        (["امروز", "دیروز", "ماه"], None),
    ],
)
def test_periods(words: list[str], expected: Period | DayRange | None) -> None:
    assert read_period(words, NOW, TZ) == expected


def test_the_report_usage_names_only_words_that_are_read() -> None:
    words = _quoted(report_usage())
    assert len(words) == 6
    for word in words:
        assert read_period(word.split(), NOW, TZ) is not None, word
    # The example in it works too (the dates are written with Persian digits).
    example = re.search(r"/report\u2069 (از \S+ تا [۰-۹/]+)", report_usage())
    assert example and isinstance(read_period(example[1].split(), NOW, TZ), DayRange)


@pytest.mark.parametrize(
    ("typed", "outcome", "rest"),
    [
        ("برطرف فروشنده قیمت را اصلاح کرد", Outcome.RESOLVED, "فروشنده قیمت را اصلاح کرد"),
        ("مشکل برطرف شد، پول برگشت", Outcome.RESOLVED, "، پول برگشت"),
        ("شعبه پرونده به شعبه رفت", Outcome.BRANCH, "پرونده به شعبه رفت"),
        ("به شعبهٔ تعزیرات ارسال شد", Outcome.BRANCH, ""),
        ("بی‌تخلف قیمت مصوب بود", Outcome.NO_VIOLATION, "قیمت مصوب بود"),
        ("بی تخلف", Outcome.NO_VIOLATION, ""),
        ("تخلفی احراز نشد", Outcome.NO_VIOLATION, ""),
        ("خارج از حیطه مربوط به شهرداری است", Outcome.NOT_JURISDICTION, "مربوط به شهرداری است"),
        ("خارج", Outcome.NOT_JURISDICTION, ""),
        ("no_violation checked", Outcome.NO_VIOLATION, "checked"),
        ("BRANCH", Outcome.BRANCH, ""),
    ],
)
def test_outcomes(typed: str, outcome: Outcome, rest: str) -> None:
    words = typed.replace("،", " ،").split() if "،" in typed else typed.split()
    assert read_outcome(words) == (outcome, rest.replace("،", " ،").split() if rest else [])


@pytest.mark.parametrize("typed", ["", "رسیدگی", "تخلف", "برطرف‌نشد"])
def test_not_an_outcome(typed: str) -> None:
    assert read_outcome(typed.split()) is None


def test_the_resolve_help_names_every_outcome_by_a_word_that_is_read() -> None:
    words = _quoted(views.resolve_usage())
    read = [read_outcome(w.split()) for w in words]
    assert sorted(r[0] for r in read if r and not r[1]) == sorted(Outcome)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("market_regulation", "market_regulation"),
        ("MARKET_REGULATION", "market_regulation"),
        ("تنظیم بازار", "market_regulation"),
        ("بازار", "market_regulation"),
        ("گشت", "joint_patrols"),
        ("گشت های مشترک", "joint_patrols"),
        ("فضای مجازی", "it_cyber"),
        ("استان تهران", "tehran_office"),
        ("ت", None),  # too short to pick a unit
        ("و", None),
        ("شهرداری", None),
        ("", None),
    ],
)
def test_units(typed: str, code: str | None) -> None:
    assert read_unit(typed.split(), UNITS) == code


def test_a_word_in_several_unit_names_picks_none() -> None:
    units = [*UNITS, UnitName("market_north", "تنظیم بازار شمال")]
    assert read_unit(["بازار"], units) is None
    assert read_unit(["تنظیم", "بازار"], units) == "market_regulation"  # the whole name


def test_roles_and_changes() -> None:
    words = _quoted(views.roles_usage())
    assert [read_role(w.split()) for w in words] == [
        Role.ADMIN,
        Role.SUPERVISOR,
        Role.STAFF,
        Role.MANAGER,
    ]
    assert read_role(["مدیر", "سامانه"]) is Role.ADMIN
    assert read_role(["staff"]) is Role.STAFF
    assert read_role(["مدیر", "کل"]) is None
    assert read_change("افزودن") is True and read_change("add") is True
    assert read_change("حذف") is False and read_change("REMOVE") is False
    assert read_change("list") is None


def test_word_key_folds_the_spellings_of_one_word() -> None:
    assert word_key("هفتهٔ گذشته") == word_key("هفته‌ی گذشته") == word_key("هفته گذشته")
    assert word_key("بی‌تخلف") == word_key("بی تخلف") == word_key("بيتخلف")
    assert word_key("Last_Week") == word_key("lastweek")
