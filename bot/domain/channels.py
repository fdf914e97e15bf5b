"""How a complaint reached the desk. Every case records its channel, so that the desk is the one
place where complaints land, whatever way they came in, and figures can be broken down by it."""

from __future__ import annotations

from enum import StrEnum

from bot.i18n import N_


class Channel(StrEnum):
    CHAT = "chat"  # filed by the citizen in the bot's private chat
    PHONE = "phone"  # a call to 135, registered by the operator who took it
    WEB = "web"  # the web desk or another system, over the Open311 API
    SMS = "sms"


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.CHAT: N_("Chat with the bot"),
    Channel.PHONE: N_("Phone call (135)"),
    Channel.WEB: N_("Web desk"),
    Channel.SMS: N_("Text message"),
}

# Channels whose cases start without a Telegram citizen: nobody is told in chat, and the daily
# limit (a guard against one chat account flooding the desk) does not apply, until a citizen
# links the case to their chat.
WITHOUT_CHAT = frozenset({Channel.PHONE, Channel.WEB, Channel.SMS})


def label(value: str) -> str:
    """The msgid for a stored channel value (an unknown one reads as itself)."""
    try:
        return CHANNEL_LABELS[Channel(value)]
    except ValueError:
        return value
