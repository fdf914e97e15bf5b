"""The real program, killed: an update Telegram was told had arrived is handled after a
restart (polling), and one posted while the process was down is sent again and handled once
(webhook). `bench/fault_injection.py` runs the same kill at many moments; this is its test."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from sqlalchemy import select

from bot.localapi import FakeTelegram
from bot.localapi.webhook import WebhookDelivery
from bot.storage.db import create_engine
from bot.storage.tables import inbox
from tests.test_update_order import HELP, WELCOME

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "424242:INBOX-KILL-secret-token"
START_TIMEOUT = 60  # seconds: a cold start migrates the database first


class Process:
    """`python -m bot` against the fake server; killed with SIGKILL, or stopped with SIGTERM."""

    def __init__(self, server: FakeTelegram, db_url: str, tmp_path: Path, **extra: str) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
        self.env.update(
            BOT_TOKEN=TOKEN,
            BOT_API_URL=server.base_url,
            DATABASE_URL=db_url,
            POLLING_TIMEOUT="1",
            LEASE_SECONDS="1",  # a dead process's updates are taken over a second later
            PYTHONPATH=str(ROOT),
            **extra,
        )
        self.cwd = tmp_path
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=self.cwd,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()

    async def stop(self) -> str:
        """SIGTERM; its log (stderr) once it exited."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = await asyncio.wait_for(self.proc.communicate(), timeout=30)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
        return err.decode(errors="replace") if err else ""


async def handled_ids(db_url: str) -> set[int]:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(inbox.c.update_id).where(inbox.c.handled_at.is_not(None))
            )
            return set(rows.scalars())
    finally:
        await engine.dispose()


async def test_an_update_confirmed_to_telegram_is_handled_after_a_kill(
    db_url: str, tmp_path: Path
) -> None:
    async with FakeTelegram(token=TOKEN) as server:
        bot = Process(server, db_url, tmp_path)
        await bot.start()
        try:
            u = server.user(1101, first_name="کشته‌نشده")
            await u.send_text("/start")
            await u.expect_message(WELCOME, timeout=START_TIMEOUT)
            hold = server.hold(
                lambda c: c.method == "sendMessage" and str(c.params.get("chat_id")) == "1101"
            )
            await u.send_text("/help")
            asked = server.updates.last_injected
            # Its answer is in flight (held), and Telegram was told the update arrived.
            await server.wait_until(lambda: hold.held == 1 and server.updates_confirmed >= asked)
            await bot.kill()  # with the update fetched, confirmed, and not handled
            hold.release()  # the parked answer's client is gone: it is never processed
            await bot.start()
            await u.expect_message(HELP, timeout=START_TIMEOUT)
        finally:
            log = await bot.stop()
        assert bot.proc is not None and bot.proc.returncode == 0, log[-2000:]
        assert sum(HELP in (m.text or "") for m in u.inbox) == 1
        assert {update["update_id"] for update in server.updates.history} <= await handled_ids(
            db_url
        )
        server.assert_no_refusals()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_update_posted_to_a_dead_process_is_sent_again_and_handled_once(
    db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    # Telegram calls a public address on 443; a reverse proxy (the fake's upstreams) passes it on.
    async with (
        FakeTelegram(token=TOKEN) as server,
        WebhookDelivery(server, upstreams=[f"http://127.0.0.1:{port}"]) as hooks,
    ):
        bot = Process(
            server,
            db_url,
            tmp_path,
            WEBHOOK_URL="https://bot.example.ir/hook",
            WEBHOOK_SECRET="kill-test-secret",
            WEBHOOK_PORT=str(port),
        )
        await bot.start()
        try:
            u = server.user(1102, first_name="وب‌هوک")
            await u.send_text("/start")
            await u.expect_message(WELCOME, timeout=START_TIMEOUT)
            await bot.kill()
            await u.send_text("/help")
            asked = server.updates.last_injected
            await server.wait_until(lambda: bool(hooks.failed(asked)))  # nobody answered
            await bot.start()
            await u.expect_message(HELP, timeout=START_TIMEOUT)
        finally:
            log = await bot.stop()
        assert bot.proc is not None and bot.proc.returncode == 0, log[-2000:]
        assert sum(HELP in (m.text or "") for m in u.inbox) == 1
        assert hooks.delivered.count(asked) == 1
        assert not [c for c in server.calls if c.method in ("deleteWebhook", "getUpdates")]
        server.assert_no_refusals()
