"""A screen: one message's text and keyboard, sendable directly or queued in the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply


@dataclass(frozen=True)
class Screen:
    text: str  # HTML, user text already escaped
    markup: Markup | None = None

    def payload(self) -> dict[str, Any]:
        """Bot API parameters for sendMessage (without chat_id), for the outbox."""
        out: dict[str, Any] = {"text": self.text, "parse_mode": "HTML"}
        if self.markup is not None:
            out["reply_markup"] = self.markup.to_dict()
        return out


def inline(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Inline keyboard from rows of (label, callback_data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def reply_keyboard(rows: list[list[str | KeyboardButton]]) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)
