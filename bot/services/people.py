"""Who is talking to the bot: kept fresh on every update."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from bot.services.runtime import Runtime
from bot.storage import chats as chat_store
from bot.storage import updates as update_store
from bot.storage import users as user_store

log = logging.getLogger(__name__)

# Telegram redelivers an update only until the bot confirms it; a day is far beyond that.
PROCESSED_KEPT = timedelta(days=1)


async def already_handled(rt: Runtime, update_id: int) -> bool:
    """Whether this update was handled before (redelivered after a crash)."""
    async with rt.engine.connect() as conn:
        return await update_store.was_processed(conn, update_id)


async def mark_handled(rt: Runtime, update_id: int) -> None:
    """Record the update after its handlers ran: a crash before this replays it (at least
    once); the services' own state checks make a replay harmless."""
    try:
        async with rt.engine.begin() as conn:
            await update_store.record_processed(conn, update_id, rt.now())
    except IntegrityError:
        pass


async def forget_old_updates(rt: Runtime) -> None:
    async with rt.engine.begin() as conn:
        await update_store.forget_processed_before(conn, rt.now() - PROCESSED_KEPT)


async def touch_and_check(
    rt: Runtime, user_id: int, first_name: str, username: str | None, language_code: str | None
) -> bool:
    """Record the user; True when they are banned (nothing they send may go further)."""
    async with rt.engine.begin() as conn:
        await user_store.touch(
            conn,
            user_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            now=rt.now(),
        )
        user = await user_store.get(conn, user_id)
    return bool(user and user["banned"])


async def set_ban(rt: Runtime, user_id: int, reason: str | None) -> bool:
    """Ban (reason given) or unban (None). False when the bot has never met the user."""
    async with rt.engine.begin() as conn:
        return await user_store.set_ban(conn, user_id, reason)


async def note_chat(rt: Runtime, chat_id: int, kind: str) -> None:
    """Remember what kind of chat this is (written once per process and chat): pacing and the
    outbox tell groups from private chats by it."""
    if not rt.chat_kinds.unsaved(chat_id, kind):
        return
    async with rt.engine.begin() as conn:
        await chat_store.record_kind(conn, chat_id, kind, rt.now())
    rt.chat_kinds.saved(chat_id, kind)
    if kind != "private":  # how an operator finds a group's id for STAFF_CHAT_ID or /units
        log.info("chat %s is a %s", chat_id, kind)
