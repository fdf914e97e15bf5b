"""send*, copyMessage and forwardMessage: the calls that post messages and count for 429s."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import errors as E
from .content import (
    CAPTIONABLE,
    check_file_kind,
    content_kind,
    copy_content,
    text_fields,
)
from .errors import ApiError, bad_request
from .markup import check_reply_markup
from .models import ChatState, FileRecord
from .registry import api

if TYPE_CHECKING:
    from .state import ApiRequest, ServerState, Upload

CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_URL_RE = re.compile(r"^https?://\S+$")


def thread_of(chat: ChatState, params: dict[str, Any]) -> int | None:
    """message_thread_id, checked against the topics of a forum."""
    thread = params.get("message_thread_id")
    if thread in (None, "", 0):
        return None
    if not chat.is_group:
        return None
    if chat.is_forum and thread not in chat.topics:
        raise bad_request(E.THREAD_NOT_FOUND)
    return int(thread)


def reply_target(chat: ChatState, params: dict[str, Any]) -> dict[str, Any] | None:
    """The replied-to message from reply_parameters (or the legacy reply_to_message_id)."""
    reply = params.get("reply_parameters")
    if isinstance(reply, dict):
        target_id = reply.get("message_id")
        allow = bool(reply.get("allow_sending_without_reply"))
        if reply.get("chat_id") not in (None, chat.id):
            raise bad_request("Bad Request: replying to other chats is not modelled")
    else:
        target_id = params.get("reply_to_message_id")
        allow = bool(params.get("allow_sending_without_reply"))
    if target_id in (None, "", 0):
        return None
    target = chat.messages.get(int(target_id))
    if target is None and not allow:
        raise bad_request(E.REPLY_NOT_FOUND)
    return target


def checked_markup(srv: ServerState, params: dict[str, Any]) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    check_reply_markup(markup, srv.limits)
    return markup


def resolve_file(
    srv: ServerState, kind: str, value: Any, uploads: dict[str, Upload], param: str
) -> FileRecord:
    """A file given as upload (multipart), attach://name, URL or known file_id."""
    upload = uploads.get(param)
    if isinstance(value, str) and value.startswith("attach://"):
        upload = uploads.get(value[len("attach://") :])
        if upload is None:
            raise bad_request(f"Bad Request: file {value} not found in the request")
    if upload is not None:
        if len(upload.data) > srv.limits.upload_max_bytes:
            raise ApiError(413, E.ENTITY_TOO_LARGE)
        return srv.register_file(
            kind,
            srv.new_upload_id(),
            len(upload.data),
            name=upload.filename,
            mime_type=upload.content_type,
            content=upload.data,
        )
    if not isinstance(value, str) or not value:
        raise bad_request(E.missing_param(param))
    if _URL_RE.match(value):
        name = value.rstrip("/").rsplit("/", 1)[-1] or None
        return srv.register_file(kind, srv.new_upload_id(), 1024, name=name)
    rec = srv.files.get(value)
    if rec is None:
        raise bad_request(E.WRONG_FILE_ID)
    check_file_kind(rec, kind)
    return rec


@api("sendMessage")
async def send_message(srv: ServerState, req: ApiRequest) -> Any:
    p = req.params
    chat = srv.chat_for_write(p["chat_id"])
    thread = thread_of(chat, p)
    plain, entities = srv.format(p["text"], p.get("parse_mode"), p.get("entities"), caption=False)
    markup = checked_markup(srv, p)
    reply = reply_target(chat, p)
    srv.rate.take(chat.id, chat.is_group)
    msg = srv.add_bot_message(
        chat,
        req.method,
        "text",
        text_fields(plain, entities, caption=False),
        text=plain,
        html=p["text"],
        parse_mode=p.get("parse_mode"),
        entities=entities,
        markup=markup,
        thread_id=thread,
        reply_to=reply,
    )
    return msg.raw


