"""Fault injection: kill the real bot at bad moments, and take the Bot API away for a while.

The bot runs as it does in production, ``python -m bot`` in a subprocess, against the fake Bot
API server (bot/localapi) that this script runs on 127.0.0.1, with a fresh database (SQLite in
a temp dir, or with --postgres a fresh PostgreSQL database). Simulated citizens file complaints
concurrently, answering whatever the bot asks; an officer claims every new case card in the
staff group, which sends the citizen a notice through the outbox.

Scenario "kills": for each round the bot is killed with SIGKILL at one of these moments (picked
at random): during filing (just after a citizen answered), right after «تأیید و ارسال» was
pressed, just after the case was committed (the bot answered the button press; the "received"
message not sent yet), while the outbox was delivering (just after Telegram accepted a card,
receipt or notice, or while a card was in flight), or at a random time. Then it is restarted.

Scenario "outage": right after a citizen was told "received", every Bot API call is answered
502 Bad Gateway (or the connection is reset: --outage-mode drop) for --outage-seconds.

At the end (bot restarted one last time, the citizens finish their filings, the officer claims
every case, the outbox drains) it counts, for each scenario:

  complaints lost        a citizen was told "received" with a code, and no case has that code
  complaints duplicated  extra cases made from one filing (one description answer)
  notifications lost     outbox rows never sent; cases without a staff card in the group;
                         claimed cases whose citizen never got the notice
  drafts lost            at a kill, a citizen had been asked step N (so step N-1 was saved),
                         and the database holds no draft at step N or later (and no case)
  updates lost           Telegram was told an update arrived (the offset moved past it) and
                         the inbox holds no handled row for it (the flood guard, which drops
                         on purpose, is raised out of the way here)

All five must be 0; the exit status is 1 otherwise. It also prints the recovery time after each
restart (to the first getUpdates, and until the outbox held nothing pending), and some figures
that are not failures by design (see the end of the output).

Run from the repository root:

    .venv/bin/python bench/fault_injection.py                    # 20 kill rounds + 60 s outage
    .venv/bin/python bench/fault_injection.py --rounds 5 --postgres --scenario kills
    .venv/bin/python bench/fault_injection.py --scenario outage --outage-seconds 20

Every loop is bounded in count and time (--round-timeout, --final-timeout).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.common import (  # noqa: E402
    CLAIM_BUTTON,
    CLAIMED_NOTICE,
    DESCRIPTION,
    DONE,
    PG_ADMIN_DSN,
    PRESSES,
    RECEIVED,
    TYPED,
    BotProcess,
    Database,
    alerted,
    bot_env,
    code_shown,
    log,
    make_database,
    newest_prompt,
    plain_code,
)
from bot.domain.complaint import ORDER, Step  # noqa: E402
from bot.localapi import BotMessage, Call, FakeTelegram, FakeUser, Limits  # noqa: E402
from bot.storage.tables import cases, drafts, inbox, outbox  # noqa: E402

TOKEN = "123456:FAULT-INJECTION-abcdef"
STAFF_CHAT_ID = -1001000000001
ADMIN_ID, OFFICER_ID = 9001, 9101
FIRST_CITIZEN = 20001

TOKEN_RE = re.compile(r"ref-c\d+-n\d+")

KILL_MOMENTS = (
    "filing",  # a citizen just answered a step
    "confirm",  # a citizen just pressed «تأیید و ارسال»
    "committed",  # the bot answered that press: the case is committed, "received" not yet sent
    "delivery-accepted",  # Telegram accepted a card or notice; the bot has not read the answer
    "delivery-inflight",  # a card is in flight: killed before Telegram processed it
    "random",
)

REPLY_TIMEOUT = 5.0  # a citizen who hears nothing this long (while the bot runs) speaks again


# -- simulated people ---------------------------------------------------------------------------


class Citizen:
    """Files complaints one after another, answering the newest question the bot asked.

    When the bot says nothing for REPLY_TIMEOUT while it runs, the citizen sends «ثبت شکایت»,
    which resumes the open draft (or starts a new one) - what a person would do.
    """

    def __init__(self, sim: Simulation, index: int) -> None:
        self.sim = sim
        self.id = FIRST_CITIZEN + index
        self.index = index
        self.user: FakeUser = sim.server.user(self.id, first_name=f"شهروند{index}")
        self.cursor = 0  # seq of the newest bot message read
        self.step: str | None = None  # the newest question asked in the current filing
        self.tokens: set[str] = set()  # description answers of the current filing
        self.filing = False
        self.filings_started = 0
        self.filings_done = 0
        self.codes: set[str] = set()  # tracking codes this citizen was given
        self.nudges = 0
        self.answers = 0

    def unread(self) -> list[BotMessage]:
        chat = self.sim.server.chats[self.id]
        return [m for m in chat.bot_messages if m.seq > self.cursor and not m.deleted]

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self.index * 0.7)
        while not self.sim.stop_filing.is_set() and loop.time() < self.sim.deadline:
            await self.file_one()
            if self.sim.stop_filing.is_set():
                break
            # Think time between complaints keeps the staff group under Telegram's
            # 20 messages a minute, so that the outbox is not throttled all along.
            await self.sim.pause(self.sim.rng.uniform(*self.sim.think))

    async def file_one(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = min(self.sim.deadline, loop.time() + self.sim.filing_timeout)
        self.filing, self.step, self.tokens = True, None, set()
        self.filings_started += 1
        await self.say("ثبت شکایت")
        silent = 0
        qid: str | None = None
        while loop.time() < deadline:
            got = await self.wait_reply(qid, REPLY_TIMEOUT if silent < 3 else 60.0)
            if not got:
                if not self.sim.bot_ready.is_set():  # the bot is down: wait for it first
                    await self.sim.wait_ready(deadline - loop.time())
                    continue
                silent += 1
                self.nudges += 1
                qid = None
                await self.say("ثبت شکایت")
                continue
            silent = 0
            messages = self.unread()
            stale = qid is not None and alerted(self.sim.server, qid)
            qid = None
            if messages:
                self.cursor = messages[-1].seq
            prompt = newest_prompt(messages)
            if prompt is None:
                # A stale button, or an answer refused (it was meant for an older question):
                # ask the bot where the filing stands.
                if stale or any((m.text or "").startswith("⚠️") for m in messages):
                    await self.say("ثبت شکایت")
                continue
            step, message = prompt
            if step == DONE:
                code = plain_code(message.text or "")
                if code in self.codes:
                    continue  # an earlier receipt delivered again (at least once): not this one
                self.codes.add(code or "")
                self.filings_done += 1
                self.filing, self.step = False, None
                return
            self.step = step
            qid = await self.answer(step, message)
        self.filing = False
        self.sim.unfinished += 1

    async def wait_reply(self, qid: str | None, timeout: float) -> bool:  # noqa: ASYNC109
        server = self.sim.server
        return await server.wait_for(
            lambda: bool(self.unread()) or (qid is not None and alerted(server, qid)), timeout
        )

    async def say(self, words: str) -> None:
        await self.user.send_text(words)
        self.sim.acted("filing")

    async def answer(self, step: str, message: BotMessage) -> str | None:
        """Answer one question; returns the callback query id for a button press."""
        self.answers += 1
        if step in PRESSES:
            try:
                qid = await self.user.press(PRESSES[step], message=message)
            except AssertionError:  # the buttons are gone (edited or stale): ask again
                await self.say("ثبت شکایت")
                return None
            self.sim.acted("confirm" if step == Step.REVIEW else "filing", qid)
            return qid
        if step == Step.LOCATION:
            await self.user.send_location(35.7, 51.4)
            self.sim.acted("filing")
            return None
        if step == Step.DESCRIPTION:
            token = f"ref-c{self.index}-n{self.sim.next_token()}"
            self.tokens.add(token)
            words = f"{DESCRIPTION} ({token})"
        else:
            words = (
                f"فروشگاه شمارهٔ {self.filings_started} شهروند {self.index}"
                if step == Step.BUSINESS
                else TYPED[step]
            )
        await self.say(words)
        return None


def _describe_update(update: dict[str, Any]) -> str:
    kind = next(k for k in update if k != "update_id")
    body = update[kind]
    who = body.get("from", {}).get("id")
    what = body.get("text") or body.get("data") or ("location" if "location" in body else kind)
    return f"#{update['update_id']} {kind} from {who}: {what[:40]}"


class Officer:
    """Claims every new case card in the staff group (each card at most a few times)."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.user = sim.server.user(OFFICER_ID, first_name="کارشناس")
        self.group = sim.server.groups[STAFF_CHAT_ID]
        self.presses: Counter[int] = Counter()
        self.last: dict[int, float] = {}

    def candidates(self) -> list[BotMessage]:
        now = time.monotonic()
        return [
            m
            for m in self.sim.server.messages(STAFF_CHAT_ID)
            if CLAIM_BUTTON in m.buttons()
            and self.presses[m.message_id] < 6
            and now - self.last.get(m.message_id, -1e9) > 4.0
        ]

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        server = self.sim.server
        while not stop.is_set() and loop.time() < self.sim.deadline:
            if not await server.wait_for(lambda: bool(self.candidates()) or stop.is_set(), 1.0):
                continue
            if stop.is_set():
                break
            card = self.candidates()[0]
            self.presses[card.message_id] += 1
            self.last[card.message_id] = time.monotonic()
            qid = await self.group.press(self.user, CLAIM_BUTTON, message=card)
            record = server.callbacks[qid]
            await server.wait_for(lambda r=record: r.answer is not None, REPLY_TIMEOUT)  # type: ignore[misc]


