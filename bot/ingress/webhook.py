"""Webhook mode: an HTTP server that commits each update Telegram posts, then answers 200.

Telegram sends an update again until it gets a 2xx, so the answer waits for the commit (an
update accepted is never lost) and only for it: the handlers run later, in the inbox workers,
so a flooding sender cannot hold Telegram's connections. A failed commit answers 500 and
Telegram retries. Telegram also sends one chat's updates one at a time (the next only after the
previous was answered), which keeps their update_id order in the inbox whichever process got
them. Behind a reverse proxy, every process listens on its own WEBHOOK_LISTEN:WEBHOOK_PORT.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

Store = Callable[[list[dict[str, Any]]], Awaitable[None]]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1024 * 1024  # an update is a few kilobytes; files come by getFile


def refusal(
    path: str,
    headers: Mapping[str, str],
    *,
    expected_path: str,
    secret: str,
    secret_in_path: bool = False,
) -> int:
    """The HTTP status a request gets before its body is read: 0 when it comes from the
    messenger, 404 on another path, 403 without the right secret. Telegram sends the secret in
    a header; Bale has none (`Platform.webhook_secret_in_path`), so there the secret is the last
    segment of the path and any other path is 404."""
    if secret_in_path:
        served = webhook_path_with_secret(expected_path, secret)
        return 0 if hmac.compare_digest(path.encode(), served.encode()) else 404
    if path != expected_path:
        return 404
    sent = headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(sent.encode(), secret.encode()):
        return 403
    return 0


def webhook_path_with_secret(path: str, secret: str) -> str:
    """WEBHOOK_URL's path (or the URL itself) plus `/` and the secret, for a messenger that
    sends no secret header."""
    return f"{path.rstrip('/')}/{secret}"


class WebhookServer:
    def __init__(
        self,
        store: Store,
        *,
        listen: str,
        port: int,
        path: str,
        secret: str,
        secret_in_path: bool = False,
    ) -> None:
        self.store = store
        self.secret_in_path = secret_in_path
        self.listen = listen
        self.port = port  # 0: any free port; the one taken is here after start()
        self.path = path
        self._secret = secret
        self._runner: web.AppRunner | None = None

    @property
    def running(self) -> bool:
        return self._runner is not None

    def check(self, request: web.Request) -> int:
        return refusal(
            request.path,
            request.headers,
            expected_path=self.path,
            secret=self._secret,
            secret_in_path=self.secret_in_path,
        )

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.info("webhook server listening on %s:%s", self.listen, self.port)

    async def stop(self) -> None:
        """Stop listening (the webhook stays set: the other processes go on receiving)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        status = self.check(request)
        if status:
            return web.Response(status=status)
        if request.method != "POST":
            return web.Response(status=405)
        try:
            update = json.loads(await request.read())
        except (ValueError, RecursionError):  # not JSON, or nested past any update's depth
            return web.Response(status=400)
        if not _looks_like_update(update):
            return web.Response(status=400)
        try:
            await self.store([update])
        except Exception:  # Telegram sends it again
            log.exception("webhook: could not commit update %s", update["update_id"])
            return web.Response(status=500)
        return web.Response(status=200)


def _looks_like_update(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    update_id = value.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return False
    return -(2**63) <= update_id < 2**63  # the column's BIGINT: else no commit could ever pass
