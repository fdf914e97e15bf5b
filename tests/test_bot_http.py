"""The bot's aiohttp transport (bot/bot_http.py) does what PTB's httpx request did.

Against the local Bot API server: form-encoded calls, multipart uploads with a Persian file name,
downloads, long polls longer than the read timeout, a held call ending as TimedOut, an outage as
NetworkError, proxies from the environment (and NO_PROXY), and a session that opens again after
a shutdown. The whole suite's bot runs on it too (`make_bot`).
"""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.bot_http import AiohttpRequest
from bot.config import ConfigError, Settings
from bot.localapi import FakeTelegram
from bot.outgoing import make_bot

CITIZEN = 1001


def bot_on(server: FakeTelegram, **timeouts: float) -> Bot:
    return Bot(
        server.token,
        base_url=f"{server.base_url}/bot",
        base_file_url=f"{server.base_url}/file/bot",
        request=AiohttpRequest(**timeouts),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )


async def test_calls_uploads_downloads_and_a_long_poll() -> None:
    async with FakeTelegram() as server:
        citizen = server.user(CITIZEN)
        async with bot_on(server, read_timeout=0.5) as bot:
            sent = await bot.send_message(
                CITIZEN, "سلام، شکایت «۱۲۳» ثبت شد & پیگیری", parse_mode=None
            )
            assert sent.text == "سلام، شکایت «۱۲۳» ثبت شد & پیگیری"
            document = await bot.send_document(
                CITIZEN, io.BytesIO("ردیف,مبلغ\n۱,۲۰۰\n".encode()), filename="گزارش آذر ۱۴۰۵.csv"
            )
            assert document.document is not None
            assert document.document.file_name == "گزارش آذر ۱۴۰۵.csv"
            file = await bot.get_file(document.document.file_id)
            assert bytes(await file.download_as_bytearray()) == "ردیف,مبلغ\n۱,۲۰۰\n".encode()
            # A long poll of 1 s outlives the 0.5 s read timeout: PTB adds the poll's own.
            poll = asyncio.create_task(bot.get_updates(timeout=1))
            await server.wait_until(lambda: server.updates.waiting == 1)
            await citizen.send_text("یک پیام")
            [update] = await poll
            assert update.message is not None and update.message.text == "یک پیام"
        server.assert_no_refusals()


async def test_a_call_with_no_answer_times_out_and_an_outage_is_a_network_error() -> None:
    async with FakeTelegram() as server:
        server.user(CITIZEN)
        async with bot_on(server, read_timeout=0.2) as bot:
            hold = server.hold("sendMessage")
            with pytest.raises(TimedOut):
                await bot.send_message(CITIZEN, "بی‌پاسخ")
            hold.release()
            server.outage(seconds=None, mode="drop")
            with pytest.raises(NetworkError, match="aiohttp"):
                await bot.send_message(CITIZEN, "قطع")
            server.end_outage()
            assert (await bot.send_message(CITIZEN, "دوباره")).text == "دوباره"


async def test_a_session_opens_again_after_shutdown_and_not_before_initialize() -> None:
    async with FakeTelegram() as server:
        request = AiohttpRequest()
        with pytest.raises(NetworkError, match="not initialized"):  # PTB wraps it
            await request.post(f"{server.base_url}/bot{server.token}/getMe")
        for _ in range(2):
            await request.initialize()
            me = await request.post(f"{server.base_url}/bot{server.token}/getMe")
            assert isinstance(me, dict) and me["username"] == server.bot_username
            await request.shutdown()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    """One HTTP request off the stream, its body read and dropped; its head."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    await reader.readexactly(length)
    return head


class _Proxy:
    """A forward proxy that answers every request itself and keeps the request heads."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.port = 0

    @property
    def lines(self) -> list[str]:
        return [head.split(b"\r\n", 1)[0].decode() for head in self.heads]

    async def start(self) -> asyncio.Server:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.heads.append(await _read_request(reader))
        body = json.dumps({"ok": True, "result": True}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "ALL_PROXY", "HTTP_PROXY host:port"])
