"""Rules every text the bot shows must keep, checked on what the local Bot API server recorded.

`harness.running_bot` runs `offences` on every call of every bot when its context ends, so the
rules hold for every message of the end-to-end suite (every audience: citizens, the desk,
units, managers) rather than for the few strings a test happens to look at:

* no Latin digit (0-9) is shown, outside code spans (``<code>``/``<pre>``), URLs and
  ``/command`` names: numbers are written with Persian digits;
* every line that Unicode's first-strong rule (UAX #9, P2-P3: isolated runs are skipped) would
  lay out left-to-right, or leave without a direction while it holds digits or Latin, starts
  with an RLM, so it stays right-to-left in the chat (an RLI at the start would not do: P2
  skips what it isolates, so the line would get no direction at all);
* no English message id of the catalog shows through: a text equal to one, or holding a
  phrase of two or more words of one, is a message the catalog did not translate.

The people of the tests have Persian names without Latin digits: a name is shown as its owner
wrote it, so a Latin digit in a test name would be the test's, not the bot's.

Texts are read as Telegram would show them: the HTML the bot sent is parsed by the local
server's own parser, and entities decide what is a code span or a URL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR
from bot.localapi import Call
from bot.localapi.html import HtmlParseError, parse_html

RLM = "\u200f"
ALM = "\u061c"
_ISOLATE_OPEN = "\u2066\u2067\u2068"  # LRI, RLI, FSI
PDI = "\u2069"
_LATIN_DIGIT = re.compile(r"[0-9]")
_TLDS = ("com", "ir", "org", "net", "info", "io", "me", "co", "shop", "store", "site")
# What may hold Latin digits: URLs (with a scheme, or a bare domain), e-mail addresses,
# @usernames and bot commands (with an optional @botname).
_EXEMPT = re.compile(
    r"(?:https?|tg)://\S+"
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
    r"|(?<![\w.])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:" + "|".join(_TLDS) + r")\b(?:/\S*)?"
    r"|(?<![\w/])/[A-Za-z][A-Za-z0-9_]*(?:@[A-Za-z0-9_]+)?"
    r"|(?<!\w)@[A-Za-z0-9_]{3,}",
    re.ASCII,
)
_EXEMPT_ENTITIES = frozenset({"code", "pre", "url", "email", "bot_command"})

# Methods whose text or caption a user reads, and the parameter that holds it.
_TEXT_PARAMS = {
    "sendmessage": "text",
    "editmessagetext": "text",
    "sendphoto": "caption",
    "senddocument": "caption",
    "sendvideo": "caption",
    "sendaudio": "caption",
    "sendvoice": "caption",
    "sendanimation": "caption",
    "copymessage": "caption",
    "editmessagecaption": "caption",
    "answercallbackquery": "text",
}


@dataclass(frozen=True)
class Shown:
    """One text as a user sees it: where it came from, the plain text and its entities."""

    where: str
    text: str
    entities: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Offence:
    rule: str
    where: str
    line: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.where}: {self.line!r}"


def _plain(text: str, parse_mode: Any, entities: Any) -> tuple[str, tuple[dict[str, Any], ...]]:
    if str(parse_mode or "").lower() == "html":
        try:
            plain, parsed = parse_html(text)
        except HtmlParseError:  # refused by the server anyway; read it as raw text
            return text, ()
        return plain, tuple(parsed)
    return text, tuple(entities or ())


def _buttons(where: str, markup: Any) -> Iterator[Shown]:
    if not isinstance(markup, dict):
        return
    for key in ("inline_keyboard", "keyboard"):
        for row in markup.get(key) or ():
            for button in row:
                label = button if isinstance(button, str) else button.get("text", "")
                yield Shown(f"{where} button", str(label))


def shown_texts(calls: Iterable[Call]) -> Iterator[Shown]:
    """Every text, caption, alert, button label and command description the bot sent."""
    for call in calls:
        method = call.method.lower()
        params = call.params
        where = f"{call.method} to {params.get('chat_id', params.get('callback_query_id'))}"
        field = _TEXT_PARAMS.get(method)
        if field and params.get(field):
            text, entities = _plain(
                str(params[field]),
                params.get("parse_mode"),
                params.get("entities" if field == "text" else "caption_entities"),
            )
            yield Shown(where, text, entities)
        if method == "sendmediagroup":
            for item in params.get("media") or ():
                if isinstance(item, dict) and item.get("caption"):
                    text, entities = _plain(
                        str(item["caption"]), item.get("parse_mode"), item.get("caption_entities")
                    )
                    yield Shown(where, text, entities)
        if method == "setmycommands":
            for command in params.get("commands") or ():
                if isinstance(command, dict):
                    yield Shown(f"{where} command menu", str(command.get("description", "")))
        yield from _buttons(where, params.get("reply_markup"))


def _utf16_spans(text: str, entities: Iterable[dict[str, Any]]) -> list[tuple[int, int]]:
    """Code-point spans of the exempt entities (Bot API offsets count UTF-16 units)."""
    units: list[int] = []  # UTF-16 offset -> code-point index
    for i, ch in enumerate(text):
        units.extend([i] * (2 if ord(ch) > 0xFFFF else 1))
    units.append(len(text))
    spans = []
    for e in entities:
        if e.get("type") in _EXEMPT_ENTITIES:
            start = int(e.get("offset", 0))
            end = start + int(e.get("length", 0))
            spans.append((units[min(start, len(units) - 1)], units[min(end, len(units) - 1)]))
    return spans


def latin_digits(shown: Shown) -> Iterator[Offence]:
    """Lines that show a Latin digit outside code spans, URLs and command names."""
    text = shown.text
    blanked = list(text)
    for start, end in _utf16_spans(text, shown.entities):
        blanked[start:end] = " " * (end - start)
    for m in _EXEMPT.finditer(text):
        blanked[m.start() : m.end()] = " " * (m.end() - m.start())
    visible = "".join(blanked)
    lines, shown_lines = visible.split("\n"), text.split("\n")
    for line, original in zip(lines, shown_lines, strict=True):
        if _LATIN_DIGIT.search(line):
            yield Offence("Latin digit", shown.where, original)


def _first_strong(line: str) -> str | None:
    """The bidi class ("L" or "R") that decides the line's direction, skipping isolates."""
    depth = 0
    for ch in line:
        if ch in _ISOLATE_OPEN:
            depth += 1
        elif ch == PDI:
            depth = max(depth - 1, 0)
        elif depth == 0:
            kind = unicodedata.bidirectional(ch)
            if kind == "L":
                return "L"
            if kind in ("R", "AL"):
                return "R"
    return None


