"""The Open311 GeoReport v2 API over HTTP (aiohttp), in the bot's own process and event loop.

Thin: it reads the path, the query and the form, checks the API key, calls `Open311`, and
writes JSON or XML. Every request is audited (the key's name, method, path, status). Nothing
here logs a query string or a form: either may carry the key.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bot.services import apikeys
from bot.services.open311 import ApiError, Open311
from bot.services.runtime import Runtime
from bot.views import open311 as views
from bot.views.open311 import Format
from bot.web.openapi import document

log = logging.getLogger(__name__)

BASE = "/open311/v2"
MAX_BODY_BYTES = 64 * 1024
FMT = "{format:json|xml}"
KEY_NAME = web.RequestKey("key_name", str)
_API = web.AppKey("open311", Open311)
_RT = web.AppKey("runtime", Runtime)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _fmt(request: web.Request) -> Format:
    return "xml" if request.match_info.get("format") == "xml" else "json"


def _answer(answer: tuple[str, views.Plain], fmt: Format, status: int = 200) -> web.Response:
    return web.Response(
        body=views.encode(answer, fmt),
        status=status,
        headers={"Content-Type": views.CONTENT_TYPES[fmt], "Cache-Control": "no-store"},
    )


def _error(status: int, description: str, fmt: Format) -> web.Response:
    return _answer(views.errors(status, description), fmt, status)


def _first(values: Mapping[str, object]) -> dict[str, str]:
    """One text value per name (files and repeats beyond the first are ignored)."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if key not in out and isinstance(value, str):
            out[key] = value
    return out


async def _form(request: web.Request) -> dict[str, str]:
    if request.method != "POST":
        return {}
    try:
        return _first(await request.post())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the form could not be read") from None


async def _require_key(request: web.Request, form: Mapping[str, str]) -> None:
    key = form.get("api_key") or request.query.get("api_key")
    name = await apikeys.name_of(request.app[_RT], key)
    if name is None:
        raise ApiError(403, "api_key is missing or not valid")
    request[KEY_NAME] = name


@web.middleware
async def _errors_and_audit(request: web.Request, handler: Handler) -> web.StreamResponse:
    fmt = _fmt(request)
    try:
        response = await handler(request)
    except ApiError as exc:
        response = _error(exc.status, exc.description, fmt)
    except web.HTTPRequestEntityTooLarge:
        response = _error(413, "the request is too large", fmt)
    except web.HTTPException as exc:
        if exc.status >= 400:
            response = _error(exc.status, exc.reason, fmt)
            if "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
        else:
            raise
    except Exception:
        log.exception("open311: %s %s failed", request.method, request.path)
        response = _error(500, "internal error", fmt)
    try:
        await apikeys.audit(
            request.app[_RT],
            key_name=request.get(KEY_NAME),
            method=request.method,
            path=request.path,
            status=response.status,
        )
    except Exception:  # a failed audit row must not turn an answer into a 500
        log.exception("open311: audit failed")
    return response


async def _discovery(request: web.Request) -> web.Response:
    api = request.app[_API]
    base = api.rt.settings.open311_public_url or str(request.url.origin())
    return _answer(views.discovery(api.discovery(base)), _fmt(request))


async def _services(request: web.Request) -> web.Response:
    api = request.app[_API]
    api.check_jurisdiction(request.query.get("jurisdiction_id"))
    return _answer(views.services(api.services()), _fmt(request))


async def _definition(request: web.Request) -> web.Response:
    api = request.app[_API]
    api.check_jurisdiction(request.query.get("jurisdiction_id"))
    found = api.definition(request.match_info["service_code"])
    return _answer(views.definition(found), _fmt(request))


async def _create(request: web.Request) -> web.Response:
    api = request.app[_API]
    form = await _form(request)
    await _require_key(request, form)
    api.check_jurisdiction(form.get("jurisdiction_id") or request.query.get("jurisdiction_id"))
    return _answer(views.created(await api.create(form)), _fmt(request))


async def _list(request: web.Request) -> web.Response:
    api = request.app[_API]
    await _require_key(request, {})
    query = _first(request.query)
    api.check_jurisdiction(query.get("jurisdiction_id"))
    found = await api.requests(query)
    return _answer(views.requests(found, api.rt.settings.tz), _fmt(request))


async def _one(request: web.Request) -> web.Response:
    api = request.app[_API]
    await _require_key(request, {})
    api.check_jurisdiction(request.query.get("jurisdiction_id"))
    found = await api.request(request.match_info["service_request_id"])
    return _answer(views.requests([found], api.rt.settings.tz), _fmt(request))


async def _openapi(request: web.Request) -> web.Response:
    api = request.app[_API]
    return web.json_response(document(api.jurisdiction), headers={"Cache-Control": "no-store"})


def application(api: Open311) -> web.Application:
    app = web.Application(middlewares=[_errors_and_audit], client_max_size=MAX_BODY_BYTES)
    app[_API] = api
    app[_RT] = api.rt
    app.router.add_get(f"/open311/discovery.{FMT}", _discovery)
    app.router.add_get(f"{BASE}/services.{FMT}", _services)
    app.router.add_get(f"{BASE}/services/{{service_code:[^/]+}}.{FMT}", _definition)
    app.router.add_post(f"{BASE}/requests.{FMT}", _create)
    app.router.add_get(f"{BASE}/requests.{FMT}", _list)
    app.router.add_get(f"{BASE}/requests/{{service_request_id:[^/]+}}.{FMT}", _one)
    app.router.add_get(f"{BASE}/openapi.json", _openapi)
    return app


class Open311Server:
    """Started from the application's post_init (like the health server); `port=0` picks a
    free port (see `.port`)."""

    def __init__(self, api: Open311, *, host: str, port: int) -> None:
        self.api = api
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        # No access log: a query string may carry the api_key.
        self._runner = web.AppRunner(application(self.api), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # the bound socket tells the port picked
            self.port = int(self._runner.addresses[0][1])
        log.info("Open311 API on http://%s:%d%s", self.host, self.port, BASE)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
