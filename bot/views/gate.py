"""Messages from the gate: bans and floods."""

from __future__ import annotations

from html import escape
from typing import Any

from bot import text
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
    return _("User {id} is banned.").format(id=text.format_id(user_id))


def unban_done(user_id: int) -> str:
    return _("User {id} is no longer banned.").format(id=text.format_id(user_id))


def ban_usage() -> str:
    return _(
        "To ban a user: {ban} USER_ID REASON; to lift a ban: {unban} USER_ID. Administrators only."
    ).format(ban=text.ltr("/ban"), unban=text.ltr("/unban"))


def unknown_user() -> str:
    return _("The bot has never met this user.")


def delivery_failed(row: OutboxRow, reason: str) -> dict[str, Any]:
    """For admins: a queued message that can never be delivered."""
    body = _(
        "⚠️ A message could not be delivered and will not be retried.\n"
        "Chat: {chat}\nKind: {purpose}\nReason: {reason}"
    ).format(
        chat=text.format_id(row["chat_id"]),
        purpose=f"<code>{escape(str(row['purpose']))}</code>",
        reason=f"<code>{escape(reason[:300])}</code>",
    )
    return {"text": body, "parse_mode": "HTML"}
