"""The local server's Bale profile behaves as /work/shared/bale.md describes, row by row, when
driven by python-telegram-bot's plain `Bot` (not the bot's own send layer)."""

from __future__ import annotations

import pytest
import telegram
from telegram import ForceReply, ReplyParameters
from telegram.error import BadRequest, NetworkError

from bot.localapi import BALE, FakeTelegram
from tests.test_localapi import TOKEN, make_bot

GROUP = 5_100_000_001  # a Bale group id: positive, no -100
# Raw calls send fields PTB's typed methods would not (the raw reply_to_message_id).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")


async def _bale() -> FakeTelegram:
    return await FakeTelegram(token=TOKEN, profile=BALE).start()


async def test_formatting_row_parse_mode_is_ignored_and_text_kept_literally() -> None:
    server = await _bale()
    try:
        server.user(1001)
        async with make_bot(server) as bot:
            await bot.send_message(1001, "<b>مهم</b> &amp; فوری", parse_mode="HTML")
            await bot.send_message(1001, "*ستاره*", parse_mode="MarkdownV2")  # not refused
        first, second = server.messages(1001)
        assert first.text == "<b>مهم</b> &amp; فوری" and first.entities == []
        assert second.text == "*ستاره*"
        # What the bot sent stays in the call log as sent.
        assert server.calls[-1].params["parse_mode"] == "MarkdownV2"
    finally:
        await server.stop()


async def test_replies_row_reply_parameters_ignored_reply_to_message_id_honoured() -> None:
    server = await _bale()
    try:
        u = server.user(1001)
        said = await u.send_text("سلام")
        async with make_bot(server) as bot:
            # PTB turns reply_to_message_id into reply_parameters: on Bale the reply is lost.
            await bot.send_message(1001, "اول", reply_to_message_id=said["message_id"])
            await bot.send_message(
                1001, "دوم", reply_parameters=ReplyParameters(said["message_id"])
            )
            await bot.do_api_request(
                "sendMessage",
                api_kwargs={
                    "chat_id": 1001,
                    "text": "سوم",
                    "reply_to_message_id": said["message_id"],
                },
            )
        assert [m.reply_to_message_id for m in server.messages(1001)] == [
            None,
            None,
            said["message_id"],
        ]
    finally:
        await server.stop()


async def test_chats_row_plain_groups_of_any_id_and_no_topics() -> None:
    server = await _bale()
    try:
        positive = server.group(GROUP, title="کارشناسان")
        negative = server.group(-1001234567890, title="شبیه تلگرام")
        assert positive.chat.type == negative.chat.type == "group"
        with pytest.raises(ValueError):
            server.group(-1009, is_forum=True)
        with pytest.raises(ValueError):
            server.migrate(-1001234567890, -1009)
        async with make_bot(server) as bot:
            sent = await bot.send_message(GROUP, "کارت")
            assert sent.chat.type == "group" and sent.chat.id == GROUP
            with pytest.raises(BadRequest, match=r"(?i)message_thread_id"):
                await bot.send_message(GROUP, "در تاپیک", message_thread_id=7)
        server.expect_refusal("message_thread_id")
    finally:
        await server.stop()


async def test_webhooks_row_only_url_and_ports_443_or_88() -> None:
    server = await _bale()
    try:
        async with make_bot(server) as bot:
            with pytest.raises(BadRequest, match=r"(?i)secret_token"):
                await bot.set_webhook("https://example.org/hook", secret_token="s3cret")
            with pytest.raises(BadRequest, match="443, 88"):
                await bot.set_webhook("https://example.org:8443/hook")
            assert await bot.set_webhook("https://example.org:88/hook/s3cret")
        assert server.webhook == {"url": "https://example.org:88/hook/s3cret"}
        server.expect_refusal(lambda c: c.method == "setWebhook")
    finally:
        await server.stop()


async def test_files_row_photo_uploads_10_mb_get_file_20_mb() -> None:
    server = await _bale()
    try:
        assert server.limits.get_file_max_bytes == 20 * 1024 * 1024
        assert server.limits.upload_max_bytes == 50 * 1024 * 1024
        u = server.user(1001)
        async with make_bot(server) as bot:
            await bot.send_photo(1001, b"p" * (10 * 1024 * 1024))
            with pytest.raises(NetworkError, match="Request Entity Too Large"):
                await bot.send_photo(1001, b"p" * (10 * 1024 * 1024 + 1))
            await u.send_document(size=20 * 1024 * 1024 + 1, file_unique="big")
            with pytest.raises(BadRequest, match="too big"):
                await bot.get_file("fake-document-big")
        server.expect_refusal(lambda c: c.method in ("sendPhoto", "getFile"))
    finally:
        await server.stop()


async def test_callback_row_old_clients_have_ids_starting_with_1() -> None:
    server = await _bale()
    try:
        new, old = server.user(1001), server.user(1002)
        server.old_clients.add(old.id)
        async with make_bot(server) as bot:
            markup = telegram.InlineKeyboardMarkup(
                [[telegram.InlineKeyboardButton("بزن", callback_data="x")]]
            )
            for chat in (1001, 1002):
                await bot.send_message(chat, "دکمه", reply_markup=markup)
        assert not (await new.press("بزن")).startswith("1")
        assert (await old.press("بزن")).startswith("1")
    finally:
        await server.stop()


async def test_newer_button_fields_and_force_reply_row() -> None:
    server = await _bale()
    try:
        server.user(1001)
        async with make_bot(server) as bot:
            await bot.send_message(1001, "بنویسید", reply_markup=ForceReply())  # accepted
            with pytest.raises(BadRequest, match=r"(?i)unsupported inline keyboard button"):
                await bot.do_api_request(
                    "sendMessage",
                    api_kwargs={
                        "chat_id": 1001,
                        "text": "کپی",
                        "reply_markup": {
                            "inline_keyboard": [[{"text": "کپی", "copy_text": {"text": "x"}}]]
                        },
                    },
                )
        server.expect_refusal("unsupported inline keyboard button")
    finally:
        await server.stop()


async def test_group_messages_all_reach_the_bot() -> None:
    """Privacy mode is unconfirmed on Bale: the profile delivers every group message, so a bot
    that takes plain chatter as input is caught."""
    server = await _bale()
    try:
        group = server.group(GROUP)
        member = server.user(1001)
        await group.send_text(member, "گپ معمولی")
        assert server.undelivered == [] and len(server.updates.pending) == 1
    finally:
        await server.stop()
