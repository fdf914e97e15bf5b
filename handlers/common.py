"""Small helpers shared by the handler modules."""

from __future__ import annotations

import logging

from telegram import CallbackQuery
from telegram.error import BadRequest

log = logging.getLogger(__name__)


async def answer(
    query: CallbackQuery, text: str | None = None, *, show_alert: bool = False
) -> None:
    """Answer a button press; a press answered late (after an outage, or answered already) is
    not a reason to stop: the work it asked for still goes on."""
    try:
        await query.answer(text, show_alert=show_alert)
    except BadRequest as exc:
        if "query is too old" not in exc.message.lower():
            raise
        log.info("callback query %s answered too late", query.id)
