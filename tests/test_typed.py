"""Typed answers: choices by label, number or a common spelling; Iranian phone numbers; a
caller's name and number in one message; a code grouped for reading aloud."""

from __future__ import annotations

import pytest

from bot.domain import tracking, typed

VIOLATIONS = [("overpricing", "گران‌فروشی"), ("short_weight", "کم‌فروشی"), ("other", "سایر")]
PROVINCES = [
    ("09", "خراسان رضوی"),
    ("28", "خراسان شمالی"),
    ("29", "خراسان جنوبی"),
    ("17", "کهگیلویه و بویراحمد"),
    ("03", "آذربایجان شرقی"),
    ("25", "قم"),
]


@pytest.mark.parametrize(
    ("said", "codes"),
    [
        ("گران‌فروشی", ["overpricing"]),
        ("گرانفروشی", ["overpricing"]),
        ("گران فروشی", ["overpricing"]),
        ("گران", ["overpricing"]),  # the start of one label
        ("فروشنده گرانفروشی کرد", []),  # a sentence that mentions a label is not a choice
        ("كم فروشي", ["short_weight"]),  # Arabic-keyboard letters
        ("هیچ", []),
        ("", []),
    ],
)
def test_labels_in_their_common_spellings(said: str, codes: list[str]) -> None:
    assert typed.match_choice(said, VIOLATIONS) == codes


def test_numbers_only_where_the_screen_numbers_the_choices() -> None:
    assert typed.match_choice("۲", VIOLATIONS, numbered=True) == ["short_weight"]
    assert typed.match_choice("3.", VIOLATIONS, numbered=True) == ["other"]
    assert typed.match_choice("۴", VIOLATIONS, numbered=True) == []
    assert typed.match_choice("۰", VIOLATIONS, numbered=True) == []
    assert typed.match_choice("۲", VIOLATIONS) == []


def test_ambiguous_and_partial_names() -> None:
    assert sorted(typed.match_choice("خراسان", PROVINCES)) == ["09", "28", "29"]
    assert typed.match_choice("خراسان شمالی", PROVINCES) == ["28"]
    assert typed.match_choice("بویر احمد", PROVINCES) == ["17"]
    assert typed.match_choice("آذربايجان شرقى", PROVINCES) == ["03"]
    assert typed.match_choice("اذربایجان شرقی", PROVINCES) == ["03"]  # without the madda
    assert typed.match_choice("قم", PROVINCES) == ["25"]


@pytest.mark.parametrize(
    ("said", "number"),
    [
        ("۰۹۱۲ ۳۴۵ ۶۷۸۹", "+989123456789"),
        ("+98 912 345 6789", "+989123456789"),
        ("989123456789", "+989123456789"),
        ("9123456789", "+989123456789"),
        ("۰۲۱-۸۸۷۷۶۶۵۵", "+982188776655"),
        ("(021) 8877 6655", "+982188776655"),
        ("+98 21 8877 6655", "+982188776655"),
        ("۸۸۷۷۶۶۵۵", None),  # a local number without its city
        ("۰۹۱۲۳۴۵", None),
        ("+44 20 7946 0958", None),  # a caller to 135 is in Iran
        ("۰۰۹۸۹۱۲۳۴۵۶۷۸۹۱", None),
    ],
)
def test_iranian_phone_numbers(said: str, number: str | None) -> None:
    assert typed.iran_phone(said) == number


@pytest.mark.parametrize(
    ("said", "split"),
    [
        ("علی رضایی ۰۹۱۲ ۳۴۵ ۶۷۸۹", ("علی رضایی", "+989123456789")),
        ("۰۲۱-۸۸۷۷۶۶۵۵ رضایی", ("رضایی", "+982188776655")),
        ("خانم احمدی، ۰۹۳۵۱۱۱۲۲۳۳", ("خانم احمدی", "+989351112233")),
        ("۰۹۱۲۳۴۵۶۷۸۹", ("", "+989123456789")),
        ("علی رضایی", ("علی رضایی", None)),
        ("علی ۱۲۳۴۵", None),
        ("۰۹۱۲۳۴۵۶۷۸۹ یا ۰۹۳۵۱۱۱۲۲۳۳", None),  # two numbers: which one?
    ],
)
def test_a_callers_name_and_number(said: str, split: tuple[str, str | None] | None) -> None:
    assert typed.split_caller(said) == split


def test_codes_are_grouped_for_reading_aloud() -> None:
    assert tracking.format_spoken("1234567897") == "\u2066۱۲۳ ۴۵۶ ۷۸ ۹۷\u2069"
    with pytest.raises(ValueError):
        tracking.format_spoken("12345")
