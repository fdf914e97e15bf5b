"""Edits, deletions and callback answers: not rate-limited, but strict about their targets."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import errors as E
from .content import CAPTIONABLE, text_fields
from .errors import bad_request
from .html import utf16_len
from .markup import check_reply_markup, returned_markup
from .models import BotMessage, ChatState
from .registry import api

if TYPE_CHECKING:
    from .state import ApiRequest, ServerState


def _target(srv: ServerState, params: dict[str, Any]) -> tuple[ChatState, BotMessage]:
    if params.get("inline_message_id"):
        raise bad_request(E.MESSAGE_TO_EDIT_NOT_FOUND)  # inline mode is not modelled
    if params.get("chat_id") in (None, ""):
        raise bad_request(E.missing_param("chat_id"))
    if params.get("message_id") in (None, ""):
        raise bad_request(E.missing_param("message_id"))
    chat = srv.chat_for_write(params["chat_id"])
    message_id = int(params["message_id"])
    msg = chat.bot_message(message_id)
    if msg is None:
        if message_id in chat.messages:
            raise bad_request(E.MESSAGE_CANT_BE_EDITED)
        raise bad_request(E.MESSAGE_TO_EDIT_NOT_FOUND)
    return chat, msg


def _apply(
    srv: ServerState,
    chat: ChatState,
    msg: BotMessage,
    *,
    markup: dict[str, Any] | None,
    text: tuple[str, list[dict[str, Any]], str | None, str | None] | None = None,
    caption: bool = False,
) -> dict[str, Any]:
    """Apply an edit in place, or refuse it as 'not modified'."""
    new_text, new_entities = (text[0], text[1]) if text else (msg.text, msg.entities)
    old_markup = returned_markup(msg.reply_markup)
    if (new_text, new_entities, returned_markup(markup)) == (msg.text, msg.entities, old_markup):
        raise bad_request(E.NOT_MODIFIED)
    if text is not None:
        msg.history.append(msg.text)
        plain, entities, html, parse_mode = text
        for key in ("text", "entities", "caption", "caption_entities"):
            msg.raw.pop(key, None)
        msg.raw.update(text_fields(plain, entities, caption=caption))
        msg.text, msg.entities, msg.html, msg.parse_mode = plain, entities, html, parse_mode
    msg.reply_markup = markup
    msg.raw.pop("reply_markup", None)
    if returned_markup(markup):
        msg.raw["reply_markup"] = returned_markup(markup)
    msg.raw["edit_date"] = int(time.time())
    msg.edits += 1
    srv.notify()
    return msg.raw


@api("editMessageText")
async def edit_message_text(srv: ServerState, req: ApiRequest) -> Any:
    p = req.params
    chat, msg = _target(srv, p)
    if msg.kind != "text":
        raise bad_request(E.NO_TEXT_TO_EDIT)
    plain, entities = srv.format(p["text"], p.get("parse_mode"), p.get("entities"), caption=False)
    markup = p.get("reply_markup")
    check_reply_markup(markup, srv.limits, inline_only=True)
    text = (plain, entities, p["text"], p.get("parse_mode"))
    return _apply(srv, chat, msg, markup=markup, text=text)


@api("editMessageCaption")
async def edit_message_caption(srv: ServerState, req: ApiRequest) -> Any:
    p = req.params
    chat, msg = _target(srv, p)
    if msg.kind not in CAPTIONABLE:
        raise bad_request(E.NO_CAPTION_TO_EDIT)
    plain, entities = srv.format(
        p.get("caption"), p.get("parse_mode"), p.get("caption_entities"), caption=True
    )
    markup = p.get("reply_markup")
    check_reply_markup(markup, srv.limits, inline_only=True)
    text = (plain, entities, p.get("caption"), p.get("parse_mode"))
    return _apply(srv, chat, msg, markup=markup, text=text, caption=True)


@api("editMessageReplyMarkup")
async def edit_message_reply_markup(srv: ServerState, req: ApiRequest) -> Any:
    p = req.params
    chat, msg = _target(srv, p)
    markup = p.get("reply_markup")
    check_reply_markup(markup, srv.limits, inline_only=True)
    return _apply(srv, chat, msg, markup=markup)


def _delete(srv: ServerState, chat: ChatState, message_id: int) -> bool:
    raw = chat.messages.get(message_id)
    if raw is None:
        return False
    from_bot = raw.get("from", {}).get("id") == srv.bot_id
    if chat.is_group and not from_bot and chat.bot_status not in {"administrator", "creator"}:
        raise bad_request(E.MESSAGE_CANT_BE_DELETED)
    del chat.messages[message_id]
    for msg in chat.bot_messages:
        if msg.message_id == message_id:
            msg.deleted = True
    srv.notify()
    return True


@api("deleteMessage")
async def delete_message(srv: ServerState, req: ApiRequest) -> Any:
    chat = srv.chat_for_read(req.params["chat_id"])
    if not _delete(srv, chat, int(req.params["message_id"])):
        raise bad_request(E.MESSAGE_TO_DELETE_NOT_FOUND)
    return True


@api("deleteMessages")
async def delete_messages(srv: ServerState, req: ApiRequest) -> Any:
    chat = srv.chat_for_read(req.params["chat_id"])
    ids = req.params["message_ids"]
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("Bad Request: message_ids must contain 1-100 identifiers")
    for message_id in ids:
        _delete(srv, chat, int(message_id))
    return True


@api("answerCallbackQuery")
async def answer_callback_query(srv: ServerState, req: ApiRequest) -> Any:
    p = req.params
    rec = srv.callbacks.get(str(p["callback_query_id"]))
    if rec is None or rec.answer is not None:
        raise bad_request(E.QUERY_TOO_OLD)
    if srv.now() - rec.created > srv.limits.callback_answer_timeout:
        raise bad_request(E.QUERY_TOO_OLD)
    if utf16_len(str(p.get("text") or "")) > srv.limits.answer_text_length:
        raise bad_request(E.ANSWER_TOO_LONG)
    rec.answer = dict(p)
    srv.notify()
    return True
