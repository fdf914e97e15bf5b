"""The Open311 GeoReport v2 API over HTTP (aiohttp), in the bot's own process and event loop.

Thin: it reads the path, the query and the form, checks the API key, counts the request
against its caller's window (`ApiLimits`: the key's, or the client address's without a valid
key), calls `Open311`, and writes JSON or XML. Requests with a valid key are audited (the key's
name, method, path, status), except those refused for their rate: what an unknown caller sends
writes nothing, so a flood cannot grow the table. Nothing here logs a query string or a form:
either may carry the key.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bot.services import apikeys
from bot.services.api_limits import ApiLimits, address_caller, key_caller
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
FORM = web.RequestKey("form", dict[str, str])
LIMITED = web.RequestKey("limited", bool)
_API = web.AppKey("open311", Open311)
_LIMITS = web.AppKey("limits", ApiLimits)
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


def _refusal(exc: ApiError, fmt: Format) -> web.Response:
    response = _error(exc.status, exc.description, fmt)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


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


def _require_key(request: web.Request) -> str:
    if KEY_NAME not in request:
        raise ApiError(403, "api_key is missing or not valid")
    return request[KEY_NAME]


async def _admit(request: web.Request) -> None:
    """Who asks (a valid key, else the client's address) and whether their window has room:
    else 429, with the seconds to wait. A POST is a write (it files a case), anything else a
    read; a key's writes and reads count wherever it asks, an address's the same. A form too
    large or unreadable counts against the address before it is refused."""
    unread: Exception | None = None
    try:
        form = await _form(request)
    except (ApiError, web.HTTPRequestEntityTooLarge) as exc:
        form, unread = {}, exc
    request[FORM] = form
    name = await apikeys.name_of(
        request.app[_RT], form.get("api_key") or request.query.get("api_key")
    )
    if name is not None:
        request[KEY_NAME] = name
        caller = key_caller(name)
    else:
        proxies = request.app[_RT].settings.open311_trusted_proxies
        forwarded = request.headers.getall("X-Forwarded-For", [])
        caller = address_caller(request.remote, forwarded, proxies)
    wait = await request.app[_LIMITS].retry_after(caller, write=request.method == "POST")
    if wait:
        request[LIMITED] = True
        raise ApiError(429, f"too many requests: try again in {wait} seconds", retry_after=wait)
    if unread is not None:
        raise unread


@web.middleware
async def _errors_and_audit(request: web.Request, handler: Handler) -> web.StreamResponse:
    fmt = _fmt(request)
    try:
        await _admit(request)
        response = await handler(request)
    except ApiError as exc:
        response = _refusal(exc, fmt)
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
    if request.get(KEY_NAME) is None or request.get(LIMITED):
        return response
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
    form = request[FORM]
    name = _require_key(request)
    api.check_jurisdiction(form.get("jurisdiction_id") or request.query.get("jurisdiction_id"))
    return _answer(views.created(await api.create(form, name)), _fmt(request))


async def _list(request: web.Request) -> web.Response:
    api = request.app[_API]
    name = _require_key(request)
    query = _first(request.query)
    api.check_jurisdiction(query.get("jurisdiction_id"))
    found = await api.requests(query, name)
    return _answer(views.requests(found, api.rt.settings.tz), _fmt(request))


async def _one(request: web.Request) -> web.Response:
    api = request.app[_API]
    name = _require_key(request)
    api.check_jurisdiction(request.query.get("jurisdiction_id"))
    found = await api.request(request.match_info["service_request_id"], name)
    return _answer(views.requests([found], api.rt.settings.tz), _fmt(request))


async def _openapi(request: web.Request) -> web.Response:
    api = request.app[_API]
    return web.json_response(document(api.jurisdiction), headers={"Cache-Control": "no-store"})


def application(api: Open311, limits: ApiLimits) -> web.Application:
    app = web.Application(middlewares=[_errors_and_audit], client_max_size=MAX_BODY_BYTES)
    app[_API] = api
    app[_LIMITS] = limits
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

    def __init__(self, api: Open311, limits: ApiLimits, *, host: str, port: int) -> None:
        self.api = api
        self.limits = limits
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        # No access log: a query string may carry the api_key.
        self._runner = web.AppRunner(application(self.api, self.limits), access_log=None)
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
        await self.limits.close()
