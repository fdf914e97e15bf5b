"""The depth where every Bot API call leaves the program: adapted here to the platform.

Handlers, the outbox worker and the jobs all send through the one `PlatformBot` that
`make_bot` builds from the settings (so no code path can reach another server by accident, as
one project's did on Bale). Views keep writing Telegram's HTML; on a platform without it
(`Platform.formatting`) each text and caption is converted here, `reply_parameters` becomes the
raw `reply_to_message_id` where that is the platform's style, and fields the platform lacks
(`message_thread_id`, ForceReply) are dropped.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any

from telegram import ForceReply, InputMedia, ReplyParameters
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict, ODVInput
from telegram.constants import ParseMode
from telegram.ext import BaseRateLimiter, Defaults, ExtBot

from bot.bot_http import AiohttpRequest
from bot.config import ConfigError, Settings
from bot.formatting import html_to_markdown, html_to_plain
from bot.platform import TELEGRAM, Platform

log = logging.getLogger(__name__)

TEXT_FIELDS = ("text", "caption")
HTML = ParseMode.HTML.value


def adapt(params: dict[str, Any], platform: Platform) -> dict[str, Any]:
    """`params` of one call as `platform` takes them (a new dict; the input is not changed)."""
    if platform.formatting == "html" and platform.reply_style == "reply_parameters":
        return params  # Telegram: exactly what the program wrote
    out = dict(params)
    if out.get("parse_mode") == HTML:
        _convert_texts(out, platform)
    if isinstance(out.get("media"), list):
        out["media"] = [_adapt_media(item, platform) for item in out["media"]]
    elif isinstance(out.get("media"), InputMedia):  # editMessageMedia: one item
        out["media"] = _adapt_media(out["media"], platform)
    if platform.reply_style == "reply_to_message_id" and "reply_parameters" in out:
        target, allow = _reply_target(out.pop("reply_parameters"), out.get("chat_id"))
        if target is not None:
            out["reply_to_message_id"] = target
            if allow:
                out["allow_sending_without_reply"] = True
    if not platform.supports_forum_topics:
        out.pop("message_thread_id", None)
    if not platform.supports_force_reply and _is_force_reply(out.get("reply_markup")):
        del out["reply_markup"]
    return out


def _convert_texts(out: dict[str, Any], platform: Platform) -> None:
    convert = html_to_markdown if platform.formatting == "markdown" else html_to_plain
    for key in TEXT_FIELDS:
        if isinstance(out.get(key), str):
            out[key] = convert(out[key])
    if platform.formatting == "markdown":
        out["parse_mode"] = ParseMode.MARKDOWN.value
    else:
        del out["parse_mode"]


def _adapt_media(item: Any, platform: Platform) -> Any:
    """An album item's caption, whether the item is PTB's InputMedia or a raw dict."""
    if isinstance(item, Mapping):
        return adapt(dict(item), platform)
    if isinstance(item, InputMedia) and item.parse_mode == HTML:
        fields = adapt({"caption": item.caption, "parse_mode": HTML}, platform)
        item = copy.copy(item)
        with item._unfrozen():  # as PTB itself sets defaults on InputMedia
            item.caption = fields.get("caption")
            item.parse_mode = fields.get("parse_mode")
    return item


def _reply_target(reply: Any, chat_id: Any) -> tuple[int | None, bool]:
    if isinstance(reply, ReplyParameters):
        reply = reply.to_dict()
    if not isinstance(reply, Mapping) or reply.get("chat_id") not in (None, chat_id):
        return None, False  # a reply into another chat has no raw form: sent without it
    message_id = reply.get("message_id")
    return (int(message_id) if message_id is not None else None), bool(
        reply.get("allow_sending_without_reply")
    )


def _is_force_reply(markup: Any) -> bool:
    return isinstance(markup, ForceReply) or (
        isinstance(markup, Mapping) and bool(markup.get("force_reply"))
    )


class PlatformBot(ExtBot[None]):
    """python-telegram-bot's bot, with each request adapted to the platform on its way out."""

    def __init__(self, *args: Any, platform: Platform, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._platform = platform

    @property
    def platform(self) -> Platform:
        return self._platform

    async def _do_post(
        self,
        endpoint: str,
        data: JSONDict,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> bool | JSONDict | list[JSONDict]:
        return await super()._do_post(
            endpoint,
            adapt(data, self._platform),
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )


def make_bot(settings: Settings, *, rate_limiter: BaseRateLimiter[Any] | None) -> PlatformBot:
    """The one bot of the process, from the settings: token, server, defaults, pacing."""
    request = AiohttpRequest(connection_pool_size=256)
    try:  # a proxy from the environment that cannot be used stops the start, as httpx's did
        request.proxy_for(settings.bot_api_url)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return PlatformBot(
        token=settings.bot_token.get_secret_value(),
        base_url=f"{settings.bot_api_url}/bot",
        base_file_url=f"{settings.bot_api_url}/file/bot",
        defaults=Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz),
        rate_limiter=rate_limiter,
        # The pools ApplicationBuilder would build (a large one for calls, one connection for
        # getUpdates), over aiohttp: bot/bot_http.py says why.
        request=request,
        get_updates_request=AiohttpRequest(connection_pool_size=1),
        platform=settings.profile,
    )


def platform_of(bot: object) -> Platform:
    """The platform a bot object talks to (PTB's plain Bot: Telegram)."""
    return bot.platform if isinstance(bot, PlatformBot) else TELEGRAM


def shows(html: str, platform: Platform) -> str:
    """What a user reads of `html` on the platform, as the message's `text` comes back (for
    telling whether an edit would change anything)."""
    if platform.formatting != "plain":
        return html
    return html_to_plain(html)
