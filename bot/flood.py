"""A per-user flood guard: past a burst, one user's further updates are dropped for a while.

This is protection, not state: it lives in memory on purpose. Telegram already paces what the
bot sends (`bot.pacing`), and updates from one user are handled in order, so a flooder only
delays themself; this guard also spares the database their flood. It is asked as each update
arrives, before the update waits for anything (`bot.update_order`), so what it drops costs
nothing but this check.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class FloodGuard:
    MAX_TRACKED = 10_000

    def __init__(
        self, limit: int = 20, seconds: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._seen: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: dict[int, float] = {}

    def check(self, user_id: int) -> str:
        """ "ok", "warn" (the first update over the limit: tell them once) or "drop"."""
        now = self.clock()
        times = self._seen.setdefault(user_id, deque())
        self._seen.move_to_end(user_id)
        while times and times[0] <= now - self.seconds:
            times.popleft()
        while len(self._seen) > self.MAX_TRACKED:
            old, _ = self._seen.popitem(last=False)
            self._warned.pop(old, None)
        if len(times) < self.limit:
            times.append(now)
            self._warned.pop(user_id, None)
            return "ok"
        if user_id in self._warned and now - self._warned[user_id] < self.seconds:
            return "drop"
        self._warned[user_id] = now
        return "warn"
