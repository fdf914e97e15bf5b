"""The inbox worker: takes senders' lanes from the inbox and runs each update through `handle`.

An update reaches Telegram's "received" (the polling offset, the webhook's 200) only once
`receive` has committed it, so an update accepted is never lost. Workers in every process then
take lane heads (`bot.storage.inbox`) under a lease of LEASE_SECONDS, renewed every third of it
while the update runs; a worker that dies stops renewing, and once its lease has run out any
worker takes the update over. A worker keeps a lane while it has rows: marking one handled and
leasing the lane's next is one transaction, so a busy sender's updates do not wait for a poll.

The handlers commit their own transactions, so the handled mark cannot share theirs: an update
is handled at least once. A crash in the middle of the handlers, or between their end and the
mark, reruns them, which the services' own state checks make harmless, as they did for a
redelivery before. A worker stalled for longer than its lease (not
merely slow: it renews while the update runs) loses the update to another and its late mark is
refused, so that one update may run twice at once; this is what a lease cannot rule out.

It knows nothing of Telegram's library: `handle` gets the raw row (`bot.ingress` builds the
Update and runs the Application's handlers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services.heartbeat import Heartbeat
from bot.services.runtime import Runtime
from bot.storage import inbox as store
from bot.storage.rows import InboxRow

log = logging.getLogger(__name__)

Handle = Callable[[InboxRow], Awaitable[None]]

IDLE_POLL_SECONDS = 1.0  # how often to look for lanes left by other (or dead) processes
STOP_GRACE_SECONDS = 10.0
KEPT = timedelta(days=1)  # handled rows stay this long, so a late redelivery is recognised


class Arrival(NamedTuple):
    """An update as it came in: its id, the lane it is ordered in, its raw JSON, and whether
    the flood guard let it in as its sender's warning."""

    update_id: int
    lane_key: int
    raw: dict[str, Any]
    flood_warning: bool = False


