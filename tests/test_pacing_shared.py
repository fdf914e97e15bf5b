"""Pacing shared by several processes through Redis (bot/pacing_redis.py): two limiters with
one prefix stand for two processes of one bot. Their sends together keep to one window, a
retry_after seen by one pauses the other, two bots never share, and without Redis the
process still sends, paced on its own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from redis.asyncio import Redis
from telegram.error import RetryAfter

from bot.chat_kinds import ChatKinds
from bot.pacing import SAFETY, LocalWindows, SlidingWindowRateLimiter, Slot, Window
from bot.pacing_redis import RedisWindows

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHAT = Window(4, 0.5)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1.0)
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        if os.environ.get("REQUIRE_REDIS"):
            raise
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    name = f"test:{uuid.uuid4().hex}"
    yield name
    keys = [key async for key in client.scan_iter(f"{name}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def _private_chats() -> ChatKinds:
    """The test's chats, known to be private (chats are told apart by the type the messenger
    reports, never by the id's sign)."""
    kinds = ChatKinds()
    for chat_id in (7, 8, 9):
        kinds.learn(chat_id, "private")
    return kinds


def _limiter(url: str, prefix: str) -> SlidingWindowRateLimiter:
    return SlidingWindowRateLimiter(
        overall=Window(1000, 1.0),
        private=CHAT,
        windows=RedisWindows(url, prefix),
        kinds=_private_chats(),
    )


async def _send(limiter: SlidingWindowRateLimiter, chat_id: int, times: list[float]) -> None:
    async def call(**_: Any) -> bool:
        times.append(time.monotonic())
        return True

    await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat_id}, None)


def _most_in_any_window(times: list[float], seconds: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + seconds) for i, start in enumerate(times))


async def test_two_processes_keep_one_window_together(prefix: str) -> None:
    a, b = _limiter(REDIS_URL, prefix), _limiter(REDIS_URL, prefix)
    times: list[float] = []
    try:
        started = time.monotonic()
        await asyncio.gather(*(_send(limiter, 7, times) for limiter in (a, b) for _ in range(6)))
        elapsed = time.monotonic() - started
    finally:
        await a.shutdown()
        await b.shutdown()
    assert len(times) == 12
    # Alone, each process would have sent its 6 at once (4, then 2 half a second later); shared,
    # 12 sends at 4 a window take at least two more windows and never crowd one window.
    assert _most_in_any_window(times, CHAT.seconds * SAFETY * 0.95) <= CHAT.count
    assert elapsed >= 2 * CHAT.seconds * SAFETY * 0.95


async def test_a_retry_after_in_one_process_pauses_the_other(prefix: str) -> None:
    a, b = _limiter(REDIS_URL, prefix), _limiter(REDIS_URL, prefix)
    asked, paused = asyncio.Event(), asyncio.Event()
    record_pause = a.windows.pause

    async def pause_then_say(seconds: float) -> None:
        await record_pause(seconds)
        paused.set()

    a.windows.pause = pause_then_say  # type: ignore[method-assign]

    async def told_to_wait(**_: Any) -> bool:
        if not asked.is_set():
            asked.set()
            raise RetryAfter(1)
        return True

    try:
        first = asyncio.create_task(
            a.process_request(told_to_wait, (), {}, "sendMessage", {"chat_id": 8}, None)
        )
        await paused.wait()  # process A has written the pause Telegram gave it
        times: list[float] = []
        started = time.monotonic()
        await _send(b, 9, times)  # another chat, another process: still the bot's pause
        assert await first is True
    finally:
        await a.shutdown()
        await b.shutdown()
    assert times[0] - started >= 0.9


async def test_two_bots_on_one_redis_do_not_share(prefix: str) -> None:
    one, other = _limiter(REDIS_URL, f"{prefix}:1"), _limiter(REDIS_URL, f"{prefix}:2")
    times: list[float] = []
    try:
        started = time.monotonic()
        await asyncio.gather(*(_send(x, 7, times) for x in (one, other) for _ in range(4)))
    finally:
        await one.shutdown()
        await other.shutdown()
    assert max(times) - started < CHAT.seconds  # 4 each: both fit their own first window


async def test_without_redis_the_process_still_sends_paced_on_its_own() -> None:
    limiter = _limiter("redis://127.0.0.1:1/0", "unreachable")  # nothing listens on port 1
    times: list[float] = []
    try:
        started = time.monotonic()
        for _ in range(6):
            await _send(limiter, 7, times)
    finally:
        await limiter.shutdown()
    assert len(times) == 6
    assert _most_in_any_window(times, CHAT.seconds * SAFETY * 0.95) <= CHAT.count
    assert max(times) - started >= CHAT.seconds * SAFETY * 0.95


