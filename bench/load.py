"""Load: the real bot under many citizens, against the framework's floor, in one run.

The bot runs as in production, ``python -m bot`` in subprocesses, against the fake Bot API server
(bot/localapi, Telegram's real rate limits: 30 messages a second overall, 20 a minute into a
group, 5 a second into one private chat) that this script runs on 127.0.0.1. Simulated citizens
file whole complaints (a photo as evidence), each thinking ``--think`` seconds (±50 %) between
steps, while an officer claims and resolves the cases in the staff group. Configurations:

  echo       the floor: bench/echo_bot.py, a bare python-telegram-bot bot that answers every
             message with one message (long polling; same citizens, each step one text); run
             first and again last, and the ratios taken against the mean of the two
  polling    the bot, long polling, SQLite
  webhook-N  the bot, webhook, N processes over one PostgreSQL behind one address (the fake's
             delivery takes turns between them, as a reverse proxy does), pacing shared in Redis

For each it prints, over a measured window after a warm-up: citizen updates per second; p50/p99
time from a citizen's update to the bot's first answer in that chat (a message or an edit);
receipt time from «تأیید و ارسال» to the tracking code; peak RSS per process; CPU per update
(the bot processes' user+system time over the window, per update handled); Bot API calls per
complaint; messages (sends and edits) per citizen step; the share of Telegram's 30 a second
used; outbox lag (queued to sent); cards waiting and the oldest card's age; then our/echo
ratios and the issue's targets, each pass or miss.

``--fairness``: 50 citizens file on a quiet bot, then again while one user sends 50 updates a
second (the flood guard raised out of the way, so the figure is the scheduler's): their p99
must stay within 2x of the quiet run's.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379):

    .venv/bin/python bench/load.py                              # every configuration
    .venv/bin/python bench/load.py --configs echo,polling --citizens 100 --think 5
    .venv/bin/python bench/load.py --fairness
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.common import (  # noqa: E402
    CLAIM_BUTTON,
    DESCRIPTION,
    DONE,
    PG_ADMIN_DSN,
    PRESSES,
    RECEIVED,
    TYPED,
    BotProcess,
    Database,
    bot_env,
    log,
    make_database,
    newest_prompt,
)
from bot.domain.complaint import Step  # noqa: E402
from bot.domain.purposes import CARD_PURPOSES, Purpose  # noqa: E402
from bot.localapi import BotMessage, Call, FakeTelegram, FakeUser  # noqa: E402
from bot.localapi.webhook import WebhookDelivery  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.tables import drafts, outbox, users  # noqa: E402

STAFF_CHAT_ID = -1001000000077
ADMIN_ID, OFFICER_ID = 9001, 9101
FIRST_CITIZEN, FLOODER_ID = 300001, 299999
TELEGRAM_PER_SECOND = 30
# Calls that move no message: polling, set-up, and reading files.
HOUSEKEEPING = frozenset(
    {
        "getUpdates",
        "getMe",
        "setWebhook",
        "deleteWebhook",
        "getWebhookInfo",
        "setMyCommands",
        "deleteMyCommands",
        "setChatMenuButton",
        "getFile",
        "getChat",
        "getChatMember",
        "getChatAdministrators",
    }
)
EDITS = frozenset(
    {"editMessageText", "editMessageReplyMarkup", "editMessageCaption", "editMessageMedia"}
)
REPLY_TIMEOUT = 30.0  # a citizen who hears nothing this long asks again («ثبت شکایت»)
RESULT_BUTTON, RESOLVED_BUTTON = "اعلام نتیجه", "مشکل برطرف شد"
RESOLUTION = "فروشنده تذکر گرفت و مابه‌التفاوت را پس داد"


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu_split(pid: int) -> tuple[float, float]:
    """User and system time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def proc_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- what is measured -----------------------------------------------------------------------------


