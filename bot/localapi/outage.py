"""Outages and held calls: the fake's failure modes beyond single refusals.

An :class:`Outage` makes the whole Bot API unreachable for a while, the way Telegram's front
ends fail: every call (and every file download) is answered ``502 Bad Gateway`` or its
connection is reset, including calls already in flight when it begins (a parked long poll, a
held call). A :class:`Hold` parks matching calls after the server has read them, until the test
releases them or an outage begins, so a test can decide what happens first.

Both are created through ``FakeTelegram.outage()`` and ``FakeTelegram.hold()``.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .models import Call
    from .server import FakeTelegram

OUTAGE_MODES = ("502", "502-html", "drop")

# What api.telegram.org answers while its backend is down: the JSON form ...
BAD_GATEWAY = "Bad Gateway"
BAD_GATEWAY_JSON = {"ok": False, "error_code": 502, "description": BAD_GATEWAY}
# ... and, from the nginx front end itself, this page.
BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
CONNECTION_RESET = "connection reset by the fake server (outage)"


class OutageInterrupt(Exception):
    """Raised inside request handling when an outage begins while the call is in flight."""


@dataclass(eq=False)
class Outage:
    """One outage. ``seconds=None`` lasts until :meth:`end`. Times are the event loop's."""

    mode: str
    seconds: float | None
    started: float
    server: FakeTelegram = field(repr=False)
    ended: float | None = None
    calls: list[Call] = field(default_factory=list, repr=False)
    _over: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _timer: asyncio.TimerHandle | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.ended is None

    @property
    def refused(self) -> int:
        """Calls answered with the outage (502 or reset)."""
        return len(self.calls)

    def end(self) -> None:
        """End it now (also called by the timer); a second call does nothing."""
        self.server._end_outage(self)

    async def wait_over(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until the outage has ended (its duration is what is being tested)."""
        await asyncio.wait_for(self._over.wait(), timeout)


@dataclass(eq=False)
class Hold:
    """Calls matching ``predicate`` wait here, already read by the server, until released.

    ``parked`` lists the calls waiting now, ``held`` counts every call that was parked.
    A parked call whose client goes away is recorded as "client disconnected" and never
    processed; one released during an outage gets the outage's answer.
    """

    predicate: Callable[[Call], bool]
    server: FakeTelegram = field(repr=False)
    parked: list[Call] = field(default_factory=list)
    held: int = 0
    released: bool = False
    _release: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def release(self) -> None:
        """Let the parked calls (and every later one) through."""
        if self.released:
            return
        self.released = True
        with suppress(ValueError):
            self.server._holds.remove(self)
        self._release.set()
        self.server.notify()

    async def park(self, call: Call, outage_begun: asyncio.Event) -> None:
        self.parked.append(call)
        self.held += 1
        self.server.notify()
        release = asyncio.ensure_future(self._release.wait())
        outage = asyncio.ensure_future(outage_begun.wait())
        try:
            await asyncio.wait({release, outage}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            release.cancel()
            outage.cancel()
            self.parked.remove(call)
            self.server.notify()


async def interruptible(coro: Awaitable[object], outage_begun: asyncio.Event) -> object:
    """Await ``coro`` (a long poll), or raise OutageInterrupt when an outage begins first."""
    task = asyncio.ensure_future(coro)
    waiter = asyncio.ensure_future(outage_begun.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        waiter.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    raise OutageInterrupt


def outage_response(mode: str, request: web.Request) -> web.StreamResponse:
    """The answer during an outage; for "drop" the connection is reset (RST) instead."""
    if mode == "502":
        return web.json_response(BAD_GATEWAY_JSON, status=502)
    if mode == "502-html":
        return web.Response(text=BAD_GATEWAY_HTML, status=502, content_type="text/html")
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with suppress(OSError):  # linger 0: close() sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    # Nothing reaches the client any more; aiohttp drops this quietly.
    return web.Response(status=502)
