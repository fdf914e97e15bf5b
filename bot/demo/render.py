"""What the page shows of a chat, read from the local Bot API server's own records.

Messages go out as Telegram keeps them (text + entities, media, markup), so the page renders
what a Telegram client would; callback data never leaves the server (a press names the button
by its place), and files are addressed by id through the page's own endpoint.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from bot.demo import personas
from bot.demo.strings import BOT_NAME, PLACES
from bot.i18n import _
from bot.jalali import format_date, format_time
from bot.localapi import FakeTelegram
from bot.localapi.models import BotMessage, ChatState
from bot.text import format_number

MEDIA_KINDS = ("photo", "document", "video", "animation", "audio", "voice", "sticker")
PREVIEW_CHARS = 70


class ChatSummary(TypedDict):
    id: int
    kind: str  # "private" | "group"
    title: str
    members: int
    unread: int
    preview: str
    time: str


class Button(TypedDict, total=False):
    text: str
    kind: str  # "callback" | "url" | "contact" | "location" | "text"
    url: str


class Keyboard(TypedDict):
    rows: list[list[Button]]
    placeholder: str
    one_time: bool


def chat_of(server: FakeTelegram, viewer: int, chat_id: int) -> ChatState | None:
    """The chat, if `viewer` is in it (their private chat with the bot, or one of their
    groups): the page never shows a person someone else's chat."""
    if chat_id == viewer or any(g.chat_id == chat_id for g in personas.groups_of(viewer)):
        return server.chats.get(chat_id)
    return None


def ordered(chat: ChatState) -> list[dict[str, Any]]:
    return [chat.messages[k] for k in sorted(chat.messages)]


def sender_name(server: FakeTelegram, sender: dict[str, Any]) -> str:
    if sender.get("id") == server.bot_id:
        return _(BOT_NAME)
    return " ".join(p for p in (sender.get("first_name"), sender.get("last_name")) if p)


def _file(server: FakeTelegram, viewer: int, kind: str, obj: Any) -> dict[str, Any]:
    item = obj[-1] if kind == "photo" else obj  # a photo is its sizes, the largest last
    file_id = str(item.get("file_id", ""))
    rec = server.files.get(file_id)
    out: dict[str, Any] = {
        "kind": kind,
        "url": f"/file/{file_id}?persona={viewer}",
        "real": rec is not None and rec.content is not None,
    }
    if kind != "photo":
        out["name"] = item.get("file_name") or _("file")
        out["size"] = _size(int(item.get("file_size") or 0))
    return out


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return _("{n} MB").format(n=format_number(round(n / 1024 / 1024)))
    return _("{n} KB").format(n=format_number(max(1, round(n / 1024))))


def _place_name(lat: float, lon: float) -> str:
    for place in PLACES:
        if abs(place.latitude - lat) < 0.01 and abs(place.longitude - lon) < 0.01:
            return _(place.name)
    return ""


def preview(raw: dict[str, Any]) -> str:
    text = str(raw.get("text") or raw.get("caption") or "")
    if not text:
        for kind in MEDIA_KINDS:
            if kind in raw:  # a file by its name, as Telegram's chat list shows it
                name = raw[kind].get("file_name") if isinstance(raw[kind], dict) else None
                return _("photo") if kind == "photo" else str(name or _("file"))
        if "location" in raw:
            return _("Location")
        if "contact" in raw:
            return _("Contact")
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def message(
    server: FakeTelegram, chat: ChatState, raw: dict[str, Any], viewer: int, tz: ZoneInfo
) -> dict[str, Any]:
    """One message as the page draws it."""
    sender = raw.get("from") or {}
    sent = datetime.fromtimestamp(int(raw.get("date", 0)), UTC)
    is_bot = sender.get("id") == server.bot_id
    out: dict[str, Any] = {
        "id": raw["message_id"],
        "from_id": sender.get("id"),
        "name": sender_name(server, sender),
        "is_bot": is_bot,
        "out": sender.get("id") == viewer,
        "time": format_time(sent, tz),
        "day": format_date(sent, tz),
        "edited": "edit_date" in raw,
        "text": raw.get("text") if "text" in raw else raw.get("caption", ""),
        "entities": raw.get("entities") if "text" in raw else raw.get("caption_entities", []),
        "album": raw.get("media_group_id"),
    }
    for kind in MEDIA_KINDS:
        if kind in raw:
            out["media"] = _file(server, viewer, kind, raw[kind])
            break
    if "location" in raw:
        lat, lon = float(raw["location"]["latitude"]), float(raw["location"]["longitude"])
        out["location"] = {"lat": lat, "lon": lon, "place": _place_name(lat, lon)}
    if "contact" in raw:
        contact = raw["contact"]
        out["contact"] = {
            "name": " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p),
            "phone": contact.get("phone_number", ""),
        }
    replied = raw.get("reply_to_message")
    if isinstance(replied, dict):
        out["reply_to"] = {
            "id": replied.get("message_id"),
            "name": sender_name(server, replied.get("from") or {}),
            "text": preview(replied),
        }
    bot_msg = chat.bot_message(raw["message_id"]) if is_bot else None
    if bot_msg is not None:
        out["inline_keyboard"] = inline_keyboard(bot_msg)
        if bot_msg.reply_markup and bot_msg.reply_markup.get("force_reply"):
            out["force_reply"] = True
    return out