@dataclass
class Window:
    """Figures gathered while ``open`` (the measured window, after the warm-up)."""

    open: bool = False
    started: float = 0.0
    ended: float = 0.0
    citizen_updates: int = 0  # sent by citizens
    answered: int = 0  # citizen updates that got an answer in the window
    latencies: list[float] = field(default_factory=list)
    receipts: list[float] = field(default_factory=list)
    complaints: int = 0  # receipts received
    filing_steps: list[int] = field(default_factory=list)  # updates each finished filing took
    calls: Counter[str] = field(default_factory=Counter)  # every work call, by method
    citizen_calls: int = 0  # work calls into citizens' chats (button answers included)
    citizen_messages: int = 0  # sends and edits into citizens' chats
    messages: int = 0  # every send and edit, any chat
    refused_429: int = 0
    cards_waiting_max: int = 0
    oldest_card_max: float = 0.0
    claims: int = 0
    resolutions: int = 0
    nudges: int = 0
    flooder_updates: int = 0
    flooder_answers: int = 0  # the flooder's updates answered (each is paced: 3 a second)

    @property
    def seconds(self) -> float:
        return max(1e-9, (self.ended or time.monotonic()) - self.started)

    @property
    def steps_per_complaint(self) -> float | None:
        return statistics.mean(self.filing_steps) if self.filing_steps else None

    @property
    def calls_per_complaint(self) -> float | None:
        """Calls into a citizen's chat per update of theirs, times the updates a whole filing
        takes: what one complaint costs of Telegram's budget on the citizen's side."""
        steps = self.steps_per_complaint
        if steps is None or not self.citizen_updates:
            return None
        return self.citizen_calls / self.citizen_updates * steps


@dataclass
class Result:
    name: str
    processes: int
    window: Window
    cpu_per_update_ms: float | None
    rss_mb: list[float]
    outbox_lag: dict[str, tuple[float | None, float | None]]
    load_cpu_share: float  # the load generator's (and fake server's) CPU over the window
    system_share: float | None = None  # of the bot processes' CPU, the kernel's part
    notes: list[str] = field(default_factory=list)

    def p(self, q: float) -> float | None:
        return percentile(self.window.latencies, q)


# -- the people -----------------------------------------------------------------------------------


class Citizen:
    """Files complaints one after another (or, against the echo bot, says one thing per step),
    thinking between steps; the time from each update to the first answer is measured by the
    run's call listener."""

    def __init__(self, run: LoadRun, index: int) -> None:
        self.run = run
        self.index = index
        self.id = FIRST_CITIZEN + index
        self.user: FakeUser = run.server.user(self.id, first_name=f"شهروند{index}")
        self.cursor = 0
        self.sent_at: float | None = None  # the update waiting for an answer
        self.confirm_at: float | None = None
        self.filings = 0
        self.steps = 0  # updates sent in the current filing
        self.rng = random.Random(index)

    def unread(self) -> list[BotMessage]:
        chat = self.run.server.chats.get(self.id)
        if chat is None:
            return []
        return [m for m in chat.bot_messages if m.seq > self.cursor and not m.deleted]

    async def think(self) -> None:
        await self.run.pause(self.rng.uniform(0.5, 1.5) * self.run.think)

    def sent(self) -> None:
        self.sent_at = time.monotonic()
        self.steps += 1
        if self.run.window.open:
            self.run.window.citizen_updates += 1

    async def say(self, words: str) -> None:
        self.sent()
        await self.user.send_text(words)

    async def wait_unread(self, timeout: float) -> list[BotMessage]:  # noqa: ASYNC109
        await self.run.server.wait_for(lambda: bool(self.unread()) or self.run.stopping, timeout)
        messages = self.unread()
        if messages:
            self.cursor = messages[-1].seq
        return messages

    async def run_echo(self) -> None:
        await self.run.pause(self.rng.uniform(0, self.run.think))
        while not self.run.stopping:
            await self.say(f"سلام، پیام شمارهٔ {self.filings}")
            self.filings += 1
            await self.wait_unread(REPLY_TIMEOUT)
            await self.think()

    async def run_filing(self) -> None:
        await self.run.pause(self.rng.uniform(0, self.run.think))
        while not self.run.stopping:
            await self.file_one()
            await self.think()

    async def file_one(self) -> None:
        self.filings += 1
        self.steps = 0
        photo_sent = False
        await self.say("ثبت شکایت")
        while not self.run.stopping:
            messages = await self.wait_unread(REPLY_TIMEOUT)
            if self.run.stopping:
                return
            if not messages:
                self.run.window.nudges += self.run.window.open
                await self.say("ثبت شکایت")
                continue
            prompt = newest_prompt(messages)
            if prompt is None:
                if photo_sent:  # the photo was acknowledged: the evidence step goes on
                    prompt = (Step.EVIDENCE, messages[-1])
                else:
                    continue
            step, message = prompt
            if step == DONE:
                if self.run.window.open:
                    self.run.window.filing_steps.append(self.steps)
                return
            await self.think()
            if self.run.stopping:
                return
            if step in PRESSES:
                if step == Step.REVIEW:
                    self.confirm_at = time.monotonic()
                self.sent()
                try:
                    await self.user.press(PRESSES[step], message=message)
                except AssertionError:  # the buttons went away: ask where the filing stands
                    await self.say("ثبت شکایت")
            elif step == Step.LOCATION:
                self.sent()
                await self.user.send_location(35.7, 51.4)
            elif step == Step.EVIDENCE and not photo_sent:
                photo_sent = True
                self.sent()
                await self.user.send_photo(file_unique=f"p{self.id}-{self.filings}")
            elif step == Step.DESCRIPTION:
                await self.say(f"{DESCRIPTION} (شهروند {self.index}، شکایت {self.filings})")
            elif step == Step.BUSINESS:
                await self.say(f"فروشگاه شمارهٔ {self.filings} شهروند {self.index}")
            else:
                await self.say(TYPED[step])


