"""Pacing shared by several processes through Redis (bot/pacing_redis.py): two limiters with
one prefix stand for two processes of one bot. Their sends together keep to one window, a
retry_after seen by one pauses the other, two bots never share, and without Redis the
process still sends, paced on its own."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from telegram.error import RetryAfter

from bot.pacing import SAFETY, SlidingWindowRateLimiter, Window
from bot.pacing_redis import RedisWindows

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHAT = Window(4, 0.5)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1.0)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        if os.environ.get("REQUIRE_REDIS"):
            raise
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    name = f"test:{uuid.uuid4().hex}"
    yield name
    keys = [key async for key in client.scan_iter(f"{name}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def _limiter(url: str, prefix: str) -> SlidingWindowRateLimiter:
    return SlidingWindowRateLimiter(
        overall=Window(1000, 1.0), private=CHAT, windows=RedisWindows(url, prefix)
    )


async def _send(limiter: SlidingWindowRateLimiter, chat_id: int, times: list[float]) -> None:
    async def call(**_: Any) -> bool:
        times.append(time.monotonic())
        return True

    await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat_id}, None)


def _most_in_any_window(times: list[float], seconds: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + seconds) for i, start in enumerate(times))


async def test_two_processes_keep_one_window_together(prefix: str) -> None:
    a, b = _limiter(REDIS_URL, prefix), _limiter(REDIS_URL, prefix)
    times: list[float] = []
    try:
        started = time.monotonic()
        await asyncio.gather(*(_send(limiter, 7, times) for limiter in (a, b) for _ in range(6)))
        elapsed = time.monotonic() - started
    finally:
        await a.shutdown()
        await b.shutdown()
    assert len(times) == 12
    # Alone, each process would have sent its 6 at once (4, then 2 half a second later); shared,
    # 12 sends at 4 a window take at least two more windows and never crowd one window.
    assert _most_in_any_window(times, CHAT.seconds * SAFETY * 0.95) <= CHAT.count
    assert elapsed >= 2 * CHAT.seconds * SAFETY * 0.95


async def test_a_retry_after_in_one_process_pauses_the_other(prefix: str) -> None:
    a, b = _limiter(REDIS_URL, prefix), _limiter(REDIS_URL, prefix)
    asked, paused = asyncio.Event(), asyncio.Event()
    record_pause = a.windows.pause

    async def pause_then_say(seconds: float) -> None:
        await record_pause(seconds)
        paused.set()

    a.windows.pause = pause_then_say  # type: ignore[method-assign]

    async def told_to_wait(**_: Any) -> bool:
        if not asked.is_set():
            asked.set()
            raise RetryAfter(1)
        return True

    try:
        first = asyncio.create_task(
            a.process_request(told_to_wait, (), {}, "sendMessage", {"chat_id": 8}, None)
        )
        await paused.wait()  # process A has written the pause Telegram gave it
        times: list[float] = []
        started = time.monotonic()
        await _send(b, 9, times)  # another chat, another process: still the bot's pause
        assert await first is True
    finally:
        await a.shutdown()
        await b.shutdown()
    assert times[0] - started >= 0.9


async def test_two_bots_on_one_redis_do_not_share(prefix: str) -> None:
    one, other = _limiter(REDIS_URL, f"{prefix}:1"), _limiter(REDIS_URL, f"{prefix}:2")
    times: list[float] = []
    try:
        started = time.monotonic()
        await asyncio.gather(*(_send(x, 7, times) for x in (one, other) for _ in range(4)))
    finally:
        await one.shutdown()
        await other.shutdown()
    assert max(times) - started < CHAT.seconds  # 4 each: both fit their own first window


async def test_without_redis_the_process_still_sends_paced_on_its_own() -> None:
    limiter = _limiter("redis://127.0.0.1:1/0", "unreachable")  # nothing listens on port 1
    times: list[float] = []
    try:
        started = time.monotonic()
        for _ in range(6):
            await _send(limiter, 7, times)
    finally:
        await limiter.shutdown()
    assert len(times) == 6
    assert _most_in_any_window(times, CHAT.seconds * SAFETY * 0.95) <= CHAT.count
    assert max(times) - started >= CHAT.seconds * SAFETY * 0.95


async def test_the_setting_puts_the_bots_windows_in_redis_under_its_own_id() -> None:
    from bot.app import build_application
    from bot.config import Settings

    token = "424242:SHARED-PACING-test"
    shared = build_application(
        Settings(bot_token=token, pacing_redis_url=REDIS_URL, database_url="sqlite:///:memory:")
    )
    alone = build_application(Settings(bot_token=token, database_url="sqlite:///:memory:"))
    windows = shared.bot.rate_limiter.windows  # type: ignore[union-attr]
    assert isinstance(windows, RedisWindows) and windows.prefix == "tazirat:pacing:424242"
    assert not isinstance(alone.bot.rate_limiter.windows, RedisWindows)  # type: ignore[union-attr]
    await windows.close()
