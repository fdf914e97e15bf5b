"""What staff may type in a desk command for an outcome, a unit or a role: a short Persian
word, the whole label, or the Latin code the buttons carry.

The Persian words are input vocabulary, not text the bot shows (the help line that teaches
them is in the catalog, and tests/test_staff_words.py checks that every word it names is read
here). Words are compared after `word_key`, so «خارج‌از‌حیطه», «خارج از حیطه» and «خارج از
حیطهٔ» are one word.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.domain.lifecycle import Outcome
from bot.domain.roles import Role
from bot.text import word_key

#: Each outcome's words, shortest first (the first is what the help teaches). Longer phrases
#: are tried first, so «مشکل برطرف شد، …» leaves only the explanation.
OUTCOME_WORDS: dict[Outcome, tuple[str, ...]] = {
    Outcome.RESOLVED: ("برطرف", "برطرف شد", "مشکل برطرف شد", "resolved"),
    Outcome.BRANCH: (
        "شعبه",
        "ارسال به شعبه",
        "به شعبه",
        "به شعبهٔ تعزیرات ارسال شد",
        "branch",
    ),
    Outcome.NO_VIOLATION: (
        "بی‌تخلف",
        "بدون تخلف",
        "تخلف نشد",
        "تخلفی احراز نشد",
        "no_violation",
    ),
    Outcome.NOT_JURISDICTION: (
        "خارج",
        "خارج از حیطه",
        "خارج از حیطهٔ رسیدگی تعزیرات",
        "not_jurisdiction",
    ),
}


#: Roles, as an administrator types them in «/staff افزودن شناسه نقش».
ROLE_WORDS: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: ("راهبر", "راهبر سامانه", "مدیر سامانه", "admin"),
    Role.SUPERVISOR: ("سرپرست", "supervisor"),
    Role.STAFF: ("کارشناس", "staff"),
    Role.MANAGER: ("مدیر", "manager"),
}
T = TypeVar("T")

#: The two changes /staff makes.
ADD_WORDS = ("افزودن", "add")
REMOVE_WORDS = ("حذف", "remove")


def _keyed(table: dict[T, tuple[str, ...]]) -> dict[str, T]:
    return {word_key(w): value for value, words in table.items() for w in words}


_LONGEST = max(
    len(w.split()) for table in (OUTCOME_WORDS, ROLE_WORDS) for ws in table.values() for w in ws
)
_OUTCOME_KEYS = _keyed(OUTCOME_WORDS)
_ROLE_KEYS = _keyed(ROLE_WORDS)


def _leading(keys: dict[str, T], words: Sequence[str]) -> tuple[T, list[str]] | None:
    """What the first words of `words` name, and the words after them; the longest wins."""
    for n in range(min(_LONGEST, len(words)), 0, -1):
        found = keys.get(word_key(" ".join(words[:n])))
        if found is not None:
            return found, list(words[n:])
    return None


def read_outcome(words: Sequence[str]) -> tuple[Outcome, list[str]] | None:
    """The outcome named by the first words of `words`, and the words after it (the
    explanation); None when they name no outcome."""
    return _leading(_OUTCOME_KEYS, words)


def read_role(words: Sequence[str]) -> Role | None:
    """The role `words` name, all of them; None for anything else."""
    found = _leading(_ROLE_KEYS, words)
    return found[0] if found is not None and not found[1] else None


def read_change(word: str) -> bool | None:
    """/staff's first word: True to add, False to remove, None when it is neither."""
    key = word_key(word)
    if key in {word_key(w) for w in ADD_WORDS}:
        return True
    if key in {word_key(w) for w in REMOVE_WORDS}:
        return False
    return None


@dataclass(frozen=True, slots=True)
class UnitName:
    """What a unit is called: its Latin code and its Persian name (data, staff can rename)."""

    code: str
    name: str


#: A part of a unit's name shorter than this never picks a unit on its own.
MIN_PART = 3


def read_unit(words: Sequence[str], units: Sequence[UnitName]) -> str | None:
    """The code of the unit `words` name: its code, its whole name, or a part of its name
    («بازار»، «گشت») that only one unit's name holds. None when no unit, or several, match."""
    typed = word_key(" ".join(words))
    if not typed:
        return None
    for unit in units:
        if typed in (word_key(unit.code), word_key(unit.name)):
            return unit.code
    if len(typed) < MIN_PART:
        return None
    matches = [u.code for u in units if typed in word_key(u.name)]
    return matches[0] if len(matches) == 1 else None
