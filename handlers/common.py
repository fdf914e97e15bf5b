"""Small helpers shared by the handler modules."""

from __future__ import annotations

import logging
from html import escape

from telegram import CallbackQuery
from telegram.error import BadRequest, Forbidden

from bot.outgoing import platform_of

log = logging.getLogger(__name__)


async def answer(
    query: CallbackQuery, text: str | None = None, *, show_alert: bool = False
) -> None:
    """Answer a button press; a press answered late (after an outage, or answered already) is
    not a reason to stop: the work it asked for still goes on.

    Every press is answered. Where the platform says a query id shows a client that cannot
    display the answer (Bale's old clients), its text also goes to the presser's private chat
    as a message — never into a group, since an alert may hold what only the presser may see."""
    bot = query.get_bot()
    platform = platform_of(bot)
    limit = platform.limits.callback_answer_length
    try:
        shown = text if text is None or len(text) <= limit else text[: limit - 1] + "…"
        await query.answer(shown, show_alert=show_alert)
    except BadRequest as exc:
        if "query is too old" not in exc.message.lower():
            raise
        log.info("callback query %s answered too late", query.id)
    prefix = platform.old_client_callback_prefix
    if text and prefix and query.id.startswith(prefix):
        try:
            await bot.send_message(query.from_user.id, escape(text))
        except Forbidden:  # never opened the bot: the answer was all it could get
            log.info("old client's answer not sent: no private chat with %s", query.from_user.id)
