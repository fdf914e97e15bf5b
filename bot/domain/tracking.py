"""Tracking codes for cases: 10 random digits whose last digit is a Damm check digit.

Citizens read codes aloud on the phone and type them back from screenshots, so typos are
expected. The Damm check digit catches every single wrong digit and every swap of two
neighbouring digits, so a mistyped code is reported as invalid instead of finding (or
revealing) someone else's case. Codes never start with 0, so spreadsheets and phone keypads
cannot silently drop a leading zero.
"""

from __future__ import annotations

import random
import re
import secrets
from typing import Final

from bot.text import LRI, PDI, to_persian_digits

CODE_LENGTH: Final = 10
#: Display grouping: two blocks of five, easy to read aloud; the dash is optional on input.
GROUP_SIZES: Final = (5, 5)
GROUP_SEPARATOR: Final = "-"

# Damm's totally anti-symmetric quasigroup of order 10 (zero diagonal, every row and column a
# permutation of 0-9). Row = running interim digit, column = next digit of the input.
_DAMM: Final = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
_DIGITS: Final = re.compile(r"[0-9]*", re.ASCII)
_CODE: Final = re.compile(r"[1-9][0-9]{9}", re.ASCII)


def _interim(digits: str) -> int:
    state = 0
    for ch in digits:
        state = _DAMM[state][ord(ch) - 48]
    return state


def check_digit(digits: str) -> str:
    """The Damm check digit to append to ``digits`` (ASCII 0-9 only, else ValueError).

    With a zero-diagonal table the digit that brings the interim value back to 0 is the
    interim value itself.
    """
    if not isinstance(digits, str) or not _DIGITS.fullmatch(digits):
        raise ValueError("check_digit expects ASCII digits")
    return str(_interim(digits))


def generate(rng: random.Random | None = None) -> str:
    """A new random code: 9 random digits (the first 1-9) plus the check digit.

    Defaults to the OS CSPRNG so codes cannot be predicted from earlier ones; pass a seeded
    ``random.Random`` for reproducible tests. Uniqueness is the storage layer's job.
    """
    rng = rng if rng is not None else secrets.SystemRandom()
    body = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return body + check_digit(body)


def is_valid(code: str) -> bool:
    """True for exactly 10 ASCII digits, first not 0, whose Damm check passes. Never raises.

    Input typed by citizens should go through ``bot.text.parse_tracking_input`` first.
    """
    return isinstance(code, str) and bool(_CODE.fullmatch(code)) and _interim(code) == 0


def format_code(code: str) -> str:
    """Display form «۱۲۳۴۵-۶۷۸۹۰», isolated with LRI…PDI so it never flips in a Persian line."""
    if not isinstance(code, str) or not re.fullmatch(r"[0-9]{10}", code, re.ASCII):
        raise ValueError("format_code expects 10 ASCII digits")
    groups, start = [], 0
    for size in GROUP_SIZES:
        groups.append(code[start : start + size])
        start += size
    return LRI + to_persian_digits(GROUP_SEPARATOR.join(groups)) + PDI


#: Read aloud the way Iranian phone numbers are: three, three, two, two.
SPOKEN_GROUPS: Final = (3, 3, 2, 2)


def format_spoken(code: str) -> str:
    """«۱۲۳ ۴۵۶ ۷۸ ۹۰»: the code in short groups, for an operator reading it out on the phone."""
    if not isinstance(code, str) or not re.fullmatch(r"[0-9]{10}", code, re.ASCII):
        raise ValueError("format_spoken expects 10 ASCII digits")
    groups, start = [], 0
    for size in SPOKEN_GROUPS:
        groups.append(code[start : start + size])
        start += size
    return LRI + to_persian_digits(" ".join(groups)) + PDI
