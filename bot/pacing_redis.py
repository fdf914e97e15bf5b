"""The pacing windows shared by every process of the bot, kept in Redis.

Telegram's limits are per bot, not per process: with several processes each keeping its own
windows, three processes would send three times too fast. Redis (on every machine of this
deployment, 127.0.0.1:6379) keeps one sorted set of send times per window; one Lua script
trims, counts and records atomically, using Redis's own clock so that the processes' clocks
never disagree. Redis rather than the database: it is one round trip of well under a
millisecond per send (see docs/benchmarks.md), with no row churn or vacuum on PostgreSQL.

If Redis cannot be reached, sending does not stop: the process falls back to its own windows
(logged, at most once a minute) and goes back to Redis once it answers again.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
import uuid
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.pacing import SAFETY, LocalWindows, Slot

log = logging.getLogger(__name__)

# KEYS[1] the bot's pause, KEYS[2..] the windows; ARGV a unique member, then count and span (µs)
# per window. Returns the µs to wait (the pause, or the window whose oldest event leaves last),
# recording nothing; or 0 after recording the member in every window.
_ADMIT = """
local wait = redis.call('PTTL', KEYS[1]) * 1000
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 2, #KEYS do
  local count, span = tonumber(ARGV[2 * i - 2]), tonumber(ARGV[2 * i - 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - span)
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

FALLBACK_LOG_EVERY = 60.0


class RedisWindows:
    """Windows in Redis under `prefix` (one prefix per bot, so two bots on one Redis never
    share a budget)."""

    def __init__(self, url: str, prefix: str) -> None:
        self.redis: Redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.prefix = prefix
        self._admit = self.redis.register_script(_ADMIT)
        self._members = itertools.count()
        self._me = uuid.uuid4().hex[:12]
        self.local = LocalWindows()
        self._warned_at = -math.inf

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def _fallback(self, exc: RedisError) -> None:
        now = time.monotonic()
        if now - self._warned_at >= FALLBACK_LOG_EVERY:
            self._warned_at = now
            log.warning("pacing: Redis unreachable (%s); pacing in this process only", exc)

    async def admit(self, slots: Sequence[Slot]) -> float:
        keys, args = [self._key("pause")], [f"{self._me}:{next(self._members)}"]
        for key, window in slots:
            keys.append(self._key(key))
            args += [str(window.count), str(round(window.seconds * SAFETY * 1_000_000))]
        try:
            waited = await self._admit(keys=keys, args=args)
        except RedisError as exc:
            self._fallback(exc)
            return await self.local.admit(slots)
        return float(waited) / 1_000_000

    async def pause(self, seconds: float) -> None:
        await self.local.pause(seconds)
        try:
            # Only ever lengthens a pause another process set (NX, then GT on the expiry).
            key, ms = self._key("pause"), max(1, math.ceil(seconds * 1000))
            if not await self.redis.set(key, 1, px=ms, nx=True):
                await self.redis.pexpire(key, ms, gt=True)
        except RedisError as exc:
            self._fallback(exc)

    async def paused_for(self) -> float:
        local = await self.local.paused_for()
        try:
            ms = await self.redis.pttl(self._key("pause"))
        except RedisError as exc:
            self._fallback(exc)
            return local
        return max(local, ms / 1000 if ms > 0 else 0.0)

    async def close(self) -> None:
        await self.redis.aclose()
