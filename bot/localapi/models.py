"""Plain records the fake keeps: calls, chats, the bot's messages, files and callback queries."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

GROUP_ANONYMOUS_BOT_ID = 1087968824


def group_anonymous_bot() -> dict[str, Any]:
    """The ``from`` of what a group says as itself (an anonymous admin, an upgrade notice)."""
    return {
        "id": GROUP_ANONYMOUS_BOT_ID,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }


@dataclass
class Call:
    """One HTTP request the bot made, and how the fake answered it."""

    method: str
    params: dict[str, Any] = field(default_factory=dict)
    ok: bool = False
    error_code: int | None = None
    description: str | None = None
    expected: bool = False
    result: Any = None
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None
    outage: bool = False  # answered by an outage (502 or reset), see FakeTelegram.outage()

    def short(self) -> str:
        """One line for failure dumps."""
        shown = {k: v for k, v in self.params.items() if k not in {"reply_markup", "media"}}
        text = json.dumps(shown, ensure_ascii=False, default=str)
        if len(text) > 160:
            text = text[:157] + "..."
        if self.ok:
            status = "ok"
        else:
            status = f"{self.error_code} {self.description!r}"
            if self.outage:
                status += " (outage)"
            elif self.expected:
                status += " (expected)"
        return f"{self.method}({text}) -> {status}"


@dataclass(eq=False)
class BotMessage:
    """A message the bot has in a chat; edits are applied in place (``history`` keeps old texts).

    ``text`` is the plain text after entity parsing (the caption for media), ``html`` what the
    bot sent. ``kind`` is "text", "photo", "document", "video", "voice", "audio", "animation",
    "sticker", "location", "contact", or "media_group_item" (then ``media_type`` says which).
    """

    message_id: int
    chat_id: int
    thread_id: int | None
    kind: str
    text: str | None
    html: str | None
    parse_mode: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    raw: dict[str, Any]
    media: list[str] = field(default_factory=list)
    media_group_id: str | None = None
    media_type: str | None = None
    edits: int = 0
    history: list[str | None] = field(default_factory=list)
    method: str = ""
    seq: int = 0
    deleted: bool = False
    reply_to_message_id: int | None = None

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """Rows of inline buttons (each the button dict as sent), empty when there is none."""
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            rows: list[list[dict[str, Any]]] = self.reply_markup["inline_keyboard"]
            return rows
        return []

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Rows of reply-keyboard button texts if this message set one."""
        if self.reply_markup and "keyboard" in self.reply_markup:
            return [
                [b if isinstance(b, str) else b.get("text", "") for b in row]
                for row in self.reply_markup["keyboard"]
            ]
        return None

    def buttons(self) -> list[str]:
        """All inline button texts, row by row."""
        return [b.get("text", "") for row in self.inline_keyboard for b in row]

    def button(self, text: str) -> dict[str, Any]:
        """The inline button with exactly this text; AssertionError lists the real ones."""
        for row in self.inline_keyboard:
            for b in row:
                if b.get("text") == text:
                    return b
        raise AssertionError(
            f"no inline button {text!r} in message {self.message_id}; buttons: {self.buttons()!r}"
        )

    def button_data(self, text: str) -> str:
        """callback_data of the button with this text."""
        b = self.button(text)
        if "callback_data" not in b:
            raise AssertionError(f"button {text!r} has no callback_data: {b!r}")
        return str(b["callback_data"])

    def describe(self) -> str:
        """One line for failure dumps."""
        parts = [f"#{self.message_id}", f"[{self.media_type or self.kind}]"]
        if self.thread_id is not None:
            parts.append(f"thread={self.thread_id}")
        text = self.text or ""
        parts.append(repr(text if len(text) <= 120 else text[:117] + "..."))
        if self.buttons():
            parts.append(f"buttons={self.buttons()!r}")
        if self.reply_keyboard is not None:
            parts.append(f"reply_keyboard={self.reply_keyboard!r}")
        if self.edits:
            parts.append(f"edits={self.edits}")
        if self.deleted:
            parts.append("DELETED")
        return " ".join(parts)


@dataclass
class FileRecord:
    """A file the fake knows by file_id (sent by a user or uploaded by the bot)."""

    file_id: str
    file_unique_id: str
    kind: str
    size: int
    name: str | None = None
    mime_type: str | None = None
    content: bytes | None = None
    path: str = ""

    def data(self) -> bytes:
        """The bytes served by the file endpoint: the upload, or a deterministic filler."""
        if self.content is not None:
            return self.content
        seed = f"FAKE {self.kind} {self.file_unique_id}\n".encode()
        return (seed * (self.size // len(seed) + 1))[: self.size]


@dataclass
class CallbackRecord:
    """A callback query injected by a test, and the bot's answer to it."""

    id: str
    chat_id: int | None
    message_id: int | None
    data: str | None
    created: float
    answer: dict[str, Any] | None = None


@dataclass
class ChatState:
    """Everything the fake knows about one chat."""

    id: int
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    is_forum: bool = False
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    bot_messages: list[BotMessage] = field(default_factory=list)
    next_message_id: int = 1
    blocked: bool = False
    started: bool = True
    kicked: bool = False
    migrated_to: int | None = None
    bot_status: str = "member"
    privacy_mode: bool = True
    members: dict[int, str] = field(default_factory=dict)
    topics: dict[int, str] = field(default_factory=dict)
    reply_keyboard: dict[str, Any] | None = None

    @property
    def is_group(self) -> bool:
        return self.type in {"group", "supergroup"}

    def as_dict(self) -> dict[str, Any]:
        """The ``Chat`` object embedded in messages."""
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.is_group:
            chat["title"] = self.title or str(self.id)
            if self.is_forum:
                chat["is_forum"] = True
        else:
            chat["first_name"] = self.first_name or ""
            if self.last_name:
                chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    def allocate_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid

    def bot_message(self, message_id: int) -> BotMessage | None:
        for msg in self.bot_messages:
            if msg.message_id == message_id and not msg.deleted:
                return msg
        return None
