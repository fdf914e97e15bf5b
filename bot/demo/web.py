"""The demo's web page backend: a chat client for every persona, over the local Bot API server.

The page acts through the server's own actors (a persona's private chat is a `FakeUser`, a
group a `FakeGroup`), exactly as the end-to-end tests do, and learns of the bot's calls from the
server's `on_call` hook; it pushes «something changed» over server-sent events and the page
fetches what it shows. Nothing the browser sends is trusted: the persona must be in the chat,
a pressed button must be on the message, files are served only to someone who can see them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.context import Services
from bot.demo import personas, render
from bot.demo.seed import SeedRefused
from bot.demo.strings import PLACES, page_strings, role_label
from bot.i18n import _
from bot.localapi import BotMessage, Call, FakeTelegram
from bot.localapi.html import utf16_len
from bot.localapi.models import ChatState

log = logging.getLogger(__name__)
_dumps = partial(json.dumps, ensure_ascii=False)

STATIC = resources.files("bot.demo") / "static"
TEXT_MAX = 4096
CAPTION_MAX = 1024  # Telegram's caption limit, in UTF-16 code units, as for text
JSON_MAX_BYTES = 64 * 1024  # an action is a few fields; only uploads are large
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
UPLOAD_MAX_BYTES = 20 * 1024 * 1024  # what a Telegram client lets a bot download (getFile)
UPLOAD_MAX_FILES = 10
EVENT_QUEUE = 500
HEARTBEAT_SECONDS = 15.0
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
)
_PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240">'
    '<rect width="320" height="240" fill="#dfe7ee"/><g fill="#9fb1c1">'
    '<circle cx="110" cy="90" r="22"/><path d="M40 200l70-70 45 45 35-35 90 60z"/></g></svg>'
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PageRefusal(Exception):
    """An action the page may not take; `key` names the reason in the page's strings."""

    def __init__(self, key: str, status: int = 400) -> None:
        super().__init__(key)
        self.key = key
        self.status = status


