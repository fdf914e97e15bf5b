"""Updates from different people run concurrently; updates from one person run in order.

PTB either handles every update in sequence (one citizen waiting for Telegram's per-chat pace
holds up everybody) or all at once (two quick answers from one citizen could be applied out of
order). Serialising per sender gives each citizen their order and nobody else's queue; staff
pressing buttons in one group at the same moment really race, and the database decides.

Each sender has a lane: their updates wait in it, in arrival order, holding nothing shared.
Only the update at the head of a lane takes one of the global slots (the bound on updates
being handled at once), so a sender holds one slot at most, however much they send. PTB's own
`process_update` takes the slot first and only then lets `do_process_update` wait: one user's
backlog then held every slot while waiting for its own lane, and everybody else waited behind.

The flood guard is asked as an update arrives, before it joins its lane: a flooder's surplus
is dropped at once and costs nothing more (no slot, no query, no call to Telegram). The first
update over the limit becomes the flooder's one warning, which waits in their lane like an
update, so it comes after the answers to what was let through. With the inbox
(`bot.ingress`), "arrives" is when it is received: the receiver asks `screen` before the commit,
so a dropped update is never stored, and a warning is stored as one to be handled in its turn.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.ops.logging import log_context
from bot.ops.metrics import Metrics
from bot.ops.ptb import update_kind

log = logging.getLogger(__name__)

FloodCheck = Callable[[int], str]  # FloodGuard.check: user id -> "ok", "warn" or "drop"
FloodWarning = Callable[[Update], Awaitable[None]]  # tell the sender of this update to slow down


@dataclass
class _Lane:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    updates: int = 0  # in the lane: the one being handled and those waiting behind it


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Also the one place that sees a whole update: it times it for the metrics and names it
    (update id, user id) in every log line written while it is handled."""

    def __init__(self, metrics: Metrics | None = None, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self.metrics = metrics
        self._lanes: dict[int, _Lane] = {}
        self._flood_check: FloodCheck | None = None
        self._flood_warning: FloodWarning | None = None
        self.dropped = 0  # updates the flood guard turned away at the door
        # Updates as read on arrival in this process, by id, until the inbox hands them to the
        # handlers (`bot.ingress.runner`): reading one costs as much as an SQL statement, and
        # the process that receives an update usually handles it. Bounded: one handled
        # elsewhere is never asked for here.
        self.arrived: dict[int, Update] = {}

    def guard_floods(self, check: FloodCheck, warning: FloodWarning) -> None:
        """Ask `check(user_id)` about every update from a person as it arrives: "drop" drops
        it, "warn" handles it with `warning(update)` instead of the handlers."""
        self._flood_check, self._flood_warning = check, warning

    def waiting(self, key: int) -> int:
        """Updates in this sender's lane (being handled or waiting), for tests and benchmarks."""
        lane = self._lanes.get(key)
        return lane.updates if lane else 0

    async def process_update(  # type: ignore[misc]  # final in PTB; see the module docstring
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        """Wait in the sender's lane first, then for a slot (PTB: slot first)."""
        await self.do_process_update(update, coroutine)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self.run(update, coroutine, self.screen(update))

    def screen(self, update: object) -> str:
        """The flood guard's verdict on an update as it arrives: "ok", "warn" or "drop" (the
        inbox asks as it receives, so that a flooder's surplus is never even stored)."""
        verdict = self._screen(update)
        if verdict == "drop":
            self.dropped += 1
        return verdict

    async def run(self, update: object, coroutine: Awaitable[Any], verdict: str = "ok") -> None:
        """Handle an update screened already: "drop" discards it, "warn" sends the warning in
        its place, in its lane."""
        started = False
        try:
            key = order_key(update)
            if key is None:
                async with self._semaphore:
                    started = True
                    await self._run(update, coroutine)
                return
            if verdict != "ok":
                _discard(coroutine)  # the handlers never see this update
                if verdict == "drop":
                    return
                assert self._flood_warning is not None and isinstance(update, Update)
                coroutine = self._flood_warning(update)  # "warn": the warning takes its place
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = _Lane()
            lane.updates += 1
            try:
                async with lane.lock, self._semaphore:
                    started = True
                    await self._run(update, coroutine)
            finally:
                lane.updates -= 1
                if not lane.updates:  # forget idle senders so the table stays small
                    del self._lanes[key]
        finally:
            if not started:  # dropped, or cancelled while it waited
                _discard(coroutine)

    def _screen(self, update: object) -> str:
        if self._flood_check is None or not isinstance(update, Update):
            return "ok"
        user = update.effective_user
        if user is None or user.is_bot:
            return "ok"
        verdict = self._flood_check(user.id)
        if verdict == "warn":
            log.info("user %s floods the bot: their updates are dropped for a while", user.id)
        return verdict

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


def _discard(coroutine: Awaitable[Any]) -> None:
    """Close a handler coroutine that will never run (Python warns about one never awaited)."""
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()


def order_key(update: object) -> int | None:
    """Whose order an update keeps: its sender's, else its chat's (also the inbox's lanes)."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None