# -- one scenario --------------------------------------------------------------------------------


@dataclass
class Restart:
    label: str
    to_first_poll: float | None = None
    backlog: int = 0
    backlog_sent: float | None = None
    outbox_empty: float | None = None


@dataclass
class Counts:
    complaints_lost: int = 0
    complaints_duplicated: int = 0
    notifications_lost: int = 0
    drafts_lost: int = 0
    updates_lost: int = 0

    def total(self) -> int:
        return (
            self.complaints_lost
            + self.complaints_duplicated
            + self.notifications_lost
            + self.drafts_lost
            + self.updates_lost
        )


class Simulation:
    def __init__(self, args: argparse.Namespace, name: str, seed: int) -> None:
        self.args = args
        self.name = name
        self.rng = random.Random(seed)
        self.think = (args.think_min, args.think_max)
        self.filing_timeout = args.filing_timeout
        self.server = FakeTelegram(
            token=TOKEN,
            bot_username="tazirat_fi_bot",
            limits=Limits(private_per_second=40),
        )
        self.stop_filing = asyncio.Event()
        self.bot_ready = asyncio.Event()
        self.deadline = 0.0
        self.unfinished = 0
        self.restarts: list[Restart] = []
        self.counts = Counts()
        self.notes: list[str] = []
        self.drafts_detail: list[str] = []
        self._tokens = 0
        self._waiters: list[tuple[str, asyncio.Future[str | None]]] = []
        self.workdir = Path(tempfile.mkdtemp(prefix=f"fault-{name}-"))
        self.db: Database
        self.bot: BotProcess
        self.citizens: list[Citizen] = []
        self.officer: Officer
        self.first_poll_at: float | None = None
        self.delivered: dict[int, list[int]] = {}  # update id -> bot processes that got it

    # -- small helpers

    def next_token(self) -> int:
        self._tokens += 1
        return self._tokens

    async def pause(self, seconds: float) -> None:
        """Think time of the simulated people (not a synchronisation)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop_filing.wait(), seconds)

    def acted(self, kind: str, qid: str | None = None) -> None:
        keep = []
        for wanted, future in self._waiters:
            if wanted == kind and not future.done():
                future.set_result(qid)
            elif not future.done():
                keep.append((wanted, future))
        self._waiters = keep

    async def next_action(self, kind: str, timeout: float) -> str | None:  # noqa: ASYNC109
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._waiters.append((kind, future))
        return await asyncio.wait_for(future, timeout)

    async def wait_ready(self, timeout: float) -> bool:  # noqa: ASYNC109
        try:
            await asyncio.wait_for(self.bot_ready.wait(), max(0.01, timeout))
            return True
        except TimeoutError:
            return False

    def _on_answer(self, call: Call) -> None:
        if call.method == "getUpdates" and call.ok and isinstance(call.result, list):
            for update in call.result:
                self.delivered.setdefault(update["update_id"], []).append(self.bot.generation)

    def _on_arrival(self, call: Call) -> None:
        if call.method == "getUpdates" and self.bot.alive and not self.bot_ready.is_set():
            self.first_poll_at = asyncio.get_running_loop().time()
            self.bot_ready.set()

    # -- set-up and tear-down

    async def setup(self) -> None:
        loop = asyncio.get_running_loop()
        self.deadline = loop.time() + self.args.time_limit
        await self.server.start()
        self.server.group(STAFF_CHAT_ID, title="کارشناسان")
        self.admin = self.server.user(ADMIN_ID, first_name="مدیر")
        self.db = await make_database(self.args.postgres, self.workdir, self.args.pg_admin_dsn)
        env = bot_env(
            self.workdir,
            BOT_TOKEN=TOKEN,
            BOT_API_URL=self.server.base_url,
            DATABASE_URL=self.db.url,
            STAFF_CHAT_ID=str(STAFF_CHAT_ID),
            ADMIN_IDS=str(ADMIN_ID),
            MAX_COMPLAINTS_PER_DAY="1000",
            POLLING_TIMEOUT="10",
            OUTBOX_POLL_SECONDS="0.5",
            CHAT_MESSAGES_PER_SECOND="20",
            # The simulated citizens answer faster than people; their nudges after a restart
            # would otherwise trip the flood guard, which is not under test here.
            FLOOD_MAX_UPDATES="1000",
            # The updates a killed process held are taken over once its lease runs out.
            LEASE_SECONDS=str(self.args.lease_seconds),
            LOG_LEVEL="INFO",
        )
        self.bot = BotProcess(env, self.workdir)
        self.server.on_call(self._on_arrival, on_arrival=True)
        self.server.on_call(self._on_answer)
        self.citizens = [Citizen(self, i) for i in range(self.args.citizens)]
        self.officer = Officer(self)

    async def start_bot(self, label: str) -> Restart:
        self.bot_ready.clear()
        self.first_poll_at = None
        await self.bot.start()
        restart = Restart(label)
        self.restarts.append(restart)
        return restart

    async def measure_recovery(self, restart: Restart, backlog: set[int], timeout: float) -> None:  # noqa: ASYNC109
        """Until the first getUpdates, then until the backlog left by the kill is sent and the
        outbox holds nothing pending (polling the database every 50 ms, bounded by timeout)."""
        start = self.bot.started_at
        watch = asyncio.create_task(self.watch_outbox(restart, backlog, start, timeout))
        if await self.wait_ready(timeout):
            assert self.first_poll_at is not None
            restart.to_first_poll = self.first_poll_at - start
        await watch

    async def watch_outbox(
        self,
        restart: Restart,
        backlog: set[int],
        since: float,
        timeout: float,  # noqa: ASYNC109
    ) -> None:
        """Note when the rows pending at ``since`` were sent, and when nothing was pending."""
        loop = asyncio.get_running_loop()
        restart.backlog = len(backlog)
        end = loop.time() + timeout
        while loop.time() < end and (restart.backlog_sent is None or restart.outbox_empty is None):
            try:
                pending = await self.db.pending_ids()
            except sa.exc.DBAPIError:  # the first start: the bot has not created the tables yet
                await asyncio.sleep(0.05)
                continue
            now = loop.time() - since
            if restart.backlog_sent is None and not (pending & backlog):
                restart.backlog_sent = now
            if restart.outbox_empty is None and not pending:
                restart.outbox_empty = now
            await asyncio.sleep(0.05)

    async def admin_setup(self) -> None:
        """The admin gives the officer the staff role (retried if the bot was down)."""
        group = self.server.groups[STAFF_CHAT_ID]
        for _ in range(5):
            seen = len(self.server.messages(STAFF_CHAT_ID))
            await group.send_text(self.admin, f"/staff add {OFFICER_ID} staff")
            if await self.server.wait_for(
                lambda s=seen: any(  # type: ignore[misc]
                    "کارکنان" in (m.text or "") for m in self.server.messages(STAFF_CHAT_ID)[s:]
                ),
                15,
            ):
                return
        raise RuntimeError("the bot never confirmed /staff add")

    async def finish(self, people: list[asyncio.Task[None]], officer_stop: asyncio.Event) -> None:
        """Stop new filings, let the open ones finish, claim every case, drain the outbox."""
        loop = asyncio.get_running_loop()
        end = loop.time() + self.args.final_timeout
        self.stop_filing.set()
        await asyncio.wait(people, timeout=max(1.0, end - loop.time()))
        for task in people:
            if not task.done():
                task.cancel()
                self.notes.append("a citizen was still filing at the final deadline")
        while loop.time() < end:
            unclaimed = await self.db.rows(sa.select(cases.c.id).where(cases.c.status == "new"))
            pending = await self.db.pending_ids()
            if not unclaimed and not pending and not self.server.updates.pending:
                break
            await asyncio.sleep(0.2)
        officer_stop.set()
        await self.bot.terminate()

    # -- the checks

    async def check_drafts(self) -> None:
        """With the bot dead: every citizen's last answered step is saved."""
        rows = await self.db.rows(sa.select(drafts.c.user_id, drafts.c.step))
        saved = {r["user_id"]: r["step"] for r in rows}
        descriptions = [
            r["description"]
            for r in await self.db.rows(sa.select(cases.c.citizen_id, cases.c.description))
        ]
        for citizen in self.citizens:
            if not citizen.filing or citizen.step is None:
                continue
            asked = ORDER.index(Step(citizen.step))
            step = saved.get(citizen.id)
            if step is not None and ORDER.index(Step(step)) >= asked:
                continue
            if step is None and citizen.step == Step.REVIEW:
                if any(t in d for t in citizen.tokens for d in descriptions):
                    continue  # submitted: the draft became a case
            self.counts.drafts_lost += 1
            self.drafts_detail.append(
                f"citizen {citizen.id} was asked {citizen.step}, database has {step or 'no draft'}"
            )

    async def check(self) -> dict[str, Any]:
        server = self.server
        case_rows = await self.db.rows(
            sa.select(cases.c.id, cases.c.code, cases.c.citizen_id, cases.c.status)
            .add_columns(cases.c.description, cases.c.holder_id)
            .order_by(cases.c.id)
        )
        codes = {r["code"]: r for r in case_rows}
        told: Counter[str] = Counter()
        for citizen in self.citizens:
            for m in server.messages(citizen.id):
                if RECEIVED in (m.text or ""):
                    code = plain_code(m.text or "")
                    if code:
                        told[code] += 1
        self.counts.complaints_lost = sum(1 for code in told if code not in codes)
        per_token: Counter[str] = Counter()
        for row in case_rows:
            for token in set(TOKEN_RE.findall(row["description"])):
                per_token[token] += 1
        self.counts.complaints_duplicated = sum(n - 1 for n in per_token.values() if n > 1)

        rows = await self.db.rows(sa.select(outbox).order_by(outbox.c.id))
        unsent = [r for r in rows if r["status"] != "sent"]
        staff_texts = [m.text or "" for m in server.messages(STAFF_CHAT_ID)]
        cards: Counter[str] = Counter()
        notices: Counter[str] = Counter()
        for row in case_rows:
            shown = code_shown(row["code"])
            cards[row["code"]] = sum(shown in t for t in staff_texts)
            notices[row["code"]] = sum(
                CLAIMED_NOTICE in (m.text or "") and shown in (m.text or "")
                for m in server.messages(row["citizen_id"])
            )
        no_card = [c for c, n in cards.items() if n == 0]
        stale_cards = sum(
            1
            for row in case_rows
            if row["holder_id"] is not None
            for m in server.messages(STAFF_CHAT_ID)
            if code_shown(row["code"]) in (m.text or "") and CLAIM_BUTTON in m.buttons()
        )
        claimed = [r["code"] for r in case_rows if r["holder_id"] is not None]
        no_notice = [c for c in claimed if notices[c] == 0]
        self.counts.notifications_lost = len(unsent) + len(no_card) + len(no_notice)

        handled = {
            r["update_id"]
            for r in await self.db.rows(
                sa.select(inbox.c.update_id).where(inbox.c.handled_at.is_not(None))
            )
        }
        confirmed = [
            u["update_id"]
            for u in server.updates.history
            if u["update_id"] <= server.updates.confirmed
        ]
        lost = [u for u in confirmed if u not in handled]
        self.counts.updates_lost = len(lost)
        return {
            "cases": len(case_rows),
            "told": len(told),
            "told_twice": sum(1 for n in told.values() if n > 1),
            "not_told": sum(1 for code in codes if code not in told),
            "claimed": len(claimed),
            "unclaimed": sum(1 for r in case_rows if r["status"] == "new"),
            "unsent": [(r["id"], r["purpose"], r["status"], r["last_error"]) for r in unsent],
            "no_card": no_card,
            "no_notice": no_notice,
            "cards_twice": sum(n - 1 for n in cards.values() if n > 1),
            "stale_cards": stale_cards,
            "notices_twice": sum(n - 1 for n in notices.values() if n > 1),
            "updates": len(server.updates.history),
            "confirmed": len(confirmed),
            "handled_twice_or_more": sum(1 for n in self.delivered.values() if len(n) > 1),
            "lost_detail": [
                f"{_describe_update(u)} (fetched by process {self.delivered.get(u['update_id'])})"
                for u in server.updates.history
                if u["update_id"] in lost
            ],
            "refused": [c.short() for c in server.refused],
            "nudges": sum(c.nudges for c in self.citizens),
            "filings_started": sum(c.filings_started for c in self.citizens),
        }

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.bot.terminate()
        await self.server.stop()
        await self.db.close()


