"""Messages from the gate: bans and floods."""

from __future__ import annotations

from html import escape
from typing import Any

from bot.i18n import _
from bot.storage.rows import OutboxRow


def banned() -> str:
    return _(
        "You can no longer use this bot, because of how it was used before. If you think this "
        "is a mistake, call 135."
    )


def slow_down() -> str:
    return _("You are sending messages too fast. Please wait a few seconds, then go on.")


def ban_done(user_id: int) -> str:
    return _("User {id} is banned.").format(id=user_id)


def unban_done(user_id: int) -> str:
    return _("User {id} is no longer banned.").format(id=user_id)


def ban_usage() -> str:
    return _("Use: /ban USER_ID REASON, or /unban USER_ID. Admins only.")


def unknown_user() -> str:
    return _("The bot has never met this user.")


def delivery_failed(row: OutboxRow, reason: str) -> dict[str, Any]:
    """For admins: a queued message that can never be delivered."""
    body = _(
        "⚠️ A message could not be delivered and will not be retried.\n"
        "Chat: {chat}\nKind: {purpose}\nReason: {reason}"
    ).format(chat=row["chat_id"], purpose=escape(str(row["purpose"])), reason=escape(reason[:300]))
    return {"text": body, "parse_mode": "HTML"}
