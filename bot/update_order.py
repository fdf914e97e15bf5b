"""Updates from different people run concurrently; updates from one person run in order.

PTB either handles every update in sequence (one citizen waiting for Telegram's per-chat pace
holds up everybody) or all at once (two quick answers from one citizen could be applied out of
order). Serialising per sender gives each citizen their order and nobody else's queue; staff
pressing buttons in one group at the same moment really race, and the database decides.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.ops.logging import log_context
from bot.ops.metrics import Metrics
from bot.ops.ptb import update_kind


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Also the one place that sees a whole update: it times it for the metrics and names it
    (update id, user id) in every log line written while it is handled."""

    def __init__(self, metrics: Metrics | None = None, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self.metrics = metrics
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            await self._run(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await self._run(update, coroutine)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # forget idle chats so the table stays small
                del self._waiting[key]
                self._locks.pop(key, None)

    async def _run(self, update: object, coroutine: Awaitable[Any]) -> None:
        fields: dict[str, Any] = {}
        if isinstance(update, Update):
            user = update.effective_user
            fields = {"update_id": update.update_id, "user_id": user.id if user else None}
        started = time.perf_counter()
        try:
            with log_context(**fields):
                await coroutine
        finally:
            if self.metrics is not None:
                self.metrics.update_handled(update_kind(update), time.perf_counter() - started)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None
