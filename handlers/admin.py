"""Admins: ban and unban users, with a reason (a banned user gets one clear message per
attempt, and nothing they send reaches staff)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot import text
from bot.context import BotContext
from bot.domain import ids
from bot.domain.roles import Role
from bot.services import people
from bot.views import gate as views

log = logging.getLogger(__name__)


async def _admin(update: Update, context: BotContext) -> bool:
    message = update.message
    assert message
    if message.sender_chat is not None or message.from_user is None:
        return False
    actor = await context.services.desk.actor(message.from_user.id)
    return actor.role == Role.ADMIN


async def cmd_ban(update: Update, context: BotContext) -> None:
    message = update.message
    assert message
    args = context.args or []
    reason = text.normalize(" ".join(args[1:]))
    user = ids.user_id(text.typed_digits(args[0])) if args else None
    if not await _admin(update, context) or user is None or not reason:
        await message.reply_text(views.ban_usage())
        return
    if not await people.set_ban(context.services.rt, user, reason):
        await message.reply_text(views.unknown_user())
        return
    log.info("user %s banned by %s", user, message.from_user.id if message.from_user else "?")
    await message.reply_text(views.ban_done(user))


async def cmd_unban(update: Update, context: BotContext) -> None:
    message = update.message
    assert message
    args = context.args or []
    user = ids.user_id(text.typed_digits(args[0])) if len(args) == 1 else None
    if not await _admin(update, context) or user is None:
        await message.reply_text(views.ban_usage())
        return
    if not await people.set_ban(context.services.rt, user, None):
        await message.reply_text(views.unknown_user())
        return
    await message.reply_text(views.unban_done(user))


def register(app: Application) -> None:  # type: ignore[type-arg]
    new = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("ban", cmd_ban, filters=new))
    app.add_handler(CommandHandler("unban", cmd_unban, filters=new))
