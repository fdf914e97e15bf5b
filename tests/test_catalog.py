"""The Persian catalog is complete: every message id in the code has a Persian translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, _

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _code_msgids() -> set[str]:
    found: set[str] = set()
    for sub in ("bot", "handlers"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / sub, method_map=[("**.py", "python")], keywords={"_": None, "N_": None}
        ):
            if isinstance(message, str) and message:
                found.add(message)
    return found


def _catalog() -> dict[str, str]:
    with (LOCALES_DIR / "fa" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        cat = read_po(fh, locale="fa")
    return {m.id: m.string for m in cat if m.id and not m.fuzzy and m.string}


def test_every_message_in_the_code_is_translated() -> None:
    missing = sorted(_code_msgids() - set(_catalog()))
    assert missing == [], "run scripts/i18n-update and translate: " + repr(missing[:5])


def test_translations_keep_their_placeholders_and_are_persian() -> None:
    for msgid, msgstr in _catalog().items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid
        assert re.search("[\u0600-\u06ff]", msgstr), f"not Persian: {msgid!r}"


def test_runtime_lookup_uses_the_catalog() -> None:
    assert _("File a complaint") == "ثبت شکایت"
    assert _("no such message id") == "no such message id"
