"""Last line of defence: log the error (never the token) and never leave a citizen in silence."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application

from bot.context import BotContext
from bot.i18n import _
from handlers.common import answer

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    if update.callback_query is not None:  # every press is answered, in groups too
        try:
            await answer(update.callback_query)
        except Exception:
            log.warning("could not answer the press", exc_info=True)
    if update.effective_chat and update.effective_chat.type == "private":
        try:
            await context.bot.send_message(
                update.effective_chat.id,
                _("Sorry, something went wrong on our side. Please try again in a moment."),
            )
        except Exception:  # the apology itself failed: nothing more to do
            log.warning("could not tell the user about the error", exc_info=True)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_error_handler(on_error)
