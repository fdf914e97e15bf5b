"""Test-side actors: users in their private chat and groups, who inject updates and read the
bot's answers through a per-actor read cursor."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .content import user_text_entities
from .models import BotMessage, ChatState, group_anonymous_bot

if TYPE_CHECKING:
    from .server import FakeTelegram

Predicate = Callable[[BotMessage], bool]


class _ChatView:
    """Reading side shared by users and groups: inbox, expect_* helpers and button presses."""

    def __init__(self, server: FakeTelegram, chat_id: int) -> None:
        self._server = server
        self.chat_id = chat_id
        self._cursor = 0
        self._seen_edits: dict[int, int] = {}
        self.skipped: list[BotMessage] = []

    @property
    def chat(self) -> ChatState:
        return self._server.chats[self.chat_id]

    @property
    def inbox(self) -> list[BotMessage]:
        """The bot's messages in this chat, oldest first, edits applied in place."""
        return self._server.messages(self.chat_id)

    @property
    def last_reply_keyboard(self) -> dict[str, Any] | None:
        """The reply keyboard the bot last set here (None after ReplyKeyboardRemove)."""
        return self.chat.reply_keyboard

    def _inbox_dump(self) -> str:
        lines = [f"inbox of chat {self.chat_id} (read cursor after seq {self._cursor}):"]
        for msg in self.chat.bot_messages:
            mark = "  " if msg.seq <= self._cursor else "* "
            lines.append(mark + msg.describe())
        return "\n".join(lines)

    async def expect_message(
        self,
        contains: str | None = None,
        *,
        predicate: Predicate | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the test-facing contract
    ) -> BotMessage:
        """The next unread bot message here that matches; unread ones before it that do not
        match are recorded in ``skipped``. ``contains`` is matched against the plain text."""

        def matches(msg: BotMessage) -> bool:
            if contains is not None and contains not in (msg.text or ""):
                return False
            return predicate is None or predicate(msg)

        def find() -> BotMessage | None:
            for msg in self.chat.bot_messages:
                if msg.seq > self._cursor and matches(msg):
                    return msg
            return None

        def describe() -> str:
            what = f" containing {contains!r}" if contains is not None else ""
            extra = " matching the predicate" if predicate else ""
            return f"chat {self.chat_id}: no new bot message{what}{extra}\n{self._inbox_dump()}"

        await self._server.wait_until(lambda: find() is not None, timeout, describe=describe)
        found = find()
        assert found is not None
        self.skipped += [m for m in self.chat.bot_messages if self._cursor < m.seq < found.seq]
        self._cursor = found.seq
        self._seen_edits[found.message_id] = found.edits
        return found

    async def expect_edit(
        self,
        message: BotMessage,
        contains: str | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> BotMessage:
        """Wait until ``message`` is edited beyond what this actor last saw of it."""
        seen = self._seen_edits.get(message.message_id, message.edits)

        def edited() -> bool:
            if message.edits <= seen:
                return False
            return contains is None or contains in (message.text or "")

        def describe() -> str:
            what = f" to contain {contains!r}" if contains is not None else ""
            return (
                f"message {message.message_id} in chat {self.chat_id} was not edited{what} "
                f"(edits seen {seen}, now {message.edits}, text {message.text!r})"
            )

        await self._server.wait_until(edited, timeout, describe=describe)
        self._seen_edits[message.message_id] = message.edits
        return message

    async def expect_answer(
        self,
        callback_query_id: str,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The answerCallbackQuery parameters the bot used for this query."""
        record = self._server.callbacks[callback_query_id]
        await self._server.wait_until(
            lambda: record.answer is not None,
            timeout,
            describe=f"callback query {callback_query_id} (data {record.data!r}) not answered",
        )
        assert record.answer is not None
        return record.answer

    def _press(
        self,
        sender: dict[str, Any],
        text: str | None,
        data: str | None,
        message: BotMessage | None,
    ) -> str:
        target = message
        if target is None:
            with_keyboard = [m for m in self.inbox if m.inline_keyboard]
            if with_keyboard:
                target = with_keyboard[-1]
            elif data is not None and text is None and self.inbox:
                target = self.inbox[-1]
        if target is None:
            raise AssertionError(f"no bot message with an inline keyboard\n{self._inbox_dump()}")
        if target.deleted:
            raise AssertionError(f"message {target.message_id} was deleted; cannot press it")
        if text is not None and data is None:
            button = target.button(text)
            if "callback_data" not in button:
                raise AssertionError(f"button {text!r} is not a callback button: {button!r}")
            data = str(button["callback_data"])
        if data is None:
            raise AssertionError("press() needs the button text or data")
        self._seen_edits[target.message_id] = target.edits
        return self._server.new_callback(sender, target, data)


class FakeUser(_ChatView):
    """A Telegram user talking to the bot in their private chat (chat id == user id)."""

    def __init__(
        self,
        server: FakeTelegram,
        user_id: int,
        first_name: str,
        username: str | None,
        language_code: str | None,
        phone: str | None,
        last_name: str | None = None,
    ) -> None:
        super().__init__(server, user_id)
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.phone = phone

    def as_dict(self) -> dict[str, Any]:
        """The ``User`` object Telegram puts in ``from``."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _post(self, content: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        chat = self.chat
        chat.started = True
        chat.blocked = False  # writing to a bot unblocks it, as in the apps
        msg = self._server.add_message(chat, self.as_dict(), content, **kwargs)
        self._server.deliver(chat, msg)
        return msg

    async def send_text(self, text: str, *, reply_to: BotMessage | None = None) -> dict[str, Any]:
        """Type a text; a leading /command gets its bot_command entity."""
        content = _text_content(text, self._server.bot_username)
        return self._post(content, reply_to=reply_to.raw if reply_to else None)

    async def send_photo(
        self,
        file_unique: str = "p1",
        media_group_id: str | None = None,
        caption: str | None = None,
        *,
        data: bytes | None = None,
    ) -> dict[str, Any]:
        """A photo; ``data`` (the picture's bytes, e.g. uploaded in the demo's page) is what the
        file endpoint serves, otherwise a filler."""
        if data is not None:
            rec = self._server.register_file(
                "photo", self._server.new_upload_id(), len(data), content=data
            )
            content = self._server.media_payload(rec, "photo")
            if caption:
                content["caption"] = caption
            if media_group_id:
                content["media_group_id"] = media_group_id
            return self._post(content)
        return self._post(_media(self._server, "photo", file_unique, caption, media_group_id))

    async def send_album(
        self, kinds: list[str] | None = None, caption: str | None = None
    ) -> list[dict[str, Any]]:
        """One update per item sharing a media_group_id; the caption rides on the first."""
        group_id = str(12_000_000_000_000_000 + self._server.next_id())
        sent = []
        for index, kind in enumerate(kinds or ["photo", "photo"]):
            unique = f"album{group_id[-6:]}-{index}"
            content = _media(self._server, kind, unique, caption if index == 0 else None, group_id)
            sent.append(self._post(content))
        return sent

    async def send_document(
        self,
        file_name: str = "receipt.pdf",
        mime_type: str = "application/pdf",
        size: int = 12345,
        *,
        file_unique: str | None = None,
        caption: str | None = None,
        data: bytes | None = None,
    ) -> dict[str, Any]:
        unique = file_unique or f"d{self._server.next_id()}"
        rec = self._server.register_file(
            "document",
            unique,
            len(data) if data is not None else size,
            name=file_name,
            mime_type=mime_type,
            content=data,
        )
        content = self._server.media_payload(rec, "document")
        if caption:
            content["caption"] = caption
        return self._post(content)

    async def send_video(
        self, file_unique: str = "v1", caption: str | None = None, size: int = 1_000_000
    ) -> dict[str, Any]:
        return self._post(_media(self._server, "video", file_unique, caption, None, size))

    async def send_voice(self, file_unique: str = "vo1", size: int = 20_000) -> dict[str, Any]:
        return self._post(_media(self._server, "voice", file_unique, None, None, size))

    async def send_sticker(self, file_unique: str = "st1") -> dict[str, Any]:
        return self._post(_media(self._server, "sticker", file_unique, None, None, 30_000))

    async def send_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        return self._post({"location": {"latitude": latitude, "longitude": longitude}})

    async def send_contact(
        self, phone: str | None = None, own: bool = True, first_name: str | None = None
    ) -> dict[str, Any]:
        """Share a contact; ``own=True`` is the 'share my phone number' button."""
        contact: dict[str, Any] = {
            "phone_number": phone or self.phone or "+989120000000",
            "first_name": first_name or self.first_name,
            "user_id": self.id if own else self.id + 1_000_000,
        }
        return self._post({"contact": contact})

    async def edit_text(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """Edit one of this user's messages: an ``edited_message`` update."""
        edited = {k: v for k, v in message.items() if k != "entities"}
        edited.update(_text_content(text, self._server.bot_username))
        edited["edit_date"] = edited["date"] + 1
        self.chat.messages[edited["message_id"]] = edited
        self._server.updates.inject("edited_message", edited)
        return edited

    async def press(
        self,
        text: str | None = None,
        *,
        data: str | None = None,
        message: BotMessage | None = None,
    ) -> str:
        """Press an inline button (by exact text) on the newest bot message with a keyboard,
        or send raw/forged ``data``; returns the callback query id."""
        return self._press(self.as_dict(), text, data, message)


class FakeGroup(_ChatView):
    """A group or supergroup the bot is in; users post with ``from_user``."""

    @property
    def id(self) -> int:
        return self.chat_id

    @property
    def bot_status(self) -> str:
        return self.chat.bot_status

    @bot_status.setter
    def bot_status(self, status: str) -> None:
        self.chat.bot_status = status

    @property
    def privacy_mode(self) -> bool:
        return self.chat.privacy_mode

    @privacy_mode.setter
    def privacy_mode(self, value: bool) -> None:
        self.chat.privacy_mode = value

    def set_member(self, user: FakeUser | int, status: str) -> None:
        """Status getChatMember reports: creator, administrator, member, left, kicked."""
        self.chat.members[user if isinstance(user, int) else user.id] = status

    def delete_message(self, message: BotMessage) -> None:
        """A group admin deletes one of the bot's messages; as in Telegram the bot is not told,
        and editing it afterwards answers "message to edit not found"."""
        self.chat.messages.pop(message.message_id, None)
        for msg in self.chat.bot_messages:
            if msg.message_id == message.message_id:
                msg.deleted = True
        self._server.notify()

    def create_topic(self, name: str, by: FakeUser | None = None) -> int:
        """Create a forum topic; returns its message_thread_id."""
        if not self.chat.is_forum:
            raise ValueError("not a forum")
        sender = by.as_dict() if by else {"id": 777000, "is_bot": False, "first_name": "Telegram"}
        msg = self._server.add_message(
            self.chat, sender, {"forum_topic_created": {"name": name, "icon_color": 7322096}}
        )
        thread_id = msg["message_id"]
        msg["message_thread_id"] = thread_id
        msg["is_topic_message"] = True
        self.chat.topics[thread_id] = name
        self._server.deliver(self.chat, msg)
        return int(thread_id)

    def _post(
        self,
        sender: dict[str, Any],
        content: dict[str, Any],
        thread_id: int | None,
        reply_to: BotMessage | None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        msg = self._server.add_message(
            self.chat,
            sender,
            content,
            thread_id=thread_id,
            reply_to=reply_to.raw if reply_to else None,
            extra=extra,
        )
        self._server.deliver(self.chat, msg)
        return msg

    async def send_text(
        self,
        from_user: FakeUser,
        text: str,
        *,
        message_thread_id: int | None = None,
        reply_to: BotMessage | None = None,
    ) -> dict[str, Any]:
        """Post a text as ``from_user``; without a thread id it lands in General."""
        self.chat.members.setdefault(from_user.id, "member")
        content = _text_content(text, self._server.bot_username)
        return self._post(from_user.as_dict(), content, message_thread_id, reply_to)

    async def send_photo(
        self,
        from_user: FakeUser,
        file_unique: str = "p1",
        caption: str | None = None,
        *,
        message_thread_id: int | None = None,
        reply_to: BotMessage | None = None,
    ) -> dict[str, Any]:
        content = _media(self._server, "photo", file_unique, caption, None)
        return self._post(from_user.as_dict(), content, message_thread_id, reply_to)

    async def send_as_anonymous_admin(
        self,
        text: str,
        *,
        message_thread_id: int | None = None,
        reply_to: BotMessage | None = None,
    ) -> dict[str, Any]:
        """A staff member posting 'as the group': from=GroupAnonymousBot, sender_chat=group."""
        sender = group_anonymous_bot()
        content = _text_content(text, self._server.bot_username)
        extra = {"sender_chat": self.chat.as_dict()}
        return self._post(sender, content, message_thread_id, reply_to, extra)

    async def press(
        self,
        from_user: FakeUser,
        text: str | None = None,
        *,
        data: str | None = None,
        message: BotMessage | None = None,
    ) -> str:
        return self._press(from_user.as_dict(), text, data, message)


def _text_content(text: str, bot_username: str) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    entities = user_text_entities(text, bot_username)
    if entities:
        content["entities"] = entities
    return content


def _media(
    server: FakeTelegram,
    kind: str,
    unique: str,
    caption: str | None,
    media_group_id: str | None,
    size: int = 150_000,
) -> dict[str, Any]:
    mime = {"video": "video/mp4", "voice": "audio/ogg", "document": "application/pdf"}.get(kind)
    name = f"{unique}.pdf" if kind == "document" else None  # as Telegram's clients send them
    rec = server.register_file(kind, unique, size, name=name, mime_type=mime)
    content = server.media_payload(rec, kind)
    if caption:
        content["caption"] = caption
    if media_group_id:
        content["media_group_id"] = media_group_id
    return content
