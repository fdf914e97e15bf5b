"""The real bot, started against the fake Bot API server, with a clock the test can move."""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application

from bot.app import build_application
from bot.config import Settings, load_settings
from bot.context import Services
from bot.ingress.runner import Ingress
from bot.ingress.webhook import WebhookServer
from bot.localapi import FakeTelegram, Limits
from bot.localapi.profiles import PROFILES as SERVER_PROFILES
from bot.localapi.webhook import WebhookDelivery
from bot.storage import inbox as inbox_store
from tests.clock import Clock
from tests.persian_output import assert_persian_output

STAFF_CHAT_ID = -1001000000001
# Bale's groups are plain groups whose ids have no known shape: the Bale runs use a positive
# one, so that nothing that tells a group by the sign of its id can pass.
BALE_STAFF_CHAT_ID = 5_100_000_001
STAFF_CHAT_IDS = {"telegram": STAFF_CHAT_ID, "bale": BALE_STAFF_CHAT_ID}
# Test citizens answer faster than people can, so both sides get a faster window; the bot keeps
# well below the server so that a loaded CI machine bunching requests still meets no 429.
FAST_CHAT_RATE = 20
FAST_SERVER_RATE = 40
_UPDATE_IDS = itertools.count(1, 1_000_000)


@dataclass
class Bot:
    """A running bot and its fake Telegram."""

    server: FakeTelegram
    settings: Settings
    clock: Clock
    app: Application = field(init=False)  # type: ignore[type-arg]
    ingress: Ingress = field(init=False)

    @property
    def services(self) -> Services:
        return self.app.bot_data["services"]  # type: ignore[no-any-return]

    async def start(self) -> None:
        """What `bot.ingress.serve` does, step by step, so that the test holds the pieces."""
        self.app = build_application(self.settings, clock=self.clock, rng=random.Random())
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        await self.app.start()
        self.ingress = Ingress(self.app, poll_timeout=1)
        await self.ingress.start()

    async def stop(self) -> None:
        # The order `serve` uses: stop receiving and let the updates in hand finish, stop,
        # post_stop (the outbox flushes), shutdown, post_shutdown.
        await self.ingress.stop()
        await self.app.stop()
        assert self.app.post_stop is not None and self.app.post_shutdown is not None
        await self.app.post_stop(self.app)
        await self.app.shutdown()
        await self.app.post_shutdown(self.app)

    @property
    def webhook_address(self) -> str:
        """Where this bot's webhook server listens (webhook mode only)."""
        receiver = self.ingress.receiver
        assert isinstance(receiver, WebhookServer)
        return f"http://{receiver.listen}:{receiver.port}"

    async def inbox_waiting(self, lane_key: int) -> int:
        """This sender's updates received and not handled yet (the one in hand included)."""
        async with self.services.rt.engine.connect() as conn:
            rows = await inbox_store.unhandled(conn)
        return sum(r["lane_key"] == lane_key for r in rows)

    async def restart(self) -> None:
        """Stop and start again. A real process restart takes longer than Telegram's
        one-second overall window, and the new process's pacing starts empty: let that window
        pass, as it would, before the new bot sends anything."""
        await self.stop()
        await asyncio.sleep(self.server.rate.quiet_in(1.0))
        await self.start()


