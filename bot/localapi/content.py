"""Building message content the way Telegram returns it: text + entities, media objects."""

from __future__ import annotations

import re
from typing import Any

from . import errors as E
from .errors import ApiError, bad_request
from .html import HtmlParseError, parse_html, utf16_len
from .limits import Limits
from .models import FileRecord

MEDIA_KINDS = ("photo", "video", "document", "audio", "voice", "animation", "sticker")
CAPTIONABLE = {"photo", "video", "document", "audio", "voice", "animation", "media_group_item"}
CONTENT_KEYS = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    *MEDIA_KINDS,
    "location",
    "contact",
    "show_caption_above_media",
)
_TYPE_NAMES = {k: k.capitalize() for k in MEDIA_KINDS}
_MENTION_RE = re.compile(r"@[A-Za-z0-9_]{4,32}")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?")


def format_text(
    text: str | None,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None,
    limits: Limits,
    *,
    caption: bool,
) -> tuple[str, list[dict[str, Any]]]:
    """Parse and length-check a text or caption; raise Telegram's refusal on failure."""
    text = "" if text is None else str(text)
    mode = (parse_mode or "").strip()
    if mode and mode.lower() != "html":
        if mode.lower() in {"markdown", "markdownv2"}:
            raise bad_request(
                f"Bad Request: unsupported parse_mode {mode}: FakeTelegram implements only HTML"
            )
        raise bad_request(E.UNSUPPORTED_PARSE_MODE)
    if mode:
        try:
            plain, parsed = parse_html(text, strict_ampersand=limits.strict_html_ampersand)
        except HtmlParseError as exc:
            raise bad_request(E.CANT_PARSE_ENTITIES + str(exc)) from None
    else:
        plain, parsed = text, list(entities or [])
    if caption:
        if utf16_len(plain) > limits.caption_length:
            raise bad_request(E.CAPTION_TOO_LONG)
    else:
        if not plain.strip():
            raise bad_request(E.TEXT_EMPTY)
        if utf16_len(plain) > limits.text_length:
            raise bad_request(E.TEXT_TOO_LONG)
    return plain, parsed


def text_fields(plain: str, entities: list[dict[str, Any]], *, caption: bool) -> dict[str, Any]:
    """The message fields for a text or a caption."""
    if caption:
        out: dict[str, Any] = {}
        if plain:
            out["caption"] = plain
            if entities:
                out["caption_entities"] = entities
        return out
    out = {"text": plain}
    if entities:
        out["entities"] = entities
    return out


def user_text_entities(text: str, bot_username: str) -> list[dict[str, Any]]:
    """Entities Telegram's clients attach to a typed text: the leading command and mentions."""
    entities: list[dict[str, Any]] = []
    command_end = 0
    if text.startswith("/"):
        token = _COMMAND_RE.match(text)
        if token:
            command_end = token.end()
            entities.append(
                {"type": "bot_command", "offset": 0, "length": utf16_len(token.group())}
            )
    for match in _MENTION_RE.finditer(text):
        if match.start() < command_end:
            continue
        entities.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return entities


def content_kind(message: dict[str, Any]) -> str | None:
    """Which kind of content a message dict carries (None for service messages)."""
    if "text" in message:
        return "text"
    for kind in (*MEDIA_KINDS, "location", "contact"):
        if kind in message:
            return kind
    return None


def copy_content(message: dict[str, Any]) -> dict[str, Any]:
    """The content part of a message, for copyMessage/forwardMessage."""
    return {k: v for k, v in message.items() if k in CONTENT_KEYS}


def media_object(rec: FileRecord, kind: str) -> Any:
    """The Message field for a file: a PhotoSize list for photos, one object otherwise."""
    base: dict[str, Any] = {
        "file_id": rec.file_id,
        "file_unique_id": rec.file_unique_id,
        "file_size": rec.size,
    }
    if kind == "photo":
        thumb = {
            "file_id": rec.file_id + "-s",
            "file_unique_id": rec.file_unique_id + "-s",
            "file_size": max(1, rec.size // 20),
            "width": 90,
            "height": 67,
        }
        return [thumb, {**base, "width": 1280, "height": 960}]
    if kind in {"video", "animation"}:
        base.update(width=1280, height=720, duration=5)
    if kind in {"audio", "voice"}:
        base["duration"] = 3
    if kind == "sticker":
        base.update(type="regular", width=512, height=512, is_animated=False, is_video=False)
        base["emoji"] = "👍"
    if rec.name and kind in {"document", "video", "audio", "animation"}:
        base["file_name"] = rec.name
    if rec.mime_type and kind != "sticker":
        base["mime_type"] = rec.mime_type
    return base


def check_file_kind(rec: FileRecord, kind: str) -> None:
    """Telegram refuses a file_id of one type sent as another (documents ~ animations excepted)."""
    if rec.kind == kind or {rec.kind, kind} == {"document", "animation"}:
        return
    raise ApiError(
        400,
        f"Bad Request: can't use file of type {_TYPE_NAMES.get(rec.kind, rec.kind)} "
        f"as {_TYPE_NAMES.get(kind, kind)}",
    )
