"""A tiny HTTP endpoint for monitoring: `GET /healthz` (JSON) and `GET /metrics` (Prometheus).

It listens on 127.0.0.1 only and speaks just enough HTTP/1.1 for probes and scrapers: one GET
per connection, headers capped in size, every wait bounded by a timeout, so a stuck client or a
slow database can never hold the bot's event loop. No web framework: nothing to configure,
nothing new to install.

`/healthz` answers 200 while the bot can do its job and 503 ("degraded") when the database
does not answer, the outbox is stuck (its oldest pending row is older than the threshold),
which is the moment citizens stop getting their notices and staff stop getting case cards, or
the inbox is (its oldest unhandled update is older than its threshold): updates are received
and committed, but no worker in any process is handling them, so citizens get no answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.ops.metrics import CONTENT_TYPE, Metrics
from bot.storage import inbox as inbox_store
from bot.storage import outbox as outbox_store

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 8192
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
CHECK_TIMEOUT = 5.0
BOT_API_CACHE_SECONDS = 30.0

BotApiCheck = Callable[[], Awaitable[bool]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


#: The figures' names in /healthz's JSON (null while the database does not answer).
FIGURE_KEYS = (
    "outbox_pending",
    "outbox_oldest_age_seconds",
    "inbox_waiting",
    "inbox_oldest_age_seconds",
)


@dataclass(frozen=True)
class Figures:
    """What the database says about the two queues."""

    outbox_pending: int
    outbox_oldest_age: float | None
    inbox_waiting: int
    inbox_oldest_age: float | None

    def as_json(self) -> dict[str, int | float | None]:
        values = (
            self.outbox_pending,
            _rounded(self.outbox_oldest_age),
            self.inbox_waiting,
            _rounded(self.inbox_oldest_age),
        )
        return dict(zip(FIGURE_KEYS, values, strict=True))


@dataclass
class Health:
    """The result of one check; `ok` decides 200 or 503. `figures` is None when the database
    did not answer."""

    bot_api: bool | None
    figures: Figures | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        found = self.figures
        figures = dict.fromkeys(FIGURE_KEYS) if found is None else found.as_json()
        return {
            "status": "ok" if self.ok else "degraded",
            "database": found is not None,
            "bot_api": self.bot_api,
            **figures,
            "problems": self.problems,
        }


class HealthServer:
    """Serves /healthz and /metrics on host:port; `port=0` picks a free port (see `.port`).

    `bot_api_check` (e.g. a `getMe` call) is optional and cached for a while, so frequent
    probes do not turn into frequent Bot API calls; a failing Bot API is reported but does not
    make the bot "degraded" (Telegram outages are not ours to fix, and the outbox age will
    show their effect). `max_outbox_age` and `max_inbox_age` in seconds; None turns that
    age check off.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        metrics: Metrics,
        *,
        port: int,
        bot_api_check: BotApiCheck | None = None,
        max_outbox_age: float | None,
        max_inbox_age: float | None = None,
        host: str = "127.0.0.1",
        check_timeout: float = CHECK_TIMEOUT,
        bot_api_cache_seconds: float = BOT_API_CACHE_SECONDS,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.engine = engine
        self.metrics = metrics
        self.host = host
        self.port = port
        self.bot_api_check = bot_api_check
        self.max_outbox_age = max_outbox_age
        self.max_inbox_age = max_inbox_age
        self.check_timeout = check_timeout
        self.bot_api_cache_seconds = bot_api_cache_seconds
        self.clock = clock
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._bot_api_lock = asyncio.Lock()
        self._bot_api_cached: tuple[float, bool] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=MAX_REQUEST_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("health endpoint on http://%s:%d/healthz", self.host, self.port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), timeout=WRITE_TIMEOUT)
        self._server = None

    # -- checks ---------------------------------------------------------------------------------

    async def figures(self) -> Figures:
        """Pending outbox rows, unhandled inbox rows, and the age in seconds of the oldest of
        each (None when there is none), read in one connection."""
        async with self.engine.connect() as conn:
            pending, queued = await outbox_store.backlog(conn)
            waiting, arrived = await inbox_store.backlog(conn)
        return Figures(pending, self._age(queued), waiting, self._age(arrived))

    def _age(self, moment: datetime | None) -> float | None:
        if moment is None:
            return None
        if moment.tzinfo is None:  # UTCDateTime returns aware values; be safe with raw ones
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, (self.clock() - moment).total_seconds())

    async def _database(self, problems: list[str]) -> Figures | None:
        try:
            async with asyncio.timeout(self.check_timeout):
                found = await self.figures()
        except TimeoutError:
            problems.append("database did not answer in time")
        except Exception as exc:  # any driver error means the same thing here
            log.warning("health check: database failed: %s: %s", type(exc).__name__, exc)
            problems.append("database check failed")
        else:
            self.metrics.database_up = True
            self.metrics.set_outbox(found.outbox_pending, found.outbox_oldest_age)
            self.metrics.set_inbox(found.inbox_waiting, found.inbox_oldest_age)
            return found
        self.metrics.database_up = False
        self.metrics.set_outbox(None, None)
        self.metrics.set_inbox(None, None)
        return None

    async def _bot_api(self) -> bool | None:
        if self.bot_api_check is None:
            return None
        async with self._bot_api_lock:
            now = time.monotonic()
            cached = self._bot_api_cached
            if cached is not None and now - cached[0] < self.bot_api_cache_seconds:
                return cached[1]
            try:
                async with asyncio.timeout(self.check_timeout):
                    ok = bool(await self.bot_api_check())
            except Exception as exc:  # a failed check is an answer, not an error
                log.warning("health check: Bot API failed: %s", type(exc).__name__)
                ok = False
            self._bot_api_cached = (time.monotonic(), ok)
            return ok

    async def check(self) -> Health:
        problems: list[str] = []
        found, bot_api = await asyncio.gather(self._database(problems), self._bot_api())
        if found is not None:
            age, arrived = found.outbox_oldest_age, found.inbox_oldest_age
            if _over(age, self.max_outbox_age):
                problems.append(f"oldest pending outbox row is {age:.0f}s old")
            if _over(arrived, self.max_inbox_age):
                problems.append(f"oldest unhandled update arrived {arrived:.0f}s ago")
        return Health(bot_api, found, problems)

    # -- HTTP -----------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            status, content_type, body, extra = await self._respond(reader)
            head = [
                f"HTTP/1.1 {status.value} {status.phrase}",
                f"Content-Type: {content_type}",
                f"Content-Length: {len(body)}",
                "Cache-Control: no-store",
                "Connection: close",
                *extra,
            ]
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT)
        except (ConnectionError, TimeoutError):
            pass  # the client went away or stalled: nothing to tell it
        except asyncio.CancelledError:
            # Only `stop()` cancels these tasks. Ending normally keeps asyncio (3.11) from
            # logging the cancellation as an "unhandled exception in client_connected_cb".
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), WRITE_TIMEOUT)
            if task is not None:
                self._connections.discard(task)

    async def _respond(
        self, reader: asyncio.StreamReader
    ) -> tuple[HTTPStatus, str, bytes, list[str]]:
        try:
            raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
        except asyncio.LimitOverrunError:
            return _text(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        except asyncio.IncompleteReadError:
            return _text(HTTPStatus.BAD_REQUEST)
        except TimeoutError:
            return _text(HTTPStatus.REQUEST_TIMEOUT)
        parts = raw.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return _text(HTTPStatus.BAD_REQUEST)
        method, target = parts[0], parts[1].split("?", 1)[0]
        if target not in ("/healthz", "/metrics"):
            return _text(HTTPStatus.NOT_FOUND)
        if method != "GET":
            status, ctype, body, _ = _text(HTTPStatus.METHOD_NOT_ALLOWED)
            return status, ctype, body, ["Allow: GET"]
        if target == "/metrics":
            await self._database([])  # refresh the outbox gauges
            return HTTPStatus.OK, CONTENT_TYPE, self.metrics.render().encode(), []
        health = await self.check()
        body = json.dumps(health.as_json()).encode()
        status = HTTPStatus.OK if health.ok else HTTPStatus.SERVICE_UNAVAILABLE
        return status, "application/json", body, []


def _over(age: float | None, limit: float | None) -> bool:
    """A queue's oldest row is older than its limit (False with no row or no limit)."""
    return age is not None and limit is not None and age > limit


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def _text(status: HTTPStatus) -> tuple[HTTPStatus, str, bytes, list[str]]:
    return status, "text/plain; charset=utf-8", f"{status.phrase}\n".encode(), []
