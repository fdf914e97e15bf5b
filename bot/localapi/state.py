"""The server's model of Telegram: chats, messages, files, callback queries and updates.

The API method implementations (``api_*`` modules) work on this; the HTTP layer and the
test-facing helpers live in ``server.py``.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import errors as E
from .content import content_kind, format_text, media_object
from .errors import ApiError, bad_request
from .limits import Limits, RateLimiter
from .markup import returned_markup
from .models import BotMessage, CallbackRecord, ChatState, FileRecord
from .polling import UpdateBox
from .profiles import TELEGRAM, ServerProfile

if TYPE_CHECKING:
    from .actors import FakeGroup, FakeUser


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class ApiRequest:
    """A decoded Bot API call handed to the method implementations."""

    method: str
    params: dict[str, Any]
    uploads: dict[str, Upload] = field(default_factory=dict)


class ServerState:
    """Telegram's side of the conversation, without HTTP."""

    def __init__(
        self,
        token: str,
        bot_username: str,
        limits: Limits | None,
        bot_first_name: str,
        clock: Callable[[], float] | None,
        profile: ServerProfile | None = None,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.profile = profile or TELEGRAM  # which messenger this server plays (profiles.py)
        self.limits = self.profile.make_limits(limits)
        self.old_clients: set[int] = set()  # users whose app cannot show callback answers
        self.clock: Callable[[], float] = clock or time.monotonic
        self.rate = RateLimiter(self.limits, lambda: self.clock())
        self.chats: dict[int, ChatState] = {}
        self.users: dict[int, FakeUser] = {}
        self.groups: dict[int, FakeGroup] = {}
        self.files: dict[str, FileRecord] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.chat_actions: list[dict[str, Any]] = []
        self.undelivered: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.updates = UpdateBox(self.notify)
        self._changed = asyncio.Event()
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)

    def notify(self) -> None:
        """Wake everything waiting in ``wait_until``: called on every state change."""
        self._changed.set()
        self._changed = asyncio.Event()

    def now(self) -> float:
        return self.clock()

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def find_chat(self, chat_id: Any) -> ChatState:
        """Resolve an int id or '@username'; 400 chat not found otherwise."""
        chat: ChatState | None = None
        if isinstance(chat_id, int):
            chat = self.chats.get(chat_id)
        elif isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            chat = next(
                (c for c in self.chats.values() if (c.username or "").lower() == name), None
            )
        if chat is None:
            raise bad_request(E.CHAT_NOT_FOUND)
        return chat

    def chat_for_read(self, chat_id: Any) -> ChatState:
        """A chat the bot may look at (getChat, getChatMember...)."""
        chat = self.find_chat(chat_id)
        if chat.migrated_to is not None:
            raise ApiError(400, E.MIGRATED, migrate_to_chat_id=chat.migrated_to)
        if chat.kicked:
            raise ApiError(
                403, E.KICKED_SUPERGROUP if chat.type == "supergroup" else E.KICKED_GROUP
            )
        return chat

    def chat_for_write(self, chat_id: Any) -> ChatState:
        """A chat the bot may post in: adds the private-chat refusals."""
        chat = self.chat_for_read(chat_id)
        if chat.type == "private":
            if chat.blocked:
                raise ApiError(403, E.BLOCKED)
            if not chat.started:
                raise ApiError(403, E.CANT_INITIATE)
        return chat

    def register_file(
        self,
        kind: str,
        unique: str,
        size: int,
        *,
        name: str | None = None,
        mime_type: str | None = None,
        content: bytes | None = None,
    ) -> FileRecord:
        """Known files by id; the same (kind, unique id) always maps to the same file_id."""
        file_id = f"fake-{kind}-{unique}"
        rec = self.files.get(file_id)
        if rec is None:
            rec = FileRecord(file_id, unique, kind, size, name, mime_type, content)
            self.files[file_id] = rec
            if kind == "photo":
                thumb = FileRecord(file_id + "-s", unique + "-s", "photo", max(1, size // 20))
                self.files[thumb.file_id] = thumb
        return rec

    def next_id(self) -> int:
        """Server-wide counter for generated ids."""
        return next(self._ids)

    def new_upload_id(self) -> str:
        return f"up{self.next_id()}"

    def add_message(
        self,
        chat: ChatState,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        thread_id: int | None = None,
        reply_to: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store a message (from a user or the bot) in a chat and return its dict."""
        msg: dict[str, Any] = {
            "message_id": chat.allocate_id(),
            "from": sender,
            "chat": chat.as_dict(),
            "date": int(time.time()),
        }
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            if chat.is_forum:
                msg["is_topic_message"] = True
        if reply_to is not None:
            msg["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
        msg.update(extra or {})
        msg.update(content)
        chat.messages[msg["message_id"]] = msg
        return msg

    def add_bot_message(
        self,
        chat: ChatState,
        method: str,
        kind: str,
        content: dict[str, Any],
        *,
        text: str | None = None,
        html: str | None = None,
        parse_mode: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        markup: dict[str, Any] | None = None,
        thread_id: int | None = None,
        reply_to: dict[str, Any] | None = None,
        media: list[str] | None = None,
        media_group_id: str | None = None,
        media_type: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> BotMessage:
        """Store a message the bot sent and return its BotMessage (``raw`` is the answer)."""
        extra = dict(extra or {})
        if media_group_id:
            extra["media_group_id"] = media_group_id
        echoed = returned_markup(markup)
        if echoed:
            extra["reply_markup"] = echoed
        raw = self.add_message(
            chat, self.bot_user(), content, thread_id=thread_id, reply_to=reply_to, extra=extra
        )
        msg = BotMessage(
            message_id=raw["message_id"],
            chat_id=chat.id,
            thread_id=thread_id,
            kind=kind,
            text=text,
            html=html,
            parse_mode=parse_mode,
            entities=list(entities or []),
            reply_markup=markup,
            raw=raw,
            media=list(media or []),
            media_group_id=media_group_id,
            media_type=media_type,
            method=method,
            seq=next(self._seq),
            reply_to_message_id=reply_to["message_id"] if reply_to else None,
        )
        chat.bot_messages.append(msg)
        if markup is not None and ("keyboard" in markup or "remove_keyboard" in markup):
            chat.reply_keyboard = markup if "keyboard" in markup else None
        self.notify()
        return msg

    def media_payload(self, rec: FileRecord, kind: str) -> dict[str, Any]:
        return {kind: media_object(rec, kind)}

    def format(
        self,
        text: str | None,
        parse_mode: str | None,
        entities: list[dict[str, Any]] | None,
        *,
        caption: bool,
    ) -> tuple[str, list[dict[str, Any]]]:
        return format_text(text, parse_mode, entities, self.limits, caption=caption)

    def deliver(self, chat: ChatState, message: dict[str, Any], kind: str = "message") -> None:
        """Inject a user message as an update unless group privacy mode hides it."""
        if kind == "message" and not self._bot_sees(chat, message):
            self.undelivered.append(message)
            self.notify()
            return
        self.updates.inject(kind, message)

    def _bot_sees(self, chat: ChatState, message: dict[str, Any]) -> bool:
        if not chat.is_group or not chat.privacy_mode:
            return True
        if chat.bot_status in {"administrator", "creator"}:
            return True
        if content_kind(message) is None:
            return True  # service messages
        text = message.get("text") or message.get("caption") or ""
        mention = f"@{self.bot_username}".lower()
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0].lower()
            return "@" not in command or command.endswith(mention)
        replied = message.get("reply_to_message", {}).get("from", {})
        return mention in text.lower() or replied.get("id") == self.bot_id

    def new_callback(
        self, sender: dict[str, Any], message: BotMessage | None, data: str | None
    ) -> str:
        """Inject a callback_query update and remember it for answerCallbackQuery."""
        old_client = sender.get("id") in self.old_clients
        query_id = self.profile.callback_id(next(self._ids), old_client=old_client)
        payload: dict[str, Any] = {
            "id": query_id,
            "from": sender,
            "chat_instance": str(abs(hash(message.chat_id)) if message else 0),
        }
        if message is not None:
            payload["message"] = copy.deepcopy(message.raw)
        if data is not None:
            payload["data"] = data
        self.callbacks[query_id] = CallbackRecord(
            query_id,
            message.chat_id if message else None,
            message.message_id if message else None,
            data,
            self.now(),
        )
        self.updates.inject("callback_query", payload)
        return query_id
