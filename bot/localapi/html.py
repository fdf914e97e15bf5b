"""Telegram's HTML parse_mode, re-implemented so that the fake refuses what Telegram refuses.

The rules follow the behaviour of Telegram's server-side parser: only the Bot API tag subset is
accepted, errors name the tag and the *byte* offset in the UTF-8 source, and the resulting
entities use offsets and lengths in UTF-16 code units. One deliberate difference: a bare ``&``
that does not start an entity is an error here when ``strict_ampersand`` is on (Telegram keeps it
literally), because a bot that forgets to escape user text will eventually send a ``<`` too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "blockquote",
        "tg-spoiler",
        "span",
        "tg-emoji",
    }
)
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_SPACES = " \t\r\n\v\f\0"
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_DOMAIN_RE = re.compile(r"^[\w-]+(\.[\w-]+)+(:\d+)?([/?#]\S*)?$")
_ALLOWED_SCHEMES = {"http", "https", "tg", "ton", "tonsite"}


class HtmlParseError(ValueError):
    """The reason part of 'Bad Request: can't parse entities: <reason>'."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit Telegram uses for limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    tag: str
    argument: str
    utf16_offset: int
    text_pos: int
    byte_pos: int


def _decode_entity(src: str, pos: int) -> tuple[str | None, int]:
    """Decode ``&lt;``-style or numeric references at ``src[pos]``; ``None`` if it is not one."""
    n = len(src)
    j = pos + 1
    if j < n and src[j] == "#":
        j += 1
        code = 0
        if j < n and src[j] == "x":
            j += 1
            while j < n and src[j] in "0123456789abcdefABCDEF":
                code = code * 16 + int(src[j], 16)
                j += 1
        else:
            while j < n and src[j] in "0123456789":
                code = code * 10 + int(src[j])
                j += 1
        if code == 0 or code >= 0x10FFFF or j - pos >= 10 or 0xD800 <= code <= 0xDFFF:
            return None, pos
        char = chr(code)
    else:
        while j < n and src[j].isascii() and src[j].isalpha():
            j += 1
        named = _NAMED.get(src[pos + 1 : j])
        if named is None:
            return None, pos
        char = named
    if j < n and src[j] == ";":
        j += 1
    return char, j


def _normalize_url(url: str) -> str | None:
    """Telegram silently drops links it cannot use; return None for those."""
    url = url.strip()
    if not url or any(c in url for c in " \n\t"):
        return None
    match = _SCHEME_RE.match(url)
    if match and url[match.end() :].startswith("//"):
        return url if match.group(1).lower() in _ALLOWED_SCHEMES else None
    if _DOMAIN_RE.match(url):
        return "http://" + url
    return None


