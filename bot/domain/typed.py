"""Reading answers typed instead of tapped: a choice named by its label (in any of the common
spellings) or its number, an Iranian phone number, a caller's name and number in one message.

An operator on the phone types faster than they find a button, and citizens type labels too.
Everything here is pure: the callers pass the options as they are shown (translated labels),
so a choice typed is checked against exactly what the screen offers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from bot import text

# Spelling differences that do not make a different word: hamza and its seats, teh marbuta,
# heh with yeh (ۀ), and everything between words (spaces, ZWNJ, dashes, punctuation).
_FOLD: Final = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ؤ": "و",
        "ئ": "ی",
        "ة": "ه",
        "ۀ": "ه",
        "ە": "ه",
        "\u0654": None,  # hamza above («عرضهٔ» = «عرضه»)
        "\u0655": None,
        "ء": None,
        " ": None,
        "\u200c": None,
        "-": None,
        "_": None,
        ".": None,
        "،": None,
        ",": None,
        "؛": None,
        ";": None,
        ":": None,
        "«": None,
        "»": None,
        '"': None,
        "'": None,
        "(": None,
        ")": None,
    }
)


def key(value: str) -> str:
    """A label or typed word reduced to what decides whether they name the same thing:
    «گران‌فروشی», «گرانفروشی» and «گران فروشی» all give one key."""
    return text.normalize(value).casefold().translate(_FOLD)


_NUMBER: Final = re.compile(r"([0-9]{1,3})[.)\-]?", re.ASCII)


def match_choice(
    raw: str, options: Sequence[tuple[str, str]], *, numbered: bool = False
) -> list[str]:
    """The codes of the (code, label) `options` that typed `raw` names: one when it is clear,
    several when it could be any of them (say which), none when it names none.

    In order: the option's number as shown (when the screen numbers them), the whole label,
    the start of exactly one label, then any label that contains what was typed («بویراحمد»
    is Kohgiluyeh and Boyer-Ahmad). A sentence that merely mentions a label is not a choice:
    «فروشنده تقلب کرد» at the first step is not «تقلب» (it reads like the description).
    """
    typed = key(raw)
    if not typed:
        return []
    if numbered and (m := _NUMBER.fullmatch(text.normalize(raw))):
        index = int(m[1]) - 1
        return [options[index][0]] if 0 <= index < len(options) else []
    keys = [(code, key(label)) for code, label in options]
    exact = [code for code, k in keys if k == typed]
    if exact:
        return exact[:1]
    if len(typed) >= 2:
        starts = [code for code, k in keys if k.startswith(typed)]
        if len(starts) == 1:
            return starts
    if len(typed) >= 3:
        inside = [code for code, k in keys if typed in k]
        if inside:
            return inside
    return []


# -- phone numbers -------------------------------------------------------------------------

_JUNK: Final = re.compile(r"[\s\u200c()\[\]{}\-‐‑‒–—−./]")
# Mobiles (9…) and landlines (an area code 11–87, then eight digits): ten digits after the
# trunk 0 or the country code. A landline needs its trunk 0 or +98: eight bare digits are a
# local number without its city.
_IRAN: Final = re.compile(
    r"(?:\+98|0098|98)?0?(9[0-9]{9})|(?:\+98|0098|0)([1-8][0-9]{9})", re.ASCII
)
_DIGIT_RUN: Final = re.compile(r"\+?[0-9][0-9 ()\-\u200c./]*[0-9]", re.ASCII)


def iran_phone(raw: str) -> str | None:
    """An Iranian mobile or landline number as ``+98…``, or None. Persian digits, spaces,
    dashes and brackets are fine; foreign numbers are not (a caller to 135 is in Iran)."""
    compact = _JUNK.sub("", text.normalize(raw))
    if len(compact) > 16 or not (m := _IRAN.fullmatch(compact)):
        return None
    return "+98" + (m[1] or m[2])


def split_caller(raw: str) -> tuple[str, str | None] | None:
    """(name, number) from what an operator typed about the caller, in either order: «علی
    رضایی ۰۹۱۲ ۱۲۳ ۴۵۶۷», «۰۲۱-۸۸۷۷۶۶۵۵ رضایی», or only one of the two. The name is "" when
    only a number was typed; the number None when there are no digits at all. None when the
    digits typed are not an Iranian phone number (nothing is guessed)."""
    value = text.normalize(raw)
    runs = [m for m in _DIGIT_RUN.finditer(value) if len(re.sub(r"[^0-9]", "", m[0])) >= 3]
    if not runs:
        return value.strip(" ،,:-"), None
    if len(runs) > 1:
        return None
    run = runs[0]
    phone = iran_phone(run[0])
    if phone is None:
        return None
    name = f"{value[: run.start()]} {value[run.end() :]}"
    return " ".join(name.split()).strip(" ،,:-"), phone
