"""Validation of reply_markup: the inline-keyboard limits bots most often trip over."""

from __future__ import annotations

import re
from typing import Any

from . import errors as E
from .errors import ApiError, bad_request
from .limits import Limits

_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
    "web_app",
)
_URL_RE = re.compile(r"^(https?|tg)://\S+$|^[\w-]+(\.[\w-]+)+(/\S*)?$", re.IGNORECASE)


def _check_inline(markup: dict[str, Any], limits: Limits) -> None:
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request("Bad Request: can't parse inline keyboard: field must be an array")
    total = sum(len(r) for r in rows)
    if total > limits.keyboard_buttons or any(len(r) > limits.keyboard_row for r in rows):
        raise bad_request(E.MARKUP_TOO_LONG)
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or "text" not in button:
                raise bad_request(
                    "Bad Request: can't parse inline keyboard button: Can't find field \"text\""
                )
            if not str(button["text"]).strip():
                raise bad_request(E.BUTTON_TEXT_INVALID)
            present = [a for a in _ACTIONS if a in button and button[a] not in (None, "")]
            if not present:
                raise bad_request(E.TEXT_BUTTONS_UNALLOWED)
            if "callback_data" in present:
                data = button["callback_data"]
                size = len(str(data).encode("utf-8"))
                if not isinstance(data, str) or size > limits.callback_data_bytes:
                    raise bad_request(E.BUTTON_DATA_INVALID)
            if "url" in present and not _URL_RE.match(str(button["url"])):
                raise bad_request(E.BUTTON_URL_INVALID)


def _check_reply_keyboard(markup: dict[str, Any]) -> None:
    rows = markup.get("keyboard")
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request("Bad Request: can't parse keyboard: field must be an array")
    for row in rows:
        for button in row:
            text = button if isinstance(button, str) else (button or {}).get("text")
            if not isinstance(text, str) or not text.strip():
                raise bad_request(E.BUTTON_TEXT_INVALID)


def check_reply_markup(markup: Any, limits: Limits, *, inline_only: bool = False) -> None:
    """Raise the Telegram refusal for an invalid reply_markup (already JSON-decoded)."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request(E.MARKUP_UNPARSABLE)
    if "inline_keyboard" in markup:
        _check_inline(markup, limits)
        return
    if inline_only:
        raise bad_request(E.INLINE_KEYBOARD_EXPECTED)
    if "keyboard" in markup:
        _check_reply_keyboard(markup)
    elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
        raise bad_request(E.MARKUP_UNPARSABLE)


def returned_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """Telegram echoes only inline keyboards in the returned Message."""
    if markup and "inline_keyboard" in markup:
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


__all__ = ["ApiError", "check_reply_markup", "returned_markup"]
