"""One process's life around the Application: receive into the inbox, handle from it, stop.

python-telegram-bot's `run_polling` drives its own Updater, which confirms updates on fetch;
the Application is built without one (`bot.app`) and `serve` runs it in the same order
instead: initialize, post_init, start, receive until told to stop, then stop receiving, let the
updates in hand finish, stop, post_stop (the outbox flush), shutdown, post_shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any

from telegram import Bot, Update
from telegram.ext import Application

from bot.context import Services
from bot.ingress.polling import Poller
from bot.ingress.webhook import WebhookServer, webhook_path_with_secret
from bot.services.inbox import Arrival, Handle
from bot.storage.rows import InboxRow
from bot.update_order import PerChatUpdateProcessor, order_key

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
NO_KEY = 0  # updates from nobody in particular (rare) share one lane
Screen = Callable[[Update], str]  # the flood guard: "ok", "warn" or "drop"
SCREENED_KEPT = 10_000  # verdicts kept for updates whose commit failed


ARRIVED_KEPT = 1_000  # updates read on arrival and kept for their handling (`arrived`)


def arrival(
    raw: dict[str, Any],
    screen: Screen | None = None,
    arrived: dict[int, Update] | None = None,
    bot: Bot | None = None,
) -> Arrival | None:
    """An update's inbox row, or None when the flood guard (`screen`) drops it. Its lane is
    its sender's, as in `bot.update_order`. An update that cannot be read is kept all the same
    (in the shared lane): its handling logs the error. The update, read with `bot` as the
    handlers read it, is kept in `arrived`, so that handling it here need not read it again."""
    update_id = int(raw["update_id"])
    try:
        update = Update.de_json(raw, bot)
    except Exception:
        return Arrival(update_id, NO_KEY, raw)
    verdict = screen(update) if screen is not None else "ok"
    if verdict == "drop":
        return None
    if arrived is not None:
        arrived[update_id] = update
        while len(arrived) > ARRIVED_KEPT:  # oldest first: dicts keep their order
            del arrived[next(iter(arrived))]
    key = order_key(update)
    return Arrival(update_id, NO_KEY if key is None else key, raw, verdict == "warn")


def _processor(app: App) -> PerChatUpdateProcessor:
    processor = app.update_processor
    assert isinstance(processor, PerChatUpdateProcessor), "bot.app builds it"
    return processor


def handler_for(app: App) -> Handle:
    """Run an inbox row through the Application as PTB would, through the update processor
    (its lanes, slots, timing and log context), with the verdict the flood guard gave when the
    row was received."""
    processor = _processor(app)

    async def handle(row: InboxRow) -> None:
        update = processor.arrived.pop(row["update_id"], None)
        if update is None:  # received by another process, or before a restart
            update = Update.de_json(row["payload"], app.bot)
        verdict = "warn" if row["flood_warning"] else "ok"
        await processor.run(update, app.process_update(update), verdict)

    return handle


class Ingress:
    """The inbox worker and one receiver: long polling, or a webhook server when WEBHOOK_URL
    is set."""

    def __init__(self, app: App, *, poll_timeout: int | None = None) -> None:
        self.app = app
        services: Services = app.bot_data["services"]
        self.worker = services.inbox
        settings = services.rt.settings
        self.settings = settings
        # The flood guard's verdicts on updates whose commit failed: the same update comes
        # again (the next getUpdates, Telegram's retry) and must not be counted again.
        self._screened: dict[int, str] = {}
        self.receiver: Poller | WebhookServer
        if settings.webhook_url:
            assert settings.webhook_secret is not None  # the settings refuse a webhook without
            self.receiver = WebhookServer(
                self.store,
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                path=settings.webhook_path,
                secret=settings.webhook_secret.get_secret_value(),
                secret_in_path=settings.profile.webhook_secret_in_path,
            )
        else:
            timeout = settings.polling_timeout if poll_timeout is None else poll_timeout
            self.receiver = Poller(
                app.bot, self.store, timeout=timeout, allowed_updates=Update.ALL_TYPES
            )

    @property
    def running(self) -> bool:
        return self.worker.running and self.receiver.running

    async def store(self, raw: list[dict[str, Any]]) -> None:
        """Commit what the flood guard lets in; returns once committed, raises if not."""
        screen, screened = _processor(self.app).screen, self._screened

        def once(update: Update) -> str:
            verdict = screened.get(update.update_id)
            if verdict is None:
                verdict = screened[update.update_id] = screen(update)
            return verdict

        arrived = _processor(self.app).arrived
        arrivals = [
            a for a in (arrival(u, once, arrived, self.app.bot) for u in raw) if a is not None
        ]
        if arrivals:
            try:
                await self.worker.receive(arrivals)
            finally:
                while len(screened) > SCREENED_KEPT:  # oldest first: dicts keep their order
                    del screened[next(iter(screened))]
        for u in raw:
            screened.pop(int(u["update_id"]), None)

    async def start(self) -> None:
        """Handle what a previous life left first, then receive."""
        self.worker.start()
        await self.receiver.start()
        if isinstance(self.receiver, WebhookServer):
            # Every process sets the same webhook at start: idempotent, and never deleted at
            # stop, since the other processes go on receiving.
            assert self.settings.webhook_url and self.settings.webhook_secret
            secret = self.settings.webhook_secret.get_secret_value()
            if self.settings.profile.webhook_secret_in_path:  # Bale: no secret header
                await self.app.bot.set_webhook(
                    url=webhook_path_with_secret(self.settings.webhook_url, secret),
                    allowed_updates=Update.ALL_TYPES,
                )
            else:
                await self.app.bot.set_webhook(
                    url=self.settings.webhook_url,
                    secret_token=secret,
                    allowed_updates=Update.ALL_TYPES,
                )
            log.info("webhook set; receiving on %s", self.settings.webhook_path)
        else:
            log.info("receiving by long polling")

    async def stop(self) -> None:
        await self.receiver.stop()
        await self.worker.stop()


async def serve(app: App, stop: asyncio.Event, *, poll_timeout: int | None = None) -> None:
    """Run the Application with an Ingress until `stop` is set."""
    ingress: Ingress | None = None
    try:
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        ingress = Ingress(app, poll_timeout=poll_timeout)
        await ingress.start()
        await stop.wait()
    finally:
        if ingress is not None:
            await ingress.stop()
        if app.running:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


def run(app: App) -> None:
    """`serve` until SIGINT or SIGTERM (the process's main entry)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await serve(app, stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    asyncio.run(main())