# -- the kill scenario ---------------------------------------------------------------------------


def _is_card(call: Call) -> bool:
    return call.method == "sendMessage" and call.params.get("chat_id") == STAFF_CHAT_ID


def _is_outbox_delivery(call: Call) -> bool:
    if not call.ok or call.method != "sendMessage":
        return False
    if call.params.get("chat_id") == STAFF_CHAT_ID:
        return "🆕" in str(call.params.get("text", "")) or CLAIM_BUTTON in str(
            call.params.get("reply_markup", "")
        )
    body = str(call.params.get("text", ""))
    return CLAIMED_NOTICE in body or RECEIVED in body  # a notice, or a receipt if queued


async def kill_at(sim: Simulation, moment: str, timeout: float) -> str:  # noqa: ASYNC109
    """Kill the bot at ``moment``; returns a description of when it happened."""
    server, bot, rng = sim.server, sim.bot, sim.rng
    loop = asyncio.get_running_loop()
    began = loop.time()

    async def fallback() -> str:
        bot.kill()
        return f"{moment}: no chance within {timeout:.0f}s, killed anyway"

    if moment in ("filing", "confirm"):
        try:
            await sim.next_action(moment, timeout)
        except TimeoutError:
            return await fallback()
        delay = rng.uniform(0, 0.2 if moment == "filing" else 0.1)
        await asyncio.sleep(delay)
        bot.kill()
        return f"{moment} +{delay * 1000:.0f}ms"
    if moment in ("committed", "delivery-accepted"):
        fired = asyncio.get_running_loop().create_future()
        confirms: set[str] = set()

        async def collect_confirms() -> None:
            with contextlib.suppress(TimeoutError):
                while True:
                    qid = await sim.next_action("confirm", timeout + 5)
                    if qid:
                        confirms.add(qid)

        collector = asyncio.create_task(collect_confirms()) if moment == "committed" else None

        def listener(call: Call) -> None:
            if fired.done():
                return
            hit = (
                call.method == "answerCallbackQuery"
                and call.params.get("callback_query_id") in confirms
                if moment == "committed"
                else _is_outbox_delivery(call)
            )
            if hit:
                bot.kill()  # before the answer is even written back
                if moment == "committed":
                    fired.set_result("press answered")
                else:
                    fired.set_result("card" if _is_card(call) else "citizen message")

        remove = server.on_call(listener, on_arrival=moment == "committed")
        try:
            what = await asyncio.wait_for(fired, timeout)
        except TimeoutError:
            return await fallback()
        finally:
            remove()
            if collector is not None:
                collector.cancel()
        return f"{moment}: {what}"
    if moment == "delivery-inflight":
        hold = server.hold(_is_card)
        try:
            if not await server.wait_for(lambda: bool(hold.parked), timeout):
                return await fallback()
            bot.kill()
            await bot.wait_dead()
        finally:
            hold.release()
        return "delivery-inflight: card in flight"
    delay = rng.uniform(0.3, 5.0)
    await asyncio.sleep(max(0.0, delay - (loop.time() - began)))
    bot.kill()
    return f"random +{delay:.1f}s"


