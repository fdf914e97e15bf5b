"""Tests of the fake Bot API server, driven through python-telegram-bot's real HTTP client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import ssl
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import telegram
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.localapi import FakeTelegram, Limits

TOKEN = "123456:TEST-TOKEN"


_SSL = ssl.create_default_context()  # httpx builds one per client otherwise (~50 ms each)


def make_bot(server: FakeTelegram, token: str = TOKEN) -> telegram.Bot:
    return telegram.Bot(
        token,
        base_url=f"{server.base_url}/bot",
        base_file_url=f"{server.base_url}/file/bot",
        request=HTTPXRequest(httpx_kwargs={"verify": _SSL}),
        get_updates_request=HTTPXRequest(httpx_kwargs={"verify": _SSL}),
    )


def seconds(value: int | dtm.timedelta) -> int:
    return int(value.total_seconds()) if isinstance(value, dtm.timedelta) else int(value)


def retry_after(err: RetryAfter) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return seconds(err.retry_after)


class FakeClock:
    """Deterministic time for the rate-limit windows."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def kb(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, bot_username="tazirat_test_bot") as srv:
        yield srv


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with make_bot(server) as client:
        yield client


# --------------------------------------------------------------------------- basics


async def test_get_me_and_identity(server: FakeTelegram, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "tazirat_test_bot", True)
    assert server.bot_id == 123456
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.calls[-1].method == "getMe" and server.calls[-1].ok


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")
async def test_wrong_token_unknown_method_and_missing_params(
    server: FakeTelegram, bot: telegram.Bot
) -> None:
    with pytest.raises(InvalidToken, match=r"rejected by the server"):
        async with make_bot(server, "999:WRONG"):  # initialize() calls getMe
            pass
    assert (server.calls[-1].error_code, server.calls[-1].description) == (401, "Unauthorized")
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    with pytest.raises(BadRequest, match=r"Chat_id is empty"):
        await bot.do_api_request("sendMessage", api_kwargs={"text": "x"})
    server.user(1001)
    with pytest.raises(BadRequest, match=r"Message text is empty"):
        await bot.send_message(1001, "")
    with pytest.raises(BadRequest, match=r"There is no photo in the request"):
        await bot.do_api_request("sendPhoto", api_kwargs={"chat_id": 1001})
    assert [c.error_code for c in server.refused] == [401, 404, 400, 400, 400]
    with pytest.raises(AssertionError, match=r"refused 5 call"):
        server.assert_no_refusals()


async def test_params_are_decoded_by_declared_type(server: FakeTelegram, bot: telegram.Bot) -> None:
    server.user(1001)
    await bot.send_message(1001, "123", reply_markup=kb([("a", "x")]), disable_notification=True)
    params = server.calls[-1].params
    assert params["text"] == "123"  # a String stays a string
    assert params["chat_id"] == 1001
    assert params["disable_notification"] is True
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "a", "callback_data": "x"}]]}


async def test_json_body_and_query_string_are_accepted(server: FakeTelegram) -> None:
    server.user(1001)
    url = f"{server.base_url}/bot{server.token}"
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    async with aiohttp.ClientSession() as http:
        body = {"chat_id": 1001, "text": "json", "reply_markup": markup}
        async with http.post(f"{url}/sendMessage", json=body) as resp:
            assert resp.status == 200 and (await resp.json())["result"]["text"] == "json"
        # PTB's own JSON payload keeps nested objects as JSON strings
        body = {"chat_id": "1001", "text": "x", "reply_markup": json.dumps(markup)}
        async with http.post(f"{url}/sendmessage", json=body) as resp:
            assert (await resp.json())["result"]["reply_markup"] == markup
        async with http.get(f"{url}/getChat", params={"chat_id": "1001"}) as resp:
            assert (await resp.json())["result"]["id"] == 1001
        async with http.post(f"{url}/sendMessage", data={"chat_id": "1001"}) as resp:
            assert resp.status == 400
            assert await resp.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message text is empty",
            }
    assert server.calls[1].params["reply_markup"] == markup


