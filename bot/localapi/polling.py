"""The update queue behind getUpdates: long polling, offset confirmation, one poller at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from . import errors as E
from .errors import ApiError

# Telegram's default when allowed_updates is not given: everything except these.
_NOT_BY_DEFAULT = {"chat_member", "message_reaction", "message_reaction_count"}


class UpdateBox:
    """Pending updates plus the long-poll handshake.

    A second getUpdates terminates the one already waiting, which answers 409 - the same as
    Telegram, where the *older* request is the one "terminated by other getUpdates request".
    """

    def __init__(self, notify: Callable[[], None]) -> None:
        self.notify = notify
        self.pending: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []
        self.next_id = 1
        self.confirmed = 0
        self.allowed: list[str] | None = None
        self.webhook_active = False
        self.closing = False
        self._generation = 0
        self.waiting = 0  # long polls currently parked, for tests that need "bot is polling"
        self._wake = asyncio.Event()

    def _kick(self) -> None:
        self._wake.set()
        self._wake = asyncio.Event()

    def inject(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self.next_id, kind: payload}
        self.next_id += 1
        self.pending.append(update)
        self.history.append(update)
        self._kick()
        self.notify()
        return update

    @property
    def last_injected(self) -> int:
        return self.next_id - 1

    def drop_pending(self) -> None:
        """deleteWebhook(drop_pending_updates=True)."""
        if self.pending:
            self.confirmed = max(self.confirmed, self.pending[-1]["update_id"])
        self.pending.clear()
        self.notify()

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            keep = self.pending[offset:] if -offset <= len(self.pending) else self.pending
            dropped = self.pending[: len(self.pending) - len(keep)]
            if dropped:
                self.confirmed = max(self.confirmed, dropped[-1]["update_id"])
            self.pending = list(keep)
            return
        if offset > 0:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
            self.confirmed = max(self.confirmed, offset - 1)

    def _is_allowed(self, update: dict[str, Any]) -> bool:
        kind = next(k for k in update if k != "update_id")
        if self.allowed:
            return kind in self.allowed
        return kind not in _NOT_BY_DEFAULT

    def _take(self, limit: int) -> list[dict[str, Any]]:
        kept = [u for u in self.pending if self._is_allowed(u)]
        if len(kept) != len(self.pending):
            self.pending = kept  # Telegram never stores updates the bot did not ask for
        return self.pending[:limit]

    def terminate_pollers(self) -> None:
        """Used on shutdown: waiting polls return an empty list at once."""
        self.closing = True
        self._kick()

    async def get(
        self,
        offset: int | None,
        limit: int | None,
        wait_seconds: float | None,
        allowed_updates: list[str] | None,
        loop_time: Callable[[], float],
    ) -> list[dict[str, Any]]:
        if self.webhook_active:
            raise ApiError(409, E.CONFLICT_WEBHOOK)
        self._generation += 1
        generation = self._generation
        self._kick()  # a poll already waiting sees the new generation and answers 409
        if allowed_updates is not None:
            self.allowed = list(allowed_updates)
        if offset:
            self._confirm(int(offset))
            self.notify()
        limit = max(1, min(100, int(limit or 100)))
        deadline = loop_time() + max(0.0, float(wait_seconds or 0))
        while True:
            if generation != self._generation:
                raise ApiError(409, E.CONFLICT_POLL)
            batch = self._take(limit)
            remaining = deadline - loop_time()
            if batch or remaining <= 0 or self.closing:
                return batch
            wake = self._wake
            self.waiting += 1
            self.notify()
            try:
                await asyncio.wait_for(wake.wait(), remaining)
            except TimeoutError:
                pass
            finally:
                self.waiting -= 1