async def run_kills(args: argparse.Namespace, seed: int) -> tuple[Simulation, dict[str, Any]]:
    sim = Simulation(args, "kills", seed)
    await sim.setup()
    loop = asyncio.get_running_loop()
    officer_stop = asyncio.Event()
    try:
        restart = await sim.start_bot("first start")
        await sim.measure_recovery(restart, set(), args.round_timeout)
        await sim.admin_setup()
        people = [asyncio.create_task(c.run()) for c in sim.citizens]
        officer = asyncio.create_task(sim.officer.run(officer_stop))
        log(f"[{sim.name}] bot up; {len(sim.citizens)} citizens filing; workdir {sim.workdir}")
        # Every moment comes up equally often, in a random order.
        moments = [KILL_MOMENTS[i % len(KILL_MOMENTS)] for i in range(args.rounds)]
        sim.rng.shuffle(moments)
        for number, moment in enumerate(moments, start=1):
            if loop.time() > sim.deadline:
                sim.notes.append(f"time limit reached after {number - 1} rounds")
                break
            if not sim.bot.alive:  # it exited on its own (counted in bot.exits): start it again
                await sim.bot.wait_dead()
                restart = await sim.start_bot(f"{number:>2} after the bot exited on its own")
                await sim.measure_recovery(restart, await sim.db.pending_ids(), args.round_timeout)
                log(_restart_line(restart))
            what = await kill_at(sim, moment, args.round_timeout)
            sim.bot_ready.clear()
            await sim.bot.wait_dead()
            if args.verbose:
                u = sim.server.updates
                log(f"    killed; updates injected {u.last_injected}, confirmed {u.confirmed}")
            await sim.check_drafts()
            backlog = await sim.db.pending_ids()
            restart = await sim.start_bot(f"{number:>2} {what}")
            await sim.measure_recovery(restart, backlog, args.round_timeout)
            log(_restart_line(restart))
        await sim.finish(people, officer_stop)
        await asyncio.wait([officer], timeout=5)
        return sim, await sim.check()
    finally:
        officer_stop.set()
        await sim.close()


