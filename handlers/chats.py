"""A group upgraded to a supergroup: Telegram says so in both chats (``migrate_to_chat_id`` in
the old group, ``migrate_from_chat_id`` in the new one), and either records the move.

In a handler group of its own, before the gate: the move is a fact about the chat, not
something a person asked, so the upgrader being banned does not keep it from the bot. (Were
the old group's notice dropped as a flooder's, the supergroup's still comes: it is from
GroupAnonymousBot, which the flood guard lets by.)
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot.context import BotContext
from bot.services import people

GROUP = -2  # before the gate (-1), which may stop the update


async def on_migrate(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id is not None:
        await people.note_move(context.services.rt, message.chat.id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id is not None:
        await people.note_move(context.services.rt, message.migrate_from_chat_id, message.chat.id)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate), group=GROUP)
