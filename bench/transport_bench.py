"""What one Bot API call costs the bot's process: PTB's own httpx request (the baseline, measured
in the same run) against the bot's aiohttp request (bot/bot_http.py).

The local Bot API server runs in a process of its own (its rate limits off), so the CPU counted
is the caller's alone: PTB building the call, the HTTP client, and PTB reading the answer. Each
transport makes the same calls, in rounds that alternate between them so that a machine whose
speed drifts during the run weighs on both: sendMessage one after another, and 16 at a time
(lanes of several chats), then a 2 kB document upload.

    .venv/bin/python bench/transport_bench.py
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import Bot  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

from bot.bot_http import AiohttpRequest  # noqa: E402

TOKEN = "123456:TRANSPORT-bench"
CHAT = 1001
SERVER = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from bot.localapi import FakeTelegram, Limits
async def main():
    server = FakeTelegram(token=sys.argv[2], limits=Limits(enabled=False))
    await server.start()
    server.user(int(sys.argv[3]))
    print(server.base_url, flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""
TRANSPORTS: dict[str, Callable[[], BaseRequest]] = {
    "httpx (PTB's)": lambda: HTTPXRequest(connection_pool_size=256),
    "aiohttp (ours)": lambda: AiohttpRequest(connection_pool_size=256),
}


async def _cpu_per_call(bot: Bot, calls: int, parallel: int, upload: bool) -> float:
    async def one(n: int) -> None:
        if upload:
            await bot.send_document(CHAT, io.BytesIO(b"x" * 2048), filename=f"گزارش {n}.csv")
        else:
            await bot.send_message(CHAT, f"پیام {n}: شکایت شما ثبت شد")

    started = time.process_time()
    for first in range(0, calls, parallel):
        await asyncio.gather(*(one(n) for n in range(first, min(calls, first + parallel))))
    return (time.process_time() - started) / calls * 1000


async def _measure(base_url: str, make: Callable[[], BaseRequest], calls: int) -> list[float]:
    bot = Bot(
        TOKEN, base_url=f"{base_url}/bot", base_file_url=f"{base_url}/file/bot", request=make()
    )
    async with bot:
        await _cpu_per_call(bot, 50, 1, False)  # connections open, code paths warm
        return [
            await _cpu_per_call(bot, calls, 1, False),
            await _cpu_per_call(bot, calls, 16, False),
            await _cpu_per_call(bot, calls // 4, 1, True),
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per shape and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(ROOT), TOKEN, str(CHAT)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        figures: dict[str, list[list[float]]] = {name: [] for name in TRANSPORTS}
        for _ in range(args.rounds):
            for name, make in TRANSPORTS.items():
                figures[name].append(asyncio.run(_measure(base_url, make, args.calls)))
    finally:
        server.kill()
        server.wait()
    _report(figures, args)


def _report(figures: dict[str, list[list[float]]], args: argparse.Namespace) -> None:
    shapes = ("one at a time", "16 at a time", "upload 2 kB")
    print(f"CPU per Bot API call, ms (median of {args.rounds} rounds of {args.calls} calls)")
    print(f"{'transport':<16}" + "".join(f"{s:>16}" for s in shapes))
    medians = {
        name: [statistics.median(r[i] for r in rounds) for i in range(len(shapes))]
        for name, rounds in figures.items()
    }
    for name, values in medians.items():
        print(f"{name:<16}" + "".join(f"{v:>16.3f}" for v in values))
    base, ours = medians["httpx (PTB's)"], medians["aiohttp (ours)"]
    print(
        f"{'ours / httpx':<16}"
        + "".join(f"{o / b:>15.2f}x" for o, b in zip(ours, base, strict=True))
    )


if __name__ == "__main__":
    main()
