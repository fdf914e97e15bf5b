"""Who is talking to the bot: kept fresh on every update."""

from __future__ import annotations

from bot.services.runtime import Runtime
from bot.storage import users as user_store


async def touch_user(
    rt: Runtime, user_id: int, first_name: str, username: str | None, language_code: str | None
) -> None:
    async with rt.engine.begin() as conn:
        await user_store.touch(
            conn,
            user_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
            now=rt.now(),
        )
