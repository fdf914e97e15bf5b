"""The running bot serves /healthz and /metrics on HEALTH_PORT, counting real traffic."""

from __future__ import annotations

import asyncio
import json
import socket

from tests.harness import running_bot


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _get(port: int, path: str) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body


async def test_health_and_metrics_of_the_running_bot(db_url: str) -> None:
    port = _free_port()
    async with running_bot(db_url, health_port=port) as bot:
        u = bot.server.user(1001, first_name="سلامت")
        await u.send_text("/start")
        await u.expect_message("سلام")
        # One person's updates are handled in order: once the next one is answered, the first
        # has finished (and been counted), whatever it did after its reply.
        await u.send_text("/help")
        await u.expect_message("راهنما")
        status, body = await _get(port, "/healthz")
        health = json.loads(body)
        assert status == 200 and health["database"] is True and health["bot_api"] is True, health
        assert health["outbox_pending"] == 0 and health["inbox_oldest_age_seconds"] in (None, 0.0)
        status, metrics = await _get(port, "/metrics")
        assert status == 200
        assert 'tazirat_updates_handled_total{type="message"}' in metrics
        assert "tazirat_handler_duration_seconds_count" in metrics