class _Parser:
    """Single pass over the source, mirroring the server parser's error order."""

    def __init__(self, src: str, strict_ampersand: bool) -> None:
        self.src = src
        self.n = len(src)
        self.strict_ampersand = strict_ampersand
        self.out: list[str] = []
        self.plain_len = 0
        self.u16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def byte(self, pos: int) -> int:
        return len(self.src[:pos].encode("utf-8"))

    def fail(self, reason: str) -> HtmlParseError:
        return HtmlParseError(reason)

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.plain_len += len(text)
        self.u16 += utf16_len(text)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        i = 0
        while i < self.n:
            c = self.src[i]
            if c == "&":
                char, end = _decode_entity(self.src, i)
                if char is not None:
                    self.emit(char)
                    i = end
                    continue
                if self.strict_ampersand:
                    raise self.fail(
                        f'Unescaped "&" at byte offset {self.byte(i)}; use "&amp;" '
                        "(FakeTelegram is strict: real Telegram would keep it as text)"
                    )
            if c != "<":
                self.emit(c)
                i += 1
                continue
            if i + 1 < self.n and self.src[i + 1] == "/":
                i = self.end_tag(i)
            else:
                i = self.start_tag(i)
        if self.stack:
            raise self.fail(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        for entity in self.entities:
            entity.pop("_language", None)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def start_tag(self, begin: int) -> int:
        src, n = self.src, self.n
        i = begin + 1
        while i < n and src[i] not in _SPACES and src[i] != ">":
            i += 1
        if i >= n:
            raise self.fail(f"Unclosed start tag at byte offset {self.byte(begin)}")
        tag = src[begin + 1 : i].lower()
        if tag not in SUPPORTED_TAGS:
            raise self.fail(f'Unsupported start tag "{tag}" at byte offset {self.byte(begin)}')
        argument = ""
        while True:
            while i < n and src[i] in _SPACES:
                i += 1
            if i >= n:
                raise self.fail(f'Unclosed start tag "{tag}" at byte offset {self.byte(begin)}')
            if src[i] == ">":
                break
            name_start = i
            while i < n and src[i] not in _SPACES and src[i] not in "=>":
                i += 1
            name = src[name_start:i].lower()
            if not name:
                raise self.fail(
                    f'Empty attribute name in the tag "{tag}" at byte offset {self.byte(begin)}'
                )
            while i < n and src[i] in _SPACES:
                i += 1
            if i >= n or src[i] != "=":
                if tag == "blockquote" and name == "expandable":
                    argument = "1"
                continue
            i += 1
            while i < n and src[i] in _SPACES:
                i += 1
            if i >= n:
                raise self.fail(f'Unclosed start tag "{tag}" at byte offset {self.byte(begin)}')
            value, i = self.attribute_value(i)
            if i >= n:
                raise self.fail(f"Unclosed start tag at byte offset {self.byte(begin)}")
            if tag == "a" and name == "href":
                argument = value
            elif tag == "code" and name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and name == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and name == "emoji-id":
                argument = value
            elif tag == "blockquote" and name == "expandable":
                argument = "1"
        if tag == "span" and argument != "spoiler":
            raise self.fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte(begin)}'
            )
        if tag == "tg-emoji" and not (argument.isdigit() and int(argument) > 0):
            raise self.fail("Invalid custom emoji identifier specified")
        self.stack.append(_OpenTag(tag, argument, self.u16, self.plain_len, self.byte(begin)))
        return i + 1

    def attribute_value(self, i: int) -> tuple[str, int]:
        src, n = self.src, self.n
        if src[i] not in "'\"":
            start = i
            while i < n and ((src[i].isascii() and src[i].isalnum()) or src[i] in ".-"):
                i += 1
            if i < n and src[i] not in _SPACES and src[i] != ">":
                raise self.fail(f"Unexpected end of name token at byte offset {self.byte(start)}")
            return src[start:i].lower(), i
        quote = src[i]
        i += 1
        chars: list[str] = []
        while i < n and src[i] != quote:
            if src[i] == "&":
                char, end = _decode_entity(src, i)
                if char is not None:
                    chars.append(char)
                    i = end
                    continue
            chars.append(src[i])
            i += 1
        if i < n:
            i += 1
        return "".join(chars), i

    def end_tag(self, begin: int) -> int:
        src, n = self.src, self.n
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {self.byte(begin)}")
        i = begin + 2
        while i < n and src[i] not in _SPACES and src[i] != ">":
            i += 1
        end_name = src[begin + 2 : i]
        while i < n and src[i] in _SPACES:
            i += 1
        if i >= n or src[i] != ">":
            raise self.fail(f"Unclosed end tag at byte offset {self.byte(begin)}")
        top = self.stack[-1]
        if end_name and end_name.lower() != top.tag:
            raise self.fail(
                f"Unmatched end tag at byte offset {self.byte(begin)}, "
                f'expected "</{top.tag}>", found "</{end_name}>"'
            )
        self.stack.pop()
        self.close(top)
        return i + 1

    def close(self, top: _OpenTag) -> None:
        length = self.u16 - top.utf16_offset
        if length <= 0:
            return
        entity: dict[str, Any] = {"offset": top.utf16_offset, "length": length}
        tag = top.tag
        last = self.entities[-1] if self.entities else None
        same_range = (
            last is not None and last["offset"] == top.utf16_offset and last["length"] == length
        )
        if tag in _SIMPLE:
            entity["type"] = _SIMPLE[tag]
        elif tag == "blockquote":
            entity["type"] = "expandable_blockquote" if top.argument else "blockquote"
        elif tag == "tg-emoji":
            entity["type"] = "custom_emoji"
            entity["custom_emoji_id"] = top.argument
        elif tag == "code":
            entity["type"] = "code"
            if top.argument:
                entity["_language"] = top.argument
        elif tag == "pre":
            if same_range and last is not None and last["type"] == "code":
                last["type"] = "pre"
                if last.get("_language"):
                    last["language"] = last.pop("_language")
                return
            entity["type"] = "pre"
        else:  # "a"
            url = top.argument or "".join(self.out)[top.text_pos :]
            mention = re.fullmatch(r"tg://user\?id=(\d+)", url.strip())
            if mention:
                entity["type"] = "text_mention"
                entity["user"] = {"id": int(mention.group(1)), "is_bot": False, "first_name": ""}
            else:
                normalized = _normalize_url(url)
                if normalized is None:
                    return
                entity["type"] = "text_link"
                entity["url"] = normalized
        self.entities.append(entity)


def parse_html(src: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Return (plain text, Bot API entities) for an HTML-formatted text, or raise
    HtmlParseError with Telegram's reason."""
    return _Parser(src, strict_ampersand).run()
