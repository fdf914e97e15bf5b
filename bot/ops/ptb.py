"""python-telegram-bot glue for the metrics: what kind of update this is.

`bot.update_order.PerChatUpdateProcessor` wraps the whole handling of each update (every
handler group and the error handler): it times it with this label and binds the log context.
"""

from __future__ import annotations

from telegram import Update


def update_kind(update: object) -> str:
    """`message`, `callback_query`, … — the Bot API field that carries the update's content."""
    if isinstance(update, Update):
        for kind in Update.ALL_TYPES:
            if getattr(update, kind, None) is not None:
                return str(kind)
        return "unknown"
    return type(update).__name__