# --------------------------------------------------------------------------- polling


async def test_long_poll_wakes_on_injection_and_offset_confirms(
    server: FakeTelegram, bot: telegram.Bot
) -> None:
    u = server.user(1001, first_name="علی")
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_until(lambda: server.updates.waiting == 1)
    sent = await u.send_text("/start@tazirat_test_bot")
    updates = await poll
    assert loop.time() - started < 2
    assert [x.message.text for x in updates] == ["/start@tazirat_test_bot"]
    entity = updates[0].message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 23)
    assert sent["message_id"] == updates[0].message.message_id

    assert server.updates_confirmed == 0
    await u.send_text("دوم")
    again = await bot.get_updates(timeout=0)  # not confirmed yet: delivered again
    assert [x.update_id for x in again] == [1, 2]
    assert await bot.get_updates(offset=3, timeout=0) == ()
    assert server.updates_confirmed == 2
    await server.wait_updates_consumed(timeout=1)


async def test_second_poller_terminates_the_first_with_409(
    server: FakeTelegram, bot: telegram.Bot
) -> None:
    # one Bot never overlaps its own polls (PTB gives getUpdates a 1-connection pool),
    # so the conflict needs a second bot instance - exactly the production mistake
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_until(lambda: server.updates.waiting == 1)
    async with make_bot(server) as other:
        second = asyncio.create_task(other.get_updates(timeout=5))
        with pytest.raises(Conflict, match=r"terminated by other getUpdates request"):
            await first
        await server.wait_until(lambda: server.updates.waiting == 1)
        await server.user(1001).send_text("x")
        assert len(await second) == 1
    assert [c.error_code for c in server.refused] == [409]


async def test_allowed_updates_filter(server: FakeTelegram, bot: telegram.Bot) -> None:
    u = server.user(1001)
    await bot.send_message(1001, "k", reply_markup=kb([("a", "a")]))
    await u.send_text("dropped")
    await u.press("a")
    updates = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    assert [x.callback_query.data for x in updates] == ["a"]
    await server.user(1002).send_text("still filtered")
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    await server.wait_updates_consumed(timeout=1)


# --------------------------------------------------------------------------- text and HTML