# -- the outage scenario -------------------------------------------------------------------------


async def run_outage(args: argparse.Namespace, seed: int) -> tuple[Simulation, dict[str, Any]]:
    sim = Simulation(args, "outage", seed)
    await sim.setup()
    loop = asyncio.get_running_loop()
    officer_stop = asyncio.Event()
    try:
        restart = await sim.start_bot("first start")
        await sim.measure_recovery(restart, set(), args.round_timeout)
        await sim.admin_setup()
        people = [asyncio.create_task(c.run()) for c in sim.citizens]
        officer = asyncio.create_task(sim.officer.run(officer_stop))
        log(f"[{sim.name}] bot up; {len(sim.citizens)} citizens filing; workdir {sim.workdir}")

        # Right after the second "received" goes out, Telegram goes away.
        started = loop.create_future()
        receipts = 0

        def listener(call: Call) -> None:
            nonlocal receipts
            if started.done() or not call.ok or call.method != "sendMessage":
                return
            if RECEIVED in str(call.params.get("text", "")):
                receipts += 1
                if receipts >= 2:
                    started.set_result(
                        sim.server.outage(seconds=args.outage_seconds, mode=args.outage_mode)
                    )

        remove = sim.server.on_call(listener)
        try:
            outage = await asyncio.wait_for(started, args.round_timeout * 3)
        finally:
            remove()
        log(f"[{sim.name}] outage begins: {args.outage_mode} for {args.outage_seconds:.0f}s")
        if args.outage_restart:
            await asyncio.sleep(args.outage_seconds / 2)
            sim.bot.kill()
            sim.bot_ready.clear()
            await sim.bot.wait_dead()
            await sim.start_bot("restarted during the outage")
        await outage.wait_over(timeout=args.outage_seconds + 30)
        ended = loop.time()
        backlog = await sim.db.pending_ids()
        log(
            f"[{sim.name}] outage over: {outage.refused} calls refused, "
            f"{len(backlog)} outbox rows waiting"
        )
        if not sim.bot.alive:
            await sim.bot.wait_dead()
            sim.notes.append(
                f"the bot exited during the outage (status {sim.bot.exits[-1:]}); "
                "restarted after it"
            )
            restart = await sim.start_bot("restarted after it exited during the outage")
            await sim.measure_recovery(restart, await sim.db.pending_ids(), args.round_timeout)
            log(_restart_line(restart))
        # Recovery, measured from the end of the outage.
        first_ok = loop.create_future()

        def polled(call: Call) -> None:
            if call.method == "getUpdates" and call.ok and not first_ok.done():
                first_ok.set_result(loop.time())

        remove = sim.server.on_call(polled)
        recovery = Restart("after the outage (from its end)")
        watch = asyncio.create_task(sim.watch_outbox(recovery, backlog, ended, 300))
        try:
            recovery.to_first_poll = await asyncio.wait_for(first_ok, 120) - ended
        except TimeoutError:
            pass
        finally:
            remove()
        await watch
        sim.restarts.append(recovery)
        log(_restart_line(recovery))
        await sim.pause(args.after_outage)  # the citizens go on filing for a while
        await sim.finish(people, officer_stop)
        await asyncio.wait([officer], timeout=5)
        return sim, await sim.check()
    finally:
        officer_stop.set()
        await sim.close()


