"""The bot's HTML, turned into what a messenger without HTML shows well.

Views write Telegram's HTML subset (<b>, <i>, <code>, <a href>, <blockquote>…, user text
escaped). Bale reports no `parse_mode` (see bot/platform.py), so there the send layer turns each
text into plain text — tags dropped, entities unescaped, the structure kept, since the views
already build it from lines, labels and emoji — or, if an operator chose it, into Bale's
Markdown. Nothing here knows about screens: it works on any text the program sends.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {"blockquote", "pre"}
_MARKDOWN_ESCAPES = re.compile(r"[\\_*`\[]")


class _Converter(HTMLParser):
    """One pass over the HTML; `markdown` marks bold, italic and code the way Bale's Markdown
    reportedly wants them (single markers, spaces around)."""

    def __init__(self, *, markdown: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.markdown = markdown
        self.out: list[str] = []
        self.links: list[tuple[str | None, int]] = []  # href, where its label starts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append((dict(attrs).get("href"), len(self.out)))
        elif tag in _BLOCKS:
            self._break()
        elif self.markdown:
            self.out.append(_marker(tag, opening=True))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:])
            del self.out[start:]
            self.out.append(_link(label, href, markdown=self.markdown))
        elif tag in _BLOCKS:
            self._break()
        elif self.markdown:
            self.out.append(_marker(tag, opening=False))

    def handle_data(self, data: str) -> None:
        # Text (a citizen's words, a business's name) is never markup: in Markdown its
        # markers are escaped, as the Bot API's Markdown takes them, with a backslash.
        self.out.append(_MARKDOWN_ESCAPES.sub(r"\\\g<0>", data) if self.markdown else data)

    def _break(self) -> None:
        """A quote or a code block stands on lines of its own, as Telegram shows it."""
        text = "".join(self.out)
        if text and not text.endswith("\n"):
            self.out.append("\n")

    def result(self) -> str:
        return "".join(self.out).strip("\n")


def _marker(tag: str, *, opening: bool) -> str:
    mark = {"b": "*", "strong": "*", "i": "_", "em": "_", "code": "`"}.get(tag, "")
    if not mark:
        return ""
    return f" {mark}" if opening else f"{mark} "


def _link(label: str, href: str | None, *, markdown: bool) -> str:
    """A mention (tg://user…) becomes its name; a web link keeps its address in view."""
    if not href or not href.startswith(("http://", "https://")) or href == label:
        return label
    return f"[{label}]({href})" if markdown else f"{label} ({href})"


def html_to_plain(html: str) -> str:
    """What a reader of `html` sees, as plain text: no tags, no entities."""
    converter = _Converter(markdown=False)
    converter.feed(html)
    converter.close()
    return converter.result()


def html_to_markdown(html: str) -> str:
    """`html` in Bale's Markdown (*bold*, _italic_, `code`, [label](url)). Untested against
    the live service: a setting, BALE_FORMATTING=markdown, chooses it."""
    converter = _Converter(markdown=True)
    converter.feed(html)
    converter.close()
    lines = converter.result().replace("  ", " ").split("\n")
    return "\n".join(line.strip(" ") for line in lines)
