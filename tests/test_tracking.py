"""Tests for bot.domain.tracking: Damm check digit, generation, validation and display."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import tracking
from bot.domain.tracking import check_digit, format_code, generate, is_valid
from bot.text import normalize, parse_tracking_input

TABLE = tracking._DAMM


def _damm_ok(code: str) -> bool:
    """Damm check alone, without the "first digit not 0" rule of is_valid."""
    return tracking._interim(code) == 0


@pytest.fixture(scope="module")
def codes() -> list[str]:
    rng = random.Random(135)
    return [generate(rng) for _ in range(2000)]


# ---------------------------------------------------------------------------------------------
# the quasigroup itself
# ---------------------------------------------------------------------------------------------


def test_table_is_a_quasigroup_with_zero_diagonal() -> None:
    assert len(TABLE) == 10
    for i in range(10):
        assert sorted(TABLE[i]) == list(range(10))
        assert sorted(row[i] for row in TABLE) == list(range(10))
        assert TABLE[i][i] == 0


def test_table_is_weakly_totally_anti_symmetric() -> None:
    # (c*x)*y == (c*y)*x implies x == y: the property that catches adjacent transpositions.
    for c in range(10):
        for x in range(10):
            for y in range(10):
                if x != y:
                    assert TABLE[TABLE[c][x]][y] != TABLE[TABLE[c][y]][x]


def test_known_check_digits() -> None:
    assert check_digit("572") == "4"  # the textbook example: 5724 is valid
    assert check_digit("") == "0"
    assert check_digit("0") == "0"


@pytest.mark.parametrize("bad", ["12a", "١٢", "۱۲", "²", "1 2", "-1", "12\n"])
def test_check_digit_rejects_non_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        check_digit(bad)


# ---------------------------------------------------------------------------------------------
# generate / is_valid
# ---------------------------------------------------------------------------------------------


def test_generated_codes_are_valid(codes: list[str]) -> None:
    for code in codes:
        assert re.fullmatch(r"[1-9][0-9]{9}", code, re.ASCII)
        assert is_valid(code)
    assert len(set(codes)) == len(codes)  # 9 random digits: collisions are vanishingly rare


def test_generate_uses_all_digits(codes: list[str]) -> None:
    assert {c[0] for c in codes} == set("123456789")
    for position in range(1, 10):
        assert {c[position] for c in codes} == set("0123456789")


def test_generate_is_reproducible_with_a_seeded_rng() -> None:
    assert generate(random.Random(7)) == generate(random.Random(7))


def test_generate_defaults_to_system_randomness() -> None:
    code = generate()
    assert is_valid(code) and len(code) == tracking.CODE_LENGTH


def test_every_single_digit_substitution_is_detected(codes: list[str]) -> None:
    for code in codes:
        for i in range(10):
            for d in "0123456789":
                if d != code[i]:
                    typo = code[:i] + d + code[i + 1 :]
                    assert not _damm_ok(typo), (code, typo)  # so is_valid is False too
    assert not any(is_valid(c[:3] + str((int(c[3]) + 1) % 10) + c[4:]) for c in codes)


def test_every_adjacent_transposition_is_detected(codes: list[str]) -> None:
    for code in codes:
        for i in range(9):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
                assert not _damm_ok(swapped), (code, swapped)
    assert not any(is_valid(c[1] + c[0] + c[2:]) for c in codes if c[0] != c[1])


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "123456789",  # 9 digits
        "12345678901",
        "0123456789",  # first digit 0 is never issued
        "۱۲۳۴۵۶۷۸۹۰",  # Persian digits: parse_tracking_input first
        "12345-67890",
        " 1234567890",
        "1234567890\n",
    ],
)
def test_is_valid_rejects_malformed(bad: str) -> None:
    assert not is_valid(bad)


def test_is_valid_rejects_leading_zero_even_with_good_check_digit() -> None:
    body = "012345678"
    assert _damm_ok(body + check_digit(body))
    assert not is_valid(body + check_digit(body))


@given(st.one_of(st.text(max_size=30), st.integers(0, 10**10 - 1).map("{:010d}".format)))
def test_is_valid_never_raises(s: str) -> None:
    assert is_valid(s) in (True, False)


@pytest.mark.parametrize("obj", [None, 1234567890, b"1234567890", ["1"]])
def test_is_valid_on_non_strings(obj: object) -> None:
    assert is_valid(obj) is False  # type: ignore[arg-type]


@given(st.integers(10**8, 10**9 - 1).map(str))
def test_appending_the_check_digit_makes_a_valid_code(body: str) -> None:
    assert is_valid(body + check_digit(body))


# ---------------------------------------------------------------------------------------------
# display and round trip through citizen input
# ---------------------------------------------------------------------------------------------


def test_format_code() -> None:
    assert format_code("1234567890") == "\u2066۱۲۳۴۵-۶۷۸۹۰\u2069"


@pytest.mark.parametrize("bad", ["", "123456789", "۱۲۳۴۵۶۷۸۹۰", "12345-67890", "12345678901"])
def test_format_code_rejects_malformed(bad: str) -> None:
    with pytest.raises(ValueError):
        format_code(bad)


def test_formatted_codes_read_back(codes: list[str]) -> None:
    for code in codes[:200]:
        shown = format_code(code)
        assert parse_tracking_input(shown) == code
        assert parse_tracking_input(normalize(shown)) == code
        assert parse_tracking_input(shown.replace("-", "")) == code
        assert parse_tracking_input(f"شکایت {shown}") is None
