"""Bale: the platform profile and the settings, the send layer's conversion, chat kinds instead
of id signs, and end to end on the server's Bale profile (SQLite only): the desk's prompts in
the private chat with nothing eaten, group chatter ignored, old clients' callback answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from telegram import ForceReply, InputMediaPhoto, ReplyParameters

from bot import text
from bot.chat_kinds import ChatKinds
from bot.config import ConfigError, load_settings
from bot.demo import personas
from bot.demo.runner import Demo, Options
from bot.domain.lifecycle import Action
from bot.domain.refusal import Refusal
from bot.domain.roles import Role
from bot.formatting import html_to_markdown, html_to_plain
from bot.outgoing import adapt, shows
from bot.pacing import GROUP, PRIVATE, SlidingWindowRateLimiter
from bot.platform import BALE, TELEGRAM, profile
from bot.storage import chats
from bot.storage import outbox as outbox_store
from bot.storage.db import create_engine
from bot.storage.tables import case_events, staff_prompts
from bot.views import staff as staff_views
from tests.conftest import _database
from tests.flows import answer_until_evidence, case_rows, file_complaint, start_filing
from tests.harness import Bot, markup_seen, running_bot
from tests.test_staff_desk import ADMIN, OUTSIDER, STAFF1

TOKEN = "123456:SECRET-token-value"
NOTE_SAVED = "یادداشت ثبت شد"


# -- the profile and the settings -----------------------------------------------------------------


def test_bale_settings_default_to_its_server_and_plain_text() -> None:
    s = load_settings(bot_token=TOKEN, platform="bale", staff_chat_id="5100000001", _env_file=None)
    assert s.bot_api_url == "https://tapi.bale.ai" and s.profile is BALE
    assert s.profile.formatting == "plain" and s.staff_chat_id == 5_100_000_001
    assert s.upload_limit == 50 * 1024 * 1024 and s.group_rate == 20
    own = load_settings(
        bot_token=TOKEN, platform="bale", bot_api_url="http://127.0.0.1:8081", _env_file=None
    )
    assert own.bot_api_url == "http://127.0.0.1:8081"
    markdown = load_settings(
        bot_token=TOKEN, platform="bale", bale_formatting="markdown", _env_file=None
    )
    assert markdown.profile.formatting == "markdown" and BALE.formatting == "plain"
    telegram = load_settings(bot_token=TOKEN, staff_chat_id="-4012345", _env_file=None)
    assert telegram.profile is TELEGRAM and telegram.bot_api_url == "https://api.telegram.org"


def test_a_thread_is_refused_on_bale_in_one_line() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(bot_token=TOKEN, platform="bale", staff_thread_id="7", _env_file=None)
    assert str(err.value) == "STAFF_THREAD_ID is invalid: bale has no forum topics; leave it unset"
    with pytest.raises(ConfigError, match="PLATFORM is invalid"):
        load_settings(bot_token=TOKEN, platform="eitaa", _env_file=None)


def test_profiles_hold_the_facts() -> None:
    assert (BALE.old_client_callback_prefix, TELEGRAM.old_client_callback_prefix) == ("1", None)
    assert BALE.webhook_secret_in_path and not TELEGRAM.webhook_secret_in_path
    assert BALE.webhook_ports == (443, 88) and not BALE.supports_forum_topics
    assert BALE.limits.photo_upload_bytes == 10 * 1024 * 1024
    assert BALE.limits.get_file_bytes == 20 * 1024 * 1024
    assert profile("telegram", bale_formatting="markdown") is TELEGRAM


# -- the send layer --------------------------------------------------------------------------------


def test_a_holders_name_in_a_refusal_message_survives_the_conversion() -> None:
    """A name is whatever its owner typed: in a message (HTML) it is escaped, so Telegram can
    parse it and Bale's plain text shows it whole; a button's answer takes it raw."""
    name = "<Ali> & Co"
    assert name in html_to_plain(staff_views.refusal_message(Refusal.HELD, name))
    assert name in staff_views.refusal(Refusal.HELD, name)


def test_html_becomes_plain_text_with_its_lines() -> None:
    html = (
        "<b>پرونده &lt;۱&gt;</b>\n"
        'کارشناس: <a href="tg://user?id=5">علی &amp; رضا</a>\n'
        '<a href="https://www.openstreetmap.org/?mlat=1">نقشه</a>\n'
        "<blockquote>نقل <i>قول</i></blockquote>پایان"
    )
    assert html_to_plain(html) == (
        "پرونده <۱>\n"
        "کارشناس: علی & رضا\n"
        "نقشه (https://www.openstreetmap.org/?mlat=1)\n"
        "نقل قول\n"
        "پایان"
    )
    assert html_to_plain("&quot;کد&quot; &#1777;") == '"کد" ۱'
    assert html_to_markdown("<b>مهم</b> و <i>کج</i>") == "*مهم* و _کج_"
    # What someone typed is never markup: a business called «*ویژه*_۲» stays that, as text.
    assert html_to_markdown("<b>واحد:</b> *ویژه*_۲ `x` [y](z)") == (
        "*واحد:* \\*ویژه\\*\\_۲ \\`x\\` \\[y](z)"
    )


def test_telegram_calls_leave_as_written() -> None:
    params = {"chat_id": 1, "text": "<b>x</b>", "parse_mode": "HTML", "message_thread_id": 3}
    assert adapt(params, TELEGRAM) is params
    # What a user reads, to tell whether an edit changes anything.
    assert shows("<b>x</b> &amp; y", TELEGRAM) == "<b>x</b> &amp; y"
    assert shows("<b>x</b> &amp; y", BALE) == "x & y"


def test_bale_calls_are_plain_and_reply_by_id() -> None:
    out = adapt(
        {
            "chat_id": 5,
            "text": "<b>سلام</b> &amp; خوش آمدید",
            "parse_mode": "HTML",
            "reply_parameters": ReplyParameters(42, allow_sending_without_reply=True),
            "message_thread_id": 9,
            "reply_markup": ForceReply(selective=True),
        },
        BALE,
    )
    assert out == {
        "chat_id": 5,
        "text": "سلام & خوش آمدید",
        "reply_to_message_id": 42,
        "allow_sending_without_reply": True,
    }
    # The outbox's raw payloads (dicts), a caption, and an album's items.
    raw = adapt(
        {
            "chat_id": 5,
            "caption": "<i>شرح</i>",
            "parse_mode": "HTML",
            "reply_parameters": {"message_id": 7},
        },
        BALE,
    )
    assert raw == {"chat_id": 5, "caption": "شرح", "reply_to_message_id": 7}
    # (PTB puts the default parse_mode on each item before the call reaches the send layer.)
    item = InputMediaPhoto("f", caption="<b>ع</b>", parse_mode="HTML")
    album = adapt({"chat_id": 5, "media": [item]}, BALE)
    [item] = album["media"]
    assert item.caption == "ع" and item.parse_mode is None
    # editMessageMedia names one item, not a list.
    edit = adapt(
        {
            "chat_id": 5,
            "message_id": 8,
            "media": InputMediaPhoto("f", caption="<b>ع</b>", parse_mode="HTML"),
        },
        BALE,
    )
    assert edit["media"].caption == "ع" and edit["media"].parse_mode is None
    # Text that was not meant as HTML (no parse_mode) is not touched.
    assert adapt({"chat_id": 5, "text": "a &amp; b"}, BALE)["text"] == "a &amp; b"
    markdown = adapt(
        {"chat_id": 5, "text": "<b>مهم</b>", "parse_mode": "HTML"},
        profile("bale", bale_formatting="markdown"),
    )
    assert markdown == {"chat_id": 5, "text": "*مهم*", "parse_mode": "Markdown"}


# -- groups told by their kind, never by the sign of the id ----------------------------------------


async def test_pacing_follows_the_chat_kind_not_the_sign() -> None:
    kinds = ChatKinds()
    limiter = SlidingWindowRateLimiter(kinds=kinds)
    assert limiter.chat_window(5_100_000_001) == GROUP  # unknown: paced as a group
    assert limiter.chat_window(-42) == GROUP
    kinds.learn(-42, "private")  # a private chat with a negative id is still private
    assert limiter.chat_window(-42) == PRIVATE

    async def send() -> dict[str, Any]:
        return {"message_id": 1, "chat": {"id": 77, "type": "private"}}

    await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 77}, None)
    assert kinds.is_private(77) and not kinds.is_private(5_100_000_001)
    assert limiter.chat_window(77) == PRIVATE


async def test_outbox_lanes_follow_the_recorded_kind(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            now = datetime.now(UTC)
            await chats.record_kind(conn, -42, "private", now)
            await chats.record_kind(conn, 5_100_000_001, "group", now)
            for chat_id in (5_100_000_001, -42, 77):
                await outbox_store.enqueue(
                    conn,
                    chat_id=chat_id,
                    method="sendMessage",
                    payload={"text": "x"},
                    purpose="test",
                    now=now,
                )
            private = await outbox_store.due_heads(conn, now, private=True, limit=10)
            groups = await outbox_store.due_heads(conn, now, private=False, limit=10)
        assert [r["chat_id"] for r in private] == [-42]
        assert [r["chat_id"] for r in groups] == [5_100_000_001, 77]  # 77: not known yet
    finally:
        await engine.dispose()


# -- end to end on Bale ----------------------------------------------------------------------------


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> AsyncIterator[str]:
    async with _database("sqlite", tmp_path) as url:
        yield url


async def _desk(bot: Bot) -> dict[str, Any]:
    """The staff group with two claimed cases and STAFF1, a desk member."""
    server = bot.server
    assert bot.settings.staff_chat_id is not None
    staff = server.group(bot.settings.staff_chat_id, title="Staff")
    s1 = server.user(STAFF1, first_name="کارشناس‌یک")
    desk = bot.services.desk
    await desk.set_role(await desk.actor(ADMIN), STAFF1, Role.STAFF)
    cards = []
    for citizen_id in (1001, 1002):
        await file_complaint(server.user(citizen_id, first_name="شهروند"), phone="+989121234567")
        [row] = await case_rows(bot, citizen_id)
        card = await staff.expect_message(text.to_persian_digits(row["code"][:5]))
        qid = await staff.press(from_user=s1, text="✋ رسیدگی می‌کنم", message=card)
        await staff.expect_answer(qid)
        cards.append((row, await staff.expect_edit(card)))
    return {"staff": staff, "s1": s1, "cards": cards}


async def _notes(bot: Bot) -> list[tuple[int, str]]:
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(
            select(case_events.c.case_id, case_events.c.note)
            .where(case_events.c.action == "note")
            .order_by(case_events.c.id)
        )
        return [(int(c), str(n)) for c, n in rows]


async def _ask_note(staff: Any, s1: Any, card: Any) -> Any:
    """Press «یادداشت»; the group prompt (no ForceReply on Bale) and the private one."""
    qid = await staff.press(from_user=s1, text="یادداشت", message=card)
    await staff.expect_answer(qid)
    group_prompt = await staff.expect_message("یادداشت داخلی")
    assert group_prompt.reply_markup is None
    assert "گفت‌وگوی خصوصی" in (group_prompt.text or "")
    return await s1.expect_message("✍️")


@pytest.mark.sqlite  # Bale runs on SQLite only: `-k sqlite` selects it
async def test_two_prompts_and_a_complaint_of_ones_own_lose_nothing(sqlite_url: str) -> None:
    async with running_bot(sqlite_url, platform="bale", admin_ids=[ADMIN]) as bot:
        p = await _desk(bot)
        staff, s1 = p["staff"], p["s1"]
        (row_a, card_a), (row_b, card_b) = p["cards"]
        # The member is filing a complaint of their own, at the description step.
        await start_filing(s1)
        await answer_until_evidence(s1, description=False)

        await _ask_note(staff, s1, card_a)
        await _ask_note(staff, s1, card_b)
        await s1.send_text("یادداشت برای دومی")  # the prompt pressed last
        await s1.expect_message(NOTE_SAVED)
        assert await _notes(bot) == [(row_b["id"], "یادداشت برای دومی")]

        # Two things are open now (the first prompt, the complaint): asked, not guessed.
        await s1.send_text("یادداشت برای اولی")
        which = await s1.expect_message("مربوط به کدام است")
        assert any(text.to_persian_digits(row_a["code"][:5]) in b for b in which.buttons())
        await s1.press(next(b for b in which.buttons() if "میز کارشناسان" in b), message=which)
        await s1.expect_message(NOTE_SAVED)
        assert (await _notes(bot))[-1] == (row_a["id"], "یادداشت برای اولی")

        # Nothing else waits: the next text is the complaint's description.
        await s1.send_text("فروشنده قیمت را دو برابر حساب کرد و فاکتور نداد")
        await s1.expect_message("چه مبلغی پرداخت کردید")

        # A reply to a private prompt answers that prompt, whichever was pressed last; the
        # other is dropped with «انصراف», and the complaint goes on untouched.
        prompt_a = await _ask_note(staff, s1, card_a)
        await _ask_note(staff, s1, card_b)
        await s1.send_text("پاسخ به اولی", reply_to=prompt_a)
        await s1.expect_message(NOTE_SAVED)
        assert (await _notes(bot))[-1] == (row_a["id"], "پاسخ به اولی")
        await s1.send_text("انصراف")
        await s1.expect_message("لغو شد")
        async with bot.services.rt.engine.connect() as conn:
            assert (await conn.execute(select(staff_prompts))).all() == []
        await s1.send_text("۱۸۰ هزار تومان")
        await s1.expect_message("قیمت مصوب یا متعارف")
        assert len(await _notes(bot)) == 3


@pytest.mark.sqlite  # Bale runs on SQLite only: `-k sqlite` selects it
async def test_group_chatter_is_not_input_and_a_group_reply_still_works(sqlite_url: str) -> None:
    async with running_bot(sqlite_url, platform="bale", admin_ids=[ADMIN]) as bot:
        p = await _desk(bot)
        staff, s1 = p["staff"], p["s1"]
        (row_a, card_a), _ = p["cards"]
        await _ask_note(staff, s1, card_a)
        group_prompt = staff.inbox[-1]
        await staff.send_text(from_user=s1, text="گپ معمولی در گروه")  # reaches the bot on Bale
        await staff.send_text(from_user=s1, text="با پاسخ در گروه", reply_to=group_prompt)
        await staff.expect_message(NOTE_SAVED)
        assert await _notes(bot) == [(row_a["id"], "با پاسخ در گروه")]
        # …and the private twin of that prompt is settled with it.
        await s1.send_text("/start")
        await s1.expect_message("سلام")
        async with bot.services.rt.engine.connect() as conn:
            assert (await conn.execute(select(staff_prompts))).all() == []


@pytest.mark.sqlite  # Bale runs on SQLite only: `-k sqlite` selects it
async def test_old_clients_get_the_answer_as_a_message_in_private(sqlite_url: str) -> None:
    async with running_bot(sqlite_url, platform="bale", admin_ids=[ADMIN]) as bot:
        p = await _desk(bot)
        staff = p["staff"]
        (_row, card), _ = p["cards"]
        outsider = bot.server.user(OUTSIDER, first_name="عضوعادی")
        bot.server.old_clients.add(OUTSIDER)
        qid = await staff.press(from_user=outsider, text="📞 شماره", message=card)
        assert qid.startswith("1")
        answer = await staff.expect_answer(qid)  # answered all the same
        told = await outsider.expect_message("فقط برای کارکنان")
        assert told.text == answer["text"]
        # A new client is answered the usual way only.
        qid = await staff.press(from_user=p["s1"], text="📞 شماره", message=card)
        assert not qid.startswith("1")
        await staff.expect_answer(qid)
        assert not [m for m in p["s1"].inbox if "+98" in (m.text or "")]


@pytest.mark.sqlite  # Bale runs on SQLite only: `-k sqlite` selects it
async def test_the_demo_plays_bale(tmp_path: Path) -> None:
    """`python -m bot demo --platform bale`: the built-in server plays Bale and the bot runs
    for it, so the page shows the flows as they would look there."""
    demo = Demo(Options(port=0, data_dir=tmp_path / "demo", fresh=True, platform="bale"))
    try:
        await demo.start()
        assert demo.server.profile.name == "bale" and demo.services.rt.settings.profile is BALE
        citizen = demo.server.user(personas.CITIZEN_1.user_id)
        await citizen.send_text("/start")
        await citizen.expect_message("سلام")
        await citizen.send_text("ثبت شکایت")
        await citizen.expect_message("چه نوع تخلفی دیدید")
        assert markup_seen(demo.server) == []
    finally:
        await demo.stop()


@pytest.mark.sqlite  # Bale runs on SQLite only: `-k sqlite` selects it
async def test_a_question_after_a_private_prompt_is_asked_about_not_swallowed(
    sqlite_url: str,
) -> None:
    """A desk member is a citizen too: a question on their own complaint that arrives after
    they pressed «یادداشت» makes their next text ambiguous, so it is asked about, never taken
    as an internal note on someone else's case."""
    async with running_bot(sqlite_url, platform="bale", admin_ids=[ADMIN]) as bot:
        p = await _desk(bot)
        staff, s1 = p["staff"], p["s1"]
        (_row_a, card_a), _ = p["cards"]
        await file_complaint(s1, phone="+989121234567")
        [own] = await case_rows(bot, STAFF1)
        await _ask_note(staff, s1, card_a)
        await _private_prompt_recorded(bot)
        bot.clock.advance(minutes=1)  # the question comes a minute later
        boss = bot.server.user(ADMIN, first_name="مدیر")
        await boss.send_text("/start")
        await boss.expect_message("سلام")
        desk = bot.services.desk
        admin = await desk.actor(ADMIN)
        await desk.claim(admin, own["id"])
        await desk.act_with_text(admin, Action.ASK, own["id"], "فاکتور را دارید؟", None)
        await s1.expect_message("فاکتور را دارید؟")
        await s1.send_text("بله فاکتور دارم")
        await s1.expect_message("مربوط به کدام است")
        assert await _notes(bot) == []


async def _private_prompt_recorded(bot: Bot) -> None:
    """Until the private prompt is recorded (the bot does so once the send was answered, a
    moment after the prompt shows)."""
    for _ in range(2000):
        async with bot.services.rt.engine.connect() as conn:
            rows = (
                await conn.execute(select(staff_prompts).where(staff_prompts.c.chat_id == STAFF1))
            ).all()
        if rows:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the private prompt was never recorded")
