"""Which messenger the local server plays: Telegram (the default) or Bale (بله).

Written apart from the bot's own profile (``bot/platform.py``) on purpose: the bot's profile is
what the bot *believes*, this is what the server *does*, and a test passes only when the two
agree. The Bale profile follows ``/work/shared/bale.md`` row by row (each rule below names its
row); where the document says nothing is known, the server takes the side that makes a bot's
mistake visible — a field Bale lacks is refused here (recorded in ``server.refused``) rather
than silently ignored.

Use it with ``FakeTelegram(profile=BALE)``. The server then:

* ignores ``parse_mode`` and ``entities``: a text is stored and shown exactly as sent, so a
  ``<b>`` or ``&amp;`` the bot sends is what the user reads (row "formatting");
* ignores ``reply_parameters`` and honours ``reply_to_message_id`` (row "replies");
* refuses ``message_thread_id`` (row "chats": no forum topics), ``secret_token`` on
  setWebhook and webhook ports other than 443 and 88 (row "webhooks"), and the newer button
  fields ``style``, ``copy_text`` and ``web_app`` (row "newer Telegram fields");
* makes every group a plain ``group`` with an id of any sign and length, never ``-100…``;
  none becomes a supergroup (row "chats");
* limits getFile to 20 MB, uploads to 50 MB and uploaded photos to 10 MB (row "files");
* gives callback queries from old clients (``server.old_clients``) ids starting with "1"
  (row "callback queries");
* delivers every group message to the bot (privacy mode is unconfirmed either way, row
  "privacy mode in groups"), so a bot that takes plain group chatter as input is caught;
* accepts a ForceReply and does nothing with it (row "ForceReply": unconfirmed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import ApiError, bad_request
from .limits import Limits

MB = 1024 * 1024
NEWER_BUTTON_FIELDS = ("style", "copy_text", "web_app")


@dataclass(frozen=True)
class ServerProfile:
    name: str
    parse_mode: bool = True  # honoured; False: ignored, the text kept literally
    reply_parameters: bool = True  # honoured; False: ignored (reply_to_message_id still is)
    topics: bool = True  # message_thread_id exists
    supergroups: bool = True  # "-100…" ids are supergroups; basic groups may migrate
    webhook_secret_token: bool = True
    webhook_ports: tuple[int, ...] = (443, 80, 88, 8443)
    newer_buttons: bool = True  # style, copy_text, web_app
    privacy_mode: bool = True  # the default for new groups
    callback_prefix: str = "4"  # how callback query ids begin
    old_client_callback_prefix: str | None = None  # …and those of clients that cannot show answers
    photo_upload_max_bytes: int | None = None  # an uploaded photo (None: only the upload limit)
    limits: dict[str, Any] = field(default_factory=dict)  # Limits fields this profile sets

    def make_limits(self, base: Limits | None) -> Limits:
        """The server's limits: the test's own if it gave some, else this profile's."""
        if base is not None:
            return base
        return Limits(**self.limits)

    def group_kind(self, chat_id: int) -> str:
        if self.supergroups:
            if chat_id >= 0:
                raise ValueError("group ids are negative")
            return "supergroup" if str(chat_id).startswith("-100") else "group"
        return "group"  # Bale: any sign, any length

    def callback_id(self, serial: int, *, old_client: bool) -> str:
        prefix = self.old_client_callback_prefix if old_client else None
        return f"{prefix or self.callback_prefix}{serial:015d}"

    def adapt(self, method: str, params: dict[str, Any], uploads: dict[str, Any]) -> dict[str, Any]:
        """What the server acts on: ``params`` with the fields this platform ignores removed;
        refusals for the fields it lacks."""
        out = dict(params)
        if not self.topics and out.get("message_thread_id") not in (None, "", 0):
            raise bad_request("Bad Request: message_thread_id is not supported")  # row "chats"
        if not self.parse_mode:  # row "formatting"
            for key in ("parse_mode", "entities", "caption_entities"):
                out.pop(key, None)
            if isinstance(out.get("media"), list):
                out["media"] = [
                    {k: v for k, v in item.items() if k not in ("parse_mode", "caption_entities")}
                    if isinstance(item, dict)
                    else item
                    for item in out["media"]
                ]
        if not self.reply_parameters:  # row "replies"
            out.pop("reply_parameters", None)
        if not self.newer_buttons:  # row "newer Telegram fields"
            _refuse_newer_buttons(out.get("reply_markup"))
        if method == "setWebhook":
            self._check_webhook(out)
        photo_limit = self.photo_upload_max_bytes
        photo = uploads.get("photo")
        if method == "sendPhoto" and photo_limit and photo and len(photo.data) > photo_limit:
            raise ApiError(413, "Request Entity Too Large")  # row "files": photos 10 MB
        return out

    def _check_webhook(self, params: dict[str, Any]) -> None:
        """Row "webhooks": only ports 443 and 88; setWebhook takes only `url`."""
        if not self.webhook_secret_token and params.get("secret_token"):
            raise bad_request("Bad Request: secret_token is not supported")
        url = str(params.get("url") or "")
        if url:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            if port not in self.webhook_ports:
                ports = ", ".join(str(p) for p in self.webhook_ports)
                raise bad_request(
                    f"Bad Request: bad webhook: Webhook can be set up only on ports {ports}"
                )


def _refuse_newer_buttons(markup: Any) -> None:
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    for row in rows if isinstance(rows, list) else []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and any(k in button for k in NEWER_BUTTON_FIELDS):
                raise bad_request("Bad Request: unsupported inline keyboard button field")


TELEGRAM = ServerProfile(name="telegram")

BALE = ServerProfile(
    name="bale",
    parse_mode=False,  # row "formatting": no parse_mode/HTML, tags reach the user as typed
    reply_parameters=False,  # row "replies": documented as reply_to_message_id
    topics=False,  # row "chats": no forum topics, no message_thread_id
    supergroups=False,  # row "chats": private, group, channel; no -100… ids
    webhook_secret_token=False,  # row "webhooks": setWebhook takes only url
    webhook_ports=(443, 88),  # row "webhooks"
    newer_buttons=False,  # row "newer Telegram fields": style, copy_text, Web App rejected
    privacy_mode=False,  # row "privacy mode in groups": unconfirmed; deliver everything
    callback_prefix="2",  # new clients (any id not starting with "1")
    old_client_callback_prefix="1",  # row "callback queries": since June 2025
    photo_upload_max_bytes=10 * MB,  # row "files": 10 MB for photos
    limits={
        "get_file_max_bytes": 20 * MB,  # row "files": getFile up to 20 MB
        "upload_max_bytes": 50 * MB,  # row "files": uploads 50 MB multipart
        "text_length": 4096,  # row "methods seen working": sendMessage 1–4096 chars
        # row "rate limits": none published; Telegram's windows are kept
    },
)

PROFILES = {"telegram": TELEGRAM, "bale": BALE}
