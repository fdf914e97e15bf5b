"""Webhook delivery as Telegram does it: after setWebhook, pending updates are POSTed to the URL.

Telegram's Bot API server (tdlib/telegram-bot-api, `WebhookActor`) keeps one queue per chat: a
chat's next update goes out only after the previous one was answered with a 2xx, and the queues
go side by side, up to `max_connections` requests at once (default 40). Any other answer, or a
broken connection, sends the same update again after a delay that doubles. An update leaves
the server's queue only on a 2xx. The secret given to setWebhook comes in the
``X-Telegram-Bot-Api-Secret-Token`` header.

Run it beside the server::

    async with FakeTelegram() as server, WebhookDelivery(server) as hooks:
        ...  # the bot calls setWebhook; users' updates are POSTed to it
        assert hooks.delivered == [...]

``upstreams`` sends to these base addresses in turn instead of the registered URL's host (the
path is kept), as a reverse proxy in front of several bot processes does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

if TYPE_CHECKING:
    from .server import FakeTelegram

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Attempt:
    update_id: int
    target: str
    status: int | None  # None: no answer (connection refused or broken, timeout)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def queue_of(update: dict[str, Any]) -> int:
    """Telegram's queue for an update: its chat, else its sender, else its own."""
    body = next((v for k, v in update.items() if k != "update_id"), None)
    if isinstance(body, dict):
        chat = body.get("chat") or (body.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        sender = body.get("from") or body.get("user")
        if isinstance(sender, dict) and "id" in sender:
            return int(sender["id"])
    return -(10**15) - int(update["update_id"])  # a queue of its own


class WebhookDelivery:
    def __init__(
        self,
        server: FakeTelegram,
        *,
        upstreams: list[str] | None = None,
        first_retry_seconds: float = 0.05,
        max_retry_seconds: float = 2.0,
        request_timeout: float = 10.0,
    ) -> None:
        self.server = server
        self.upstreams = [u.rstrip("/") for u in upstreams or []]
        self.first_retry = first_retry_seconds
        self.max_retry = max_retry_seconds
        self.request_timeout = request_timeout
        self.attempts: list[Attempt] = []
        self.delivered: list[int] = []  # update ids answered 2xx, in the order answered
        self._turn = itertools.count()
        self._in_flight: dict[int, asyncio.Task[None]] = {}  # queue -> its request
        self._retry_at: dict[int, float] = {}  # update id -> loop time
        self._delay: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._stopping = False
        self._answers = 0  # answers seen: each may set a retry time the loop must wait for

    async def start(self) -> WebhookDelivery:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name="localapi-webhook")
        return self

    async def stop(self) -> None:
        # A flag as well as the cancel: Python 3.11's wait_for can swallow a cancellation.
        self._stopping = True
        self.server.notify()
        tasks = [t for t in (self._task, *self._in_flight.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        self._in_flight.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> WebhookDelivery:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def failed(self, update_id: int) -> list[Attempt]:
        return [a for a in self.attempts if a.update_id == update_id and not a.ok]

    # ------------------------------------------------------------------ the loop

    def _ready(self, now: float) -> list[dict[str, Any]]:
        """The head of each queue that is not in flight and not waiting for a retry."""
        hook = self.server.webhook
        if not hook or not hook.get("url"):
            return []
        room = int(hook.get("max_connections") or 40) - len(self._in_flight)
        heads: dict[int, dict[str, Any]] = {}
        for update in self.server.updates.pending:
            heads.setdefault(queue_of(update), update)
        ready = [
            u
            for q, u in heads.items()
            if q not in self._in_flight and self._retry_at.get(u["update_id"], 0.0) <= now
        ]
        return ready[: max(0, room)]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            for update in self._ready(loop.time()):
                queue = queue_of(update)
                self._in_flight[queue] = asyncio.create_task(self._send(queue, update))
            waits = [t for u, t in self._retry_at.items() if self._pending(u)]
            timeout = max(0.005, min(waits) - loop.time()) if waits else 3600.0
            await self.server.wait_for(self._something_to_do(self._answers), timeout)

    def _something_to_do(self, answers: int) -> Callable[[], bool]:
        """Stopping, an update ready to go, or a new answer (which may have set a retry time
        sooner than the one waited for)."""
        loop = asyncio.get_running_loop()
        return lambda: self._stopping or self._answers != answers or bool(self._ready(loop.time()))

    def _pending(self, update_id: int) -> bool:
        return any(u["update_id"] == update_id for u in self.server.updates.pending)

    def _target(self, url: str) -> str:
        if not self.upstreams:
            return url
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.upstreams[next(self._turn) % len(self.upstreams)] + path

    async def _send(self, queue: int, update: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        hook = self.server.webhook or {}
        target = self._target(str(hook.get("url", "")))
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers[SECRET_HEADER] = str(hook["secret_token"])
        update_id = int(update["update_id"])
        attempt = Attempt(update_id, target, None)
        try:
            assert self._session is not None
            async with self._session.post(
                target,
                data=json.dumps(update, ensure_ascii=False).encode(),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.request_timeout),
            ) as response:
                attempt.status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            attempt.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.attempts.append(attempt)
            self._answers += 1
            if self._in_flight.get(queue) is asyncio.current_task():
                del self._in_flight[queue]
        if attempt.ok:
            with contextlib.suppress(ValueError):
                self.server.updates.pending.remove(update)
            self.server.updates.confirmed = max(self.server.updates.confirmed, update_id)
            self.delivered.append(update_id)
            self._retry_at.pop(update_id, None)
            self._delay.pop(update_id, None)
        else:
            delay = self._delay.get(update_id, self.first_retry / 2) * 2
            self._delay[update_id] = min(self.max_retry, delay)
            self._retry_at[update_id] = loop.time() + self._delay[update_id]
        self.server.notify()
