"""With Telegram's real windows on the fake server and the bot's default pacing, a citizen who
floods the bot gets every answer, a little slower, without one 429; others are not slowed."""

from __future__ import annotations

import asyncio
import time

from bot.localapi import Limits
from tests.harness import running_bot


async def test_a_flooding_citizen_is_paced_without_any_429(db_url: str) -> None:
    async with running_bot(db_url, limits=Limits(), chat_messages_per_second=3) as bot:
        flooder = bot.server.user(4001, first_name="پرحرف")
        calm = bot.server.user(4002, first_name="آرام")
        for _ in range(12):
            await flooder.send_text("سلام")
        started = time.monotonic()
        await calm.send_text("/help")
        await calm.expect_message("راهنمای کار با ربات")
        calm_wait = time.monotonic() - started
        for _ in range(12):
            await flooder.expect_message("از منوی زیر استفاده کنید")
        flood_wait = time.monotonic() - started
        assert bot.server.refused == []
        # 12 answers at 3 a second (plus a safety margin) need well over 3 seconds...
        assert flood_wait > 3.0
        # ...while the other citizen's answer is not queued behind them.
        assert calm_wait < flood_wait / 2
        assert bot.app.bot.rate_limiter.retries_seen == 0  # type: ignore[union-attr]
        await asyncio.sleep(0)