def _media_sender(kind: str) -> Any:
    async def send_media(srv: ServerState, req: ApiRequest) -> Any:
        p = req.params
        chat = srv.chat_for_write(p["chat_id"])
        thread = thread_of(chat, p)
        rec = resolve_file(srv, kind, p.get(kind), req.uploads, kind)
        plain: str = ""
        entities: list[dict[str, Any]] = []
        if kind != "sticker":
            plain, entities = srv.format(
                p.get("caption"), p.get("parse_mode"), p.get("caption_entities"), caption=True
            )
        markup = checked_markup(srv, p)
        reply = reply_target(chat, p)
        srv.rate.take(chat.id, chat.is_group)
        content = {**srv.media_payload(rec, kind), **text_fields(plain, entities, caption=True)}
        msg = srv.add_bot_message(
            chat,
            req.method,
            kind,
            content,
            text=plain,
            html=p.get("caption"),
            parse_mode=p.get("parse_mode"),
            entities=entities,
            markup=markup,
            thread_id=thread,
            reply_to=reply,
            media=[rec.file_id],
        )
        return msg.raw

    return send_media


for _kind in ("photo", "document", "video", "audio", "voice", "animation", "sticker"):
    api(f"send{_kind.capitalize()}")(_media_sender(_kind))


@api("sendMediaGroup")
async def send_media_group(srv: ServerState, req: ApiRequest) -> Any:
    p = req.params
    chat = srv.chat_for_write(p["chat_id"])
    thread = thread_of(chat, p)
    items = p["media"]
    if not isinstance(items, list):
        raise bad_request("Bad Request: can't parse media JSON object")
    if not srv.limits.media_group_min <= len(items) <= srv.limits.media_group_max:
        raise bad_request(E.MEDIA_GROUP_SIZE)
    types = [str(item.get("type")) for item in items if isinstance(item, dict)]
    if len(types) != len(items) or not set(types) <= {"photo", "video", "document", "audio"}:
        raise bad_request("Bad Request: unsupported media type in the media group")
    for lonely in ("document", "audio"):
        if lonely in types and set(types) != {lonely}:
            raise bad_request(E.MEDIA_GROUP_MIX)
    prepared = []
    for index, item in enumerate(items):
        rec = resolve_file(srv, item["type"], item.get("media"), req.uploads, f"media #{index}")
        plain, entities = srv.format(
            item.get("caption"), item.get("parse_mode"), item.get("caption_entities"), caption=True
        )
        prepared.append((item, rec, plain, entities))
    reply = reply_target(chat, p)
    srv.rate.take(chat.id, chat.is_group, len(items))
    group_id = str(13_000_000_000_000_000 + srv.next_id())
    results = []
    for item, rec, plain, entities in prepared:
        content = {
            **srv.media_payload(rec, item["type"]),
            **text_fields(plain, entities, caption=True),
        }
        msg = srv.add_bot_message(
            chat,
            req.method,
            "media_group_item",
            content,
            text=plain,
            html=item.get("caption"),
            parse_mode=item.get("parse_mode"),
            entities=entities,
            thread_id=thread,
            reply_to=reply,
            media=[rec.file_id],
            media_group_id=group_id,
            media_type=item["type"],
        )
        results.append(msg.raw)
    return results


@api("sendLocation")
async def send_location(srv: ServerState, req: ApiRequest) -> Any:
    p = req.params
    chat = srv.chat_for_write(p["chat_id"])
    thread = thread_of(chat, p)
    lat, lon = float(p["latitude"]), float(p["longitude"])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise bad_request("Bad Request: wrong latitude or longitude")
    markup = checked_markup(srv, p)
    reply = reply_target(chat, p)
    srv.rate.take(chat.id, chat.is_group)
    msg = srv.add_bot_message(
        chat,
        req.method,
        "location",
        {"location": {"latitude": lat, "longitude": lon}},
        markup=markup,
        thread_id=thread,
        reply_to=reply,
    )
    return msg.raw