async def test_proxies_come_from_the_environment_and_no_proxy_is_honoured(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    proxy = _Proxy()
    listening = await proxy.start()
    async with listening, FakeTelegram() as server:
        url = f"{server.base_url}/bot{server.token}/deleteMyCommands"
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
            monkeypatch.delenv(name.lower(), raising=False)
        name, _, bare = variable.partition(" ")  # a bare "host:port" means http://, as in httpx
        monkeypatch.setenv(name, f"{'' if bare else 'http://'}127.0.0.1:{proxy.port}")
        async with AiohttpRequest() as through_proxy:
            assert await through_proxy.post(url) is True
        assert proxy.lines == [f"POST {url} HTTP/1.1"]  # absolute form: asked of the proxy
        assert b"User-Agent: python-telegram-bot" in proxy.heads[0]  # PTB's, as httpx sent
        assert not [c for c in server.calls if c.method == "deleteMyCommands"]

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with AiohttpRequest() as direct:
            assert await direct.post(url) is True
        assert len(proxy.lines) == 1
        assert [c.method for c in server.calls] == ["deleteMyCommands"]


def test_the_bot_of_the_process_sends_through_aiohttp() -> None:
    bot = make_bot(Settings(_env_file=None, bot_token="123456:ABC-DEF"), rate_limiter=None)  # type: ignore[call-arg]
    assert isinstance(bot.request, AiohttpRequest)
    assert isinstance(bot._request[0], AiohttpRequest)  # getUpdates' own pool


def test_a_proxy_that_is_not_http_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiohttp speaks only HTTP to a proxy: a SOCKS one would fail every call, for ever."""
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    settings = Settings(_env_file=None, bot_token="123456:ABC-DEF")  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="socks5"):
        make_bot(settings, rate_limiter=None)


async def test_a_redirect_is_an_answer_not_followed() -> None:
    """A front that redirects (http -> https, a moved server): followed, the POST would come
    back as a GET without its parameters and be refused for good; it is a NetworkError, which
    the outbox retries, and nothing reaches the server it points to."""
    async with FakeTelegram() as server:
        server.user(CITIZEN)

        async def moved(request: web.Request) -> web.Response:
            raise web.HTTPMovedPermanently(f"{server.base_url}{request.path_qs}")

        front = web.Application()
        front.router.add_route("*", "/{tail:.*}", moved)
        runner = web.AppRunner(front)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            request = AiohttpRequest()
            async with request:
                bot = Bot(server.token, base_url=f"http://127.0.0.1:{port}/bot", request=request)
                with pytest.raises(NetworkError, match="301"):
                    await bot.send_message(CITIZEN, "سلام")
        finally:
            await runner.cleanup()
        assert not server.calls


async def test_an_answer_that_keeps_coming_is_read_past_the_sum_of_the_timeouts() -> None:
    """Each part of the body within the read timeout, the whole longer than all the timeouts
    together: read, as httpx reads it (only an upload is bounded as a whole)."""
    body = json.dumps({"ok": True, "result": "ب" * 600}).encode()

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        for start in range(0, len(body), len(body) // 6 + 1):
            writer.write(body[start : start + len(body) // 6 + 1])
            await writer.drain()
            await asyncio.sleep(0.25)
        writer.close()

    listening = await asyncio.start_server(trickle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with listening:
        timeouts = {"read_timeout": 0.5, "write_timeout": 0.1, "connect_timeout": 0.1}
        async with AiohttpRequest(pool_timeout=0.1, **timeouts) as request:
            started = asyncio.get_running_loop().time()
            answer = await request.post(f"http://127.0.0.1:{port}/botT/getMe")
            took = asyncio.get_running_loop().time() - started
    assert answer == "ب" * 600
    assert took > 0.8  # longer than the four timeouts together