# -- output --------------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    return f"{value:6.2f}s" if value is not None else "   n/a "


def _restart_line(r: Restart) -> str:
    if not r.backlog:  # nothing was waiting: nothing to time
        return (
            f"  {r.label[:58]:<58} first getUpdates {_seconds(r.to_first_poll)}  "
            "outbox: nothing was pending"
        )
    return (
        f"  {r.label[:58]:<58} first getUpdates {_seconds(r.to_first_poll)}  "
        f"outbox: {r.backlog} pending, all sent {_seconds(r.backlog_sent)}, "
        f"empty {_seconds(r.outbox_empty)}"
    )


def report(sim: Simulation, facts: dict[str, Any]) -> None:
    c = sim.counts
    log(f"\n== {sim.name} ({'PostgreSQL' if sim.args.postgres else 'SQLite'}) ==")
    for label, values in (
        ("to the first getUpdates", [r.to_first_poll for r in sim.restarts[1:]]),
        (
            "until the rows pending then were all sent",
            [r.backlog_sent for r in sim.restarts[1:] if r.backlog],
        ),
        (
            "until the outbox was empty (same rounds)",
            [r.outbox_empty for r in sim.restarts[1:] if r.backlog],
        ),
    ):
        known = sorted(v for v in values if v is not None)
        if known:
            log(
                f"recovery {label}: median {statistics.median(known):.2f}s, "
                f"max {known[-1]:.2f}s ({len(known)} of {len(values)} measured)"
            )
    log(
        f'cases {facts["cases"]}, citizens told "received" for {facts["told"]}, '
        f"claimed {facts['claimed']}, unclaimed {facts['unclaimed']}; "
        f"filings started {facts['filings_started']}, citizen nudges {facts['nudges']}, "
        f"updates {facts['updates']}"
    )
    log(f"complaints lost:        {c.complaints_lost}")
    log(f"complaints duplicated:  {c.complaints_duplicated}")
    log(f"notifications lost:     {c.notifications_lost}")
    log(f"drafts lost:            {c.drafts_lost}")
    for line in sim.drafts_detail:
        log(f"  {line}")
    log(
        f"updates lost:           {c.updates_lost} (of {facts['confirmed']} confirmed to "
        f"Telegram; LEASE_SECONDS={sim.args.lease_seconds:g})"
    )
    for line in facts["lost_detail"]:
        log(f"  {line}")
    if facts["unsent"]:
        log(f"  outbox rows not sent: {facts['unsent']}")
    if facts["no_card"]:
        log(f"  cases without a staff card: {facts['no_card']}")
    if facts["no_notice"]:
        log(f"  claimed cases whose citizen got no notice: {facts['no_notice']}")
    log("not failures by design, for the record:")
    log(
        f'  cases saved but the citizen never told "received" (the reply was lost): '
        f"{facts['not_told']}; told twice for one code: {facts['told_twice']}"
    )
    log(
        f"  staff cards sent twice: {facts['cards_twice']}, citizen notices sent twice: "
        f"{facts['notices_twice']} (the outbox delivers at least once); cards of claimed "
        f"cases still offering «{CLAIM_BUTTON}»: {facts['stale_cards']}"
    )
    log(
        f"  updates fetched more than once (a process was killed after fetching them and "
        f"before the offset moved past them; the inbox kept one row each): "
        f"{facts['handled_twice_or_more']} of {facts['updates']}"
    )
    log(f"  the bot exited on its own: {len(sim.bot.exits)} time(s) {sim.bot.exits}")
    log(f"  calls the fake Telegram refused: {len(facts['refused'])}")
    for line in facts["refused"][:10]:
        log(f"    {line}")
    for note in sim.notes:
        log(f"  note: {note}")