def holder_name() -> str:
    """Unique per worker, and readable in the table: host, process id, random suffix."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(4)}"


class InboxWorker:
    def __init__(
        self,
        rt: Runtime,
        handle: Handle,
        *,
        lanes: int = 64,
        poll_seconds: float = IDLE_POLL_SECONDS,
        holder: str | None = None,
    ) -> None:
        self.rt = rt
        self.handle = handle
        self.lanes = lanes  # updates handled at once, each from a different lane
        self.poll_seconds = poll_seconds
        self.holder = holder or holder_name()
        self.handled = 0
        self.lost = 0  # updates whose lease ran out before they were marked handled
        self._bell = asyncio.Event()
        self._claim_now = False  # rows are known to wait: the next pass claims without looking
        self._wanted = False  # a pass found no room: a lane that ends must ring
        # SQLite runs write transactions one at a time, so a row committed while a lane settles
        # is seen by its settle or was committed after it (and its receiver looks then): a lane
        # that ends need not look again. PostgreSQL's may overlap (see `_lane`).
        self._look_after_lanes = rt.engine.dialect.name != "sqlite"
        self._held: set[int] = set()  # update ids this worker holds a lease on
        self._reserved = 0  # lanes claims in flight may start (receives run side by side)
        self._tasks: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._heartbeat = Heartbeat(
            rt, "inbox", self.holder, lambda: self._held, _renew_inbox_leases
        )
        self._stopping = False

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.rt.settings.lease_seconds)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._stopping

    @property
    def busy(self) -> int:
        """Lanes being handled now (for tests and the health figures)."""
        return len(self._tasks)

    def ring(self) -> None:
        """Look for work now (rows received elsewhere, leases run out) instead of at the next
        poll."""
        self._claim_now = True
        self._bell.set()

    async def receive(self, arrivals: Sequence[Arrival]) -> None:
        """Commit these updates to the inbox; raises when the commit failed (then Telegram
        must not be told they arrived). The same transaction leases the free lane heads this
        worker has room for, so that an update usually costs no separate claim: the process
        that received it starts handling it at once."""
        rows = [
            store.NewRow(
                update_id=a.update_id,
                lane_key=a.lane_key,
                payload=a.raw,
                flood_warning=a.flood_warning,
            )
            for a in arrivals
        ]
        now = self.rt.now()
        room = self._room() if self.running else 0
        self._reserved += room
        try:
            async with self.rt.engine.begin() as conn:
                await store.add(conn, rows, now)
                heads = (
                    await store.claim_heads(conn, self.holder, now, now + self.lease, room)
                    if room > 0
                    else []
                )
        finally:
            self._reserved -= room
        self._start_lanes(heads, room)
        if {a.update_id for a in arrivals} - {h["update_id"] for h in heads}:
            # Some wait behind a lane in hand, here or in another process. That lane may have
            # ended while this transaction was open: its last settle, and the look after it,
            # could not see these rows yet. A look now, after the commit, finds them then.
            self._bell.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="inbox-worker")
        self._heartbeat.start()

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Take no new rows; let the updates in hand finish (for at most `grace` seconds),
        then give back the leases of those cut short, so another worker takes them at once."""
        self._stopping = True
        self._bell.set()
        if self._task is not None:
            await self._task
            self._task = None
        tasks = list(self._tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._heartbeat.stop()
        if self._held:
            try:
                async with self.rt.engine.begin() as conn:
                    await store.release(conn, sorted(self._held), self.holder)
            except Exception:  # they are taken over once their leases run out
                log.exception("could not give back %d inbox leases", len(self._held))
            self._held.clear()

    async def _run(self) -> None:
        self._claim_now = True
        while not self._stopping:
            self._bell.clear()
            claim_now, self._claim_now = self._claim_now, False
            try:
                await self._dispatch(look_first=not claim_now)
            except Exception:  # the worker must outlive a database blip
                log.exception("inbox pass failed")
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._bell.wait(), timeout=self.poll_seconds)

    async def _dispatch(self, *, look_first: bool) -> None:
        """Lease free lane heads, one task per lane. Unless rows are known to wait (a claim
        that ran out of room, `ring`), a read looks first: an idle poll, or a lane that ended
        (its next row may have been committed by another process just after its settle), then
        takes no write lock when there is nothing to take, which is the usual case."""
        if self._room() <= 0:
            self._wanted = True
            return  # a lane that ends rings the bell
        self._wanted = False
        now = self.rt.now()
        if look_first:
            async with self.rt.engine.connect() as conn:
                if not await store.free_heads(conn, now):
                    return
        room = self._room()
        if room <= 0:
            self._wanted = True
            return
        self._reserved += room
        try:
            async with self.rt.engine.begin() as conn:
                heads = await store.claim_heads(conn, self.holder, now, now + self.lease, room)
        finally:
            self._reserved -= room
        self._start_lanes(heads, room)

    def _room(self) -> int:
        """Lanes free for a claim now: neither running nor promised to a claim in flight."""
        return self.lanes - len(self._tasks) - self._reserved

    def _start_lanes(self, heads: Sequence[InboxRow], room: int) -> None:
        """One task per leased lane head. Rows queued behind a lane in hand are taken by that
        lane as it settles, and a lane that ends rings the bell; only a full claim (there may
        be more) or no room at all (rows stored for later) needs a pass now."""
        for row in heads:
            if row["update_id"] in self._held:
                continue  # its lease was renewed late and taken again: its lane runs it
            self._held.add(row["update_id"])
            task = asyncio.create_task(self._lane(row), name=f"inbox-{row['lane_key']}")
            self._tasks.add(task)
        if room <= 0 or len(heads) == room:
            self._claim_now = True
            self._bell.set()

    async def _lane(self, head: InboxRow) -> None:
        """Handle the lane's rows in update_id order while it has any (and we are not
        stopping)."""
        row: InboxRow | None = head
        try:
            while row is not None:
                try:
                    await self.handle(row)
                except Exception:  # the handlers report their own errors; this is the glue's
                    log.exception("update %s could not be handled", row["update_id"])
                row = await self._settle(row)
        finally:
            self._tasks.discard(asyncio.current_task())
            # On PostgreSQL another process may commit the lane's next row just after this
            # lane's last settle looked, and its receiver's look may run before that settle
            # commits: the look after the lane ends finds it.
            if self._look_after_lanes or self._wanted or self._claim_now or self._stopping:
                self._bell.set()

    async def _settle(self, row: InboxRow) -> InboxRow | None:
        """Mark `row` handled and lease its lane's next row, in one transaction. (Skipping the
        look when this process had received nothing newer for the lane was tried: a second
        process on the same SQLite file may have received the next row, and nothing would
        ring for it until an idle poll.)"""
        update_id, now = row["update_id"], self.rt.now()
        after = None
        try:
            async with self.rt.engine.begin() as conn:
                marked = await store.mark_handled(conn, update_id, self.holder, now)
                if marked and not self._stopping:
                    after = await store.claim_next(
                        conn, row["lane_key"], self.holder, now, now + self.lease
                    )
        except Exception:  # its lease runs out and it is taken again (and skipped if done)
            log.exception("could not mark update %s handled", update_id)
            return None
        finally:
            self._held.discard(update_id)
        if marked:
            self.handled += 1
        else:
            self.lost += 1
            log.warning("update %s: its lease ran out and another worker took it", update_id)
        if after is not None:
            self._held.add(after["update_id"])
        return after


async def _renew_inbox_leases(
    conn: AsyncConnection, ids: list[int], holder: str, until: datetime
) -> None:
    await store.renew(conn, ids, holder, until)


async def forget_handled(rt: Runtime) -> None:
    """Drop rows handled long ago (past any redelivery)."""
    async with rt.engine.begin() as conn:
        await store.forget_handled_before(conn, rt.now() - KEPT)