def inline_keyboard(msg: BotMessage) -> list[list[Button]]:
    rows: list[list[Button]] = []
    for row in msg.inline_keyboard:
        out: list[Button] = []
        for b in row:
            button: Button = {"text": str(b.get("text", "")), "kind": "callback"}
            if "url" in b:
                button = {"text": button["text"], "kind": "url", "url": str(b["url"])}
            elif "callback_data" not in b:
                button["kind"] = "other"
            out.append(button)
        rows.append(out)
    return rows


def reply_keyboard(chat: ChatState) -> Keyboard | None:
    markup = chat.reply_keyboard
    if not markup or "keyboard" not in markup:
        return None
    rows: list[list[Button]] = []
    for row in markup["keyboard"]:
        out: list[Button] = []
        for b in row:
            if isinstance(b, str):
                out.append({"text": b, "kind": "text"})
                continue
            kind = "text"
            if b.get("request_contact"):
                kind = "contact"
            elif b.get("request_location"):
                kind = "location"
            out.append({"text": str(b.get("text", "")), "kind": kind})
        rows.append(out)
    return {
        "rows": rows,
        "placeholder": str(markup.get("input_field_placeholder") or ""),
        "one_time": bool(markup.get("one_time_keyboard")),
    }


def _addressed_to(msg: BotMessage, viewer: int) -> bool:
    markup = msg.reply_markup or {}
    if not markup.get("selective"):
        return True
    for e in msg.entities:
        if e.get("type") == "text_mention" and (e.get("user") or {}).get("id") == viewer:
            return True
    replied = (msg.raw.get("reply_to_message") or {}).get("from") or {}
    return bool(replied.get("id") == viewer)


def force_reply(server: FakeTelegram, chat: ChatState, viewer: int) -> int | None:
    """The bot's ForceReply prompt `viewer` should answer now: the newest one aimed at them
    that they have not written after, as a Telegram client opens the reply for them."""
    for raw in reversed(ordered(chat)):
        sender = (raw.get("from") or {}).get("id")
        if sender == viewer:
            return None
        if sender != server.bot_id:
            continue
        msg = chat.bot_message(raw["message_id"])
        if msg is not None and (msg.reply_markup or {}).get("force_reply"):
            return msg.message_id if _addressed_to(msg, viewer) else None
    return None


def chat_view(server: FakeTelegram, chat: ChatState, viewer: int, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": chat.id,
        "messages": [message(server, chat, raw, viewer, tz) for raw in ordered(chat)],
        "keyboard": reply_keyboard(chat),
        "force_reply": force_reply(server, chat, viewer),
        "started": chat.started if chat.type == "private" else True,
    }


def unread(chat: ChatState, viewer: int, read_upto: int) -> int:
    return sum(
        1
        for mid, raw in chat.messages.items()
        if mid > read_upto and (raw.get("from") or {}).get("id") != viewer
    )


def summary(
    server: FakeTelegram, chat: ChatState, viewer: int, read_upto: int, tz: ZoneInfo
) -> ChatSummary:
    group = next((g for g in personas.GROUPS if g.chat_id == chat.id), None)
    msgs = ordered(chat)
    last = msgs[-1] if msgs else None
    return {
        "id": chat.id,
        "kind": "private" if group is None else "group",
        "title": _(BOT_NAME) if group is None else group.title,
        "members": len(group.members) if group else 0,
        "unread": unread(chat, viewer, read_upto),
        "preview": preview(last) if last else "",
        "time": format_time(datetime.fromtimestamp(int(last["date"]), UTC), tz) if last else "",
    }
