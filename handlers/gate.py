"""Cross-cutting handlers that run around every update, in handler groups of their own.

Group order matters: -2 drops an update that was handled before (Telegram redelivers after a
crash), -1 records who is talking and stops banned users and floods (one handler: in a group
only the first matching handler runs), the audience handlers run in group 0, and group 99
marks the update handled only after they ran.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.app import services_of
from bot.services import people
from bot.views import gate as views
from handlers.common import answer


async def skip_duplicates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await people.already_handled(services_of(context).rt, update.update_id):
        raise ApplicationHandlerStop


async def gatekeeper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is None or user.is_bot:
        return
    services = services_of(context)
    verdict = services.flood.check(user.id)
    if verdict != "ok":
        if verdict == "warn" and update.effective_chat and update.effective_chat.type == "private":
            await context.bot.send_message(user.id, views.slow_down())
        raise ApplicationHandlerStop
    banned = await people.touch_and_check(
        services.rt, user.id, user.first_name, user.username, user.language_code
    )
    if banned:
        if update.callback_query is not None:
            await answer(update.callback_query, views.banned(), show_alert=True)
        elif update.effective_chat and update.effective_chat.type == "private":
            await context.bot.send_message(user.id, views.banned())
        raise ApplicationHandlerStop


async def mark_handled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await people.mark_handled(services_of(context).rt, update.update_id)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, skip_duplicates), group=-2)
    app.add_handler(TypeHandler(Update, gatekeeper), group=-1)
    app.add_handler(TypeHandler(Update, mark_handled), group=99)