class Flooder:
    """One user sending ``rate`` updates a second, never waiting for an answer."""

    def __init__(self, run: LoadRun, rate: float) -> None:
        self.run = run
        self.rate = rate
        self.user = run.server.user(FLOODER_ID, first_name="پرتکرار")

    async def run_flood(self) -> None:
        n = 0
        start = time.monotonic()
        while not self.run.stopping:
            n += 1
            await self.user.send_text("/help")
            if self.run.window.open:
                self.run.window.flooder_updates += 1
            await self.run.pause(max(0.0, start + n / self.rate - time.monotonic()))


class Officer:
    """Claims each new card, then records the result («مشکل برطرف شد» and a line for the citizen).
    The staff group's 20 messages a minute bind how many cases one group can take."""

    def __init__(self, run: LoadRun) -> None:
        self.run = run
        self.user = run.server.user(OFFICER_ID, first_name="کارشناس")
        self.group = run.server.groups[STAFF_CHAT_ID]
        self.tried: set[int] = set()

    def next_card(self) -> BotMessage | None:
        for m in self.run.server.messages(STAFF_CHAT_ID):
            if m.message_id not in self.tried and CLAIM_BUTTON in m.buttons():
                return m
        return None

    async def press(self, card: BotMessage, button: str) -> bool:
        if button not in card.buttons():
            return False
        qid = await self.group.press(self.user, button, message=card)
        record = self.run.server.callbacks[qid]
        return await self.run.server.wait_for(
            lambda: record.answer is not None or self.run.stopping, REPLY_TIMEOUT
        )

    async def run_desk(self) -> None:
        server = self.run.server
        while not self.run.stopping:
            await server.wait_for(lambda: self.next_card() is not None or self.run.stopping, 1.0)
            card = self.next_card()
            if card is None:
                continue
            self.tried.add(card.message_id)
            if not await self.press(card, CLAIM_BUTTON):
                continue
            self.run.window.claims += self.run.window.open
            if not await server.wait_for(
                lambda c=card: RESULT_BUTTON in c.buttons() or self.run.stopping,  # type: ignore[misc]
                REPLY_TIMEOUT,
            ):
                continue
            seen = len(server.messages(STAFF_CHAT_ID))
            if not await self.press(card, RESULT_BUTTON):
                continue
            if not await server.wait_for(
                lambda c=card: RESOLVED_BUTTON in c.buttons() or self.run.stopping,  # type: ignore[misc]
                REPLY_TIMEOUT,
            ):
                continue
            await self.press(card, RESOLVED_BUTTON)

            def prompt(s: int = seen) -> BotMessage | None:
                for m in server.messages(STAFF_CHAT_ID)[s:]:
                    if "توضیح برای شهروند" in (m.text or ""):
                        return m
                return None

            if not await server.wait_for(
                lambda: prompt() is not None or self.run.stopping, REPLY_TIMEOUT
            ):
                continue
            asked = prompt()
            if asked is None:
                continue
            await self.group.send_text(from_user=self.user, text=RESOLUTION, reply_to=asked)
            self.run.window.resolutions += self.run.window.open


