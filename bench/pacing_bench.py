"""What a shared limiter costs per send: the pacing step of one Bot API call with the windows in
this process (the baseline, measured in the same run) and in Redis (bot/pacing_redis.py).

Each send goes through `SlidingWindowRateLimiter.process_request` with a callback that returns
at once, so the figure is the limiter alone: one chat window and the overall window per send,
windows wide enough never to make a send wait. The sends run one after another (the cost a
single lane pays) and 16 at a time (lanes of several chats in one process).

    .venv/bin/python bench/pacing_bench.py            # Redis at 127.0.0.1:6379 (database 15)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from redis.asyncio import Redis  # noqa: E402

from bot.pacing import SlidingWindowRateLimiter, Window  # noqa: E402
from bot.pacing_redis import RedisWindows  # noqa: E402

URL = "redis://127.0.0.1:6379/15"
SENDS, ROUNDS, PARALLEL = 2000, 5, 16
WIDE = Window(10**9, 1.0)


async def _ok(**_: Any) -> bool:
    return True


async def _one_round(limiter: SlidingWindowRateLimiter, parallel: int) -> float:
    async def lane(n: int, chat: int) -> None:
        for _ in range(n):
            await limiter.process_request(_ok, (), {}, "sendMessage", {"chat_id": chat}, None)

    started = time.perf_counter()
    await asyncio.gather(*(lane(SENDS // parallel, 1000 + i) for i in range(parallel)))
    return (time.perf_counter() - started) / SENDS * 1e6  # µs per send


async def _measure(make: Any, parallel: int) -> tuple[float, float]:
    limiter = make()
    try:
        await _one_round(limiter, parallel)  # warm-up: connections, script loaded
        runs = [await _one_round(limiter, parallel) for _ in range(ROUNDS)]
    finally:
        await limiter.shutdown()
    return min(runs), statistics.median(runs)


async def main() -> None:
    prefix = f"bench:{uuid.uuid4().hex}"
    local = lambda: SlidingWindowRateLimiter(overall=WIDE, private=WIDE)  # noqa: E731
    shared = lambda: SlidingWindowRateLimiter(  # noqa: E731
        overall=WIDE, private=WIDE, windows=RedisWindows(URL, prefix)
    )
    print(f"{SENDS} sends a round, best of {ROUNDS} (median): µs per send")
    for parallel in (1, PARALLEL):
        base_best, base_median = await _measure(local, parallel)
        best, median = await _measure(shared, parallel)
        print(
            f"  {parallel:>2} at a time: in process {base_best:7.1f} ({base_median:.1f})"
            f"   Redis {best:7.1f} ({median:.1f})   ×{best / base_best:.0f}"
            f"   +{best - base_best:.0f} µs a send"
        )
    client = Redis.from_url(URL)
    keys = [key async for key in client.scan_iter(f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
