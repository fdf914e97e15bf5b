"""End to end, attacking the «which one is this for?» routing: albums answering an officer, old
and forged «which one» buttons, a case decided while the answer is held, a flood of ambiguous
messages, «انصراف» after choosing the draft. Nothing may be dropped or land on the wrong case, and
nothing may raise."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.localapi import FakeUser
from bot.services import citizen_input
from bot.services.desk import Done
from bot.storage.tables import outbox
from tests.flows import answer_until_evidence, case_rows, file_complaint, start_filing
from tests.harness import Bot, running_bot
from tests.test_several_open import (
    PHONE,
    SENT,
    WHICH,
    _answers,
    _asked_case,
    _asked_case_while_filing,
    _held,
)
from tests.test_staff_desk import ADMIN, CITIZEN, STAFF1, _case, _setup

ANSWER_OPTION = "پاسخ به پرسش"
DRAFT_OPTION = "شکایتی که در حال ثبت آن هستم"
NOT_OPEN = "گزینه‌ای که انتخاب کردید دیگر باز نیست"
NOT_AWAITED = "دیگر منتظر پاسخ شما نیست"
USE_MENU = "از منوی زیر استفاده کنید"


def _is_photo(message: Any) -> bool:
    return bool(message.kind == "photo")


async def _copies(bot: Bot) -> int:
    """copyMessage calls queued for the staff chat (a citizen's file answering a question)."""
    async with bot.services.rt.engine.connect() as conn:
        stmt = select(func.count()).select_from(outbox).where(outbox.c.method == "copyMessage")
        return int((await conn.execute(stmt)).scalar_one())


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if "error while handling an update" in r.getMessage()]
    assert not errors, errors


async def _draft_at_city(citizen: FakeUser) -> None:
    await start_filing(citizen)
    await citizen.press("گران‌فروشی")
    await citizen.expect_message("کدام صنف")
    await citizen.press("مواد غذایی و خواربار")
    await citizen.expect_message("در کدام استان")
    await citizen.press("تهران")
    await citizen.expect_message("در کدام شهر")


