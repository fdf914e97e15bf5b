"""Pacing of outgoing Bot API calls, so the bot rarely meets a 429 at all.

Telegram's limits are sliding windows: about 30 messages a second overall, 20 a minute in a
group, and about one a second in a chat (short bursts are tolerated). python-telegram-bot's
`AIORateLimiter` uses leaky buckets, which let through up to twice the limit inside one window,
and does not pace private chats at all. This limiter keeps exact sliding windows instead, and
still obeys `retry_after` when Telegram asks everyone to wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

# Methods that post a message count against the limits; edits and answers do not.
COUNTED_PREFIXES = ("send", "copy", "forward")


@dataclass(frozen=True)
class Window:
    count: int
    seconds: float


OVERALL = Window(30, 1.0)
GROUP = Window(20, 60.0)
PRIVATE = Window(3, 1.0)


# Telegram counts when a request arrives, we count when it leaves: network jitter can bunch
# requests up on the way, so each window is kept a little longer than Telegram's.
SAFETY = 1.1


class _SlidingWindow:
    """At most `count` events in any window of `seconds` (times SAFETY)."""

    def __init__(self, window: Window) -> None:
        self.count = window.count
        self.seconds = window.seconds * SAFETY
        self.times: deque[float] = deque()
        self.lock = asyncio.Lock()

    async def acquire(self, clock: Callable[[], float]) -> None:
        async with self.lock:
            while True:
                now = clock()
                while self.times and self.times[0] <= now - self.seconds:
                    self.times.popleft()
                if len(self.times) < self.count:
                    self.times.append(now)
                    return
                await asyncio.sleep(self.times[0] + self.seconds - now + 0.001)


class SlidingWindowRateLimiter(BaseRateLimiter[int]):
    """Per-chat and overall sliding windows, plus a global pause on `retry_after`."""

    MAX_TRACKED_CHATS = 10_000

    def __init__(
        self,
        *,
        overall: Window = OVERALL,
        group: Window = GROUP,
        private: Window = PRIVATE,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.overall = _SlidingWindow(overall)
        self.group_window, self.private_window = group, private
        self.max_retries = max_retries
        self.clock = clock
        self.chats: OrderedDict[int | str, _SlidingWindow] = OrderedDict()
        self.resume = asyncio.Event()
        self.resume.set()
        self.retries_seen = 0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def _chat(self, chat_id: int | str) -> _SlidingWindow:
        limiter = self.chats.get(chat_id)
        if limiter is None:
            is_group = isinstance(chat_id, str) or chat_id < 0
            limiter = _SlidingWindow(self.group_window if is_group else self.private_window)
            self.chats[chat_id] = limiter
            while len(self.chats) > self.MAX_TRACKED_CHATS:
                self.chats.popitem(last=False)
        else:
            self.chats.move_to_end(chat_id)
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        counted = endpoint.lower().startswith(COUNTED_PREFIXES)
        chat_id: Any = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)
        for attempt in range(retries + 1):
            await self.resume.wait()
            if counted:
                if chat_id is not None:
                    await self._chat(chat_id).acquire(self.clock)
                await self.overall.acquire(self.clock)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.retries_seen += 1
                if attempt == retries:
                    raise
                delay = _seconds(exc.retry_after) + 0.1
                log.warning("Telegram asked to wait %.1fs (%s)", delay, endpoint)
                self.resume.clear()
                try:
                    await asyncio.sleep(delay)
                finally:
                    self.resume.set()
        raise AssertionError("unreachable")


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