def make_settings(server: FakeTelegram, db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "platform": server.profile.name,
        "bot_token": server.token,
        "bot_api_url": server.base_url,
        "database_url": db_url,
        "staff_chat_id": STAFF_CHAT_IDS[server.profile.name],
        "max_complaints_per_day": 3,
        "outbox_poll_seconds": 0.2,
        # Test citizens answer faster than people can; see test_pacing for the real window.
        "chat_messages_per_second": FAST_CHAT_RATE,
        # A loaded CI machine bunches requests on their way; stay clearly under Telegram's 30.
        "messages_per_second": 24,
        "flood_max_updates": 10_000,  # likewise: test_abuse checks the real guard
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


@asynccontextmanager
async def running_bot(
    db_url: str, *, limits: Limits | None = None, platform: str = "telegram", **overrides: Any
) -> AsyncIterator[Bot]:
    """The bot on `platform` ("telegram" or "bale"): the server plays that messenger
    (bot/localapi/profiles.py) and the bot runs with PLATFORM set to it."""
    limits = limits or Limits(private_per_second=FAST_SERVER_RATE)
    profile = SERVER_PROFILES[platform]
    async with FakeTelegram(
        token="123456:TEST-TOKEN-abcdef", limits=limits, profile=profile
    ) as server:
        # Update ids grow across the bots of one test run, as Telegram's do for one bot: a test
        # that starts a second bot on the same database must not look like a redelivery.
        server.updates.next_id = next(_UPDATE_IDS)
        server.group(STAFF_CHAT_IDS[platform], title="Staff")
        bot = Bot(server, make_settings(server, db_url, **overrides), Clock())
        await bot.start()
        try:
            yield bot
        finally:
            await bot.stop()
        server.assert_no_refusals()
        # Every text of this run, whichever test and audience: Persian digits, right-to-left.
        assert_persian_output(server.calls)
        if not profile.parse_mode:  # the server shows text as sent: no tag may get there
            assert markup_seen(server) == [], "\n".join(markup_seen(server))


WEBHOOK_URL = "https://bot.example.ir/telegram/hook"  # the public address; a proxy passes it on
WEBHOOK_SECRET = "test-webhook-SECRET_42"


@asynccontextmanager
async def webhook_bots(
    db_url: str,
    count: int = 1,
    *,
    limits: Limits | None = None,
    platform: str = "telegram",
    **overrides: Any,
) -> AsyncIterator[tuple[list[Bot], WebhookDelivery]]:
    """`count` bots in webhook mode over one database, as processes behind one address: the
    fake Telegram posts each update to them in turn (a reverse proxy's round robin), one
    chat's updates one at a time, as Telegram does."""
    limits = limits or Limits(private_per_second=FAST_SERVER_RATE)
    profile = SERVER_PROFILES[platform]
    async with FakeTelegram(
        token="123456:TEST-TOKEN-abcdef", limits=limits, profile=profile
    ) as server:
        server.updates.next_id = next(_UPDATE_IDS)
        server.group(STAFF_CHAT_IDS[platform], title="Staff")
        settings = make_settings(
            server,
            db_url,
            webhook_url=WEBHOOK_URL,
            webhook_secret=WEBHOOK_SECRET,
            webhook_port=0,  # any free port: the proxy (here, the fake) is told which
            **overrides,
        )
        clock = Clock()  # one machine, one clock
        bots = [Bot(server, settings, clock) for _ in range(count)]
        started: list[Bot] = []
        try:
            for bot in bots:
                await bot.start()
                started.append(bot)
            upstreams = [bot.webhook_address for bot in bots]
            async with WebhookDelivery(server, upstreams=upstreams) as delivery:
                yield bots, delivery
        finally:
            for bot in started:
                await bot.stop()
        server.assert_no_refusals()
        assert_persian_output(server.calls)


MARKUP_SEEN = re.compile(
    r"</?[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?>|&(?:amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);"
)


def markup_seen(server: FakeTelegram) -> list[str]:
    """Every text a user was shown (messages, captions, each edit, button answers) that holds
    an HTML tag or entity: on a platform that shows text literally, each is a bug."""
    seen: list[str] = []
    for chat in server.chats.values():
        for message in chat.bot_messages:
            for shown in (*message.history, message.text):
                if shown and MARKUP_SEEN.search(shown):
                    seen.append(f"chat {chat.id} #{message.message_id}: {shown[:200]!r}")
    for record in server.callbacks.values():
        answer_text = str((record.answer or {}).get("text") or "")
        if MARKUP_SEEN.search(answer_text):
            seen.append(f"answer to {record.id}: {answer_text!r}")
    return seen
