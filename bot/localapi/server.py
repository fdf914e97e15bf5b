"""FakeTelegram: a real HTTP Bot API server on 127.0.0.1 for end-to-end tests.

It runs in the test's event loop next to the real PTB Application, answers exactly like
Telegram (including refusals and their wording), and lets the test act as users and wait for
the bot's reaction without sleeping: every state change wakes ``wait_until``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import api_edit, api_misc, api_send  # noqa: F401  (they register the methods)
from . import errors as E
from .actors import FakeGroup, FakeUser
from .errors import ApiError, bad_request
from .limits import Limits
from .models import BotMessage, Call, ChatState, group_anonymous_bot
from .outage import (
    BAD_GATEWAY,
    CONNECTION_RESET,
    OUTAGE_MODES,
    Hold,
    Outage,
    OutageInterrupt,
    interruptible,
    outage_response,
)
from .profiles import ServerProfile
from .registry import HANDLERS, generic_handler
from .spec import ParamDecodeError, decode_value, lookup
from .state import ApiRequest, ServerState, Upload

if TYPE_CHECKING:
    from telegram.ext import ApplicationBuilder

    from .registry import Handler

log = logging.getLogger("localapi")
_dumps = partial(json.dumps, ensure_ascii=False)


@dataclass
class _Failure:
    method: str
    error_code: int
    description: str
    retry_after: int | None
    migrate_to_chat_id: int | None
    chat_id: int | str | None
    times: int


def _default_description(code: int, retry_after: int | None) -> str:
    return {
        429: E.too_many_requests(retry_after or 3),
        400: "Bad Request: injected failure",
        401: E.UNAUTHORIZED,
        403: E.BLOCKED,
        409: E.CONFLICT_POLL,
        500: "Internal Server Error",
        502: "Bad Gateway",
    }.get(code, f"Error {code}: injected failure")


class FakeTelegram(ServerState):
    """A fake Bot API server; see the package docstring for the test-facing API."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "tazirat_test_bot",
        limits: Limits | None = None,
        *,
        bot_first_name: str = "Tazirat Test Bot",
        clock: Callable[[], float] | None = None,
        profile: ServerProfile | None = None,
    ) -> None:
        super().__init__(token, bot_username, limits, bot_first_name, clock, profile)
        self.calls: list[Call] = []
        self._failures: list[_Failure] = []
        self._expected: list[Callable[[Call], bool]] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.outages: list[Outage] = []
        self._outage: Outage | None = None
        self._outage_begun = asyncio.Event()
        self._holds: list[Hold] = []
        self._listeners: list[Callable[[Call], None]] = []
        self._arrival_listeners: list[Callable[[Call], None]] = []

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeTelegram:
        """Listen on a free port of 127.0.0.1; ``base_url`` is set afterwards."""
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a poll whose client went away (PTB cancels its pending
        # getUpdates on shutdown) ends at once instead of blocking the next poll.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    def application_builder(self) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
        """A PTB ApplicationBuilder already pointed at this server (token and URLs set)."""
        from telegram.ext import ApplicationBuilder

        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(f"{self.base_url}/bot")
            .base_file_url(f"{self.base_url}/file/bot")
        )

    async def stop(self) -> None:
        """Answer waiting polls and close the listener."""
        if self._outage is not None:
            self._outage.end()
        for hold in list(self._holds):
            hold.release()
        self.updates.terminate_pollers()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ waiting

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the test-facing contract
        *,
        describe: str | Callable[[], str] | None = None,
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking on every server state change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                header = describe() if callable(describe) else describe
                raise AssertionError(
                    f"{header or 'wait_until: condition not met'} (timeout {timeout}s)\n"
                    + self.dump()
                )
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                pass

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109
    ) -> bool:
        """Like ``wait_until``, but answers False on timeout instead of raising (for callers,
        such as simulated people, for whom silence is an outcome, not a failure)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass
        return True

    async def wait_updates_consumed(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot confirmed (via getUpdates offset) every injected update.

        Confirmation means PTB *fetched* them; it says nothing about handlers having finished.
        """
        await self.wait_until(
            lambda: not self.updates.pending,
            timeout,
            describe=lambda: f"updates not consumed: pending {self.updates.pending!r}",
        )

    @property
    def updates_confirmed(self) -> int:
        """Highest update_id the bot confirmed with a getUpdates offset."""
        return self.updates.confirmed

    # ------------------------------------------------------------------ actors

    def user(
        self,
        user_id: int,
        first_name: str = "User",
        username: str | None = None,
        language_code: str | None = "fa",
        phone: str | None = None,
        *,
        last_name: str | None = None,
        started: bool = True,
    ) -> FakeUser:
        """A user with a private chat (chat id == user id); same id -> same object.

        ``started=False`` models a user who never opened the bot: sends to them are refused
        with 403 "bot can't initiate conversation with a user" until they message the bot.
        """
        if user_id in self.users:
            return self.users[user_id]
        if user_id <= 0:
            raise ValueError("user ids are positive")
        self.chats[user_id] = ChatState(
            id=user_id,
            type="private",
            first_name=first_name,
            last_name=last_name,
            username=username,
            started=started,
        )
        fake = FakeUser(self, user_id, first_name, username, language_code, phone, last_name)
        self.users[user_id] = fake
        self.notify()
        return fake

    def group(
        self,
        chat_id: int,
        title: str = "Group",
        is_forum: bool = False,
        *,
        bot_status: str = "member",
        privacy_mode: bool | None = None,
        username: str | None = None,
    ) -> FakeGroup:
        """A group the bot is in; ids starting with -100 are supergroups (on Bale every group
        is a plain group, with an id of any sign).

        With ``privacy_mode`` (Telegram's default; None: the profile's) and a bot that is not
        an administrator, only commands, mentions of the bot, replies to the bot and service
        messages reach it; the others are recorded in ``server.undelivered``.
        """
        if chat_id in self.groups:
            return self.groups[chat_id]
        if chat_id in self.chats:
            raise ValueError(f"chat {chat_id} is a user's private chat")
        kind = self.profile.group_kind(chat_id)
        if privacy_mode is None:
            privacy_mode = self.profile.privacy_mode
        if is_forum and kind != "supergroup":
            raise ValueError("only supergroups (-100...) can be forums")
        self.chats[chat_id] = ChatState(
            id=chat_id,
            type=kind,
            title=title,
            is_forum=is_forum,
            bot_status=bot_status,
            privacy_mode=privacy_mode,
            username=username,
        )
        fake = FakeGroup(self, chat_id)
        self.groups[chat_id] = fake
        self.notify()
        return fake

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them answer 403."""
        self._private(user_id).blocked = True
        self.notify()

    def unblock(self, user_id: int) -> None:
        self._private(user_id).blocked = False
        self.notify()

    def kick(self, chat_id: int) -> None:
        """The bot is removed from the group: every call about it answers 403."""
        self._group_chat(chat_id).kicked = True
        self.notify()

    def migrate(
        self, old_chat_id: int, new_chat_id: int, *, by: FakeUser | None = None
    ) -> FakeGroup:
        """Upgrade a basic group to a supergroup: the old id then answers 400 with
        ``migrate_to_chat_id``. With ``by`` (who upgraded it) the bot also gets Telegram's
        two service messages, in this order: ``migrate_to_chat_id`` in the old group from
        ``by``, then ``migrate_from_chat_id`` in the supergroup, from GroupAnonymousBot with
        the supergroup as ``sender_chat``."""
        old = self._group_chat(old_chat_id)
        if not self.profile.supergroups:
            raise ValueError(f"{self.profile.name} has no supergroups")
        if old.type != "group":
            raise ValueError("only basic groups migrate")
        new_group = self.group(
            new_chat_id,
            title=old.title or "",
            bot_status=old.bot_status,
            privacy_mode=old.privacy_mode,
        )
        new_chat = self.chats[new_chat_id]
        new_chat.members.update(old.members)
        if by is not None:
            told = self.add_message(old, by.as_dict(), {"migrate_to_chat_id": new_chat_id})
            self.deliver(old, told)
            told = self.add_message(
                new_chat,
                group_anonymous_bot(),
                {"migrate_from_chat_id": old_chat_id},
                extra={"sender_chat": new_chat.as_dict()},
            )
            self.deliver(new_chat, told)
        old.migrated_to = new_chat_id
        self.notify()
        return new_group

    def _private(self, user_id: int) -> ChatState:
        chat = self.chats.get(user_id)
        if chat is None or chat.type != "private":
            raise KeyError(f"no user {user_id}; create it with server.user()")
        return chat

    def _group_chat(self, chat_id: int) -> ChatState:
        chat = self.chats.get(chat_id)
        if chat is None or not chat.is_group:
            raise KeyError(f"no group {chat_id}; create it with server.group()")
        return chat

    # ------------------------------------------------------------------ test-side inspection

    def messages(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages in a chat (not deleted), edits applied."""
        chat = self.chats.get(chat_id)
        return [m for m in chat.bot_messages if not m.deleted] if chat else []

    @property
    def refused(self) -> list[Call]:
        """Refused calls the test did not arrange: these are bot bugs."""
        return [c for c in self.calls if not c.ok and not c.expected]

    def assert_no_refusals(self) -> None:
        refused = self.refused
        if refused:
            lines = "\n".join("  " + c.short() for c in refused)
            raise AssertionError(f"Telegram refused {len(refused)} call(s):\n{lines}")

    def expect_refusal(self, predicate: Callable[[Call], bool] | str) -> None:
        """Mark matching refusals (past and future) as expected; a str matches the
        description as a substring."""
        if isinstance(predicate, str):
            needle = predicate
            predicate = lambda c: needle in (c.description or "")  # noqa: E731
        self._expected.append(predicate)
        for call in self.calls:
            if not call.ok and predicate(call):
                call.expected = True

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (optionally only for ``chat_id``)
        with this error; such calls are recorded with ``expected=True``."""
        if error_code == 429 and retry_after is None:
            retry_after = 3
        self._failures.append(
            _Failure(
                method.lower(),
                error_code,
                description or _default_description(error_code, retry_after),
                retry_after,
                migrate_to_chat_id,
                chat_id,
                times,
            )
        )

    # ------------------------------------------------------------------ outages, holds, listeners

    def outage(self, seconds: float | None = None, mode: str = "502") -> Outage:
        """Make the whole Bot API unreachable, now, for ``seconds`` (None: until ``end()``).

        ``mode`` is "502" (HTTP 502 with Telegram's ``{"ok":false,"error_code":502,
        "description":"Bad Gateway"}``), "502-html" (HTTP 502 with nginx's HTML page) or
        "drop" (the connection is reset, no answer at all). Calls already in flight - a
        parked long poll, a held call - get the same answer. Every refused call is recorded
        with ``outage=True`` and ``expected=True``, so ``assert_no_refusals`` ignores it.
        """
        if mode not in OUTAGE_MODES:
            raise ValueError(f"mode must be one of {OUTAGE_MODES}, not {mode!r}")
        if self._outage is not None:
            raise RuntimeError("an outage is already going on")
        loop = asyncio.get_running_loop()
        outage = Outage(mode=mode, seconds=seconds, started=loop.time(), server=self)
        if seconds is not None:
            outage._timer = loop.call_later(max(0.0, seconds), outage.end)
        self._outage = outage
        self.outages.append(outage)
        self._outage_begun.set()  # interrupts parked polls and held calls
        log.info("outage begins (%s, %s s)", mode, seconds)
        self.notify()
        return outage

    def end_outage(self) -> None:
        """End the current outage, if any."""
        if self._outage is not None:
            self._outage.end()

    def _end_outage(self, outage: Outage) -> None:
        if outage.ended is not None:
            return
        outage.ended = asyncio.get_running_loop().time()
        if outage._timer is not None:
            outage._timer.cancel()
        if self._outage is outage:
            self._outage = None
            self._outage_begun = asyncio.Event()
        outage._over.set()
        log.info(
            "outage over after %.2f s, %d calls refused",
            outage.ended - outage.started,
            outage.refused,
        )
        self.notify()

    @property
    def outage_active(self) -> bool:
        return self._outage is not None

    @property
    def outage_refusals(self) -> list[Call]:
        """Every call answered by an outage (they are also in ``calls``)."""
        return [c for c in self.calls if c.outage]

    def hold(self, predicate: Callable[[Call], bool] | str) -> Hold:
        """Park calls matching ``predicate`` (a str: that method) until ``release()``.

        The call is read and checked (token, method, parameters) before it is parked, so the
        predicate sees ``call.params``. Parked calls are not processed: the test decides what
        happens first. An outage beginning meanwhile answers them with the outage.
        """
        if isinstance(predicate, str):
            method = predicate.lower()
            predicate = lambda c: c.method.lower() == method  # noqa: E731
        hold = Hold(predicate=predicate, server=self)
        self._holds.append(hold)
        return hold

    def on_call(
        self, listener: Callable[[Call], None], *, on_arrival: bool = False
    ) -> Callable[[], None]:
        """Call ``listener(call)`` each time a call has been answered and recorded (before the
        answer is written to the socket), or with ``on_arrival=True`` as soon as the call has
        been read (method and parameters known; a long poll is then still to be answered).
        Returns a function that removes the listener."""
        listeners = self._arrival_listeners if on_arrival else self._listeners
        listeners.append(listener)

        def remove() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return remove

    def _notify_listeners(self, listeners: list[Callable[[Call], None]], call: Call) -> None:
        for listener in list(listeners):
            try:
                listener(call)
            except Exception:
                log.exception("FakeTelegram: on_call listener failed")

    def dump(self, calls: int = 25) -> str:
        """Readable state for assertion messages."""
        u = self.updates
        lines = [
            f"--- FakeTelegram: updates injected={u.last_injected} confirmed={u.confirmed} "
            f"pending={[x['update_id'] for x in u.pending]}"
        ]
        if self._outage is not None:
            lines.append(
                f"OUTAGE in progress: mode={self._outage.mode} seconds={self._outage.seconds} "
                f"refused so far={self._outage.refused}"
            )
        parked = [c for h in self._holds for c in h.parked]
        if parked:
            lines.append("held calls: " + "; ".join(c.short() for c in parked))
        recent = [c for c in self.calls if c.method != "getUpdates"][-calls:]
        lines.append(f"recent calls ({len(recent)} of {len(self.calls)}):")
        lines += ["  " + c.short() for c in recent]
        if self.refused:
            lines.append("UNEXPECTED REFUSALS:")
            lines += ["  " + c.short() for c in self.refused]
        if self.undelivered:
            lines.append("not delivered to the bot (group privacy mode):")
            lines += [f"  {m['chat']['id']}: {m.get('text', '')!r}" for m in self.undelivered]
        for chat in self.chats.values():
            flags = [
                name
                for name, on in (
                    ("blocked", chat.blocked),
                    ("kicked", chat.kicked),
                    ("not-started", not chat.started),
                    (f"migrated->{chat.migrated_to}", chat.migrated_to),
                )
                if on
            ]
            lines.append(f"chat {chat.id} ({chat.type}{' ' + ' '.join(flags) if flags else ''}):")
            lines += ["  " + m.describe() for m in chat.bot_messages] or ["  (no bot messages)"]
        return "\n".join(lines)

    # ------------------------------------------------------------------ HTTP

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("Bad Request: can't parse JSON encoded request") from None
                if isinstance(body, dict):
                    raw.update(body)
            elif ctype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        uploads[key] = Upload(value.filename, value.content_type, value.file.read())
                    else:
                        raw[key] = value
        return raw, uploads

    def _decode(self, method: str, raw: dict[str, Any]) -> dict[str, Any]:
        spec = lookup(method)
        params: dict[str, Any] = {}
        for key, value in raw.items():
            try:
                params[key] = decode_value(spec.params.get(key) if spec else None, value)
            except ParamDecodeError as exc:
                if exc.name == "reply_markup":
                    raise bad_request(E.MARKUP_UNPARSABLE) from None
                if exc.json_object:
                    raise bad_request(f"Bad Request: can't parse {exc.name} JSON object") from None
                raise bad_request(f"Bad Request: invalid {exc.name} specified") from None
        return params

    def _injected_failure(self, method: str, params: dict[str, Any]) -> None:
        for rule in self._failures:
            if rule.method != method.lower():
                continue
            if rule.chat_id is not None and params.get("chat_id") != rule.chat_id:
                continue
            rule.times -= 1
            if rule.times <= 0:
                self._failures.remove(rule)
            raise ApiError(
                rule.error_code,
                rule.description,
                retry_after=rule.retry_after,
                migrate_to_chat_id=rule.migrate_to_chat_id,
                expected=True,
            )

    def _record(self, call: Call) -> None:
        if not call.ok and not call.expected:
            call.expected = any(p(call) for p in self._expected)
        self.calls.append(call)
        self.notify()
        self._notify_listeners(self._listeners, call)

    async def _outage_answer(
        self, request: web.Request, call: Call, outage: Outage, *, read: bool = False
    ) -> web.StreamResponse:
        """Record ``call`` as refused by the outage and answer (or reset) accordingly;
        ``read``: the call was already read (and its arrival announced) before the outage."""
        if not read:
            # Best effort, so that tests can see which calls the outage refused: the
            # parameters decoded as for an answered call (chat_id an int, and so on).
            try:
                raw, _ = await self._read_params(request)
            except Exception:
                raw = {}
            spec = lookup(call.method)
            if spec is not None:
                call.method = spec.name
            try:
                call.params = self._decode(call.method, raw) if spec is not None else raw
            except ApiError:
                call.params = raw
            self._notify_listeners(self._arrival_listeners, call)
        call.ok = False
        call.expected = True
        call.outage = True
        if outage.mode == "drop":
            call.error_code, call.description = None, CONNECTION_RESET
        else:
            call.error_code, call.description = 502, BAD_GATEWAY
        outage.calls.append(call)
        self._record(call)
        return outage_response(outage.mode, request)

    def _matching_hold(self, call: Call) -> Hold | None:
        for hold in self._holds:
            if hold.predicate(call):
                return hold
        return None

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        call = Call(method=request.match_info["method"])
        if self._outage is not None:
            return await self._outage_answer(request, call, self._outage)
        try:
            return await self._handle_api_call(request, call)
        except OutageInterrupt:
            assert self._outage is not None
            return await self._outage_answer(request, call, self._outage, read=True)

    async def _handle_api_call(self, request: web.Request, call: Call) -> web.Response:
        status = 200
        try:
            try:
                if request.match_info["token"] != self.token:
                    raise ApiError(401, E.UNAUTHORIZED)
                spec = lookup(call.method)
                if spec is None:
                    raise ApiError(404, E.NOT_FOUND)
                call.method = spec.name
                raw, uploads = await self._read_params(request)
                for name, up in uploads.items():
                    call.files[name] = {
                        "filename": up.filename,
                        "size": len(up.data),
                        "mime_type": up.content_type,
                    }
                    raw.setdefault(name, f"<upload {up.filename} {len(up.data)} bytes>")
                call.params = raw
                call.params = params = self._decode(spec.name, raw)
                for name in spec.required:
                    if params.get(name) in (None, "") and name not in uploads:
                        raise bad_request(E.missing_param(name))
                self._notify_listeners(self._arrival_listeners, call)
                hold = self._matching_hold(call)
                if hold is not None:
                    await hold.park(call, self._outage_begun)
                    if self._outage is not None:
                        raise OutageInterrupt
                self._injected_failure(spec.name, params)
                handler: Handler = HANDLERS.get(spec.name) or generic_handler(spec)
                # The platform played (profiles.py) ignores some fields and lacks others;
                # call.params keeps what the bot sent.
                acted_on = self.profile.adapt(spec.name, params, uploads)
                work = handler(self, ApiRequest(spec.name, acted_on, uploads))
                if spec.name == "getUpdates":  # a long poll: an outage answers it at once
                    result = await interruptible(work, self._outage_begun)
                else:
                    result = await work
            except ApiError as err:
                if err.error_code == 409 and (
                    request.transport is None or request.transport.is_closing()
                ):
                    err.expected = True  # nobody is listening any more
                raise
            except OutageInterrupt:
                raise  # answered by _handle_api
            except Exception as exc:
                log.exception("FakeTelegram crashed on %s", call.method)
                raise ApiError(500, f"Internal Server Error: FakeTelegram bug: {exc!r}") from exc
        except ApiError as err:
            call.ok = False
            call.error_code = err.error_code
            call.description = err.description
            call.expected = err.expected
            call.retry_after = err.retry_after
            call.migrate_to_chat_id = err.migrate_to_chat_id
            self._record(call)
            return web.json_response(err.payload(), status=err.error_code, dumps=_dumps)
        except asyncio.CancelledError:
            call.description = "client disconnected before the answer"
            call.expected = True
            self._record(call)
            raise
        call.ok = True
        call.result = result
        self._record(call)
        return web.json_response({"ok": True, "result": result}, status=status, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        outage = self._outage
        if outage is not None:  # counted in outage.calls only: server.calls is for API calls
            path = request.match_info["path"]
            outage.calls.append(
                Call(method="file download", params={"path": path}, expected=True, outage=True)
            )
            self.notify()
            return outage_response(outage.mode, request)
        if request.match_info["token"] != self.token:
            return web.json_response(
                ApiError(401, E.UNAUTHORIZED).payload(), status=401, dumps=_dumps
            )
        path = request.match_info["path"]
        for rec in self.files.values():
            if rec.path and rec.path == path:
                return web.Response(body=rec.data(), content_type="application/octet-stream")
        return web.json_response(ApiError(404, E.NOT_FOUND).payload(), status=404, dumps=_dumps)