# -- one configuration ----------------------------------------------------------------------------


class LoadRun:
    def __init__(self, args: argparse.Namespace, name: str, citizens: int, think: float) -> None:
        self.args = args
        self.name = name
        self.think = think
        self.echo = name == "echo"
        self.processes_wanted = int(name.split("-")[1]) if name.startswith("webhook") else 1
        self.token = f"{random.randint(100000, 999999)}:LOAD-{uuid.uuid4().hex[:16]}"
        self.server = FakeTelegram(token=self.token, bot_username="tazirat_load_bot")
        self.window = Window()
        self.stopping = False
        self._stop = asyncio.Event()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"load-{name}-"))
        self.bots: list[BotProcess] = []
        self.db: Database | None = None
        self.hooks: WebhookDelivery | None = None
        self.n_citizens = citizens
        self.citizens: list[Citizen] = []
        self.by_id: dict[int, Citizen] = {}
        self.flood_rate = 0.0
        self.polled = asyncio.Event()
        self.webhooks_set = 0

    async def pause(self, seconds: float) -> None:
        """Think time of the simulated people (not a synchronisation)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    # -- the call listener: every answer the fake server gives

    def on_call(self, call: Call) -> None:
        if call.method == "getUpdates":
            self.polled.set()
            return
        if call.method == "setWebhook" and call.ok:
            self.webhooks_set += 1
        if call.method in HOUSEKEEPING:
            return
        w = self.window
        if not call.ok:
            if w.open and call.error_code == 429:
                w.refused_429 += 1
            return
        chat = call.params.get("chat_id")
        if call.method == "answerCallbackQuery":
            record = self.server.callbacks.get(str(call.params.get("callback_query_id")))
            chat = record.chat_id if record else None
        try:
            chat_id = int(chat) if chat is not None else None
        except (TypeError, ValueError):
            chat_id = None
        citizen = self.by_id.get(chat_id) if chat_id is not None else None
        is_message = call.method.startswith("send") or call.method in EDITS
        if chat_id == FLOODER_ID and is_message and w.open:
            w.flooder_answers += 1
        if w.open:
            w.calls[call.method] += 1
            w.messages += is_message
            if citizen is not None:
                w.citizen_calls += 1
                w.citizen_messages += is_message
        if citizen is None or not is_message:
            return
        now = time.monotonic()
        if citizen.sent_at is not None:
            if w.open:
                w.latencies.append(now - citizen.sent_at)
                w.answered += 1
            citizen.sent_at = None
        if RECEIVED in str(call.params.get("text", "")):
            if citizen.confirm_at is not None and w.open:
                w.receipts.append(now - citizen.confirm_at)
                w.complaints += 1
            citizen.confirm_at = None

    # -- set-up

    async def start(self) -> None:
        await self.server.start()
        self.server.group(STAFF_CHAT_ID, title="کارشناسان")
        self.server.on_call(self.on_call)
        if self.echo:
            env = bot_env(self.workdir, BOT_TOKEN=self.token, BOT_API_URL=self.server.base_url)
            bot = BotProcess(env, self.workdir, "echo")
            bot.command = [sys.executable, str(ROOT / "bench" / "echo_bot.py")]
            self.bots.append(bot)
        else:
            postgres = self.name.startswith("webhook")
            self.db = await make_database(postgres, self.workdir, self.args.pg_admin_dsn)
            if self.args.drafts:
                await self.seed_drafts(self.args.drafts)
            settings = {
                "BOT_TOKEN": self.token,
                "BOT_API_URL": self.server.base_url,
                "DATABASE_URL": self.db.url,
                "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
                "ADMIN_IDS": str(ADMIN_ID),
                "MAX_COMPLAINTS_PER_DAY": "1000",
                "LOG_LEVEL": "WARNING",
            }
            if self.flood_rate:
                settings["FLOOD_MAX_UPDATES"] = "1000000"
            ports: list[int] = []
            for i in range(self.processes_wanted):
                extra: dict[str, str] = {}
                if postgres:
                    port = free_port()
                    ports.append(port)
                    extra = {
                        "WEBHOOK_URL": "https://bot.example.ir/hook",
                        "WEBHOOK_SECRET": "load-bench-secret",
                        "WEBHOOK_PORT": str(port),
                        "PACING_REDIS_URL": self.args.redis_url,
                    }
                env = bot_env(self.workdir, **settings, **extra)
                self.bots.append(BotProcess(env, self.workdir, f"bot{i + 1}"))
            if postgres:
                self.hooks = WebhookDelivery(
                    self.server, upstreams=[f"http://127.0.0.1:{p}" for p in ports]
                )
                await self.hooks.__aenter__()
        for bot in self.bots:
            await bot.start()
        ready = (
            (lambda: self.webhooks_set >= len(self.bots))
            if self.hooks
            else (lambda: self.polled.is_set())
        )
        if not await self.server.wait_for(ready, 90):
            raise RuntimeError(f"{self.name}: the bot did not start; see {self.workdir}")
        if not self.echo:
            await self.admin_setup()

    async def seed_drafts(self, count: int) -> None:
        """`count` citizens with a complaint half filled in (at the description), who say
        nothing during the run: the open drafts a process carries at a peak."""
        assert self.db is not None
        await upgrade(self.db.url)
        now = datetime.now(UTC)
        data = {"violation": "overpricing", "sector": "food", "province": "23", "city": "تهران"}
        first = 600_000
        async with self.db.engine.begin() as conn:
            for start in range(0, count, 5000):
                ids = range(first + start, first + min(count, start + 5000))
                await conn.execute(
                    sa.insert(users),
                    [{"id": i, "first_name": "شهروند", "created_at": now, "updated_at": now}
                     for i in ids],
                )  # fmt: skip
                await conn.execute(
                    sa.insert(drafts),
                    [{"user_id": i, "kind": "complaint", "step": "description", "data": data,
                      "created_at": now, "updated_at": now} for i in ids],
                )  # fmt: skip

    async def admin_setup(self) -> None:
        group = self.server.groups[STAFF_CHAT_ID]
        admin = self.server.user(ADMIN_ID, first_name="مدیر")
        await group.send_text(admin, f"/staff add {OFFICER_ID} staff")
        if not await self.server.wait_for(
            lambda: any("کارکنان" in (m.text or "") for m in self.server.messages(STAFF_CHAT_ID)),
            60,
        ):
            raise RuntimeError(f"{self.name}: the bot never confirmed /staff add")

    async def stop(self) -> None:
        self.stopping = True
        self._stop.set()
        for bot in self.bots:
            with contextlib.suppress(Exception):
                await bot.terminate()
        if self.hooks is not None:
            await self.hooks.__aexit__(None, None, None)
        await self.server.stop()
        if self.db is not None:
            await self.db.close()

    # -- the run

    async def sample_cards(self) -> None:
        """Cards waiting in the outbox, and the oldest one's age, once a second."""
        if self.db is None:
            return
        while not self.stopping:
            try:
                rows = await self.db.rows(
                    sa.select(outbox.c.created_at).where(
                        outbox.c.status == "pending",
                        outbox.c.purpose.in_([p.value for p in CARD_PURPOSES]),
                    )
                )
            except sa.exc.DBAPIError:
                rows = []
            if self.window.open and rows:
                now = time.time()
                oldest = min(r["created_at"].timestamp() for r in rows)
                self.window.cards_waiting_max = max(self.window.cards_waiting_max, len(rows))
                self.window.oldest_card_max = max(self.window.oldest_card_max, now - oldest)
            await self.pause(1.0)

    async def outbox_lag(self) -> dict[str, tuple[float | None, float | None]]:
        if self.db is None:
            return {}
        rows = await self.db.rows(
            sa.select(outbox.c.purpose, outbox.c.created_at, outbox.c.sent_at).where(
                outbox.c.status == "sent"
            )
        )
        lags: dict[str, list[float]] = {}
        for r in rows:
            kind = "cards" if r["purpose"] in CARD_PURPOSES else "to citizens"
            if r["purpose"] == Purpose.CARD_REFRESH:
                kind = "card edits"
            lags.setdefault(kind, []).append((r["sent_at"] - r["created_at"]).total_seconds())
        return {k: (percentile(v, 0.5), percentile(v, 0.99)) for k, v in lags.items()}

    async def profile(self, bot: BotProcess) -> asyncio.subprocess.Process:
        """py-spy over the measured window: collapsed stacks, one line per stack (``-f raw``),
        in the profile directory. Only samples that hold the GIL count: a thread blocked in C
        (aiosqlite's worker waiting on its queue) would otherwise show as busy."""
        out = Path(self.args.profile) / f"{self.name}-{bot.log_path.stem}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        return await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(bot.pid),
            "--duration",
            str(int(self.args.duration)),
            "--rate",
            "200",
            "--format",
            "raw",
            "--nonblocking",
            "--gil",  # only samples holding the GIL: Python's own work, not its waits
            "--output",
            str(out),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

    async def measure(self) -> Result:
        self.citizens = [Citizen(self, i) for i in range(self.n_citizens)]
        self.by_id = {c.id: c for c in self.citizens}
        tasks = [
            asyncio.create_task(c.run_echo() if self.echo else c.run_filing())
            for c in self.citizens
        ]
        if not self.echo:
            tasks.append(asyncio.create_task(Officer(self).run_desk()))
            tasks.append(asyncio.create_task(self.sample_cards()))
        if self.flood_rate:
            tasks.append(asyncio.create_task(Flooder(self, self.flood_rate).run_flood()))
        await self.pause(self.args.warmup)
        for task in tasks:
            if task.done() and task.exception():
                raise task.exception()  # type: ignore[misc]
        profilers = [await self.profile(b) for b in self.bots] if self.args.profile else []
        cpu0 = [proc_cpu_split(b.pid) for b in self.bots]
        me0 = time.process_time()
        self.window.open, self.window.started = True, time.monotonic()
        await self.pause(self.args.duration)
        self.window.open, self.window.ended = False, time.monotonic()
        cpu1 = [proc_cpu_split(b.pid) for b in self.bots]
        system = sum(s for _u, s in cpu1) - sum(s for _u, s in cpu0)
        cpu = sum(map(sum, cpu1)) - sum(map(sum, cpu0))
        me = time.process_time() - me0
        rss = [proc_peak_rss_mb(b.pid) for b in self.bots]
        for profiler in profilers:
            await profiler.wait()
        self.stopping = True
        self._stop.set()
        await asyncio.wait(tasks, timeout=REPLY_TIMEOUT + 5)
        for task in tasks:
            task.cancel()
        handled = self.window.answered + self.window.flooder_answers
        result = Result(
            name=self.name,
            processes=len(self.bots),
            window=self.window,
            cpu_per_update_ms=(1000 * cpu / handled) if handled else None,
            rss_mb=rss,
            outbox_lag=await self.outbox_lag(),
            load_cpu_share=me / self.window.seconds,
            system_share=system / cpu if cpu else None,
        )
        crashed = [b.log_path.name for b in self.bots if not b.alive]
        if crashed:
            result.notes.append(f"exited during the run: {crashed} (logs in {self.workdir})")
        return result