async def test_the_setting_puts_the_bots_windows_in_redis_under_its_own_id() -> None:
    from bot.app import build_application
    from bot.config import Settings

    token = "424242:SHARED-PACING-test"
    shared = build_application(
        Settings(bot_token=token, pacing_redis_url=REDIS_URL, database_url="sqlite:///:memory:")
    )
    alone = build_application(Settings(bot_token=token, database_url="sqlite:///:memory:"))
    windows = shared.bot.rate_limiter.windows  # type: ignore[union-attr]
    assert isinstance(windows, RedisWindows) and windows.prefix == "tazirat:pacing:424242"
    assert not isinstance(alone.bot.rate_limiter.windows, RedisWindows)  # type: ignore[union-attr]
    await windows.close()


# -- Redis going away, stalling, coming back ---------------------------------------------------


class RedisProxy:
    """Redis behind a switch, on a port of its own: passes everything through; or is gone (its
    connections dropped, new ones closed at once); or stalls (takes requests, never answers).
    `connections` counts the connections clients opened to it."""

    def __init__(self, target: str) -> None:
        self.host, self.port = target.split("//", 1)[1].split("/", 1)[0].split(":")
        self.mode = "pass"
        self.connections = 0
        self._open: list[asyncio.StreamWriter] = []
        self._closed = asyncio.Event()
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/15"

    async def __aenter__(self) -> RedisProxy:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        self._closed.set()
        self.go("gone")
        assert self.server is not None
        self.server.close()

    def go(self, mode: str) -> None:
        self.mode = mode
        if mode == "gone":
            for writer in self._open:
                writer.close()
            self._open.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "gone":
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(self.host, int(self.port))
        self._open += [writer, up_writer]

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    if self.mode == "stall":  # a stalled Redis: the request goes nowhere
                        await self._closed.wait()
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))


@pytest.fixture
async def proxy(prefix: str) -> AsyncIterator[RedisProxy]:
    async with RedisProxy(REDIS_URL) as found:
        yield found


def _behind(proxy: RedisProxy, prefix: str, **options: Any) -> SlidingWindowRateLimiter:
    return SlidingWindowRateLimiter(
        overall=Window(1000, 1.0),
        private=CHAT,
        windows=RedisWindows(proxy.url, prefix, **options),
        kinds=_private_chats(),
    )


async def test_redis_gone_mid_flood_keeps_the_window_this_process_filled(
    proxy: RedisProxy, prefix: str
) -> None:
    limiter = _behind(proxy, prefix)
    times: list[float] = []
    try:
        for _ in range(CHAT.count):  # the chat's window is full, in Redis
            await _send(limiter, 7, times)
        proxy.go("gone")
        for _ in range(2):  # the process goes on alone: not with an empty window
            await _send(limiter, 7, times)
    finally:
        await limiter.shutdown()
    assert _most_in_any_window(times, CHAT.seconds * SAFETY * 0.95) <= CHAT.count


async def test_a_stalled_redis_holds_up_one_send_not_every_send(
    proxy: RedisProxy, prefix: str
) -> None:
    limiter = SlidingWindowRateLimiter(
        overall=Window(1000, 1.0),
        private=Window(1000, 1.0),
        windows=RedisWindows(proxy.url, prefix),
    )
    times: list[float] = []
    try:
        await _send(limiter, 7, times)  # connected, script loaded
        proxy.go("stall")
        started = time.monotonic()
        for _ in range(6):  # one lane's sends, one after another
            await _send(limiter, 7, times)
        elapsed = time.monotonic() - started
    finally:
        await limiter.shutdown()
    assert len(times) == 7
    # The first waits out the socket timeout (1 s); the others do not wait for Redis again.
    assert elapsed < 2.5


async def test_while_redis_is_away_it_is_tried_now_and_then_not_at_every_send(
    proxy: RedisProxy, prefix: str
) -> None:
    now = [0.0]
    windows = RedisWindows(proxy.url, prefix, retry_every=5.0, clock=lambda: now[0])
    limiter = SlidingWindowRateLimiter(
        overall=Window(1000, 1.0), private=Window(1000, 1.0), windows=windows
    )
    times: list[float] = []
    try:
        proxy.go("gone")
        await _send(limiter, 7, times)  # finds Redis away
        tried = proxy.connections
        for _ in range(5):
            await _send(limiter, 7, times)
        assert proxy.connections == tried  # not asked again so soon
        proxy.go("pass")
        now[0] = 5.0
        await _send(limiter, 7, times)  # time to try again: it answers
        await _send(limiter, 7, times)
        assert windows.local_only is False
    finally:
        await limiter.shutdown()
    assert len(times) == 8


