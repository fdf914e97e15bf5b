"""The lease heartbeat the inbox, outbox and job workers share.

Each worker leases rows (updates, messages, jobs) for LEASE_SECONDS so that another process
takes them over once their holder dies. While a worker lives it renews the leases of what it
holds every third of that, so a live holder keeps them even through a long update, a minute
in the pacing or a long export; a renewal that fails is tried again at the next beat, well
within the lease.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

# Extends `holder`'s leases on these ids until the given time; returns the ids it still
# holds, or None when the store does not say (the worker then learns of a loss when it marks).
Renew = Callable[[AsyncConnection, list[int], str, datetime], Awaitable[Iterable[int] | None]]


class Heartbeat:
    def __init__(
        self,
        rt: Runtime,
        what: str,
        holder: str,
        held: Callable[[], Collection[int]],
        renew: Renew,
        lost: Callable[[set[int]], None] | None = None,
    ) -> None:
        self.rt = rt
        self.what = what  # "inbox", "outbox", "job": for the task's name and the log
        self.holder = holder
        self.held = held
        self.renew = renew
        self.lost = lost  # told of the ids another process took over meanwhile
        self._task: asyncio.Task[None] | None = None

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def start(self) -> None:
        self._task = asyncio.create_task(self._beat(), name=f"{self.what}-leases")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.rt.settings.lease_seconds / 3)
            ids = sorted(self.held())
            if ids:
                await self.beat(ids)

    async def beat(self, ids: list[int]) -> None:
        """Renew these leases once (the loop's step; tests call it too)."""
        until = self.rt.now() + timedelta(seconds=self.rt.settings.lease_seconds)
        try:
            async with self.rt.engine.begin() as conn:
                kept = await self.renew(conn, ids, self.holder, until)
        except Exception:  # tried again at the next beat, well within the lease
            log.warning("could not renew %d %s leases", len(ids), self.what, exc_info=True)
            return
        if kept is not None and self.lost is not None:
            gone = set(ids) - set(kept)
            if gone:
                self.lost(gone)