@api("sendContact")
async def send_contact(srv: ServerState, req: ApiRequest) -> Any:
    p = req.params
    chat = srv.chat_for_write(p["chat_id"])
    thread = thread_of(chat, p)
    contact = {"phone_number": p["phone_number"], "first_name": p["first_name"]}
    if p.get("last_name"):
        contact["last_name"] = p["last_name"]
    markup = checked_markup(srv, p)
    reply = reply_target(chat, p)
    srv.rate.take(chat.id, chat.is_group)
    msg = srv.add_bot_message(
        chat,
        req.method,
        "contact",
        {"contact": contact},
        text=None,
        markup=markup,
        thread_id=thread,
        reply_to=reply,
    )
    return msg.raw


@api("sendChatAction")
async def send_chat_action(srv: ServerState, req: ApiRequest) -> Any:
    p = req.params
    chat = srv.chat_for_write(p["chat_id"])
    if p["action"] not in CHAT_ACTIONS:
        raise bad_request(E.WRONG_ACTION)
    srv.chat_actions.append({"chat_id": chat.id, "action": p["action"]})
    srv.notify()
    return True


def _source_message(srv: ServerState, params: dict[str, Any], missing: str) -> dict[str, Any]:
    source_chat = srv.chat_for_read(params["from_chat_id"])
    source = source_chat.messages.get(int(params["message_id"]))
    if source is None:
        raise bad_request(missing)
    return source


@api("copyMessage")
async def copy_message(srv: ServerState, req: ApiRequest) -> Any:
    p = req.params
    source = _source_message(srv, p, E.MESSAGE_TO_COPY_NOT_FOUND)
    chat = srv.chat_for_write(p["chat_id"])
    thread = thread_of(chat, p)
    kind = content_kind(source)
    if kind is None:
        raise bad_request(E.MESSAGE_CANT_BE_COPIED)
    content = copy_content(source)
    text = source.get("text", source.get("caption"))
    html, parse_mode = text, None
    entities = source.get("entities", source.get("caption_entities", []))
    if kind in CAPTIONABLE and ("caption" in p or "caption_entities" in p):
        text, entities = srv.format(
            p.get("caption"), p.get("parse_mode"), p.get("caption_entities"), caption=True
        )
        html, parse_mode = p.get("caption"), p.get("parse_mode")
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(text_fields(text, entities, caption=True))
    markup = checked_markup(srv, p)
    reply = reply_target(chat, p)
    srv.rate.take(chat.id, chat.is_group)
    msg = srv.add_bot_message(
        chat,
        req.method,
        kind,
        content,
        text=text,
        html=html,
        parse_mode=parse_mode,
        entities=entities,
        markup=markup,
        thread_id=thread,
        reply_to=reply,
        media=_file_ids(content),
    )
    return {"message_id": msg.message_id}


@api("forwardMessage")
async def forward_message(srv: ServerState, req: ApiRequest) -> Any:
    p = req.params
    source = _source_message(srv, p, E.MESSAGE_TO_FORWARD_NOT_FOUND)
    chat = srv.chat_for_write(p["chat_id"])
    thread = thread_of(chat, p)
    kind = content_kind(source)
    if kind is None:
        raise bad_request("Bad Request: message can't be forwarded")
    if "sender_chat" in source:
        origin = {"type": "chat", "sender_chat": source["sender_chat"], "date": source["date"]}
    else:
        origin = {"type": "user", "sender_user": source["from"], "date": source["date"]}
    srv.rate.take(chat.id, chat.is_group)
    content = copy_content(source)
    msg = srv.add_bot_message(
        chat,
        req.method,
        kind,
        content,
        text=source.get("text", source.get("caption")),
        entities=source.get("entities", source.get("caption_entities", [])),
        thread_id=thread,
        media=_file_ids(content),
        extra={"forward_origin": origin},
    )
    return msg.raw


def _file_ids(content: dict[str, Any]) -> list[str]:
    ids = []
    for value in content.values():
        if isinstance(value, list) and value and isinstance(value[-1], dict):
            value = value[-1]
        if isinstance(value, dict) and "file_id" in value:
            ids.append(value["file_id"])
    return ids


__all__ = ["ApiError"]
