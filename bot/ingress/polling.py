"""Long polling that loses nothing: the offset moves past an update only once it is committed.

python-telegram-bot's Updater confirms a batch as soon as it has fetched it, so whatever it had
fetched and not yet handled when the process died was gone. Here a batch is committed to the
inbox first, and only the next getUpdates carries the offset that confirms it. Handling is the
inbox workers' business, so a slow update never holds the offset back; a commit that fails
leaves the offset where it was, and Telegram sends the same batch again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Bot
from telegram.error import TelegramError
from telegram.warnings import PTBUserWarning

log = logging.getLogger(__name__)

Store = Callable[[list[dict[str, Any]]], Awaitable[None]]

READ_SLACK_SECONDS = 10.0  # beyond the long poll's own timeout
MAX_BACKOFF_SECONDS = 5.0  # one cheap request: no need to wait long for Telegram


class Poller:
    def __init__(
        self, bot: Bot, store: Store, *, timeout: int, allowed_updates: Sequence[str]
    ) -> None:
        self.bot = bot
        self.store = store
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates)
        self.offset: int | None = None  # the next update_id wanted: all before it are committed
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        # Polling after a webhook: Telegram refuses getUpdates while one is set. Its pending
        # updates are kept and come by polling instead.
        await self.bot.delete_webhook(drop_pending_updates=False)
        self._task = asyncio.create_task(self._run(), name="polling")

    async def stop(self) -> None:
        """Stop fetching; then confirm what was committed, so a restart is not sent it again
        (were it sent again, the inbox would skip it by its id)."""
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        if self.offset is not None:
            with contextlib.suppress(TelegramError, TimeoutError):
                await asyncio.wait_for(self._get(timeout=0, limit=1), READ_SLACK_SECONDS)

    async def _get(
        self,
        *,
        timeout: int,  # noqa: ASYNC109 - the long poll's own, sent to Telegram
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "timeout": timeout,
            "limit": limit,
            "allowed_updates": self.allowed_updates,
        }
        if self.offset is not None:
            params["offset"] = self.offset
        with warnings.catch_warnings():  # the raw call is on purpose: the inbox keeps raw JSON
            warnings.simplefilter("ignore", PTBUserWarning)
            result = await self.bot.do_api_request(
                "getUpdates", api_kwargs=params, read_timeout=timeout + READ_SLACK_SECONDS
            )
        return [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                batch = await self._get(timeout=self.timeout)
                if batch:
                    await self.store(batch)  # committed, or it raises and the offset stays
                    self.offset = max(int(u["update_id"]) for u in batch) + 1
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Telegram or the database away: wait, then again
                failures += 1
                delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** min(failures, 6))
                log.warning("polling: %s; again in %.1fs", _describe(exc), delay)
                await asyncio.sleep(delay)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"