async def test_an_album_sent_as_the_answer_reaches_the_officer_whole(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen, staff = p["citizen"], p["staff"]
        row = await _asked_case(bot, p, "عکس فاکتور و برچسب قیمت را بفرستید")
        question_seen = len(citizen.inbox)

        # Telegram delivers the three photos as three updates: one answer, all three copied.
        await citizen.send_album(["photo", "photo", "photo"], caption="فاکتور و برچسب")
        await citizen.expect_message(SENT)
        for _ in range(3):
            await staff.expect_message(predicate=_is_photo)
        assert await _copies(bot) == 3
        assert await _answers(bot, row["id"]) == ["فاکتور و برچسب"]
        assert (await _case(bot, row["id"]))["status"] == "claimed"
        assert await _held(bot) == 0
        after = [m.text or "" for m in citizen.inbox[question_seen:]]
        assert sum(SENT in t for t in after) == 1
        assert not any(USE_MENU in t or NOT_AWAITED in t for t in after), after
    _no_tracebacks(caplog)


async def test_an_ambiguous_album_chosen_as_the_answer_goes_whole(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen, staff = p["citizen"], p["staff"]
        await file_complaint(citizen, phone=PHONE)
        await start_filing(citizen)
        await answer_until_evidence(citizen)
        row = await _asked_case_while_filing(bot, p, "عکس قفسه را دارید؟")

        items = await citizen.send_album(["photo", "photo", "photo"])
        which = await citizen.expect_message(WHICH)
        # Asked once for the album, as a reply to it: a photo has no text to quote.
        assert which.reply_to_message_id == items[0]["message_id"]
        await citizen.press(next(b for b in which.buttons() if ANSWER_OPTION in b), message=which)
        await citizen.expect_message(SENT)
        for _ in range(3):
            await staff.expect_message(predicate=_is_photo)
        assert await _copies(bot) == 3
        assert await _answers(bot, row["id"]) == ["[media]"]  # one answer, of files only
        assert sum(WHICH in (m.text or "") for m in citizen.inbox) == 1
        assert not any(NOT_AWAITED in (m.text or "") for m in citizen.inbox)
        assert await _held(bot) == 0
        draft = (await bot.services.filing.current(CITIZEN)).draft
        assert draft is not None and draft.attachments == 0  # none of it went to the draft
    _no_tracebacks(caplog)


async def test_forged_and_stale_choices_consume_nothing(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen = p["citizen"]
        await file_complaint(citizen, phone=PHONE)
        await _draft_at_city(citizen)
        a = await _asked_case_while_filing(bot, p, "ساعت خرید چند بود؟")
        sent = await citizen.send_text("کرج")
        which = await citizen.expect_message(WHICH)
        held_id = which.button_data(which.buttons()[0]).split(":")[2]

        # Buttons nobody was shown: a comment on a rating never given, a reason to reopen an
        # open case, an answer on a case that is not theirs, a lookup nobody started.
        for forged in (
            f"c:to:{held_id}:m:{a['id']}",
            f"c:to:{held_id}:r:{a['id']}",
            f"c:to:{held_id}:a:{a['id'] + 1000}",
            f"c:to:{held_id}:t",
        ):
            qid = await citizen.press(data=forged, message=which)
            await citizen.expect_answer(qid)
            await citizen.expect_message(NOT_OPEN)
            which = await citizen.expect_message(WHICH)
            assert which.reply_to_message_id == sent["message_id"]
            assert any(ANSWER_OPTION in b for b in which.buttons())
            assert DRAFT_OPTION in which.buttons()
        assert await _held(bot) == 1 and await _answers(bot, a["id"]) == []

        # The officer decides A while the message is held: choosing A now sends nothing and
        # asks again with what is still open.
        desk = bot.services.desk
        s1 = await desk.actor(STAFF1)
        assert isinstance(await desk.resolve(s1, a["id"], "resolved", "تذکر داده شد"), Done)
        await citizen.expect_message("نتیجه")
        await citizen.press(next(b for b in which.buttons() if ANSWER_OPTION in b), message=which)
        await citizen.expect_message(NOT_OPEN)
        only = await citizen.expect_message(WHICH)
        assert only.buttons() == [DRAFT_OPTION]
        assert await _answers(bot, a["id"]) == [] and await _held(bot) == 1
        await citizen.press(DRAFT_OPTION, message=only)
        await citizen.expect_message("نام واحد صنفی چیست")
        draft = (await bot.services.filing.current(CITIZEN)).draft
        assert draft is not None and draft.data.city == "کرج"
        assert await _held(bot) == 0
    _no_tracebacks(caplog)


async def test_a_held_message_with_nothing_left_open_is_said_to_go_nowhere(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen = p["citizen"]
        await file_complaint(citizen, phone=PHONE)
        await _draft_at_city(citizen)
        a = await _asked_case_while_filing(bot, p, "فاکتور دارید؟")
        await citizen.send_text("بله دارم")
        which = await citizen.expect_message(WHICH)

        await citizen.send_text("انصراف")  # the draft goes…
        await citizen.expect_message("لغو شد")
        desk = bot.services.desk
        s1 = await desk.actor(STAFF1)
        assert isinstance(await desk.resolve(s1, a["id"], "resolved", "تذکر داده شد"), Done)
        await citizen.expect_message("نتیجه")  # …and so does the question
        await citizen.press(next(b for b in which.buttons() if ANSWER_OPTION in b), message=which)
        await citizen.expect_message("به جایی فرستاده نشد")
        assert await _held(bot) == 0 and await _answers(bot, a["id"]) == []
    _no_tracebacks(caplog)


async def test_a_flood_of_ambiguous_messages_is_bounded(
    db_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(citizen_input, "MAX_HELD", 3, raising=False)
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen = p["citizen"]
        await file_complaint(citizen, phone=PHONE)
        await _draft_at_city(citizen)
        await _asked_case_while_filing(bot, p, "فاکتور دارید؟")
        for n in range(3):
            await citizen.send_text(f"پیام شمارهٔ {n + 1}")
            await citizen.expect_message(WHICH)
        for _ in range(2):
            await citizen.send_text("باز هم پیام")
            await citizen.expect_message("دوباره بفرستید")  # told, not silently stored
        assert await _held(bot) == 3
    _no_tracebacks(caplog)


async def test_cancel_after_choosing_the_draft_cancels_the_draft(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen = p["citizen"]
        await file_complaint(citizen, phone=PHONE)
        await _draft_at_city(citizen)
        await _asked_case_while_filing(bot, p, "فاکتور دارید؟")
        await citizen.send_text("تهران")
        which = await citizen.expect_message(WHICH)
        await citizen.press(DRAFT_OPTION, message=which)
        await citizen.expect_message("نام واحد صنفی چیست")

        await citizen.send_text("انصراف")  # from the draft's own keyboard
        await citizen.expect_message("شکایت نیمه‌تمام شما لغو شد")
        assert (await bot.services.filing.current(CITIZEN)).draft is None
        assert len(await case_rows(bot, CITIZEN)) == 1
    _no_tracebacks(caplog)


async def test_an_answer_takes_no_file_the_evidence_rules_refuse_and_no_voice(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen = p["citizen"]
        row = await _asked_case(bot, p, "فاکتور را بفرستید")

        # A program dressed as an answer never reaches the staff chat.
        await citizen.send_document("factor.exe", "application/x-msdownload", caption="فاکتور")
        await citizen.expect_message("این نوع فایل")
        # A voice note is not taken either, and the citizen is told how to answer instead of
        # being sent to the menu.
        await citizen.send_voice()
        await citizen.expect_message("به‌صورت متن، عکس یا فایل")
        reminder = await citizen.expect_message("منتظر پاسخ شما")
        assert any("پاسخ به این پرسش" in b for b in reminder.buttons())
        assert await _copies(bot) == 0 and await _answers(bot, row["id"]) == []
        assert (await _case(bot, row["id"]))["status"] == "awaiting_citizen"

        # A PDF is an answer.
        await citizen.send_document("factor.pdf", "application/pdf")
        await citizen.expect_message(SENT)
        assert await _copies(bot) == 1
    _no_tracebacks(caplog)
