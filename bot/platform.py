"""Every difference between the messengers the bot serves, in one place: one profile each.

Bale (بله) runs a near-copy of Telegram's Bot API. What is known of it comes from public
projects, not from trying the live service (`/work/shared/bale.md` names the source of each
line), so where the sources disagree the profile takes the safe side, and each guess is a value
here that an operator can change after the first contact with the real service. Code asks the
profile (`settings.profile`) instead of testing the platform's name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

PlatformName = Literal["telegram", "bale"]
Formatting = Literal["html", "plain", "markdown"]
ReplyStyle = Literal["reply_parameters", "reply_to_message_id"]

MB = 1024 * 1024
TELEGRAM_API_URL = "https://api.telegram.org"
BALE_API_URL = "https://tapi.bale.ai"


@dataclass(frozen=True)
class Limits:
    """Sizes and rates the bot must stay within. Lengths are in UTF-16 code units (Telegram's
    measure; never shorter than Python's, so a text within it is within a count of characters
    too)."""

    message_length: int = 4096
    caption_length: int = 1024
    callback_answer_length: int = 200
    get_file_bytes: int = 20 * MB  # what the bot may download with getFile
    upload_bytes: int = 50 * MB  # a file the bot uploads (multipart)
    photo_upload_bytes: int = 10 * MB
    messages_per_second: int = 30  # overall
    group_messages_per_minute: int = 20  # into one group
    chat_messages_per_second: int = 1  # into one private chat, sustained


@dataclass(frozen=True)
class Platform:
    """What one messenger's Bot API accepts, and how the bot must talk to it."""

    name: PlatformName
    default_api_url: str
    # How the program's HTML leaves it: as HTML (parse_mode HTML), as plain text (tags
    # dropped, entities unescaped, structure kept by lines), or as Bale's Markdown.
    formatting: Formatting
    # How a reply names the message it answers: Telegram's `reply_parameters`, or the raw
    # `reply_to_message_id` field (python-telegram-bot turns that into reply_parameters).
    reply_style: ReplyStyle
    supports_force_reply: bool
    supports_forum_topics: bool  # message_thread_id exists
    supports_supergroups: bool  # a group may turn into a supergroup with a new id
    # The shape of a group's id: Telegram's supergroups are "-100…"; None: no shape to
    # assume (any sign, any length).
    supergroup_id_prefix: str | None
    # A callback query whose id starts with this comes from a client that cannot show an
    # answer's text: the text must also go as an ordinary message. None: every client can.
    old_client_callback_prefix: str | None
    webhook_secret_header: bool  # setWebhook takes `secret_token` (sent back as a header)
    webhook_secret_in_path: bool  # …or the secret must hide in the webhook URL's path
    webhook_ports: tuple[int, ...]
    limits: Limits


TELEGRAM = Platform(
    name="telegram",
    default_api_url=TELEGRAM_API_URL,
    formatting="html",
    reply_style="reply_parameters",
    supports_force_reply=True,
    supports_forum_topics=True,
    supports_supergroups=True,
    supergroup_id_prefix="-100",
    old_client_callback_prefix=None,
    webhook_secret_header=True,
    webhook_secret_in_path=False,
    webhook_ports=(443, 80, 88, 8443),
    limits=Limits(),
)

# Each value below follows a row of /work/shared/bale.md; "guess" marks the safe side taken
# where no source says.
BALE = Platform(
    name="bale",
    default_api_url=BALE_API_URL,  # row "base URL"
    formatting="plain",  # row "formatting": no parse_mode/HTML reported; Markdown quirky
    reply_style="reply_to_message_id",  # row "replies"
    supports_force_reply=False,  # guess: row "ForceReply" — no source confirms it
    supports_forum_topics=False,  # row "chats": no forum topics
    supports_supergroups=False,  # row "chats": private, group, channel only
    supergroup_id_prefix=None,  # row "chats": do not assume -100… ids
    old_client_callback_prefix="1",  # row "callback queries" (since June 2025)
    webhook_secret_header=False,  # row "webhooks": setWebhook takes only `url`
    webhook_secret_in_path=True,
    webhook_ports=(443, 88),  # row "webhooks"
    limits=Limits(
        message_length=4096,  # row "methods seen working": sendMessage 1–4096 chars
        caption_length=1024,  # guess: unpublished, Telegram's
        get_file_bytes=20 * MB,  # row "files"
        upload_bytes=50 * MB,  # row "files": multipart
        photo_upload_bytes=10 * MB,  # row "files"
        # row "rate limits": none published; Telegram's kept (one project assumes ~30/s)
    ),
)

PLATFORMS: dict[PlatformName, Platform] = {"telegram": TELEGRAM, "bale": BALE}


def profile(name: PlatformName, *, bale_formatting: Literal["plain", "markdown"]) -> Platform:
    """The profile for `PLATFORM`, with the operator's choice of Bale formatting
    (`BALE_FORMATTING=markdown` is untested against the live service)."""
    chosen = PLATFORMS[name]
    if name == "bale" and bale_formatting != chosen.formatting:
        chosen = replace(chosen, formatting=bale_formatting)
    return chosen