async def run_config(
    args: argparse.Namespace, name: str, citizens: int, think: float, flood: float = 0.0
) -> Result:
    run = LoadRun(args, name, citizens, think)
    run.flood_rate = flood
    log(
        f"-- {name}: {citizens} citizens thinking {think:g} s"
        + (f", flood {flood:g}/s" if flood else "")
    )
    try:
        await run.start()
        result = await run.measure()
    finally:
        await run.stop()
    w = result.window
    log(
        f"   {w.answered} answers in {w.seconds:.0f} s, p50 {_ms(result.p(0.5))}, "
        f"p99 {_ms(result.p(0.99))}, {w.complaints} complaints, {w.refused_429} 429s"
    )
    return result


# -- output ---------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.0f} ms"


def _f(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(results: list[Result]) -> None:
    head = (
        f"{'config':<11}{'proc':>5}{'upd/s':>7}{'p50':>8}{'p99':>8}{'receipt max':>12}"
        f"{'RSS MB':>14}{'CPU/upd':>9}{'calls/cmp':>10}{'msg/step':>9}{'budget':>7}"
        f"{'429':>5}{'cards':>6}{'oldest':>8}"
    )
    log("\n" + head)
    for r in results:
        w = r.window
        steps = w.citizen_updates or 1
        rss = "/".join(f"{x:.0f}" for x in r.rss_mb)
        receipt = max(w.receipts) if w.receipts else None
        log(
            f"{r.name:<11}{r.processes:>5}{w.answered / w.seconds:>7.1f}{_ms(r.p(0.5)):>8}"
            f"{_ms(r.p(0.99)):>8}{_f(receipt, 2) + ' s' if receipt else '—':>12}{rss:>14}"
            f"{_f(r.cpu_per_update_ms) + ' ms':>9}"
            f"{_f(w.calls_per_complaint):>10}"
            f"{_f(w.citizen_messages / steps, 2):>9}"
            f"{100 * w.messages / w.seconds / TELEGRAM_PER_SECOND:>6.0f}%"
            f"{w.refused_429:>5}{w.cards_waiting_max:>6}{_f(w.oldest_card_max, 0) + ' s':>8}"
        )
    log(
        "\nupd/s: citizen updates answered per second; p50/p99: update to first answer; "
        "calls/cmp: Bot API calls into the citizen's chat (button answers included) per whole "
        "filing (per update, times the updates a filing took); msg/step: "
        "sends and edits into citizens' chats per citizen update; budget: every send and edit "
        "against Telegram's 30 a second; cards/oldest: cards waiting in the outbox at most, and "
        "the oldest card's age at most."
    )
    for r in results:
        w = r.window
        extra = ", ".join(
            f"{k} p50 {_f(p50, 2)} s / p99 {_f(p99, 2)} s" for k, (p50, p99) in r.outbox_lag.items()
        )
        calls = ", ".join(f"{m} {n}" for m, n in w.calls.most_common(6))
        log(f"{r.name}: outbox lag {extra or '—'}")
        steps = _f(w.steps_per_complaint)
        log(
            f"   calls: {calls}; {w.complaints} complaints of {steps} updates each; claims "
            f"{w.claims}, resolutions {w.resolutions}, nudges {w.nudges}; load generator and "
            f"server CPU {100 * r.load_cpu_share:.0f}% of a core; the bot's CPU in the kernel "
            f"{_f(100 * r.system_share if r.system_share is not None else None)}%"
        )
        for note in r.notes:
            log(f"   note: {note}")


def _floor(results: list[Result], figure: Callable[[Result], float | None]) -> float | None:
    """The echo bot's figure: the mean of its runs (one before the others, one after), so a
    machine whose speed drifts during the run (the same echo run has differed by a fifth)
    does not tilt the ratios."""
    values = [v for r in results if r.name == "echo" and (v := figure(r)) is not None]
    return statistics.fmean(values) if values else None


def ratios(results: list[Result]) -> None:
    if not any(r.name == "echo" for r in results):
        return
    runs = [r.cpu_per_update_ms for r in results if r.name == "echo"]
    log(
        "\nours / echo (same run, same server, same citizens; echo's figures the mean of its "
        f"{len(runs)} runs, CPU/update " + ", ".join(f"{_f(c)} ms" for c in runs) + "):"
    )
    for r in results:
        if r.name == "echo":
            continue
        parts = []
        for label, ours, floor in (
            ("p50", r.p(0.5), _floor(results, lambda e: e.p(0.5))),
            ("p99", r.p(0.99), _floor(results, lambda e: e.p(0.99))),
            ("CPU/update", r.cpu_per_update_ms, _floor(results, lambda e: e.cpu_per_update_ms)),
            ("peak RSS", max(r.rss_mb), _floor(results, lambda e: max(e.rss_mb))),
        ):
            parts.append(f"{label} {ours / floor:.1f}x" if ours and floor else f"{label} —")
        log(f"  {r.name:<11}" + ", ".join(parts))


def targets(results: list[Result]) -> None:
    echo_cpu = _floor(results, lambda e: e.cpu_per_update_ms)
    log("\ntargets:")
    for r in results:
        if r.name == "echo":
            continue
        w = r.window
        steps = w.citizen_updates or 1
        checks: list[tuple[str, bool | None]] = [
            (f"messages per citizen step {w.citizen_messages / steps:.2f} <= 1.5",
             w.citizen_messages / steps <= 1.5),
            (f"receipt within 1 s (max {_f(max(w.receipts) if w.receipts else None, 2)} s)",
             bool(w.receipts) and max(w.receipts) <= 1.0),
        ]  # fmt: skip
        demand = w.citizen_updates / w.seconds * (w.citizen_messages / steps)
        budget = w.messages / w.seconds / TELEGRAM_PER_SECOND
        if demand >= TELEGRAM_PER_SECOND:
            checks.append((f"send budget used {100 * budget:.0f}% >= 90% (demand above it)",
                           budget >= 0.9))  # fmt: skip
        else:
            p99 = r.p(0.99)
            checks.append((f"p99 {_ms(p99)} < 100 ms (demand below the limit)",
                           p99 is not None and p99 < 0.1))  # fmt: skip
        if echo_cpu and r.cpu_per_update_ms:
            ratio = r.cpu_per_update_ms / echo_cpu
            checks.append((f"CPU per update {ratio:.1f}x echo <= 3x", ratio <= 3.0))
        checks.append((f"RSS {max(r.rss_mb):.0f} MB < 200 MB per process", max(r.rss_mb) < 200))
        for label, ok in checks:
            log(f"  {r.name:<11}{'pass' if ok else 'MISS'}  {label}")
    webhooks = {r.processes: r for r in results if r.name.startswith("webhook")}
    if 1 in webhooks and 2 in webhooks:
        one, two = webhooks[1].window, webhooks[2].window
        log(
            f"  2-process scaling: {two.answered / two.seconds:.1f} vs "
            f"{one.answered / one.seconds:.1f} updates/s "
            f"({(two.answered / two.seconds) / max(1e-9, one.answered / one.seconds):.2f}x) — "
            "on 2 cores shared by the bot processes, PostgreSQL, Redis, the fake server and the "
            "load generator; the offered load is the same in both, so the ratio shows whether "
            "one process was the bottleneck"
        )


async def main_async(args: argparse.Namespace) -> int:
    started = time.monotonic()
    if args.fairness:
        quiet = await run_config(args, args.fairness_config, 50, args.fairness_think)
        flood = await run_config(args, args.fairness_config, 50, args.fairness_think, 50.0)
        table([quiet, flood])
        q, f = quiet.p(0.99), flood.p(0.99)
        ok = bool(q and f and f <= 2 * q)
        log(
            f"\nfairness: citizens' p99 quiet {_ms(q)}, with one user at 50 updates/s {_ms(f)}"
            f" ({(f or 0) / (q or 1):.1f}x): {'pass' if ok else 'MISS'} (<= 2x)"
        )
        log(f"total {time.monotonic() - started:.0f} s")
        return 0
    results = []
    names = [name.strip() for name in args.configs.split(",")]
    if "echo" in names and len(names) > 1:
        names.append("echo")  # the floor once more at the end: see `_floor`
    for name in names:
        results.append(await run_config(args, name, args.citizens, args.think))
    table(results)
    ratios(results)
    targets(results)
    log(f"\ntotal {time.monotonic() - started:.0f} s")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="echo,polling,webhook-1,webhook-2,webhook-4")
    p.add_argument("--citizens", type=int, default=200)
    p.add_argument("--think", type=float, default=10.0, help="seconds between steps (±50 %%)")
    p.add_argument("--warmup", type=float, default=20.0, help="seconds before measuring")
    p.add_argument("--duration", type=float, default=60.0, help="the measured window, seconds")
    p.add_argument("--fairness", action="store_true")
    p.add_argument("--fairness-config", default="polling")
    p.add_argument("--fairness-think", type=float, default=3.0)
    p.add_argument("--drafts", type=int, default=0, help="open drafts seeded before the start")
    p.add_argument("--profile", metavar="DIR", help="py-spy each bot process over the window")
    p.add_argument("--pg-admin-dsn", default=PG_ADMIN_DSN)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
