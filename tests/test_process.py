"""The real program, `python -m bot`, as a process: it migrates, polls, answers, and on SIGTERM
stops taking updates, flushes and exits cleanly within a bound, never printing the token."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.localapi import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "424242:PROCESS-secret-token"


async def _start_bot(
    server: FakeTelegram, db_url: str, tmp_path: Path, **extra: str
) -> asyncio.subprocess.Process:
    """`python -m bot` against the fake server, with only these settings in its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(
        BOT_TOKEN=TOKEN,
        BOT_API_URL=server.base_url,
        DATABASE_URL=db_url,
        POLLING_TIMEOUT="1",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_runs_answers_and_stops_gracefully_on_sigterm(db_url: str, tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN) as server:
        proc = await _start_bot(server, db_url, tmp_path, LOG_JSON="true")
        try:
            user = server.user(1001, first_name="فرآیند")
            await user.send_text("/start")
            await user.expect_message("سلام", timeout=60)  # includes start-up and migrations
            proc.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert proc.returncode == 0, err.decode()[-2000:]
        logs = (out + err).decode()
        assert "PROCESS-secret-token" not in logs and TOKEN not in logs
        assert '"level": "INFO"' in logs or '"level":"INFO"' in logs  # JSON lines
        server.assert_no_refusals()


async def test_a_bot_started_during_an_outage_waits_for_telegram(
    db_url: str, tmp_path: Path
) -> None:
    async with FakeTelegram(token=TOKEN) as server:
        outage = server.outage(seconds=None, mode="502")
        proc = await _start_bot(server, db_url, tmp_path)
        try:
            # It keeps trying getMe instead of exiting...
            await server.wait_until(
                lambda: sum(c.method == "getMe" for c in outage.calls) >= 2, timeout=60
            )
            assert proc.returncode is None
            outage.end()
            # ...and once Telegram is back it serves citizens.
            user = server.user(1002, first_name="پس‌ازقطعی")
            await user.send_text("/start")
            await user.expect_message("سلام", timeout=60)
            proc.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert proc.returncode == 0, err.decode()[-2000:]
        assert TOKEN not in (out + err).decode()
