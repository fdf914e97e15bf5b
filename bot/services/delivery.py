"""The outbox worker: sends queued Bot API calls, marks them sent, retries what may succeed later.

It takes a `send(method, params)` coroutine, so it does not depend on Telegram's library; the
application passes the bot's raw API call and `classify` maps the library's errors onto
`Retry`/`Fatal`. Rows are only marked sent after Telegram accepted them: a crash in between
sends a message twice rather than never (at-least-once), which a citizen forgives and a lost
case card is not.

Delivery runs in lanes (see `bot.storage.outbox`): each chat's messages in id order, the chats
side by side. Telegram lets a bot post 20 messages a minute into a group, and the pacing holds a
group's 21st card back for up to a minute; that wait is its lane's alone, so a citizen's receipt
filed behind a wave of cards still goes out at once. Lanes to citizens (private chats) are
started first and have places of their own that group lanes cannot fill. Which chats are
private is what the messenger said (`chat_kinds`), never the sign of the id.

When new-case cards pile up in a group (a wave of complaints: 100 a minute against the group's
20 messages), they are not left to queue one by one. A card whose group's minute is used up
(the outbox posted the group's limit there in the last 60 s) is put back until a place frees,
rather than waiting inside the pacing while more cards arrive; a card that waited DIGEST_AFTER
goes out with the cards queued behind it (same chat and topic, cases still new) as one «N
پروندهٔ جدید» message, if they are more than the places left in the group's minute (else each
goes as its own card: after a short outage a few cards need no digest), with a button per case,
which posts that case's card on request
(`Show.POST`). The gathered rows are marked sent by the digest's message, in its lane, so
nothing is lost or sent twice but as any row is (at least once). (Messages the handlers post in
the group themselves are not counted: the pacing still holds the digest back when they filled
the minute.)

Every process runs a worker; a lane's head is taken under a lease (`bot.storage.outbox`), so no
row is sent by two workers while its holder lives, and a dead holder's row is taken over once
its lease has run out. (The pacing is shared by the processes with PACING_REDIS_URL.)

What records a send that Telegram accepted (the row sent, a part sent, the card's message id)
is written until it holds (`_record`), the lease kept meanwhile: a database blip after a send
must not give the row back, or another lane would send it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.chat_kinds import PRIVATE
from bot.domain.lifecycle import Status
from bot.domain.purposes import CARD_PURPOSES, Purpose
from bot.platform import Limits
from bot.services import cards
from bot.services.heartbeat import Heartbeat
from bot.services.inbox import holder_name
from bot.services.runtime import Runtime
from bot.storage import cases as case_store
from bot.storage import chats
from bot.storage import desk as desk_store
from bot.storage import outbox as outbox_store
from bot.storage.outbox import Lane
from bot.storage.rows import CardMessageRow, CaseRow, OutboxRow
from bot.text import split_message, utf16_len
from bot.views import staff_card
from bot.views.gate import delivery_failed

log = logging.getLogger(__name__)

Send = Callable[[str, dict[str, Any]], Awaitable[Any]]

MAX_ATTEMPTS = 12  # for chat moves: a chain of moves longer than this is a bug, not a move
MAX_BACKOFF = timedelta(minutes=10)
# Lanes running at once. Telegram takes about 30 messages a second from a bot, so more private
# lanes would only queue in the pacing; group lanes mostly wait there, so they have fewer places.
PRIVATE_LANES = 32
GROUP_LANES = 16
STOP_GRACE_SECONDS = 10.0
RECORD_BACKOFF_MAX = 5.0  # seconds between tries to record a send the database refused
RECORD_LOUD_EVERY = 12  # every this many tries, an error in the log, not a warning
# What a database write may meet and get past by trying again.
TRANSIENT = (OperationalError, InterfaceError, OSError, TimeoutError)
# A new-case card this old when its turn comes means the group is at its limit: the cards
# behind it go with it as one digest instead of each waiting for a place.
DIGEST_AFTER = timedelta(seconds=10)
GROUP_WINDOW = timedelta(minutes=1)  # the group limit's window
DIGESTED = frozenset({Status.NEW.value, Status.REOPENED.value})  # cases a digest lists
# Telegram's answers when a card to edit is gone (deleted in the chat) or can no longer be
# edited; PTB drops the "Bad Request: " and lower-cases the rest.
CARD_GONE = ("message to edit not found", "message can't be edited")

Call = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Retry(Exception):
    """Try again later: after `after` seconds when Telegram said so, else with backoff."""

    reason: str
    after: float | None = None


@dataclass(frozen=True)
class Moved(Exception):
    """The group became a supergroup with a new id: send there, now and from now on."""

    new_chat_id: int


@dataclass(frozen=True)
class Deferred(Exception):
    """Not tried: the row waits until `until` (a group's minute is used up)."""

    until: datetime


@dataclass(frozen=True)
class Fatal(Exception):
    """This call can never succeed (blocked, kicked, chat not found, bad request)."""

    reason: str


class OutboxWorker:
    def __init__(
        self,
        rt: Runtime,
        send: Send,
        classify: Callable[[Exception], Exception],
        on_result: Callable[[str], None] | None = None,
    ) -> None:
        self.rt = rt
        self.send = send
        self.classify = classify
        self.on_result = on_result or (lambda _result: None)
        self._task: asyncio.Task[None] | None = None  # the dispatcher
        self._lanes: dict[Lane, asyncio.Task[None]] = {}
        self._private: dict[Lane, bool] = {}  # which running lanes go to private chats
        self._resting: dict[Lane, float] = {}  # lanes that broke, until (loop time)
        self._paused_until = 0.0  # Telegram asked everyone to wait (loop time)
        self._stopping = False
        self.holder = holder_name()
        self._held: set[int] = set()  # rows this worker holds a lease on
        self._heartbeat = Heartbeat(
            rt, "outbox", self.holder, lambda: self._held, outbox_store.renew
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.rt.settings.lease_seconds)

    @property
    def running(self) -> bool:
        """Started and not stopped: something may be sending the outbox right now."""
        return self._task is not None

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-worker")
        self._heartbeat.start()

    async def stop(self, flush_seconds: float = 0.0) -> None:
        """Stop taking rows; then, for at most `flush_seconds`, send what is already due."""
        self._stopping = True
        self.rt.ring()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=STOP_GRACE_SECONDS)
            except TimeoutError:
                self._task.cancel()
            self._task = None
        if flush_seconds > 0:
            self._stopping = False
            try:
                await asyncio.wait_for(self.deliver_due(), timeout=flush_seconds)
            except TimeoutError:
                log.warning(
                    "outbox flush cut short after %.0fs; the rest goes after restart", flush_seconds
                )
            except Exception:
                log.exception("outbox flush failed; the rest goes after restart")
            finally:
                self._stopping = True
        else:
            # A lane ends after the message in hand; one waiting in the pacing is let go.
            lanes = list(self._lanes.values())
            if lanes:
                await asyncio.wait(lanes, timeout=STOP_GRACE_SECONDS)
        await self._cancel_lanes()

    async def _cancel_lanes(self) -> None:
        lanes = list(self._lanes.values())
        for task in lanes:
            task.cancel()  # its row stays pending and goes after restart
        await asyncio.gather(*lanes, return_exceptions=True)
        self._lanes.clear()
        self._private.clear()
        await self._heartbeat.stop()
        await self._release(sorted(self._held))  # another process sends them at once

    async def _release(self, row_ids: list[int]) -> None:
        self._held.difference_update(row_ids)
        if not row_ids:
            return
        try:
            async with self.rt.engine.begin() as conn:
                await outbox_store.release(conn, row_ids, self.holder)
        except Exception:  # their leases run out instead
            log.warning("could not give back %d outbox leases", len(row_ids), exc_info=True)

    async def _run(self) -> None:
        while not self._stopping:
            self.rt.outbox_bell.clear()
            try:
                pause = await self._dispatch()
            except Exception:  # the worker must outlive any one bad row or a database blip
                log.exception("outbox pass failed")
                pause = self.rt.settings.outbox_poll_seconds
            if self._stopping:
                break
            try:
                await asyncio.wait_for(self.rt.outbox_bell.wait(), timeout=pause)
            except TimeoutError:
                pass

    async def deliver_due(self) -> float:
        """Send everything due, lanes side by side, until nothing is; return how long to wait
        before looking again."""
        while True:
            pause = await self._dispatch()
            if not self._lanes:
                return pause
            await asyncio.wait(list(self._lanes.values()))

    async def _dispatch(self) -> float:
        """Start a lane for each due head whose lane is not running; return when to look again."""
        loop = asyncio.get_running_loop()
        poll = self.rt.settings.outbox_poll_seconds
        if self._stopping:
            return poll
        if self._paused_until > loop.time():
            return self._paused_until - loop.time()
        self._resting = {k: t for k, t in self._resting.items() if t > loop.time()}
        busy = set(self._lanes) | set(self._resting)
        # Citizens' lanes first; each kind has its own places, so a wave of one kind never
        # keeps the other waiting.
        for private, places in ((True, PRIVATE_LANES), (False, GROUP_LANES)):
            room = places - sum(self._private.get(lane) == private for lane in self._lanes)
            if room <= 0:
                continue  # a lane that ends rings the bell: the next one starts then
            now = self.rt.now()
            # A read first, so that an idle bot does not take SQLite's write lock each poll.
            async with self.rt.engine.connect() as conn:
                heads = await outbox_store.due_heads(
                    conn, now, private=private, limit=room + len(busy)
                )
            if not _choose(heads, busy, room):
                continue
            async with self.rt.engine.begin() as conn:
                heads = await outbox_store.due_heads(
                    conn, now, private=private, limit=room + len(busy), lock=True
                )
                chosen = _choose(heads, busy, room)
                await outbox_store.lease(
                    conn, [h["id"] for h in chosen], self.holder, now + self.lease
                )
            for head in chosen:
                lane = outbox_store.lane_of(head)
                self._private[lane] = private
                self._held.add(head["id"])
                self._lanes[lane] = asyncio.create_task(
                    self._lane(lane, head), name=f"outbox-{lane}"
                )
        return poll

    async def _lane(self, lane: Lane, head: OutboxRow) -> None:
        """Deliver a lane's rows in order until it is empty, waiting for a retry, or stopped."""
        loop = asyncio.get_running_loop()
        row: OutboxRow | None = head
        try:
            while row is not None and not self._stopping and self._paused_until <= loop.time():
                pause = await self._deliver(row)
                self._held.discard(row["id"])  # settled: sent, failed, or put back for later
                if pause:  # Telegram asked everyone to wait: every lane stops after its row
                    self._paused_until = loop.time() + pause
                    break
                row = await self._take_next(lane)
        except Exception:  # a database blip: the lane rests, the others go on
            log.exception("outbox lane %s failed", lane)
            self._resting[lane] = loop.time() + self.rt.settings.outbox_poll_seconds
            if row is not None:
                await self._release([row["id"]])
        finally:
            if self._lanes.get(lane) is asyncio.current_task():
                del self._lanes[lane]
                self._private.pop(lane, None)
            self.rt.ring()

    async def _take_next(self, lane: Lane) -> OutboxRow | None:
        """Lease the lane's next row, if it is due and nobody holds it."""
        now = self.rt.now()
        async with self.rt.engine.begin() as conn:
            row = await outbox_store.lane_head(conn, lane, now, lock=True)
            if row is not None:
                await outbox_store.lease(conn, [row["id"]], self.holder, now + self.lease)
        if row is not None:
            self._held.add(row["id"])
        return row

    async def _record(self, write: Callable[[AsyncConnection], Awaitable[None]]) -> None:
        """Write what a send accepted by Telegram changed, trying again while the database's
        failure is one that passes (`TRANSIENT`). Meanwhile the row stays ours (the heartbeat
        renews its lease): were the failure to end the lane, the row would be given back and
        sent twice. Only a stop or a crash leaves it unrecorded, and then it goes again after
        its lease, as any send cut off is."""
        pause, tries = self.rt.settings.outbox_poll_seconds, 0
        while True:
            try:
                async with self.rt.engine.begin() as conn:
                    await write(conn)
                return
            except TRANSIENT:  # a lock timeout, a dropped connection: it passes
                tries += 1
                level = logging.ERROR if tries % RECORD_LOUD_EVERY == 0 else logging.WARNING
                log.log(level, "could not record a send (%d tries); again in %.1fs", tries, pause)
            # Anything else is a bug that no retry mends: it ends the lane as before.
            await asyncio.sleep(pause)
            pause = min(pause * 2, RECORD_BACKOFF_MAX)

    async def _card(
        self, case_id: int, purpose: str, now: datetime | None = None, chat_id: int | None = None
    ) -> dict[str, Any] | None:
        async with self.rt.engine.connect() as conn:
            return await cards.render(
                conn,
                case_id,
                now=now or self.rt.now(),
                tz=self.rt.settings.tz,
                unit_chat=purpose == Purpose.UNIT_CARD,
                chat_id=chat_id,
            )

    async def _call(self, row: OutboxRow, stored: OutboxRow) -> Any:
        """Make the row's Bot API call(s); cards are drawn now, from the case as it is now.
        `row` is addressed to where the chat lives now; `stored` is the row as queued (its chat
        id names its lane, also after the chat moved)."""
        if row["purpose"] in CARD_PURPOSES and row["case_id"] is not None:
            return await self._post_card(row, row["case_id"], stored)
        if row["purpose"] == outbox_store.REFRESH and row["case_id"] is not None:
            await self._refresh_cards(row["case_id"])
            return None
        calls, primary = _parts(
            row["method"],
            {"chat_id": row["chat_id"], **row["payload"]},
            self.rt.settings.profile.limits,
        )
        result: Any = None
        for index in range(row["parts_sent"], len(calls)):
            method, params = calls[index]
            sent = await self.send(method, params)
            if index == primary:
                result = sent
            if index < len(calls) - 1:
                # A later part may fail: the retry resumes after this one, not from the start.
                part_id = _message_id(sent) if index == primary else None
                await self._record(
                    partial(
                        outbox_store.mark_part_sent,
                        row_id=row["id"],
                        parts_sent=index + 1,
                        message_id=part_id,
                    )
                )
        return result

    async def _post_card(self, row: OutboxRow, case_id: int, stored: OutboxRow) -> Any:
        purpose = row["purpose"]
        drawn_at = self.rt.now()
        if purpose == Purpose.CASE_CARD:
            # The lane's posts and the lane's rows: queued under the id the chat had then.
            places, free_at = await self._places(stored["chat_id"], drawn_at)
            if free_at is not None:
                raise Deferred(free_at)
            if drawn_at - row["created_at"] >= DIGEST_AFTER:
                listed, behind = await self._still_new(stored, case_id, drawn_at)
                if len(listed) > places:  # one card each would queue past this minute
                    return await self._post_digest(row, listed, behind, drawn_at)
        payload = await self._card(case_id, purpose, drawn_at, chat_id=row["chat_id"])
        if payload is None:
            return None
        result = await self.send(
            row["method"], {"chat_id": row["chat_id"], **row["payload"], **payload}
        )
        if isinstance(result, dict) and "message_id" in result:
            message_id, drawn = result["message_id"], cards.content_hash(payload)

            async def remember(conn: AsyncConnection) -> None:
                await case_store.remember_message(
                    conn, case_id, row["chat_id"], message_id, purpose
                )
                for target in await cards.targets(conn, case_id):
                    if target["message_id"] == message_id:
                        await desk_store.set_card_hash(conn, target["id"], drawn)

            await self._record(remember)
            # The card was drawn before it waited for its turn in the chat, and a refresh run
            # in the meantime (in its own lane) could not find it yet: catch up now. (Drawn for
            # the same moment, so that only a change of the case counts, not the age line.)
            fresh = await self._card(case_id, purpose, drawn_at, chat_id=row["chat_id"])
            if fresh is not None and cards.content_hash(fresh) != cards.content_hash(payload):
                async with self.rt.engine.begin() as conn:
                    await self._queue_refresh(conn, case_id)
                self.rt.ring()
        return result

    async def _places(self, chat_id: int, now: datetime) -> tuple[int, datetime | None]:
        """The group's places free in its minute now, and, if none, when the next frees."""
        limit = self.rt.settings.group_rate
        async with self.rt.engine.connect() as conn:
            posts = await outbox_store.recent_posts(conn, chat_id, limit, staff_card.DIGEST_MAX)
        used = [at for at in posts if at > now - GROUP_WINDOW]
        if len(used) < limit:
            return limit - len(used), None
        return 0, posts[-1] + GROUP_WINDOW

    async def _still_new(
        self, head: OutboxRow, case_id: int, now: datetime
    ) -> tuple[list[CaseRow], list[OutboxRow]]:
        """The cards behind the head whose cases are still new, and those cases with the
        head's first: what a digest lists. A case taken up (or merged) meanwhile is not new:
        its card goes out on its own, showing where it stands. None behind: no digest."""
        async with self.rt.engine.connect() as conn:
            behind = await outbox_store.cards_behind(conn, head, now, staff_card.DIGEST_MAX - 1)
            ids = [case_id, *(r["case_id"] for r in behind if r["case_id"] is not None)]
            found = {c["id"]: c for c in await case_store.by_ids(conn, ids)}
        new = {i for i, c in found.items() if c["status"] in DIGESTED}
        if case_id not in new:
            return [], []
        return [found[i] for i in ids if i in new], [r for r in behind if r["case_id"] in new]

    async def _post_digest(
        self, head: OutboxRow, listed: list[CaseRow], behind: list[OutboxRow], now: datetime
    ) -> Any:
        """One message for the head card and the cards behind it; they are settled with it."""
        payload = staff_card.digest(listed, now=now, tz=self.rt.settings.tz)
        result = await self.send(
            head["method"], {"chat_id": head["chat_id"], **head["payload"], **payload}
        )
        gathered, at, message_id = [r["id"] for r in behind], self.rt.now(), _message_id(result)

        async def settle(conn: AsyncConnection) -> None:
            await outbox_store.mark_sent_with(conn, gathered, at, message_id)

        await self._record(settle)
        log.info("%d new cases listed in one message in chat %s", len(listed), head["chat_id"])
        return result

    async def _queue_refresh(self, conn: Any, case_id: int) -> None:
        await cards.queue_refresh(
            conn, case_id, staff_chat_id=self.rt.settings.staff_chat_id, now=self.rt.now()
        )

    async def _refresh_cards(self, case_id: int) -> None:
        """Redraw every copy of the case's card; one that fails does not stop the others."""
        async with self.rt.engine.connect() as conn:
            # Refreshes queued up to now are answered by this drawing: they collapse into it.
            up_to = await outbox_store.last_refresh(conn, case_id)
            targets = await cards.targets(conn, case_id)
        failure: Exception | None = None
        for target in targets:
            try:
                await self._refresh_card(case_id, target)
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        if up_to is not None:
            async with self.rt.engine.begin() as conn:
                await outbox_store.settle_refreshes(conn, case_id, up_to, self.rt.now())

    async def _refresh_card(self, case_id: int, target: CardMessageRow) -> None:
        payload = await self._card(case_id, target["purpose"], chat_id=target["chat_id"])
        if payload is None:
            return
        async with self.rt.engine.connect() as conn:
            now_at = await chats.current_id(conn, target["chat_id"])
        if now_at != target["chat_id"]:
            # The group became a supergroup: its old messages cannot be edited, so the card is
            # posted afresh where the group lives now.
            await self._repost(target, now_at, payload)
            return
        digest = cards.content_hash(payload)
        if digest == target["content_hash"]:
            return  # nothing new to show: Telegram would say "message is not modified"
        params = {"chat_id": target["chat_id"], "message_id": target["message_id"], **payload}
        try:
            await self.send("editMessageText", params)
        except Exception as exc:
            outcome = self.classify(exc)
            if isinstance(outcome, Moved):  # this copy's chat moved (not the row's)
                async with self.rt.engine.begin() as conn:
                    await chats.record_move(
                        conn, target["chat_id"], outcome.new_chat_id, self.rt.now()
                    )
                await self._repost(target, outcome.new_chat_id, payload)
                return
            if not (isinstance(outcome, Fatal) and _card_gone(outcome.reason)):
                raise
            # Someone deleted the card: post it again, and later changes edit the new one.
            log.warning("card of case %s in chat %s is gone; posted again", case_id, now_at)
            extra: dict[str, Any] = {}
            thread = await self._topic_in(case_id, now_at)
            if thread is not None:
                extra["message_thread_id"] = thread
            await self._repost(target, now_at, {**extra, **payload})
            return
        async with self.rt.engine.begin() as conn:
            await desk_store.set_card_hash(conn, target["id"], digest)

    async def _topic_in(self, case_id: int, chat_id: int) -> int | None:
        """The topic a case's card goes to in this desk group: the case's route's, when the
        route names this group (routes may send cases to several topics of one group), else
        the first configured for the group."""
        settings = self.rt.settings
        async with self.rt.engine.connect() as conn:
            case = await case_store.by_id(conn, case_id)
            desk = cards.desk_of(settings, case) if case is not None else None
            if desk is not None and await chats.current_id(conn, desk.chat_id) == chat_id:
                return desk.thread_id
        return settings.thread_in(chat_id)

    async def _repost(self, target: CardMessageRow, chat_id: int, payload: dict[str, Any]) -> None:
        sent = await self.send("sendMessage", {"chat_id": chat_id, **payload})
        async with self.rt.engine.begin() as conn:
            await case_store.move_message(conn, target["id"], chat_id, sent["message_id"])
            await desk_store.set_card_hash(conn, target["id"], cards.content_hash(payload))

    async def _deliver(self, row: OutboxRow) -> float:
        stored = row
        async with self.rt.engine.connect() as conn:
            row = {**row, "chat_id": await chats.current_id(conn, row["chat_id"])}
        try:
            result = await self._call(row, stored)
        except Deferred as deferred:  # its lane waits; the other lanes go on
            async with self.rt.engine.begin() as conn:
                await outbox_store.defer(conn, row["id"], deferred.until, holder=self.holder)
            return 0.0
        except Exception as exc:  # mapped to Moved / Retry / Fatal below
            outcome = self.classify(exc)
            if isinstance(outcome, Moved) and row["attempts"] + 1 < MAX_ATTEMPTS:
                async with self.rt.engine.begin() as conn:
                    await chats.record_move(
                        conn, row["chat_id"], outcome.new_chat_id, self.rt.now()
                    )
                    await outbox_store.mark_retry(
                        conn,
                        row["id"],
                        f"moved to {outcome.new_chat_id}",
                        self.rt.now(),
                        holder=self.holder,
                    )
                log.warning("chat %s moved to %s", row["chat_id"], outcome.new_chat_id)
                return 0.0
            async with self.rt.engine.begin() as conn:
                # A transient failure (an outage, a reset, a 429) is retried for as long as it
                # lasts, at most every MAX_BACKOFF; only a refusal that can never pass is final.
                if isinstance(outcome, Retry):
                    wait = outcome.after if outcome.after is not None else _backoff(row["attempts"])
                    await outbox_store.mark_retry(
                        conn,
                        row["id"],
                        outcome.reason,
                        self.rt.now() + timedelta(seconds=wait),
                        holder=self.holder,
                    )
                    log.warning("outbox %s: retry in %.0fs: %s", row["id"], wait, outcome.reason)
                    self.on_result("retry")
                    return float(outcome.after or 0.0)
                reason = getattr(outcome, "reason", repr(exc))
                await outbox_store.mark_failed(conn, row["id"], reason, holder=self.holder)
                if row["purpose"] != Purpose.ADMIN_ALERT:  # never alert about the alerts themselves
                    for admin_id in self.rt.settings.admin_ids:
                        await outbox_store.enqueue(
                            conn,
                            chat_id=admin_id,
                            method="sendMessage",
                            payload=delivery_failed(row, reason),
                            purpose=Purpose.ADMIN_ALERT,
                            case_id=row["case_id"],
                            now=self.rt.now(),
                        )
                kind = await chats.kind_of(conn, row["chat_id"])
                if kind == PRIVATE and _unreachable(reason):
                    await desk_store.mark_unreachable(conn, row["chat_id"])
                    if row["case_id"] is not None:  # show it on the card
                        await cards.queue_refresh(
                            conn,
                            row["case_id"],
                            staff_chat_id=self.rt.settings.staff_chat_id,
                            now=self.rt.now(),
                        )
                log.error("outbox %s failed for good: %s", row["id"], reason)
                self.on_result("failed")
            return 0.0
        kind = _chat_kind(result)
        if kind is not None and not self.rt.chat_kinds.unsaved(row["chat_id"], kind):
            kind = None  # known and stored already
        sent_at, message_id = self.rt.now(), _message_id(result)

        async def settle(conn: AsyncConnection) -> None:
            await outbox_store.mark_sent(conn, row["id"], sent_at, message_id)
            if kind is not None:  # what the messenger said the chat is, for lanes and pacing
                await chats.record_kind(conn, row["chat_id"], kind, sent_at)

        await self._record(settle)
        if kind is not None:
            self.rt.chat_kinds.saved(row["chat_id"], kind)
        self.on_result("sent")
        return 0.0