async def test_a_pause_made_while_redis_was_away_holds_once_it_is_back(
    proxy: RedisProxy, prefix: str
) -> None:
    limiter = _behind(proxy, prefix, retry_every=0.0)
    record_pause = limiter.windows.pause

    async def pause_then_redis_is_back(seconds: float) -> None:
        await record_pause(seconds)  # Redis is away: only this process knows of the pause
        proxy.go("pass")

    limiter.windows.pause = pause_then_redis_is_back  # type: ignore[method-assign]
    calls: list[float] = []

    async def told_to_wait(**_: Any) -> bool:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RetryAfter(1)
        return True

    try:
        await _send(limiter, 8, [])  # connected
        proxy.go("gone")
        await limiter.process_request(told_to_wait, (), {}, "sendMessage", {"chat_id": 9}, None)
    finally:
        await limiter.shutdown()
    assert calls[1] - calls[0] >= 0.9


async def test_windows_recorded_ahead_of_redis_clock_do_not_stall_sending(prefix: str) -> None:
    """Redis's clock stepped back an hour: the events it recorded before are in its future.
    They must not hold the chat's window shut for that hour."""
    client = Redis.from_url(REDIS_URL)
    seconds, micros = await client.time()
    ahead = (seconds + 3600) * 1_000_000 + micros
    await client.zadd(f"{prefix}:chat:7", {f"before:{i}": ahead + i for i in range(CHAT.count)})
    await client.aclose()
    limiter = _limiter(REDIS_URL, prefix)
    times: list[float] = []
    try:
        await asyncio.wait_for(_send(limiter, 7, times), timeout=CHAT.seconds * SAFETY * 2)
    finally:
        await limiter.shutdown()
    assert len(times) == 1


# -- the process's own queues, one per chat ------------------------------------------------------


class GatedWindows(LocalWindows):
    """Local windows whose first admission for `chat:-1` waits for the gate to open."""

    def __init__(self) -> None:
        super().__init__()
        self.gate, self.inside = asyncio.Event(), asyncio.Event()

    async def admit(self, slots: Sequence[Slot]) -> float:
        if slots[0][0] == "chat:-1" and not self.gate.is_set():
            self.inside.set()
            await self.gate.wait()
        return await super().admit(slots)


async def test_a_chats_sends_keep_their_order_while_many_other_chats_come_and_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(LocalWindows, "MAX_TRACKED_CHATS", 2)
    windows = GatedWindows()
    limiter = SlidingWindowRateLimiter(
        overall=Window(1000, 1.0), group=Window(1000, 1.0), windows=windows
    )
    order: list[str] = []

    async def send(chat_id: int, name: str) -> None:
        async def call(**_: Any) -> bool:
            order.append(name)
            return True

        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat_id}, None)

    first = asyncio.create_task(send(-1, "first"))
    second = asyncio.create_task(send(-1, "second"))  # queues behind the first
    await windows.inside.wait()  # the first holds the chat's place; the second waits for it
    windows.gate.set()
    # Other chats come along as the first leaves, and the chat's third message with them.
    others = [asyncio.create_task(send(-100 - i, f"other {i}")) for i in range(3)]
    third = asyncio.create_task(send(-1, "third"))
    await asyncio.gather(first, second, third, *others)
    mine = [name for name in order if not name.startswith("other")]
    assert mine == ["first", "second", "third"]


async def test_the_queue_table_holds_only_chats_with_a_send_in_hand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(LocalWindows, "MAX_TRACKED_CHATS", 10)
    windows = GatedWindows()
    limiter = SlidingWindowRateLimiter(
        overall=Window(10_000, 1.0), group=Window(1000, 1.0), windows=windows
    )

    async def ok(**_: Any) -> bool:
        return True

    async def send(chat_id: int) -> None:
        await limiter.process_request(ok, (), {}, "sendMessage", {"chat_id": chat_id}, None)

    waiting = asyncio.create_task(send(-1))  # a group's send, waiting on its window meanwhile
    await windows.inside.wait()
    for chat_id in range(1, 200):  # two hundred other chats, one message each
        await send(chat_id)
    assert len(limiter._queues) <= 10
    windows.gate.set()
    await waiting
    assert len(limiter._queues) == 0


async def test_a_shorter_pause_never_cuts_a_longer_one_and_every_key_expires(prefix: str) -> None:
    windows = RedisWindows(REDIS_URL, prefix)
    try:
        await windows.admit([("chat:-5", Window(20, 60.0)), ("all", Window(30, 1.0))])
        await windows.pause(30.0)
        await windows.pause(1.0)  # another process's shorter retry_after
        client = windows.redis
        assert 29_000 < await client.pttl(f"{prefix}:pause") <= 30_000
        keys = [key async for key in client.scan_iter(f"{prefix}:*")]
        assert len(keys) == 3
        for key in keys:  # nothing stays behind a chat that went quiet: a group's 66 s and 1 s
            longest = 30_000 if key.endswith(b"pause") else 67_000
            assert 0 < await client.pttl(key) <= longest
    finally:
        await windows.close()
