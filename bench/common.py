"""What the benchmarks that drive the real bot process share: the process, its database read
from the outside, and what a simulated citizen reads and answers.

`bench/fault_injection.py` kills the process at bad moments; `bench/load.py` measures it under
load. Both run ``python -m bot`` in a subprocess against the fake Bot API server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402

from bot import text  # noqa: E402
from bot.domain.complaint import Step  # noqa: E402
from bot.localapi import BotMessage, FakeTelegram  # noqa: E402
from bot.storage.tables import outbox  # noqa: E402

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"

RECEIVED = "شکایت شما دریافت و ثبت شد"
CLAIMED_NOTICE = "رسیدگی به شکایت شما با کد رهگیری"
CLAIM_BUTTON = "✋ رسیدگی می‌کنم"
CONFIRM_BUTTON = "تأیید و ارسال"
DONE = "done"
# The newest message that contains one of these is the question the citizen answers.
PROMPTS: tuple[tuple[str, str], ...] = (
    (RECEIVED, DONE),
    ("لطفاً شکایت خود را بازبینی کنید", Step.REVIEW),
    ("چه نوع تخلفی دیدید", Step.VIOLATION),
    ("کدام صنف", Step.SECTOR),
    ("در کدام استان", Step.PROVINCE),
    ("در کدام شهر", Step.CITY),
    ("نام واحد صنفی چیست", Step.BUSINESS),
    ("نشانی واحد صنفی چیست", Step.ADDRESS),
    ("موقعیت آن را", Step.LOCATION),
    ("شکایت باز دیگر در دست رسیدگی است", Step.DUPLICATE),  # others reported the same place
    ("چه اتفاقی افتاد", Step.DESCRIPTION),
    ("چه مبلغی پرداخت کردید", Step.PRICE_PAID),
    ("قیمت مصوب یا متعارف", Step.PRICE_FAIR),
    ("عکس، ویدیو یا فایل بفرستید", Step.EVIDENCE),
    ("کارشناسان چگونه با شما تماس بگیرند", Step.CONTACT),
)
DESCRIPTION = "قیمت برنج طارم را کیلویی ۱۸۰ هزار تومان حساب کردند، روی بسته ۱۲۰ هزار تومان بود"
CODE_RE = re.compile(r"\d{5}-\d{5}")

# What a citizen presses at a step with buttons, and types at the others (the business name is
# made unique per filing by the caller, so that filings are not offered as duplicates).
PRESSES: dict[str, str] = {
    Step.VIOLATION: "گران‌فروشی",
    Step.SECTOR: "مواد غذایی و خواربار",
    Step.PROVINCE: "تهران",
    Step.DUPLICATE: "جداگانه ثبت شود",
    Step.REVIEW: CONFIRM_BUTTON,
}
TYPED: dict[str, str] = {
    Step.CITY: "تهران",
    Step.ADDRESS: "خیابان انقلاب، پلاک ۱۲",
    Step.PRICE_PAID: "۱۸۰ هزار تومان",
    Step.PRICE_FAIR: "120,000",
    Step.EVIDENCE: "پایان ارسال مدارک",
    Step.CONTACT: "ادامه بدون نام",
}


def log(message: str) -> None:
    print(message, flush=True)


def plain_code(message_text: str) -> str | None:
    """The tracking code in a message («۱۲۳۴۵-۶۷۸۹۰» -> "1234567890")."""
    found = CODE_RE.search(text.to_ascii_digits(message_text))
    return found.group().replace("-", "") if found else None


def code_shown(code: str) -> str:
    return text.to_persian_digits(f"{code[:5]}-{code[5:]}")


# -- the database, read from the outside ---------------------------------------------------------


@dataclass
class Database:
    url: str  # with the async driver
    cleanup: Callable[[], Awaitable[None]]
    engine: AsyncEngine = field(init=False)

    def __post_init__(self) -> None:
        # A plain engine: the bot's own engine starts every SQLite transaction with BEGIN
        # IMMEDIATE, which would make these reads compete for the write lock.
        self.engine = create_async_engine(self.url)

    async def rows(self, query: Any) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def pending_ids(self) -> set[int]:
        rows = await self.rows(sa.select(outbox.c.id).where(outbox.c.status == "pending"))
        return {r["id"] for r in rows}

    async def close(self) -> None:
        await self.engine.dispose()
        await self.cleanup()


async def make_database(postgres: bool, workdir: Path, admin_dsn: str) -> Database:
    if not postgres:
        path = workdir / "bot.sqlite3"

        async def nothing() -> None:
            pass

        return Database(f"sqlite+aiosqlite:///{path}", nothing)
    import asyncpg

    admin = await asyncpg.connect(admin_dsn, timeout=10)
    name = f"fi_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin_dsn, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return Database(f"{base}/{name}", drop)


@contextlib.asynccontextmanager
async def postgres_database(admin_dsn: str, prefix: str = "bench") -> AsyncIterator[str]:
    """A fresh PostgreSQL database for the run (its async URL), dropped afterwards."""
    import asyncpg

    admin = await asyncpg.connect(admin_dsn, timeout=10)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


# -- the bot process ----------------------------------------------------------------------------


class BotProcess:
    """`python -m bot` in a subprocess; its output goes to a log file."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str = "bot") -> None:
        self.command = [sys.executable, "-m", "bot"]  # or another program (bench/echo_bot.py)
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.started_at = 0.0
        self.generation = 0
        self.exits: list[int | None] = []  # exit statuses of processes we did not kill
        self._killed = False

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self) -> None:
        assert not self.alive
        self.generation += 1
        self._killed = False
        with self.log_path.open("ab") as out:
            out.write(f"\n===== start #{self.generation} =====\n".encode())
            out.flush()
            self.started_at = asyncio.get_running_loop().time()
            # cwd is the temp dir: no .env of the developer's is read.
            self.proc = await asyncio.create_subprocess_exec(
                *self.command,
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL, at once (safe to call from a server listener)."""
        if self.alive:
            assert self.proc is not None
            self._killed = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)

    async def wait_dead(self, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        if self.proc is None:
            return
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.kill()
            await asyncio.wait_for(self.proc.wait(), 5)
        if not self._killed:
            self.exits.append(self.proc.returncode)

    async def terminate(self) -> None:
        """SIGTERM (a graceful stop), SIGKILL if it does not stop within 20 s."""
        if not self.alive:
            return
        assert self.proc is not None
        self._killed = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.kill()
            await self.proc.wait()


def bot_env(workdir: Path, **settings: str) -> dict[str, str]:
    """The environment of ``python -m bot``: nothing of the developer's but PATH and HOME."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(workdir)),
        "PYTHONPATH": str(ROOT),
        **settings,
    }


# -- what a citizen reads ------------------------------------------------------------------------


def alerted(server: FakeTelegram, qid: str) -> bool:
    """The press was answered with a text (a stale button), not with a new message."""
    record = server.callbacks.get(qid)
    return bool(record and record.answer and record.answer.get("text"))


def newest_prompt(messages: list[BotMessage]) -> tuple[str, BotMessage] | None:
    for message in reversed(messages):
        body = message.text or ""
        for needle, step in PROMPTS:
            if needle in body:
                return step, message
    return None
