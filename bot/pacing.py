"""Pacing of outgoing Bot API calls, so the bot rarely meets a 429 at all.

Telegram's limits are sliding windows: about 30 messages a second overall, 20 a minute in a
group, and about one a second in a chat (short bursts are tolerated). python-telegram-bot's
`AIORateLimiter` uses leaky buckets, which let through up to twice the limit inside one window,
and does not pace private chats at all. This limiter keeps exact sliding windows instead, and
still obeys `retry_after` when Telegram asks everyone to wait.

A group is told from a private chat by the chat's type (`bot.chat_kinds`, learnt from updates
and from the answers to the bot's own messages), never by the sign of its id: Bale's ids have
no fixed shape. A chat not seen yet is paced as a group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.chat_kinds import ChatKinds

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


Slot = tuple[str, Window]  # a window and the key its events are kept under


class Windows(Protocol):
    """Where the windows' events are kept: in this process, or shared by every process of the
    bot (bot/pacing_redis.py). `admit` records one event in every slot and returns 0 when all
    of them have room and no pause holds; otherwise it records nothing and returns the seconds
    to wait. `pause` makes every sender wait (Telegram's retry_after)."""

    async def admit(self, slots: Sequence[Slot]) -> float: ...

    async def pause(self, seconds: float) -> None: ...

    async def paused_for(self) -> float: ...


class LocalWindows:
    """The windows of one process: exact sliding windows in memory, the oldest chats forgotten
    beyond `max_tracked` (MAX_TRACKED_CHATS unless told)."""

    MAX_TRACKED_CHATS = 10_000

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, max_tracked: int | None = None
    ) -> None:
        self.clock = clock
        self.max_tracked = max_tracked or self.MAX_TRACKED_CHATS
        self.events: OrderedDict[str, deque[float]] = OrderedDict()
        self.resume_at = 0.0

    def _times(self, key: str) -> deque[float]:
        times = self.events.get(key)
        if times is None:
            times = self.events[key] = deque()
            while len(self.events) > self.max_tracked:
                self.events.popitem(last=False)
        else:
            self.events.move_to_end(key)
        return times

    def wait_for(self, slots: Sequence[Slot]) -> float:
        """The seconds until every slot has room and no pause holds (0: now), recording nothing."""
        now = self.clock()
        wait = self.resume_at - now
        for key, window in slots:
            span, times = window.seconds * SAFETY, self._times(key)
            while times and times[0] <= now - span:
                times.popleft()
            if len(times) >= window.count:
                wait = max(wait, times[0] + span - now + 0.001)
        return max(0.0, wait)

    def record(self, slots: Sequence[Slot]) -> None:
        """One event now in every slot (also for a send another store admitted)."""
        now = self.clock()
        for key, _window in slots:
            self._times(key).append(now)

    async def admit(self, slots: Sequence[Slot]) -> float:
        wait = self.wait_for(slots)
        if wait <= 0:
            self.record(slots)
        return wait

    async def pause(self, seconds: float) -> None:
        self.resume_at = max(self.resume_at, self.clock() + seconds)

    async def paused_for(self) -> float:
        return max(0.0, self.resume_at - self.clock())


@dataclass
class _Queue:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # senders holding the lock or waiting for it


class SlidingWindowRateLimiter(BaseRateLimiter[int]):
    """Per-chat and overall sliding windows, plus a global pause on `retry_after`."""

    def __init__(
        self,
        *,
        overall: Window = OVERALL,
        group: Window = GROUP,
        private: Window = PRIVATE,
        max_retries: int = 3,
        windows: Windows | None = None,
        kinds: ChatKinds | None = None,
    ) -> None:
        self.kinds = kinds or ChatKinds()
        self.overall_window, self.group_window, self.private_window = overall, group, private
        self.max_retries = max_retries
        self.windows: Windows = windows or LocalWindows()
        # Within a process, senders waiting on one window queue in arrival order: a queue per
        # chat with a send in hand, so the table is as long as the sends in flight.
        self._queues: dict[str, _Queue] = {}
        self.retries_seen = 0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        close = getattr(self.windows, "close", None)
        if close is not None:
            await close()

    async def _acquire(self, slots: Sequence[Slot]) -> None:
        """Wait until every slot has room, then take one event in each at once (so a send
        waiting on the overall window holds no place in its chat's window meanwhile)."""
        key = slots[0][0]
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _Queue()
        queue.users += 1
        try:
            async with queue.lock:
                while True:  # a wait on time itself: nothing else could wake it earlier
                    wait = await self.windows.admit(slots)
                    if wait <= 0:
                        return
                    await asyncio.sleep(wait)
        finally:
            # Dropped with its last user, never before: a waiter keeps its place in line.
            queue.users -= 1
            if not queue.users:
                del self._queues[key]

    def chat_window(self, chat_id: int | str) -> Window:
        """A group's window, unless the chat is known to be private."""
        private = isinstance(chat_id, int) and self.kinds.is_private(chat_id)
        return self.private_window if private else self.group_window

    async def _wait_for_resume(self) -> None:
        while True:
            wait = await self.windows.paused_for()
            if wait <= 0:
                return
            await asyncio.sleep(wait)

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
        slots: list[Slot] = []
        if counted and chat_id is not None:
            slots.append((f"chat:{chat_id}", self.chat_window(chat_id)))
        if counted:
            slots.append(("all", self.overall_window))
        for attempt in range(retries + 1):
            if slots:
                await self._acquire(slots)  # the pause is checked in the same step
            else:
                await self._wait_for_resume()
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.retries_seen += 1
                if attempt == retries:
                    raise
                delay = _seconds(exc.retry_after) + 0.1
                log.warning("Telegram asked to wait %.1fs (%s)", delay, endpoint)
                await self.windows.pause(delay)
            else:
                self.kinds.learn_from_result(result)  # a sent message names its chat's type
                return result
        raise AssertionError("unreachable")


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
