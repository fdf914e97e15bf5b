"""The pacing windows shared by every process of the bot, kept in Redis.

Telegram's limits are per bot, not per process: with several processes each keeping its own
windows, three processes would send three times too fast. Redis (on every machine of this
deployment, 127.0.0.1:6379) keeps one sorted set of send times per window; one Lua script
trims, counts and records atomically, using Redis's own clock so that the processes' clocks
never disagree. Redis rather than the database: it is one round trip of well under a
millisecond per send (see docs/benchmarks.md), with no row churn or vacuum on PostgreSQL.

If Redis cannot be reached, or does not answer within its socket timeout, sending does not stop:
the process falls back to its own windows (logged, at most once a minute), and only one call
tries Redis again every RETRY_EVERY seconds meanwhile, so a stalled Redis holds up one send
now and then rather than every send. The process keeps its own sends in its own windows all
along, and admits nothing they refuse: going alone mid-flood, or to a Redis that lost its
windows (restarted), it does not start again from empty windows.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.pacing import SAFETY, LocalWindows, Slot

log = logging.getLogger(__name__)

T = TypeVar("T")

# KEYS[1] the bot's pause, KEYS[2..] the windows; ARGV a unique member, then count and span (µs)
# per window. Returns the µs to wait (the pause, or the window whose oldest event leaves last),
# recording nothing; or 0 after recording the member in every window. Events later than now
# were recorded before Redis's clock stepped back: they go, or they would shut the window for
# as long as the step.
_ADMIT = """
local wait = redis.call('PTTL', KEYS[1]) * 1000
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 2, #KEYS do
  local count, span = tonumber(ARGV[2 * i - 2]), tonumber(ARGV[2 * i - 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - span)
  redis.call('ZREMRANGEBYSCORE', KEYS[i], now + 1, '+inf')
  if redis.call('ZCARD', KEYS[i]) >= count then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + span - now, 1)
  end
end
if wait > 0 then return wait end
for i = 2, #KEYS do
  local span = tonumber(ARGV[2 * i - 1])
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], math.ceil(span / 1000) + 1000)
end
return 0
"""

# KEYS[1] the bot's pause, ARGV[1] its length (ms): lengthens the pause, never shortens one
# another process set; in one step, so that the pause cannot expire between a check and a set.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[1])
end
return 0
"""

FALLBACK_LOG_EVERY = 60.0
RETRY_EVERY = 5.0  # while Redis is away, how often one call tries it again


class RedisWindows:
    """Windows in Redis under `prefix` (one prefix per bot, so two bots on one Redis never
    share a budget)."""

    def __init__(
        self,
        url: str,
        prefix: str,
        *,
        retry_every: float = RETRY_EVERY,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int | None = None,
    ) -> None:
        self.redis: Redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.prefix = prefix
        self._admit = self.redis.register_script(_ADMIT)
        self._pause = self.redis.register_script(_PAUSE)
        self._members = itertools.count()
        self._me = uuid.uuid4().hex[:12]
        self.local = LocalWindows(max_tracked=max_tracked)
        self.retry_every, self.clock = retry_every, clock
        self.local_only = False  # Redis failed the last call: this process paces alone
        self._retry_at = -math.inf
        self._retrying = False  # one call is trying Redis again; the others stay local
        self._warned_at = -math.inf

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    async def _call(self, command: Callable[[], Awaitable[T]]) -> T | None:
        """The command's answer; None when Redis is away (now, or lately and not yet tried)."""
        retrying = self.local_only
        if retrying:
            if self._retrying or self.clock() < self._retry_at:
                return None
            self._retrying = True
        try:
            found = await command()
        except RedisError as exc:
            self._went_away(exc)
            return None
        finally:
            if retrying:
                self._retrying = False
        if self.local_only:
            self.local_only = False
            log.info("pacing: Redis answers again; pacing shared by every process")
        return found

    def _went_away(self, exc: RedisError) -> None:
        self.local_only = True
        self._retry_at = self.clock() + self.retry_every
        now = time.monotonic()
        if now - self._warned_at >= FALLBACK_LOG_EVERY:
            self._warned_at = now
            log.warning("pacing: Redis unreachable (%s); pacing in this process only", exc)

    async def admit(self, slots: Sequence[Slot]) -> float:
        wait = self.local.wait_for(slots)  # this process's own sends, and its own pause
        if wait > 0:
            return wait
        keys, args = [self._key("pause")], [f"{self._me}:{next(self._members)}"]
        for key, window in slots:
            keys.append(self._key(key))
            args += [str(window.count), str(round(window.seconds * SAFETY * 1_000_000))]
        waited = await self._call(lambda: self._admit(keys=keys, args=args))
        if waited is None:
            return await self.local.admit(slots)
        if not waited:
            self.local.record(slots)
        return float(waited) / 1_000_000

    async def pause(self, seconds: float) -> None:
        await self.local.pause(seconds)
        ms = max(1, math.ceil(seconds * 1000))
        await self._call(lambda: self._pause(keys=[self._key("pause")], args=[ms]))

    async def paused_for(self) -> float:
        local = await self.local.paused_for()
        ms = await self._call(lambda: self.redis.pttl(self._key("pause")))
        if ms is None:
            return local
        return max(local, ms / 1000 if ms > 0 else 0.0)

    async def close(self) -> None:
        await self.redis.aclose()
