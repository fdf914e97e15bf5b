"""Ids read from the outside (callback data, command arguments): one parser per kind.

Anything a client sends can be forged. An id is taken only as plain ASCII digits (no sign, no
«۲», no «²», no spaces) within the range of the column it will be compared with, so a forged
value is simply "no such thing" and never an overflow in the database driver.
"""

from __future__ import annotations

INT32_MAX = 2**31 - 1  # Integer primary keys (cases, units, held inputs) on PostgreSQL
# Telegram user and chat ids have at most 52 significant bits (Bot API docs).
TELEGRAM_ID_MAX = 2**52
MAX_PAGE = 9_999


def _digits(raw: str, maximum: int) -> int | None:
    if not raw or len(raw) > len(str(maximum)) or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if 0 <= value <= maximum else None


def row_id(raw: str) -> int | None:
    """A database row id (case, unit, held input): 1 … 2³¹−1."""
    value = _digits(raw, INT32_MAX)
    return value if value else None


def user_id(raw: str) -> int | None:
    """A Telegram user id: positive, at most 52 bits."""
    value = _digits(raw, TELEGRAM_ID_MAX)
    return value if value else None


def chat_id(raw: str) -> int | None:
    """A chat id: a user id, or a group's (negative on Telegram; of any sign on Bale)."""
    negative = raw.startswith("-")
    value = _digits(raw[1:] if negative else raw, TELEGRAM_ID_MAX)
    if not value:
        return None
    return -value if negative else value


def page(raw: str) -> int | None:
    """A page number in a paged list: 0 … 9,999."""
    return _digits(raw, MAX_PAGE)


def in_range(raw: str, low: int, high: int) -> int | None:
    """A small number such as a rating: ASCII digits within [low, high]."""
    value = _digits(raw, high)
    return value if value is not None and value >= low else None
