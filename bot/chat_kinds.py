"""What kind each chat is, as far as this process has seen: private chat or group.

The messenger says it in every update (`chat.type`) and in the answer to every message the
bot sends; the pacing needs it on every call and cannot ask the database each time, so it
reads this bounded memory. The database (`chat_kinds`) keeps what was learnt across restarts,
for the outbox. A chat not seen yet is treated as a group: the slower pace is the safe one.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

PRIVATE = "private"


class ChatKinds:
    MAX_CHATS = 50_000

    def __init__(self) -> None:
        self._kinds: OrderedDict[int, str] = OrderedDict()
        self._saved: OrderedDict[int, str] = OrderedDict()  # what the database has
        self._unopened: OrderedDict[int, str] = OrderedDict()  # users who never opened the bot

    # A user who never opened the bot cannot be written to (403 "bot can't initiate
    # conversation"). Trying again on every prompt only spends a call of the bot's 30 a second
    # on the same refusal; once they write to the bot in private, they can be.

    def never_opened(self, user_id: int) -> None:
        _put(self._unopened, user_id, PRIVATE, self.MAX_CHATS)

    def opened(self, user_id: int) -> None:
        self._unopened.pop(user_id, None)

    def is_unopened(self, user_id: int) -> bool:
        return user_id in self._unopened

    def learn(self, chat_id: int, kind: str) -> None:
        _put(self._kinds, chat_id, kind, self.MAX_CHATS)

    def unsaved(self, chat_id: int, kind: str) -> bool:
        """Whether the database may not know this yet (this process has not written it)."""
        return self._saved.get(chat_id) != kind

    def saved(self, chat_id: int, kind: str) -> None:
        self.learn(chat_id, kind)
        _put(self._saved, chat_id, kind, self.MAX_CHATS)

    def learn_from_result(self, result: Any) -> None:
        """From a Bot API answer: a sent message (or an album's messages) names its chat."""
        for message in result if isinstance(result, list) else [result]:
            chat = message.get("chat") if isinstance(message, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("type"), str):
                try:
                    self.learn(int(chat["id"]), chat["type"])
                except (KeyError, TypeError, ValueError):
                    continue

    def get(self, chat_id: int) -> str | None:
        return self._kinds.get(chat_id)

    def is_private(self, chat_id: int) -> bool:
        """Only a chat seen to be private is; an unknown one is paced as a group."""
        return self._kinds.get(chat_id) == PRIVATE


def _put(table: OrderedDict[int, str], chat_id: int, kind: str, limit: int) -> None:
    table[chat_id] = kind
    table.move_to_end(chat_id)
    while len(table) > limit:
        table.popitem(last=False)
