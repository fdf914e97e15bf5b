"""Bot-level methods: identity, polling, webhook, commands, chats, members and files."""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any

from . import errors as E
from .errors import ApiError, bad_request
from .models import GROUP_ANONYMOUS_BOT_ID, ChatState, group_anonymous_bot
from .registry import api

if TYPE_CHECKING:
    from .state import ApiRequest, ServerState

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_EXTENSIONS = {"photo": "jpg", "video": "mp4", "voice": "oga", "audio": "mp3", "sticker": "webp"}


@api("getMe")
async def get_me(srv: ServerState, req: ApiRequest) -> Any:
    return {
        **srv.bot_user(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api("getUpdates")
async def get_updates(srv: ServerState, req: ApiRequest) -> Any:
    p = req.params
    loop = asyncio.get_running_loop()
    return await srv.updates.get(
        p.get("offset"), p.get("limit"), p.get("timeout"), p.get("allowed_updates"), loop.time
    )


@api("deleteWebhook")
async def delete_webhook(srv: ServerState, req: ApiRequest) -> Any:
    srv.webhook = None
    srv.updates.webhook_active = False
    if req.params.get("drop_pending_updates"):
        srv.updates.drop_pending()
    return True


@api("setWebhook")
async def set_webhook(srv: ServerState, req: ApiRequest) -> Any:
    url = req.params.get("url") or ""
    srv.webhook = dict(req.params) if url else None
    srv.updates.webhook_active = bool(url)
    if req.params.get("drop_pending_updates"):
        srv.updates.drop_pending()
    return True


@api("getWebhookInfo")
async def get_webhook_info(srv: ServerState, req: ApiRequest) -> Any:
    info: dict[str, Any] = {
        "url": (srv.webhook or {}).get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": len(srv.updates.pending),
    }
    if srv.updates.allowed:
        info["allowed_updates"] = srv.updates.allowed
    return info


def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


@api("setMyCommands")
async def set_my_commands(srv: ServerState, req: ApiRequest) -> Any:
    commands = req.params["commands"]
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("Bad Request: can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND_RE.match(str(command.get("command"))):
            raise bad_request(E.BOT_COMMAND_INVALID)
        if not 1 <= len(str(command.get("description") or "")) <= 256:
            raise bad_request("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
    srv.commands[_commands_key(req.params)] = commands
    return True


@api("getMyCommands")
async def get_my_commands(srv: ServerState, req: ApiRequest) -> Any:
    return srv.commands.get(_commands_key(req.params), [])


@api("deleteMyCommands")
async def delete_my_commands(srv: ServerState, req: ApiRequest) -> Any:
    srv.commands.pop(_commands_key(req.params), None)
    return True


@api("setChatMenuButton")
async def set_chat_menu_button(srv: ServerState, req: ApiRequest) -> Any:
    chat_id = req.params.get("chat_id")
    if chat_id is not None:
        chat_id = srv.chat_for_read(chat_id).id
    srv.menu_buttons[chat_id] = req.params.get("menu_button") or {"type": "default"}
    return True


@api("getChatMenuButton")
async def get_chat_menu_button(srv: ServerState, req: ApiRequest) -> Any:
    chat_id = req.params.get("chat_id")
    if chat_id is not None:
        chat_id = srv.chat_for_read(chat_id).id
    return srv.menu_buttons.get(chat_id) or srv.menu_buttons.get(None) or {"type": "commands"}


@api("close", "logOut")
async def close(srv: ServerState, req: ApiRequest) -> Any:
    return True


@api("getChat")
async def get_chat(srv: ServerState, req: ApiRequest) -> Any:
    chat = srv.chat_for_read(req.params["chat_id"])
    return {
        **chat.as_dict(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def _user_dict(srv: ServerState, user_id: int) -> dict[str, Any] | None:
    if user_id == srv.bot_id:
        return srv.bot_user()
    if user_id == GROUP_ANONYMOUS_BOT_ID:
        return group_anonymous_bot()
    user = srv.users.get(user_id)
    return user.as_dict() if user else None


def member_dict(user: dict[str, Any], status: str) -> dict[str, Any]:
    """A ChatMember object PTB can parse, for the statuses the fake models."""
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "administrator":
        rights = dict.fromkeys(
            (
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_change_info",
                "can_invite_users",
                "can_pin_messages",
                "can_manage_topics",
            ),
            True,
        )
        rights.update(
            dict.fromkeys(
                (
                    "can_be_edited",
                    "is_anonymous",
                    "can_promote_members",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                ),
                False,
            )
        )
        return {"status": "administrator", "user": user, **rights}
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    if status in {"member", "left"}:
        return {"status": status, "user": user}
    raise ValueError(f"unsupported member status {status!r}")


def member_status(srv: ServerState, chat: ChatState, user_id: int) -> str:
    if user_id == srv.bot_id:
        return "member" if chat.type == "private" else chat.bot_status
    if chat.type == "private":
        return "member" if user_id == chat.id else "left"
    return chat.members.get(user_id, "member")


@api("getChatMember")
async def get_chat_member(srv: ServerState, req: ApiRequest) -> Any:
    chat = srv.chat_for_read(req.params["chat_id"])
    user_id = int(req.params["user_id"])
    user = _user_dict(srv, user_id)
    if user is None:
        raise bad_request(E.USER_NOT_FOUND)
    return member_dict(user, member_status(srv, chat, user_id))


@api("getChatAdministrators")
async def get_chat_administrators(srv: ServerState, req: ApiRequest) -> Any:
    chat = srv.chat_for_read(req.params["chat_id"])
    if chat.type == "private":
        raise bad_request(E.PRIVATE_NO_ADMINS)
    admins = []
    for user_id, status in chat.members.items():
        user = _user_dict(srv, user_id)
        if user and status in {"creator", "administrator"}:
            admins.append(member_dict(user, status))
    if chat.bot_status in {"creator", "administrator"}:
        admins.append(member_dict(srv.bot_user(), chat.bot_status))
    return admins


@api("getFile")
async def get_file(srv: ServerState, req: ApiRequest) -> Any:
    rec = srv.files.get(str(req.params["file_id"]))
    if rec is None:
        raise bad_request(E.INVALID_FILE_ID)
    if rec.size > srv.limits.get_file_max_bytes:
        raise bad_request(E.FILE_TOO_BIG)
    if not rec.path:
        ext = _EXTENSIONS.get(rec.kind)
        if ext is None and rec.name and "." in rec.name:
            ext = rec.name.rsplit(".", 1)[1]
        rec.path = f"{rec.kind}s/file_{srv.next_id()}.{ext or 'bin'}"
    return {
        "file_id": rec.file_id,
        "file_unique_id": rec.file_unique_id,
        "file_size": rec.size,
        "file_path": rec.path,
    }


__all__ = ["ApiError", "member_dict"]
