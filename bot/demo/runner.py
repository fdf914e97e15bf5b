"""`python -m bot demo`: the real bot against the built-in Bot API server, and the web page.

Everything runs in one event loop on 127.0.0.1: the local Bot API server (bot.localapi), the
same `Application` `python -m bot` runs (built by `build_application` from settings that point
it at the local server), and the page. The demo is settings and a cast: the roles and the
unit's chat are given at start through the desk service, as an administrator would.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from telegram.ext import Application

from bot.app import build_application
from bot.config import ConfigError, Settings, load_settings
from bot.context import Services
from bot.demo import personas
from bot.demo import seed as seed_module
from bot.demo.seed import SeedRefused
from bot.demo.seed_plan import citizens as seed_citizens
from bot.demo.strings import BOT_NAME
from bot.demo.web import Page
from bot.i18n import _
from bot.ingress.runner import Ingress
from bot.localapi import FakeTelegram
from bot.localapi.profiles import PROFILES as SERVER_PROFILES
from bot.platform import PlatformName
from bot.storage.migrate import upgrade

log = logging.getLogger(__name__)

DEFAULT_PORT = 8080
PORTS_TRIED = 20  # 8080 and the next ones, when taken
HOST = "127.0.0.1"
DB_NAME = "demo.sqlite3"
SEED_CASES = 300


@dataclass(frozen=True)
class Options:
    port: int | None = None  # None: 8080 or the next free one; 0: any free port
    fresh: bool = False
    seed: bool = False
    seed_value: int = 1405
    data_dir: Path = Path("data/demo")
    platform: PlatformName = "telegram"  # "bale": the server plays Bale, the bot runs for it


def demo_settings(server: FakeTelegram, database_url: str) -> Settings:
    """The bot's settings for the demo: the usual ones (environment, .env), with the token,
    the API's address, the database and the chats taken from the cast, on the platform the
    server plays."""
    return load_settings(
        platform=server.profile.name,
        bot_token=personas.BOT_TOKEN,
        bot_api_url=server.base_url,
        database_url=database_url,
        staff_chat_id=personas.STAFF_GROUP.chat_id,
        manager_chat_ids=[personas.MANAGERS_GROUP.chat_id],
        admin_ids=[personas.ADMIN.user_id],
    )


def local_server(platform: PlatformName = "telegram") -> FakeTelegram:
    """The local Bot API server with the cast: everyone has an account, nobody has opened the
    bot yet (as on Telegram, the bot cannot write to them first), the groups have their
    members and the bot as a plain member with privacy mode on, as the README sets it up."""
    server = FakeTelegram(
        token=personas.BOT_TOKEN,
        bot_username=personas.BOT_USERNAME,
        bot_first_name=_(BOT_NAME),
        profile=SERVER_PROFILES[platform],
    )
    for p in personas.PERSONAS:
        server.user(
            p.user_id,
            p.first_name,
            last_name=p.last_name,
            phone=p.phone,
            username=None,
            started=False,
        )
    for g in personas.GROUPS:
        group = server.group(g.chat_id, title=g.title)
        for member in g.members:
            group.set_member(member, "member")
    return server


async def give_roles(services: Services) -> None:
    """The cast's roles and the unit's chat, as the administrator would set them with /staff
    and /units; setting them again changes nothing."""
    desk = services.desk
    admin = await desk.actor(personas.ADMIN.user_id)  # an administrator by ADMIN_IDS
    for p in personas.PERSONAS:
        if p.role is not None:
            refused = await desk.set_role(admin, p.user_id, p.role)
            assert refused is None, refused
    await desk.set_unit_chat(admin, personas.UNIT_CODE, personas.UNIT_GROUP.chat_id, None)


def _listen(port: int | None) -> socket.socket:
    """A listening socket on 127.0.0.1: `port`, or 8080 and up to the first free one."""
    candidates = [port] if port is not None else range(DEFAULT_PORT, DEFAULT_PORT + PORTS_TRIED)
    error: OSError | None = None
    for candidate in candidates:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, candidate))
        except OSError as exc:
            sock.close()
            error = exc
            continue
        sock.listen(128)
        sock.setblocking(False)
        return sock
    raise OSError(f"no free port from {candidates[0]}: {error}")


class Demo:
    """The running demo; `start()` returns the page's address, `stop()` ends everything."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.server = local_server(options.platform)
        self.app: Application | None = None  # type: ignore[type-arg]
        self.page: Page | None = None
        self.settings: Settings | None = None
        self._web: web.AppRunner | None = None
        self._running = False
        self._ingress: Ingress | None = None
        self._seeding = asyncio.Lock()

    @property
    def services(self) -> Services:
        assert self.app is not None
        return self.app.bot_data["services"]  # type: ignore[no-any-return]

    async def start(self) -> str:
        opts = self.options
        opts.data_dir.mkdir(parents=True, exist_ok=True)
        db = opts.data_dir / DB_NAME
        if opts.fresh:
            for suffix in ("", "-wal", "-shm", "-journal"):
                db.with_name(db.name + suffix).unlink(missing_ok=True)
        await self.server.start()
        self.settings = demo_settings(self.server, f"sqlite+aiosqlite:///{db}")
        await upgrade(self.settings.database_url)
        await self._build_bot()
        if opts.seed:
            try:
                log.info("seeded %d cases", await self._seed())
            except SeedRefused as exc:
                print(f"demo: no seed data added: {exc}", file=sys.stderr)
        await self._run_bot()
        self.page = Page(self.server, lambda: self.services, self.seed)
        self._web = web.AppRunner(
            self.page.app(), handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._web.setup()
        sock = _listen(opts.port)
        await web.SockSite(self._web, sock).start()
        port = sock.getsockname()[1]
        return f"http://{HOST}:{port}/"

    async def seed(self) -> int:
        """The page's «fill with sample data»: the seed plays a past through the services, so
        the bot must not run meanwhile (its outbox and jobs would act on a half-built past).
        Stop it, seed, start it again; what people send in the meantime waits in the local
        server, as it would on Telegram, and is answered after."""
        async with self._seeding:
            await self._stop_bot()
            try:
                await self._build_bot()
                return await self._seed()
            finally:
                await self._run_bot()

    async def _seed(self) -> int:
        """Seed through the services of the built, not yet running bot."""
        seed_value = self.options.seed_value
        for c in seed_citizens(seed_value, SEED_CASES):
            # Chats for the generated citizens, so that what the desk later sends them about
            # a seeded case is delivered rather than refused as a chat that does not exist.
            self.server.user(c.user_id, c.first_name, last_name=c.last_name, phone=c.phone)
        return await seed_module.seed(self.services, seed_value=seed_value, cases=SEED_CASES)

    async def _build_bot(self) -> None:
        """The Application as `python -m bot` builds it, with the cast's roles in place."""
        assert self.settings is not None
        self.app = app = build_application(self.settings)
        await give_roles(self.services)
        await app.initialize()

    async def _run_bot(self) -> None:
        """What `bot.ingress.runner.serve` does after initialize: post_init (the outbox worker,
        the jobs), start, then receiving into the inbox and handling from it."""
        app = self.app
        assert app is not None and app.post_init is not None
        await app.post_init(app)
        await app.start()
        self._ingress = Ingress(app)
        await self._ingress.start()
        self._running = True

    async def _stop_bot(self) -> None:
        """As `serve` stops: receiving (the updates in hand finish), update processing,
        post_stop (the outbox flushes while the server still answers), shutdown, post_shutdown
        (the engine closes)."""
        app, self.app = self.app, None
        if app is None:
            return
        if self._running:
            self._running = False
            assert self._ingress is not None and app.post_stop is not None
            await self._ingress.stop()
            await app.stop()
            await app.post_stop(app)
        await app.shutdown()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)

    async def stop(self) -> None:
        """The page first (its streams end), then the bot, then the server."""
        if self.page is not None:
            await self.page.close()
        if self._web is not None:
            await self._web.cleanup()
        async with self._seeding:
            await self._stop_bot()
        await self.server.stop()


async def serve(options: Options) -> None:
    """Run until Ctrl-C or SIGTERM, printing the page's address once it answers."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    demo = Demo(options)
    try:
        url = await demo.start()
        print(f"serving on {url}", flush=True)
        await stop.wait()
    finally:
        await demo.stop()


def main_demo(options: Options) -> int:
    try:
        asyncio.run(serve(options))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    return 0