def _needs_direction(line: str) -> bool:
    return any(unicodedata.bidirectional(ch) in ("L", "EN", "AN") for ch in line)


def ltr_lines(shown: Shown) -> Iterator[Offence]:
    """Lines that would read left-to-right: they must start with RLM."""
    if shown.where.endswith(" button"):  # one centred label, no paragraph to lay out
        return
    for line in shown.text.split("\n"):
        if line.startswith((RLM, ALM)):
            continue
        strong = _first_strong(line)
        if strong == "L" or (strong is None and _needs_direction(line)):
            yield Offence("left-to-right line", shown.where, line)


_SPLIT_MSGID = re.compile(r"\{[a-z_0-9]+\}|<[^<>]+>|\n|[«»()]")
_ENGLISH_PHRASE = re.compile(r"[A-Za-z']{2,}(?: [A-Za-z']{2,})+")


@cache
def _english() -> tuple[frozenset[str], tuple[str, ...]]:
    """The catalog's message ids (whole) and their phrases of two or more English words."""
    with (LOCALES_DIR / "fa" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        ids = [m.id for m in read_po(fh, locale="fa") if m.id and isinstance(m.id, str)]
    phrases = {
        p.group()
        for msgid in ids
        for piece in _SPLIT_MSGID.split(msgid)
        for p in _ENGLISH_PHRASE.finditer(piece)
    }
    return frozenset(i.strip() for i in ids), tuple(sorted(phrases))


def untranslated(shown: Shown) -> Iterator[Offence]:
    """A text that is, or holds a phrase of, an English message id."""
    whole, phrases = _english()
    if shown.text.strip() in whole:
        yield Offence("untranslated", shown.where, shown.text)
        return
    for phrase in phrases:
        if phrase in shown.text:
            yield Offence("untranslated", shown.where, phrase)
            return


def offences(calls: Iterable[Call]) -> list[Offence]:
    found: list[Offence] = []
    for shown in shown_texts(calls):
        found.extend(latin_digits(shown))
        found.extend(ltr_lines(shown))
        found.extend(untranslated(shown))
    return found


def assert_persian_output(calls: Iterable[Call]) -> None:
    found = offences(calls)
    unique = list(dict.fromkeys(str(o) for o in found))
    assert not unique, "texts that break the Persian display rules:\n" + "\n".join(unique[:40])