FORGET_BATCH = 5000  # rows per transaction: the sweep never holds SQLite's write lock for long


async def forget_settled(rt: Runtime) -> int:
    """Messages sent or given up on more than OUTBOX_KEEP_DAYS ago go (by the sweep job), a
    batch per transaction so that the bot's own writes go on between them; how many went."""
    cutoff = rt.now() - timedelta(days=rt.settings.outbox_keep_days)
    gone = 0
    while True:
        async with rt.engine.begin() as conn:
            batch = await outbox_store.forget_settled_before(conn, cutoff, FORGET_BATCH)
        gone += batch
        if batch < FORGET_BATCH:  # both kinds ran short of a batch (each takes up to one)
            if gone:
                log.info("outbox: %d messages settled before %s deleted", gone, cutoff)
            return gone


def _choose(heads: list[OutboxRow], busy: set[Lane], room: int) -> list[OutboxRow]:
    """The heads of lanes not running here, at most `room` of them (one per lane)."""
    chosen: list[OutboxRow] = []
    for head in heads:
        if len(chosen) >= room:
            break
        if outbox_store.lane_of(head) not in busy:
            chosen.append(head)
    return chosen


def _parts(method: str, params: dict[str, Any], limits: Limits) -> tuple[list[Call], int]:
    """The calls that make up one queued message, and which one's result stands for it.

    Long texts go out as several messages split between lines (the buttons on the last, whose
    result stands for the message); a caption over Telegram's limit moves to follow-up messages
    after the media (whose result stands for it). Splitting is deterministic, so a retry that
    skips the parts already sent sends exactly the rest. The lengths are the platform's.
    """
    if method == "sendMessage" and utf16_len(params.get("text", "")) > limits.message_length:
        markup = params.get("reply_markup")
        base = {k: v for k, v in params.items() if k != "reply_markup"}
        texts = split_message(params["text"], limits.message_length)
        calls: list[Call] = []
        for index, part in enumerate(texts):
            last = index == len(texts) - 1
            extra = {"reply_markup": markup} if last and markup is not None else {}
            calls.append((method, {**base, "text": part, **extra}))
        return calls, len(calls) - 1
    caption = params.get("caption")
    if caption and utf16_len(caption) > limits.caption_length:
        first: Call = (method, {k: v for k, v in params.items() if k != "caption"})
        follow = {"chat_id": params["chat_id"], "text": caption, "parse_mode": "HTML"}
        for key in ("message_thread_id",):
            if key in params:
                follow[key] = params[key]
        rest, _ = _parts("sendMessage", follow, limits)
        return [first, *rest], 0
    return [(method, params)], 0


def _chat_kind(result: Any) -> str | None:
    """The kind of chat a sent message landed in, as the messenger answered."""
    chat = result.get("chat") if isinstance(result, dict) else None
    kind = chat.get("type") if isinstance(chat, dict) else None
    return kind if isinstance(kind, str) else None


def _message_id(result: Any) -> int | None:
    return result.get("message_id") if isinstance(result, dict) else None


def _card_gone(reason: str) -> bool:
    reason = reason.lower()
    return any(words in reason for words in CARD_GONE)


def _unreachable(reason: str) -> bool:
    reason = reason.lower()
    return (
        "blocked by the user" in reason
        or "can't initiate conversation" in reason
        or ("user is deactivated" in reason)
    )


def _backoff(attempts: int) -> float:
    return min(2.0 ** (attempts + 1), MAX_BACKOFF.total_seconds())