async def test_text_length_counts_utf16_after_entity_parsing(
    server: FakeTelegram, bot: telegram.Bot
) -> None:
    server.user(1001)
    await bot.send_message(1001, "س" * 4096)
    await bot.send_message(1001, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(1001, "😀" * 2048)  # 2 UTF-16 units each
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(1001, "😀" * 2048 + "x")
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(1001, "&lt;" * 4097, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(1001, "<b> </b>", parse_mode="HTML")
    await bot.send_photo(1001, b"img", caption="c" * 1024)
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_photo(1001, b"img", caption="c" * 1025)
    assert server.refused[0].description == "Bad Request: message is too long"


async def test_html_subset_entities_and_plain_text(server: FakeTelegram, bot: telegram.Bot) -> None:
    u = server.user(1001)
    html = (
        "<b>گزارش</b> <i>i</i><em>e</em> <u>u</u><ins>n</ins> <s>s</s><strike>t</strike>"
        '<del>d</del> <a href="https://example.com/?a=1&amp;b=2">لینک</a> <code>c</code> '
        '<pre><code class="language-python">x = 1</code></pre><pre>p</pre>'
        "<blockquote>q</blockquote><blockquote expandable>e</blockquote>"
        '<tg-spoiler>x</tg-spoiler><span class="tg-spoiler">y</span>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> '
        "&lt;&gt;&amp;&quot;&#1587;&#x633; 😀"
        "<b>z</b>"
    )
    sent = await bot.send_message(1001, html, parse_mode="HTML")
    plain = 'گزارش ie un std لینک c x = 1pqexy👍 <>&"سس 😀z'
    assert sent.text == plain
    msg = await u.expect_message()
    assert (msg.text, msg.html, msg.parse_mode) == (plain, html, "HTML")
    by_type: dict[str, dict[str, Any]] = {}
    for entity in msg.entities:
        by_type.setdefault(entity["type"], entity)
    assert by_type["text_link"]["url"] == "https://example.com/?a=1&b=2"
    assert by_type["pre"] == {"type": "pre", "offset": 23, "length": 5, "language": "python"}
    assert by_type["expandable_blockquote"]["length"] == 1
    assert by_type["custom_emoji"]["custom_emoji_id"] == "5368324170671202286"
    last_bold = [e for e in msg.entities if e["type"] == "bold"][-1]
    utf16_length = len(plain.encode("utf-16-le")) // 2  # 👍 and 😀 count twice
    assert last_bold == {"type": "bold", "offset": utf16_length - 1, "length": 1}
    assert sent.parse_entity(sent.entities[-1]) == "z"


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("سلام <div>x</div>", 'Unsupported start tag "div" at byte offset 9'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("x </b>", "Unexpected end tag at byte offset 2"),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("AT&T", 'Unescaped "&" at byte offset 2'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_html_refusals(
    server: FakeTelegram, bot: telegram.Bot, html: str, reason: str
) -> None:
    server.user(1001)
    with pytest.raises(BadRequest) as err:
        await bot.send_message(1001, html, parse_mode="HTML")
    assert server.refused[-1].description.startswith("Bad Request: can't parse entities: " + reason)
    # PTB strips "Bad Request: " and lower-cases the rest of the description
    assert err.value.message.startswith("Can't parse entities: " + reason.lower()[:10])


async def test_no_parse_mode_is_literal_and_markdown_is_refused(
    server: FakeTelegram, bot: telegram.Bot
) -> None:
    u = server.user(1001)
    await bot.send_message(1001, "<b>1 < 2 & 3</b>")
    assert (await u.expect_message()).text == "<b>1 < 2 & 3</b>"
    with pytest.raises(BadRequest, match=r"Unsupported parse_mode markdownv2"):
        await bot.send_message(1001, "*x*", parse_mode="MarkdownV2")


# --------------------------------------------------------------------------- keyboards


async def test_inline_keyboard_limits(server: FakeTelegram, bot: telegram.Bot) -> None:
    server.user(1001)
    await bot.send_message(1001, "ok", reply_markup=kb([("a", "x" * 64)]))
    persian = "گران‌فروشی"  # 21 bytes
    await bot.send_message(1001, "ok", reply_markup=kb([("a", persian * 3)]))  # 63 bytes
    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        await bot.send_message(1001, "x", reply_markup=kb([("a", persian * 3 + "ب")]))
    with pytest.raises(BadRequest, match=r"^Reply markup is too long$"):
        await bot.send_message(1001, "x", reply_markup=kb([(str(i), str(i)) for i in range(9)]))
    rows = [[(f"{r}-{c}", f"{r}-{c}") for c in range(8)] for r in range(13)]  # 104 buttons
    with pytest.raises(BadRequest, match=r"^Reply markup is too long$"):
        await bot.send_message(1001, "x", reply_markup=kb(*rows))
    only_text = InlineKeyboardMarkup([[InlineKeyboardButton("just text")]])
    with pytest.raises(BadRequest, match=r"(?i)text buttons are unallowed in the inline keyboard"):
        await bot.send_message(1001, "x", reply_markup=only_text)
    assert server.refused[0].description == "Bad Request: BUTTON_DATA_INVALID"


async def test_reply_keyboard_tracking(server: FakeTelegram, bot: telegram.Bot) -> None:
    u = server.user(1001)
    await bot.send_message(1001, "menu", reply_markup=ReplyKeyboardMarkup([["ثبت شکایت"]]))
    assert u.last_reply_keyboard == {"keyboard": [[{"text": "ثبت شکایت"}]]}
    menu = await u.expect_message("menu")
    assert menu.reply_keyboard == [["ثبت شکایت"]] and menu.raw.get("reply_markup") is None
    await bot.send_message(1001, "bye", reply_markup=ReplyKeyboardRemove())
    assert u.last_reply_keyboard is None


# --------------------------------------------------------------------------- chats and errors


async def test_chat_refusals(server: FakeTelegram, bot: telegram.Bot) -> None:
    server.user(1001)
    server.group(-1001234, title="Staff")
    server.group(-555, title="Old group")
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(42, "x")
    server.block(1001)
    with pytest.raises(Forbidden, match=r"bot was blocked by the user"):
        await bot.send_message(1001, "x")
    server.unblock(1001)
    await bot.send_message(1001, "back")
    server.kick(-1001234)
    with pytest.raises(Forbidden, match=r"kicked from the supergroup chat"):
        await bot.send_message(-1001234, "x")
    server.kick(-555)
    with pytest.raises(Forbidden, match=r"kicked from the group chat"):
        await bot.send_message(-555, "x")
    with pytest.raises(Forbidden, match="kicked"):
        await bot.get_chat(-555)
    server.user(2002, started=False)
    with pytest.raises(Forbidden, match=r"can't initiate conversation"):
        await bot.send_message(2002, "x")
    assert len(server.refused) == 6
    server.expect_refusal(lambda c: c.error_code == 403)
    server.expect_refusal("chat not found")
    server.assert_no_refusals()


async def test_migration(server: FakeTelegram, bot: telegram.Bot) -> None:
    server.group(-555, title="Staff")
    new_group = server.migrate(-555, -1009999)
    with pytest.raises(ChatMigrated) as err:
        await bot.send_message(-555, "x")
    assert err.value.new_chat_id == -1009999
    assert server.calls[-1].migrate_to_chat_id == -1009999
    await bot.send_message(-1009999, "here")
    assert (await new_group.expect_message()).text == "here"
    assert new_group.chat.type == "supergroup"


async def test_migration_announced(server: FakeTelegram, bot: telegram.Bot) -> None:
    """Telegram's two service messages, as the Bot API gives them: the old group's from whoever
    upgraded it, the supergroup's from GroupAnonymousBot on behalf of the supergroup."""
    server.group(-556, title="Staff")
    admin = server.user(2001, first_name="Admin")
    server.migrate(-556, -1009998, by=admin)
    told, welcomed = [u.message for u in await bot.get_updates(timeout=0)]
    assert told is not None and welcomed is not None
    assert (told.chat.id, told.chat.type, told.migrate_to_chat_id) == (-556, "group", -1009998)
    assert told.from_user is not None and told.from_user.id == 2001
    assert (welcomed.chat.id, welcomed.chat.type) == (-1009998, "supergroup")
    assert welcomed.migrate_from_chat_id == -556
    assert welcomed.from_user is not None and welcomed.from_user.username == "GroupAnonymousBot"
    assert welcomed.sender_chat is not None and welcomed.sender_chat.id == -1009998
    with pytest.raises(ChatMigrated) as err:
        await bot.send_message(-556, "x")
    assert err.value.new_chat_id == -1009998
    refused = server.calls[-1]
    assert refused.description == "Bad Request: group chat was upgraded to a supergroup chat"
    assert refused.migrate_to_chat_id == -1009998


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limits_honest_retry_after(server: FakeTelegram, bot: telegram.Bot) -> None:
    clock = FakeClock()
    async with FakeTelegram(token=TOKEN, clock=clock) as srv, make_bot(srv) as b:
        for uid in range(1, 8):
            srv.user(uid)
        srv.group(-1001, title="g")
        for _ in range(5):
            await b.send_message(1, "x")
        with pytest.raises(RetryAfter) as err:
            await b.send_message(1, "x")
        assert retry_after(err.value) == 1
        assert srv.calls[-1].description == "Too Many Requests: retry after 1"
        clock.now += 0.5
        await b.send_chat_action(1, "typing")  # not a message: never limited
        await b.edit_message_text("edited", chat_id=1, message_id=1)  # edits are not counted
        clock.now += 0.6
        await b.send_message(1, "window moved")

        clock.now += 10
        for _ in range(20):
            await b.send_message(-1001, "g")
            clock.now += 0.5
        with pytest.raises(RetryAfter) as err:
            await b.send_message(-1001, "g")
        assert retry_after(err.value) == 50  # the first group message was 10 s ago

        clock.now += 100
        for uid in range(2, 8):
            for _ in range(5):
                await b.send_message(uid, "x")
        with pytest.raises(RetryAfter):  # 30 messages in this second, all chats together
            await b.send_message(1, "x")
        assert [c.retry_after for c in srv.refused] == [1, 50, 1]

    async with FakeTelegram(token=TOKEN, limits=Limits(enabled=False)) as srv, make_bot(srv) as b:
        srv.user(1)
        for _ in range(40):
            await b.send_message(1, "x")
        srv.assert_no_refusals()


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fail_next_injected_failures_are_expected(
    server: FakeTelegram, bot: telegram.Bot
) -> None:
    server.user(1001)
    server.fail_next("sendMessage")
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(1001, "x")
    assert retry_after(err.value) == 3
    server.fail_next("sendMessage", error_code=400, migrate_to_chat_id=-100777, chat_id=1001)
    with pytest.raises(ChatMigrated):
        await bot.send_message(1001, "x")
    server.fail_next("sendMessage", error_code=403, times=2)
    for _ in range(2):
        with pytest.raises(Forbidden, match=r"blocked"):
            await bot.send_message(1001, "x")
    await bot.send_message(1001, "finally")
    assert all(c.expected for c in server.calls if not c.ok)
    server.assert_no_refusals()


# --------------------------------------------------------------------------- edits, callbacks


async def test_edits(server: FakeTelegram, bot: telegram.Bot) -> None:
    u = server.user(1001)
    keyboard = kb([("a", "a")])
    sent = await bot.send_message(1001, "<b>v1</b>", parse_mode="HTML", reply_markup=keyboard)
    msg = await u.expect_message("v1")
    with pytest.raises(BadRequest, match=r"^Message is not modified: specified new message"):
        await bot.edit_message_text(
            "<strong>v1</strong>", 1001, sent.message_id, parse_mode="HTML", reply_markup=keyboard
        )
    # editing text without reply_markup removes the inline keyboard, as on Telegram
    await bot.edit_message_text("<b>v1</b>", 1001, sent.message_id, parse_mode="HTML")
    assert msg.buttons() == [] and msg.edits == 1
    await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=kb([("b", "b")]))
    edited = await bot.edit_message_text("v2", 1001, sent.message_id, reply_markup=kb([("b", "b")]))
    assert edited.text == "v2" and edited.edit_date is not None
    assert (msg.text, msg.history, msg.edits, msg.buttons()) == ("v2", ["v1", "v1"], 3, ["b"])
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("x", 1001, 999)
    user_msg = await u.send_text("mine")
    with pytest.raises(BadRequest, match=r"^Message can't be edited$"):
        await bot.edit_message_text("x", 1001, user_msg["message_id"])
    with pytest.raises(BadRequest, match=r"^There is no caption in the message to edit$"):
        await bot.edit_message_caption(1001, sent.message_id, caption="c")
    with pytest.raises(BadRequest, match=r"^Inline keyboard expected$"):
        await bot.edit_message_reply_markup(
            1001,
            sent.message_id,
            reply_markup=ReplyKeyboardMarkup([["x"]]),  # type: ignore[arg-type]
        )
    assert await bot.delete_message(1001, sent.message_id)
    assert msg.deleted and u.inbox == []
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(1001, sent.message_id)


async def test_callback_answers(server: FakeTelegram, bot: telegram.Bot) -> None:
    u = server.user(1001)
    await bot.send_message(1001, "choose", reply_markup=kb([("بله", "yes"), ("خیر", "no")]))
    query_id = await u.press("خیر")
    updates = await bot.get_updates(timeout=0)
    query = updates[-1].callback_query
    assert (query.id, query.data, query.message.text) == (query_id, "no", "choose")
    assert await bot.answer_callback_query(query_id, text="ثبت شد", show_alert=True)
    answer = await u.expect_answer(query_id)
    assert (answer["text"], answer["show_alert"]) == ("ثبت شد", True)
    with pytest.raises(BadRequest, match=r"^Query is too old and response timeout expired"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"^Query is too old"):
        await bot.answer_callback_query("123")
    forged = await u.press(data="x" * 100)
    with pytest.raises(BadRequest, match=r"^Message_too_long$"):
        await bot.answer_callback_query(forged, text="x" * 201)
    with pytest.raises(AssertionError, match=r"no inline button 'nope'"):
        await u.press("nope")
    with pytest.raises(AssertionError, match=r"not answered"):
        await u.expect_answer(forged, timeout=0.05)
    clock = FakeClock()
    server.clock = clock
    late = await u.press("بله")
    clock.now += 15.5  # answering after Telegram's ~15 s window
    with pytest.raises(BadRequest, match=r"^Query is too old"):
        await bot.answer_callback_query(late)


# --------------------------------------------------------------------------- media


async def test_media_group_and_files(server: FakeTelegram, bot: telegram.Bot) -> None:
    u = server.user(1001)
    album = await u.send_album(kinds=["photo", "photo", "video"], caption="سه عکس")
    assert len({m["media_group_id"] for m in album}) == 1 and album[0]["caption"] == "سه عکس"
    photo_id = album[0]["photo"][-1]["file_id"]
    sent = await bot.send_media_group(
        1001,
        [
            InputMediaPhoto(photo_id, caption="<b>اول</b>", parse_mode="HTML"),
            InputMediaPhoto(b"\x89PNG upload", filename="p.png"),
        ],
    )
    assert len({m.media_group_id for m in sent}) == 1 and sent[0].caption == "اول"
    items = u.inbox
    assert [(m.kind, m.media_type) for m in items] == [("media_group_item", "photo")] * 2
    assert items[0].media == [photo_id] and items[0].text == "اول"
    assert server.calls[-1].files and next(iter(server.calls[-1].files.values()))["size"] == 11
    for bad in ([InputMediaPhoto(photo_id)], [InputMediaPhoto(photo_id)] * 11):
        with pytest.raises(BadRequest, match=r"Media group must contain 2-10 items"):
            await bot.send_media_group(1001, bad)
    doc = await u.send_document(file_name="receipt.pdf", size=12345)
    doc_id = doc["document"]["file_id"]
    with pytest.raises(BadRequest, match=r"can only be grouped with media of the same type"):
        await bot.send_media_group(1001, [InputMediaPhoto(photo_id), InputMediaDocument(doc_id)])
    with pytest.raises(BadRequest, match=r"caption is too long"):
        await bot.send_media_group(
            1001, [InputMediaPhoto(photo_id, caption="x" * 1025), InputMediaPhoto(photo_id)]
        )
    with pytest.raises(BadRequest, match=r"Wrong file identifier"):
        await bot.send_photo(1001, "no-such-file")
    with pytest.raises(BadRequest, match=r"(?i)can't use file of type document as photo"):
        await bot.send_photo(1001, doc_id)

    uploaded = await bot.send_document(1001, b"%PDF-1.4 fake", filename="report.pdf")
    assert uploaded.document.file_name == "report.pdf"
    tg_file = await bot.get_file(uploaded.document.file_id)
    assert bytes(await tg_file.download_as_bytearray()) == b"%PDF-1.4 fake"
    user_file = await bot.get_file(doc_id)
    assert len(await user_file.download_as_bytearray()) == 12345


async def test_uploads_over_the_limit_are_refused_with_413() -> None:
    async with FakeTelegram(token=TOKEN, limits=Limits(upload_max_bytes=1000)) as server:
        server.user(1001)
        async with make_bot(server) as bot:
            await bot.send_document(1001, b"x" * 1000, filename="fits.csv")
            # Telegram answers 413 "Request Entity Too Large"; PTB reports it as NetworkError.
            with pytest.raises(NetworkError, match="Request Entity Too Large"):
                await bot.send_document(1001, b"x" * 1001, filename="big.csv")
        assert [(c.error_code, c.description) for c in server.refused] == [
            (413, "Request Entity Too Large")
        ]
        assert [m.kind for m in server.messages(1001)] == ["document"]


async def test_copy_forward_location_and_contact(server: FakeTelegram, bot: telegram.Bot) -> None:
    u = server.user(1001, phone="+989121234567")
    staff = server.group(-1001234, title="Staff")
    photo = await u.send_photo(file_unique="evidence", caption="رسید")
    copied = await bot.copy_message(
        -1001234, 1001, photo["message_id"], caption="<i>کپی</i>", parse_mode="HTML"
    )
    msg = await staff.expect_message()
    assert (msg.message_id, msg.kind, msg.text) == (copied.message_id, "photo", "کپی")
    assert msg.media == ["fake-photo-evidence"]
    forwarded = await bot.forward_message(-1001234, 1001, photo["message_id"])
    assert forwarded.forward_origin.sender_user.id == 1001
    with pytest.raises(BadRequest, match=r"^Message to copy not found$"):
        await bot.copy_message(-1001234, 1001, 999)
    await bot.send_location(1001, 35.7, 51.4)
    contact = await u.send_contact(own=True)
    assert contact["contact"] == {
        "phone_number": "+989121234567",
        "first_name": "User",
        "user_id": 1001,
    }
    other = await u.send_contact(phone="+98912000", own=False)
    assert other["contact"]["user_id"] != 1001
    location = await u.send_location(35.7, 51.4)
    assert location["location"] == {"latitude": 35.7, "longitude": 51.4}


# --------------------------------------------------------------------------- actors


async def test_expect_message_cursor_and_skipped(server: FakeTelegram, bot: telegram.Bot) -> None:
    u = server.user(1001)
    for text in ("one", "two", "three"):
        await bot.send_message(1001, text)
    assert (await u.expect_message()).text == "one"
    assert (await u.expect_message("three")).text == "three"
    assert [m.text for m in u.skipped] == ["two"]
    waiter = asyncio.create_task(u.expect_message("four"))
    await bot.send_message(1001, "four")  # the waiter parks while this request is in flight
    assert (await waiter).text == "four"
    with pytest.raises(AssertionError, match=r"no new bot message containing 'five'") as err:
        await u.expect_message("five", timeout=0.05)
    assert "#4 [text] 'four'" in str(err.value)


async def test_press_and_expect_edit(server: FakeTelegram, bot: telegram.Bot) -> None:
    u = server.user(1001)
    await bot.send_message(1001, "old", reply_markup=kb([("x", "1")]))
    await bot.send_message(1001, "pick", reply_markup=kb([("گران‌فروشی", "cat:price")]))
    await bot.send_message(1001, "no keyboard")
    msg = await u.expect_message("pick")
    assert msg.button_data("گران‌فروشی") == "cat:price"
    query_id = await u.press("گران‌فروشی")
    update = (await bot.get_updates(timeout=0))[-1]
    assert update.callback_query.data == "cat:price" and update.callback_query.id == query_id
    await bot.edit_message_text("done", 1001, msg.message_id)
    assert (await u.expect_edit(msg, contains="done")).text == "done"
    first = u.inbox[0]
    await u.press("x", message=first)
    assert (await bot.get_updates(timeout=0))[-1].callback_query.data == "1"


async def test_user_edit_and_media_updates(server: FakeTelegram, bot: telegram.Bot) -> None:
    u = server.user(1001)
    sent = await u.send_text("سلام")
    await u.edit_text(sent, "سلام!")
    await u.send_voice()
    await u.send_sticker()
    await u.send_video()
    updates = await bot.get_updates(timeout=0)
    assert updates[1].edited_message.text == "سلام!"
    assert updates[1].edited_message.message_id == sent["message_id"]
    assert updates[2].message.voice and updates[3].message.sticker and updates[4].message.video


async def test_group_privacy_anonymous_admin_and_forum(
    server: FakeTelegram, bot: telegram.Bot
) -> None:
    alice = server.user(1001, first_name="Alice")
    staff = server.group(-1001234, title="Staff")
    await staff.send_text(from_user=alice, text="chatter")  # privacy mode: not delivered
    await staff.send_text(from_user=alice, text="/stats@tazirat_test_bot")
    await staff.send_as_anonymous_admin("hello @tazirat_test_bot")
    updates = await bot.get_updates(timeout=0)
    texts = [x.message.text for x in updates]
    assert texts == ["/stats@tazirat_test_bot", "hello @tazirat_test_bot"]
    anon = updates[1].message
    assert anon.from_user.id == 1087968824 and anon.sender_chat.id == -1001234
    assert [m["text"] for m in server.undelivered] == ["chatter"]

    forum = server.group(-1005555, title="Forum", is_forum=True, bot_status="administrator")
    topic = forum.create_topic("complaints")
    await bot.send_message(-1005555, "in topic", message_thread_id=topic)
    await bot.send_message(-1005555, "in general")
    assert [(m.text, m.thread_id) for m in forum.inbox] == [
        ("in topic", topic),
        ("in general", None),
    ]
    with pytest.raises(BadRequest, match=r"^Message thread not found$"):
        await bot.send_message(-1005555, "x", message_thread_id=999)
    await forum.send_text(from_user=alice, text="in thread", message_thread_id=topic)
    last = (await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0))[-1]
    assert (last.message.message_thread_id, last.message.is_topic_message) == (topic, True)
    await bot.send_message(-1005555, "vote", reply_markup=kb([("👍", "up")]))
    query_id = await forum.press(from_user=alice, text="👍")
    query = (await bot.get_updates(offset=last.update_id + 1, timeout=0))[-1].callback_query
    assert (query.id, query.from_user.id, query.message.chat.id) == (query_id, 1001, -1005555)
    member = await bot.get_chat_member(-1005555, server.bot_id)
    assert member.status == "administrator"
    forum.set_member(alice, "creator")
    admins = await bot.get_chat_administrators(-1005555)
    assert {a.user.id for a in admins} == {1001, server.bot_id}


# --------------------------------------------------------------------------- real Application


async def test_full_application_round_trip(server: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(
            "<b>خوش آمدید</b>", reply_markup=kb([("ثبت شکایت", "complaint:new")])
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("باشه")
        await query.edit_message_text(f"انتخاب: {query.data}")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    app: Application = (
        ApplicationBuilder()
        .token(server.token)
        .base_url(f"{server.base_url}/bot")
        .base_file_url(f"{server.base_url}/file/bot")
        .build()
    )
    assert server.application_builder().build().bot.base_url == app.bot.base_url
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    u = server.user(1001, first_name="علی")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        await u.send_text("/start")
        welcome = await u.expect_message("خوش آمدید")
        assert welcome.entities == [{"offset": 0, "length": 9, "type": "bold"}]
        query_id = await u.press("ثبت شکایت")
        assert (await u.expect_answer(query_id))["text"] == "باشه"
        edited = await u.expect_edit(welcome, contains="complaint:new")
        assert edited.buttons() == []
        await u.send_text("متن <آزاد> & رها")
        assert (await u.expect_message()).text == "متن <آزاد> & رها"
        await server.wait_updates_consumed(timeout=5)
        await app.updater.stop()
        await app.stop()
    server.assert_no_refusals()
    assert server.updates_confirmed == server.updates.last_injected


async def test_helpers_misc(server: FakeTelegram, bot: telegram.Bot) -> None:
    assert server.user(7) is server.user(7)
    assert await bot.set_my_commands([("start", "شروع"), ("help", "راهنما")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    with pytest.raises(BadRequest, match=r"Bot_command_invalid"):
        await bot.set_my_commands([("Start!", "x")])
    assert await bot.set_chat_menu_button()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.send_chat_action(7, "typing")
    chat: Any = await bot.get_chat(7)
    assert chat.type == "private"
    with pytest.raises(AssertionError, match=r"condition not met"):
        await server.wait_until(lambda: False, timeout=0.01)