async def main_async(args: argparse.Namespace) -> int:
    started = time.monotonic()
    failures = 0
    scenarios: list[
        tuple[str, Callable[[argparse.Namespace, int], Awaitable[tuple[Simulation, Any]]]]
    ] = []
    if args.scenario in ("kills", "both"):
        scenarios.append(("kills", run_kills))
    if args.scenario in ("outage", "both"):
        scenarios.append(("outage", run_outage))
    for index, (_name, runner) in enumerate(scenarios):
        sim, facts = await runner(args, args.seed + index)
        report(sim, facts)
        failures += sim.counts.total()
        if sim.counts.total() or args.keep:
            log(f"  bot log kept in {sim.workdir}")
        else:
            shutil.rmtree(sim.workdir, ignore_errors=True)
    log(f"\ntotal {time.monotonic() - started:.0f}s; {'FAIL' if failures else 'OK'}")
    return 1 if failures else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", choices=["kills", "outage", "both"], default="both")
    p.add_argument("--rounds", type=int, default=20, help="kills and restarts (default 20)")
    p.add_argument("--citizens", type=int, default=4)
    p.add_argument("--postgres", action="store_true", help="a fresh database on 127.0.0.1:5432")
    p.add_argument("--pg-admin-dsn", default=PG_ADMIN_DSN)
    p.add_argument("--outage-seconds", type=float, default=60.0)
    p.add_argument("--outage-mode", choices=["502", "502-html", "drop"], default="502")
    p.add_argument(
        "--outage-restart",
        action="store_true",
        help="also kill and restart the bot in the middle of the outage",
    )
    p.add_argument("--after-outage", type=float, default=10.0, help="filing goes on this long")
    p.add_argument("--think-min", type=float, default=8.0, help="seconds between complaints")
    p.add_argument("--think-max", type=float, default=14.0)
    p.add_argument("--filing-timeout", type=float, default=240.0)
    p.add_argument("--round-timeout", type=float, default=30.0)
    p.add_argument("--final-timeout", type=float, default=180.0)
    p.add_argument("--time-limit", type=float, default=1800.0, help="per scenario, seconds")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the temp dir with the bot's log")
    p.add_argument("--verbose", action="store_true", help="log offsets at each kill")
    p.add_argument(
        "--lease-seconds", type=float, default=3.0, help="LEASE_SECONDS of the bot (default 3)"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