def _sniff(data: bytes) -> str | None:
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class Page:
    """The page's state: who read what, the open event streams, a seed run in progress."""

    def __init__(
        self,
        server: FakeTelegram,
        services: Callable[[], Services],
        seed: Callable[[], Awaitable[int]],
    ) -> None:
        self.server = server
        self._services = services  # the bot's, which change when it restarts (to be seeded)
        self._seed_now = seed
        self.tz = services().rt.settings.tz
        self.reads: dict[tuple[int, int], int] = {}
        self.clients: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self.seeding: asyncio.Task[None] | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self._unhook = server.on_call(self._on_call)

    # ------------------------------------------------------------------ events

    def emit(self, event: dict[str, Any]) -> None:
        for queue in list(self.clients):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # a stalled tab: end its stream; it reconnects, refetches
                self.clients.discard(queue)
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)

    def _on_call(self, call: Call) -> None:
        """Every Bot API call the bot made: a change to show, or a refusal to show."""
        if call.method == "getUpdates":
            return
        chat_id = call.params.get("chat_id")
        if call.method == "answerCallbackQuery":
            record = self.server.callbacks.get(str(call.params.get("callback_query_id")))
            chat_id = record.chat_id if record else None
        chats = [chat_id] if isinstance(chat_id, int) else []
        if not call.ok and call.error_code is not None:
            self.emit(
                {
                    "type": "api_error",
                    "method": call.method,
                    "code": call.error_code,
                    "description": call.description or "",
                    "retry_after": call.retry_after,
                    "chat": chats[0] if chats else None,
                }
            )
        self.emit({"type": "changed", "chats": chats})

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        self._unhook()
        for queue in list(self.clients):
            queue.put_nowait(None)
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    # ------------------------------------------------------------------ the application

    def app(self) -> web.Application:
        app = web.Application(
            client_max_size=UPLOAD_MAX_FILES * UPLOAD_MAX_BYTES + 1024 * 1024,
            middlewares=[_headers],
        )
        app.router.add_get("/", self.index)
        app.router.add_get("/static/{name:[A-Za-z0-9_.-]+}", self.static)
        app.router.add_get("/static/fonts/{name:[A-Za-z0-9_.-]+}", self.font)
        app.router.add_get("/api/state", self.state)
        app.router.add_get("/api/chat", self.chat)
        app.router.add_get("/api/events", self.events)
        app.router.add_get("/file/{file_id}", self.file)
        for name, action in (
            ("send", self.send),
            ("press", self.press),
            ("contact", self.contact),
            ("location", self.location),
            ("read", self.read),
            ("seed", self.seed),
        ):
            app.router.add_post(f"/api/{name}", _json_action(action))
        app.router.add_post("/api/upload", self.upload)
        return app

    # ------------------------------------------------------------------ pages and files

    async def index(self, request: web.Request) -> web.Response:
        template = (STATIC / "index.html").read_text(encoding="utf-8")
        data = {
            "first": personas.PERSONAS[0].user_id,
            "strings": page_strings(),
            "places": [
                {"key": p.key, "name": _(p.name), "lat": p.latitude, "lon": p.longitude}
                for p in PLACES
            ],
        }
        # Inside <script type="application/json">: "</" must not end the element.
        boot = _dumps(data).replace("</", "<\\/")
        html = template.replace("{{title}}", _escape(page_strings()["title"])).replace(
            "{{boot}}", boot
        )
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def static(self, request: web.Request) -> web.Response:
        return _resource(STATIC / request.match_info["name"])

    async def font(self, request: web.Request) -> web.Response:
        return _resource(STATIC / "fonts" / request.match_info["name"])

    async def file(self, request: web.Request) -> web.Response:
        viewer = _persona(request.query.get("persona"))
        file_id = request.match_info["file_id"]
        if not self._sees_file(viewer, file_id):
            raise web.HTTPNotFound()
        rec = self.server.files[file_id]
        if rec.content is None:  # a file a test-style actor sent: no bytes, a picture stands in
            if rec.kind == "photo":
                return web.Response(text=_PLACEHOLDER_SVG, content_type="image/svg+xml")
        data = rec.data()
        sniffed = _sniff(data)
        mime = sniffed or rec.mime_type or "application/octet-stream"
        headers = {"Cache-Control": "private, max-age=3600"}
        if sniffed is None:  # shown inline only if its bytes are a picture (not an SVG)
            name = rec.name or f"{rec.file_unique_id}.bin"
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return web.Response(body=data, content_type=mime, headers=headers)

    def _sees_file(self, viewer: int, file_id: str) -> bool:
        if file_id not in self.server.files:
            return False
        for chat_id in [viewer, *(g.chat_id for g in personas.groups_of(viewer))]:
            chat = self.server.chats.get(chat_id)
            if chat is None:
                continue
            for raw in chat.messages.values():
                for kind in render.MEDIA_KINDS:
                    value = raw.get(kind)
                    items = value if isinstance(value, list) else [value] if value else []
                    if any(isinstance(i, dict) and i.get("file_id") == file_id for i in items):
                        return True
        return False

    # ------------------------------------------------------------------ reading

    async def state(self, request: web.Request) -> web.Response:
        viewer = _persona(request.query.get("persona"))
        people = []
        for p in personas.PERSONAS:
            chats = self._summaries(p.user_id)
            people.append(
                {
                    "id": p.user_id,
                    "name": f"{p.first_name} {p.last_name}",
                    "initial": p.first_name[:1],
                    "part": p.part.value,
                    "role": role_label(p.role, p.part),
                    "unread": sum(c["unread"] for c in chats),
                }
            )
        body = {
            "personas": people,
            "chats": self._summaries(viewer),
            "seeding": self.seeding is not None,
        }
        return web.json_response(body, dumps=_dumps)

    def _summaries(self, viewer: int) -> list[render.ChatSummary]:
        out = []
        for chat_id in [viewer, *(g.chat_id for g in personas.groups_of(viewer))]:
            chat = self.server.chats.get(chat_id)
            if chat is not None:
                read = self.reads.get((viewer, chat_id), 0)
                out.append(render.summary(self.server, chat, viewer, read, self.tz))
        return out

    async def chat(self, request: web.Request) -> web.Response:
        viewer = _persona(request.query.get("persona"))
        chat = self._chat(viewer, request.query.get("chat"))
        view = render.chat_view(self.server, chat, viewer, self.tz)
        return web.json_response(view, dumps=_dumps)

    def _chat(self, viewer: int, raw_id: object) -> ChatState:
        try:
            chat_id = int(str(raw_id))
        except ValueError:
            raise PageRefusal("not_your_chat", 404) from None
        chat = render.chat_of(self.server, viewer, chat_id)
        if chat is None:
            raise PageRefusal("not_your_chat", 404)
        return chat

    async def events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(EVENT_QUEUE)
        self.clients.add(queue)
        try:
            await response.write(b"retry: 1000\n\n")
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    await response.write(b": still here\n\n")
                    continue
                if event is None:
                    break
                await response.write(f"data: {_dumps(event)}\n\n".encode())
        except (ConnectionResetError, RuntimeError):
            pass  # the tab went away
        finally:
            self.clients.discard(queue)
        return response

    # ------------------------------------------------------------------ acting

    async def read(self, viewer: int, body: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(viewer, body.get("chat"))
        upto = max(chat.messages, default=0)
        key = (viewer, chat.id)
        if upto > self.reads.get(key, 0):
            self.reads[key] = upto
            self.emit({"type": "changed", "chats": [chat.id]})
        return {"ok": True}

    def _reply_target(self, chat: ChatState, raw_id: object) -> BotMessage | None:
        if raw_id in (None, ""):
            return None
        try:
            message_id = int(str(raw_id))
        except ValueError:
            raise PageRefusal("no_message") from None
        found = chat.bot_message(message_id)
        if found is not None:
            return found
        raw = chat.messages.get(message_id)
        if raw is None:
            raise PageRefusal("no_message")
        # Only `.raw` is read when replying; a person's message has no BotMessage of its own.
        return BotMessage(message_id, chat.id, None, "text", None, None, None, [], None, raw)

    async def send(self, viewer: int, body: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(viewer, body.get("chat"))
        raw_text = body.get("text")
        text = raw_text.strip() if isinstance(raw_text, str) else ""
        if not text:
            raise PageRefusal("empty")
        if utf16_len(text) > TEXT_MAX:
            raise PageRefusal("too_long")
        reply_to = self._reply_target(chat, body.get("reply_to"))
        user = self.server.users[viewer]
        if chat.type == "private":
            await user.send_text(text, reply_to=reply_to)
        else:
            await self.server.groups[chat.id].send_text(user, text, reply_to=reply_to)
        self.emit({"type": "changed", "chats": [chat.id]})
        return {"ok": True}

    async def press(self, viewer: int, body: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(viewer, body.get("chat"))
        try:
            msg = chat.bot_message(int(body["message"]))
            row, col = int(body["row"]), int(body["col"])
        except (KeyError, TypeError, ValueError):
            raise PageRefusal("no_button") from None
        if msg is None:
            raise PageRefusal("no_message")
        rows = msg.inline_keyboard
        if not (0 <= row < len(rows) and 0 <= col < len(rows[row])):
            raise PageRefusal("no_button")
        data = rows[row][col].get("callback_data")
        if not isinstance(data, str):
            raise PageRefusal("no_button")
        user = self.server.users[viewer]
        if chat.type == "private":
            query_id = await user.press(data=data, message=msg)
        else:
            query_id = await self.server.groups[chat.id].press(user, data=data, message=msg)
        self._spawn(self._tell_answer(viewer, query_id))
        return {"ok": True}

    async def _tell_answer(self, viewer: int, query_id: str) -> None:
        """Show the bot's answerCallbackQuery as the app would: a toast, or an alert."""
        record = self.server.callbacks[query_id]
        timeout = self.server.limits.callback_answer_timeout
        if not await self.server.wait_for(lambda: record.answer is not None, timeout):
            self.emit({"type": "answer", "persona": viewer, "text": "", "missing": True})
            return
        answer = record.answer or {}
        text = str(answer.get("text") or "")
        if text:
            alert = bool(answer.get("show_alert"))
            self.emit({"type": "answer", "persona": viewer, "text": text, "alert": alert})

    async def contact(self, viewer: int, body: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(viewer, body.get("chat"))
        if chat.type != "private":  # a phone number goes only to the bot, never to a group
            raise PageRefusal("private_only")
        person = personas.persona(viewer)
        assert person is not None  # _persona checked it
        await self.server.users[viewer].send_contact(phone=_international(person.phone))
        self.emit({"type": "changed", "chats": [chat.id]})
        return {"ok": True}

    async def location(self, viewer: int, body: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(viewer, body.get("chat"))
        if chat.type != "private":
            raise PageRefusal("private_only")
        try:
            lat, lon = float(body["lat"]), float(body["lon"])
        except (KeyError, TypeError, ValueError):
            raise PageRefusal("bad_location") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise PageRefusal("bad_location")
        await self.server.users[viewer].send_location(lat, lon)
        self.emit({"type": "changed", "chats": [chat.id]})
        return {"ok": True}

    async def upload(self, request: web.Request) -> web.Response:
        """Photos and files from the computer, in the private chat: several at once go as an
        album (photos) and a group of documents, as Telegram's apps send them."""
        try:
            form = await request.post()
            viewer = _persona(form.get("persona"))
            chat = self._chat(viewer, form.get("chat"))
            if chat.type != "private":
                raise PageRefusal("private_only")
            files = [f for f in form.getall("file", []) if isinstance(f, web.FileField)]
            if not files:
                raise PageRefusal("empty")
            if len(files) > UPLOAD_MAX_FILES:
                raise PageRefusal("too_many")
            caption = str(form.get("caption") or "").strip() or None
            if caption is not None and utf16_len(caption) > CAPTION_MAX:
                raise PageRefusal("too_long")
            loaded = [(f, f.file.read(UPLOAD_MAX_BYTES + 1)) for f in files]
            if any(len(data) > UPLOAD_MAX_BYTES for _f, data in loaded):
                raise PageRefusal("too_big")
        except PageRefusal as refusal:
            return _refused(refusal)
        user = self.server.users[viewer]
        photos = [data for _f, data in loaded if _sniff(data) is not None]
        docs = [(f, data) for f, data in loaded if _sniff(data) is None]
        photo_group = self._group_id() if len(photos) > 1 else None
        for data in photos:
            await user.send_photo(media_group_id=photo_group, caption=caption, data=data)
            caption = None
        for f, data in docs:
            name = (f.filename or "file").replace("/", "_").replace("\\", "_")[-128:]
            mime = f.content_type or "application/octet-stream"
            await user.send_document(name, mime, caption=caption, data=data)
            caption = None
        self.emit({"type": "changed", "chats": [chat.id]})
        return web.json_response({"ok": True})

    def _group_id(self) -> str:
        return str(12_000_000_000_000_000 + self.server.next_id())

    async def seed(self, viewer: int, body: dict[str, Any]) -> dict[str, Any]:
        if self.seeding is not None:
            raise PageRefusal("busy", 409)
        self.seeding = asyncio.ensure_future(self._seed())
        self.emit({"type": "seed", "state": "running"})
        return {"ok": True}

    async def _seed(self) -> None:
        try:
            made = await self._seed_now()
        except SeedRefused as exc:
            log.warning("no seed data added: %s", exc)
            self.emit({"type": "seed", "state": "refused"})
        except Exception as exc:
            log.exception("seeding the demo failed")
            self.emit({"type": "seed", "state": "failed", "error": type(exc).__name__})
        else:
            self.emit({"type": "seed", "state": "done", "count": made})
        finally:
            self.seeding = None


def _persona(raw: object) -> int:
    try:
        user_id = int(str(raw))
    except ValueError:
        raise PageRefusal("not_your_chat", 404) from None
    if personas.persona(user_id) is None:
        raise PageRefusal("not_your_chat", 404)
    return user_id


def _international(phone: str) -> str:
    """09121234567 -> +989121234567, as Telegram's «share my phone» sends it."""
    return "+98" + phone[1:] if phone.startswith("0") else phone


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _refused(refusal: PageRefusal) -> web.Response:
    body = {"ok": False, "reason": refusal.key}
    return web.json_response(body, status=refusal.status, dumps=_dumps)


async def _read_at_most(request: web.Request, limit: int) -> bytes | None:
    """The body, or None past `limit` bytes (read no further than that)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(limit + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return None
    return b"".join(chunks)


def _json_action(
    action: Callable[[int, dict[str, Any]], Awaitable[dict[str, Any]]],
) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return _refused(PageRefusal("empty", 415))
        raw = await _read_at_most(request, JSON_MAX_BYTES)
        if raw is None:
            return _refused(PageRefusal("too_long", 413))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _refused(PageRefusal("empty"))
        try:
            result = await action(_persona(body.get("persona")), body)
        except PageRefusal as refusal:
            return _refused(refusal)
        return web.json_response(result, dumps=_dumps)

    return handle


def _resource(path: Traversable) -> web.Response:
    if not path.is_file():
        raise web.HTTPNotFound()
    name = str(path.name)
    types = {
        ".js": "text/javascript",
        ".css": "text/css",
        ".woff2": "font/woff2",
        ".svg": "image/svg+xml",
        ".txt": "text/plain",
    }
    mime = next((t for ext, t in types.items() if name.endswith(ext)), "application/octet-stream")
    charset = "utf-8" if mime.startswith("text/") else None
    return web.Response(body=path.read_bytes(), content_type=mime, charset=charset)


def _same_site(request: web.Request) -> bool:
    host = request.host.rsplit(":", 1)[0] if request.host.count(":") == 1 else request.host
    if host not in LOCAL_HOSTS:
        return False
    if request.method in ("GET", "HEAD"):
        return True
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"http://{request.host}":
        return False
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Only this computer's own page: a request for another host name (a DNS-rebinding site)
    or a POST from another origin (a cross-site form) is refused. No framing, no sniffing,
    nothing loaded from anywhere else; Refusals as JSON."""
    if not _same_site(request):
        raise web.HTTPForbidden()
    try:
        response = await handler(request)
    except PageRefusal as refusal:
        response = _refused(refusal)
    if response.prepared:  # the event stream: its headers are on their way already
        return response
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response
