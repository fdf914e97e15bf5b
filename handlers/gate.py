"""Cross-cutting handlers that run around every update, in handler groups of their own.

Group -1 records who is talking and stops banned users (one handler: in a group only the
first matching handler runs); the audience handlers run in group 0.

Floods are stopped before that, as updates are received (`bot.update_order`, `bot.ingress`): a
flooder's surplus is never stored nor reaches these handlers. A redelivered update never gets
here either: the inbox keeps one row per update id and marks it handled right after these
handlers ran (docs/inbox.md).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, TypeHandler

from bot.context import BotContext
from bot.services import people
from bot.update_order import PerChatUpdateProcessor
from bot.views import gate as views
from handlers.common import answer


async def gatekeeper(update: Update, context: BotContext) -> None:
    services = context.services
    chat = update.effective_chat
    if chat is not None:  # the messenger says what kind of chat it is: remember it
        await people.note_chat(services.rt, chat.id, str(chat.type))
    user = update.effective_user
    if user is None or user.is_bot:
        return
    context.sender = await people.touch(
        services.rt, user.id, user.first_name, user.username, user.language_code
    )
    if context.sender is not None and context.sender["banned"]:
        if update.callback_query is not None:
            await answer(update.callback_query, views.banned(), show_alert=True)
        elif update.effective_chat and update.effective_chat.type == "private":
            await context.bot.send_message(user.id, views.banned())
        raise ApplicationHandlerStop


def register(app: Application) -> None:  # type: ignore[type-arg]
    async def slow_down(update: Update) -> None:
        """The flooder's one warning, in place of the first update over the limit."""
        user, chat = update.effective_user, update.effective_chat
        if user is not None and chat is not None and chat.type == "private":
            await app.bot.send_message(user.id, views.slow_down())

    processor = app.update_processor
    assert isinstance(processor, PerChatUpdateProcessor), "bot.app builds it"
    processor.guard_floods(app.bot_data["services"].flood.check, slow_down)
    app.add_handler(TypeHandler(Update, gatekeeper), group=-1)
