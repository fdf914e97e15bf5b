"""Messages from the gate: bans and floods."""

from __future__ import annotations

from bot.i18n import _


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
