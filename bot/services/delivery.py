"""The outbox worker: sends queued Bot API calls, marks them sent, retries what may succeed later.

It takes a `send(method, params)` coroutine, so it does not depend on Telegram's library; the
application passes the bot's raw API call and `classify` maps the library's errors onto
`Retry`/`Fatal`. Rows are only marked sent after Telegram accepted them: a crash in between
sends a message twice rather than never (at-least-once), which a citizen forgives and a lost
case card is not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.services import cards
from bot.services.runtime import Runtime
from bot.storage import cases as case_store
from bot.storage import chats
from bot.storage import desk as desk_store
from bot.storage import outbox as outbox_store
from bot.text import MESSAGE_LIMIT, split_message, utf16_len
from bot.views.gate import delivery_failed

log = logging.getLogger(__name__)

Send = Callable[[str, dict[str, Any]], Awaitable[Any]]

MAX_ATTEMPTS = 12  # for chat moves: a chain of moves longer than this is a bug, not a move
CAPTION_LIMIT = 1024
MAX_BACKOFF = timedelta(minutes=10)


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
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self, flush_seconds: float = 0.0) -> None:
        """Stop the loop; then, for at most `flush_seconds`, send what is already due."""
        self._stopping = True
        self.rt.ring()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=10)
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

    async def _run(self) -> None:
        while not self._stopping:
            self.rt.outbox_bell.clear()
            try:
                pause = await self.deliver_due()
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
        """Send every due row once; return how long to wait before the next pass."""
        async with self.rt.engine.connect() as conn:
            rows = await outbox_store.due(conn, self.rt.now())
        refreshed: set[int] = set()
        for row in rows:
            if self._stopping:
                break
            if row["purpose"] == "card_refresh" and row["case_id"] in refreshed:
                # Coalesced: this pass already drew the case's newest state.
                async with self.rt.engine.begin() as conn:
                    await outbox_store.mark_sent(conn, row["id"], self.rt.now(), None)
                continue
            pause = await self._deliver(row)
            if row["purpose"] == "card_refresh":
                refreshed.add(row["case_id"])
            if pause:  # Telegram asked everyone to wait: stop this pass
                return pause
        return 0.0 if len(rows) >= 50 else self.rt.settings.outbox_poll_seconds

    async def _card(self, case_id: int, purpose: str) -> dict[str, Any] | None:
        async with self.rt.engine.connect() as conn:
            return await cards.render(
                conn,
                case_id,
                now=self.rt.now(),
                tz=self.rt.settings.tz,
                unit_chat=purpose == "unit_card",
            )

    async def _call(self, row: dict[str, Any]) -> Any:
        """Make the row's Bot API call(s); cards are drawn now, from the case as it is now."""
        if row["purpose"] in cards.CARD_PURPOSES and row["case_id"] is not None:
            payload = await self._card(row["case_id"], row["purpose"])
            if payload is None:
                return None
            result = await self.send(
                row["method"], {"chat_id": row["chat_id"], **row["payload"], **payload}
            )
            if isinstance(result, dict) and "message_id" in result:
                async with self.rt.engine.begin() as conn:
                    await case_store.remember_message(
                        conn, row["case_id"], row["chat_id"], result["message_id"], row["purpose"]
                    )
                    for target in await cards.targets(conn, row["case_id"]):
                        if target["message_id"] == result["message_id"]:
                            await desk_store.set_card_hash(
                                conn, target["id"], cards.content_hash(payload)
                            )
            return result
        if row["purpose"] == "card_refresh" and row["case_id"] is not None:
            async with self.rt.engine.connect() as conn:
                targets = await cards.targets(conn, row["case_id"])
            for target in targets:
                payload = await self._card(row["case_id"], target["purpose"])
                if payload is None:
                    continue
                async with self.rt.engine.connect() as conn:
                    now_at = await chats.current_id(conn, target["chat_id"])
                if now_at != target["chat_id"]:
                    # The group became a supergroup: its old messages cannot be edited, so
                    # the card is posted afresh where the group lives now.
                    sent = await self.send("sendMessage", {"chat_id": now_at, **payload})
                    async with self.rt.engine.begin() as conn:
                        await case_store.move_message(
                            conn, target["id"], now_at, sent["message_id"]
                        )
                        await desk_store.set_card_hash(
                            conn, target["id"], cards.content_hash(payload)
                        )
                    continue
                digest = cards.content_hash(payload)
                if digest == target["content_hash"]:
                    continue  # nothing new to show: Telegram would say "message is not modified"
                params = {
                    "chat_id": target["chat_id"],
                    "message_id": target["message_id"],
                    **payload,
                }
                await self.send("editMessageText", params)
                async with self.rt.engine.begin() as conn:
                    await desk_store.set_card_hash(conn, target["id"], digest)
            return None
        return await self._send_within_limits(
            row["method"], {"chat_id": row["chat_id"], **row["payload"]}
        )

    async def _send_within_limits(self, method: str, params: dict[str, Any]) -> Any:
        """Long texts go out as several messages split between lines (the buttons on the last);
        a caption over Telegram's limit moves to a follow-up message."""
        if method == "sendMessage" and utf16_len(params.get("text", "")) > MESSAGE_LIMIT:
            parts = split_message(params["text"], MESSAGE_LIMIT)
            markup = params.pop("reply_markup", None)
            result: Any = None
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                extra = {"reply_markup": markup} if last and markup is not None else {}
                result = await self.send(method, {**params, "text": part, **extra})
            return result
        caption = params.get("caption")
        if caption and utf16_len(caption) > CAPTION_LIMIT:
            first = await self.send(method, {k: v for k, v in params.items() if k != "caption"})
            follow = {"chat_id": params["chat_id"], "text": caption, "parse_mode": "HTML"}
            for key in ("message_thread_id",):
                if key in params:
                    follow[key] = params[key]
            await self._send_within_limits("sendMessage", follow)
            return first
        return await self.send(method, params)

    async def _deliver(self, row: dict[str, Any]) -> float:
        async with self.rt.engine.connect() as conn:
            row = {**row, "chat_id": await chats.current_id(conn, row["chat_id"])}
        try:
            result = await self._call(row)
        except Exception as exc:  # mapped to Moved / Retry / Fatal below
            outcome = self.classify(exc)
            if isinstance(outcome, Moved) and row["attempts"] + 1 < MAX_ATTEMPTS:
                async with self.rt.engine.begin() as conn:
                    await chats.record_move(
                        conn, row["chat_id"], outcome.new_chat_id, self.rt.now()
                    )
                    await outbox_store.mark_retry(
                        conn, row["id"], f"moved to {outcome.new_chat_id}", self.rt.now()
                    )
                log.warning("chat %s moved to %s", row["chat_id"], outcome.new_chat_id)
                return 0.0
            async with self.rt.engine.begin() as conn:
                # A transient failure (an outage, a reset, a 429) is retried for as long as it
                # lasts, at most every MAX_BACKOFF; only a refusal that can never pass is final.
                if isinstance(outcome, Retry):
                    wait = outcome.after if outcome.after is not None else _backoff(row["attempts"])
                    await outbox_store.mark_retry(
                        conn, row["id"], outcome.reason, self.rt.now() + timedelta(seconds=wait)
                    )
                    log.warning("outbox %s: retry in %.0fs: %s", row["id"], wait, outcome.reason)
                    self.on_result("retry")
                    return float(outcome.after or 0.0)
                reason = getattr(outcome, "reason", repr(exc))
                await outbox_store.mark_failed(conn, row["id"], reason)
                if row["purpose"] != "admin_alert":  # never alert about the alerts themselves
                    for admin_id in self.rt.settings.admin_ids:
                        await outbox_store.enqueue(
                            conn,
                            chat_id=admin_id,
                            method="sendMessage",
                            payload=delivery_failed(row, reason),
                            purpose="admin_alert",
                            case_id=row["case_id"],
                            now=self.rt.now(),
                        )
                if row["chat_id"] > 0 and _unreachable(reason):
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
        message_id = result.get("message_id") if isinstance(result, dict) else None
        async with self.rt.engine.begin() as conn:
            await outbox_store.mark_sent(conn, row["id"], self.rt.now(), message_id)
        self.on_result("sent")
        return 0.0


def _unreachable(reason: str) -> bool:
    reason = reason.lower()
    return (
        "blocked by the user" in reason
        or "can't initiate conversation" in reason
        or ("user is deactivated" in reason)
    )


def _backoff(attempts: int) -> float:
    return min(2.0 ** (attempts + 1), MAX_BACKOFF.total_seconds())
