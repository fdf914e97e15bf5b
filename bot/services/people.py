"""Who is talking to the bot: kept fresh on every update."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.services.runtime import Runtime
from bot.storage import chats as chat_store
from bot.storage import updates as update_store
from bot.storage import users as user_store
from bot.storage.rows import UserRow

log = logging.getLogger(__name__)

# Telegram redelivers an update only until the bot confirms it; a day is far beyond that.
PROCESSED_KEPT = timedelta(days=1)


async def forget_old_updates(rt: Runtime) -> None:
    """Empty `processed_updates`, written before the inbox marked updates handled (kept until a
    migration drops it, so that an older release still runs on this schema)."""
    async with rt.engine.begin() as conn:
        await update_store.forget_processed_before(conn, rt.now() - PROCESSED_KEPT)


async def touch_and_check(
    rt: Runtime, user_id: int, first_name: str, username: str | None, language_code: str | None
) -> bool:
    """Record the user; True when they are banned (nothing they send may go further)."""
    user = await touch(rt, user_id, first_name, username, language_code)
    return bool(user and user["banned"])


async def touch(
    rt: Runtime, user_id: int, first_name: str, username: str | None, language_code: str | None
) -> UserRow | None:
    """Record the user and return their row as it now stands (None only if it could not be
    read back); the update's handlers read its ban, role and focus from it.

    Read first: most updates come from someone whose row already says all this, and then no
    write is needed (a write transaction per update was a fifth of an update's database time,
    and on SQLite each takes the one write lock). The row is written when it is new, when a
    name changed, or when it says they blocked the bot (a message from them means they can be
    reached again); so ``updated_at`` is when the details last changed."""
    async with rt.engine.connect() as conn:
        known = await user_store.get(conn, user_id)
    if known is not None and user_store.is_current(
        known, first_name=first_name, username=username, language_code=language_code
    ):
        return known
    async with rt.engine.begin() as conn:
        await user_store.touch(
            conn,
            user_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            now=rt.now(),
        )
        return await user_store.get(conn, user_id)


async def set_ban(rt: Runtime, user_id: int, reason: str | None) -> bool:
    """Ban (reason given) or unban (None). False when the bot has never met the user."""
    async with rt.engine.begin() as conn:
        return await user_store.set_ban(conn, user_id, reason)


async def note_chat(rt: Runtime, chat_id: int, kind: str) -> None:
    """Remember what kind of chat this is (written once per process and chat): pacing and the
    outbox tell groups from private chats by it."""
    if kind == "private":
        rt.chat_kinds.opened(chat_id)  # they wrote to the bot: it may write to them
    if not rt.chat_kinds.unsaved(chat_id, kind):
        return
    async with rt.engine.begin() as conn:
        await chat_store.record_kind(conn, chat_id, kind, rt.now())
    rt.chat_kinds.saved(chat_id, kind)
    if kind != "private":  # how an operator finds a group's id for STAFF_CHAT_ID or /units
        log.info("chat %s is a %s", chat_id, kind)


async def note_move(rt: Runtime, old_chat_id: int, new_chat_id: int) -> None:
    """Telegram says a group became a supergroup: remember where it lives now, at once, so
    that nothing is sent to the old id first and a desk is known under its new id (a send to
    the old id would also teach it, by failing)."""
    async with rt.engine.begin() as conn:
        if await chat_store.current_id(conn, old_chat_id) == new_chat_id:
            return  # known already: Telegram tells it in both chats
        await chat_store.record_move(conn, old_chat_id, new_chat_id, rt.now())
    log.warning("chat %s moved to %s", old_chat_id, new_chat_id)
