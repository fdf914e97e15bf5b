"""End to end: the staff desk's remaining actions, each with what the citizen sees and the audit
rows it leaves. Release, urgent, reject and reopen, merge, a unit returning a referral, the
evidence album, /reassign, /find, /mine, /help, and the ForceReply prompts: only the person a
prompt was addressed to may answer it, and never as the anonymous group admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot import text
from bot.domain import tracking
from bot.localapi import FakeGroup, FakeUser
from bot.localapi.models import BotMessage
from bot.outgoing import shows
from bot.services.desk import Done
from bot.storage import cases as case_store
from bot.storage.tables import outbox, staff_prompts
from tests.conftest import Env
from tests.flows import (
    answer_prompt,
    answer_until_evidence,
    case_rows,
    confirm,
    file_complaint,
    finish_after_evidence,
    start_filing,
)
from tests.harness import Bot, running_bot
from tests.test_staff_desk import (
    ADMIN,
    CITIZEN,
    OUTSIDER,
    STAFF1,
    STAFF2,
    SUPERVISOR,
    UNIT_CHAT,
    UNIT_CHATS,
    _alert,
    _case,
    _events,
    _setup,
)

CITIZEN2 = 1002
NEWCOMER = 9103  # a staff member who never opened the bot's private chat
SECOND_ADMIN = 9002  # named in ADMIN_IDS only, never wrote to the bot
PHONE = "+989121234567"

NOT_YOURS = "اجازهٔ این کار"
ANONYMOUS_ADMIN = "ناشناس ماندن"
BAD_INPUT = "این ورودی اینجا معتبر نیست"
WRONG_STATE = "در وضعیت کنونی"
NOT_STAFF = "فقط برای کارکنان تعزیرات مجاز است"
CLAIM = "✋ رسیدگی می‌کنم"
CLAIMED_NOTICE = "رسیدگی به شکایت شما با کد رهگیری"
STATUS_NEW = "دریافت شد، در انتظار بررسی کارشناس"
STATUS_CLAIMED = "در دست بررسی کارشناس"
HOLDER = "کارشناس مسئول:"
RESOLVE = "اعلام نتیجه"


# -- helpers -------------------------------------------------------------------------------------


def _short(code: str) -> str:
    """What a card or a list shows of a code: its first five digits, in Persian."""
    return text.to_persian_digits(code[:5])


def _typed(code: str) -> str:
    """A code as staff type it from the card: Persian digits and a dash."""
    return text.to_persian_digits(f"{code[:5]}-{code[5:]}")


async def _file(
    bot: Bot, staff: FakeGroup, citizen: FakeUser, **kwargs: Any
) -> tuple[dict[str, Any], BotMessage]:
    """The citizen files a complaint; returns its row and its card in the staff group."""
    await file_complaint(citizen, **kwargs)
    row = (await case_rows(bot, citizen.id))[-1]
    card = await staff.expect_message(_short(row["code"]))
    return row, card


async def _claim(group: FakeGroup, user: FakeUser, card: BotMessage) -> None:
    qid = await group.press(from_user=user, text=CLAIM, message=card)
    assert (await group.expect_answer(qid))["text"] == "پرونده در دست شماست."
    await group.expect_edit(card, user.first_name)


async def _refer(group: FakeGroup, user: FakeUser, card: BotMessage, unit: str) -> None:
    """The holder refers the case to `unit` (its label in the card's menu)."""
    await group.press(from_user=user, text="ارجاع", message=card)
    menu = await group.expect_edit(card)
    qid = await group.press(from_user=user, text=unit, message=menu)
    assert (await group.expect_answer(qid))["text"] == "ارجاع شد."


async def _open_prompt(
    group: FakeGroup,
    user: FakeUser,
    button: str,
    card: BotMessage,
    contains: str,
    *,
    force_reply: bool = True,
) -> BotMessage:
    """Press a card button that asks for text; returns the group prompt aimed at `user` (a
    selective ForceReply where the platform has one, on Telegram).

    The bot records the prompt just after posting it. It handles one person's updates in order,
    so once a later press of theirs (the read-only phone button) is answered, the prompt is on
    record and others' replies to it meet it."""
    data = card.button_data(button)
    qid = await group.press(from_user=user, data=data, message=card)
    answer = await group.expect_answer(qid)
    assert not answer.get("show_alert"), answer
    prompt = await group.expect_message(contains)
    if force_reply:
        assert prompt.reply_markup == {"force_reply": True, "selective": True}
        assert f"tg://user?id={user.id}" in (prompt.html or "")
    else:  # Bale: no ForceReply, and the mention is the name in plain text
        assert prompt.reply_markup is None and user.first_name in (prompt.text or "")
    case_id = data.split(":")[2]
    await group.expect_answer(
        await group.press(from_user=user, data=f"s:phone:{case_id}", message=card)
    )
    return prompt


async def _prompts(bot: Bot) -> list[tuple[int, str]]:
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(
            select(staff_prompts.c.user_id, staff_prompts.c.action).order_by(staff_prompts.c.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def _refused_reply(
    bot: Bot,
    group: FakeGroup,
    prompt: BotMessage,
    reply: str,
    expect: str,
    case_id: int,
    *,
    by: FakeUser | None = None,
) -> None:
    """Answer `prompt` as `by` (None: the anonymous group admin); the bot refuses with `expect`
    and nothing changes: no event, the case as it was, the prompt still open."""
    events, case, prompts = (
        await _events(bot, case_id),
        await _case(bot, case_id),
        await _prompts(bot),
    )
    if by is None:
        await group.send_as_anonymous_admin(reply, reply_to=prompt)
    else:
        await group.send_text(from_user=by, text=reply, reply_to=prompt)
    answer = await group.expect_message(expect)
    assert answer.reply_to_message_id is not None
    assert await _events(bot, case_id) == events
    assert await _case(bot, case_id) == case
    assert await _prompts(bot) == prompts


async def _answer(
    group: FakeGroup, user: FakeUser, prompt: BotMessage, reply: str, done: str
) -> None:
    await group.send_text(from_user=user, text=reply, reply_to=prompt)
    await group.expect_message(done)


async def _notices(bot: Bot, chat_id: int) -> list[str]:
    """Texts queued for a citizen about their cases, in order (written in the action's own
    transaction, so this is exact without waiting for delivery)."""
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.payload)
            .where(outbox.c.chat_id == chat_id, outbox.c.purpose == "citizen_notice")
            .order_by(outbox.c.id)
        )
        return [str(payload["text"]) for payload in rows.scalars()]


async def _lookup(citizen: FakeUser, code: str) -> BotMessage:
    """The citizen's «پیگیری شکایت» with the code typed in Persian digits."""
    await citizen.send_text("پیگیری شکایت")
    await citizen.expect_message("کد رهگیری ده‌رقمی")
    await citizen.send_text(_typed(code))
    return await citizen.expect_message(_short(code))


def _unknown_code(*taken: str) -> str:
    for body in ("123456789", "987654321", "555555555"):
        code = body + tracking.check_digit(body)
        if code not in taken:
            return code
    raise AssertionError("no free code")


# -- release ------------------------------------------------------------------------------------


async def test_release_with_a_reason_returns_the_case_to_the_queue(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, citizen = p["staff"], p["citizen"]
        row, card = await _file(bot, staff, citizen, phone=PHONE)
        cid, code = row["id"], row["code"]
        await _claim(staff, p["s1"], card)
        assert HOLDER in card.text and "بازگرداندن به صف" in card.buttons()
        await citizen.expect_message(CLAIMED_NOTICE)

        # Only the holder may release: another staff member's press asks nothing.
        qid = await staff.press(from_user=p["s2"], text="بازگرداندن به صف", message=card)
        assert NOT_YOURS in await _alert(staff, qid)

        prompt = await _open_prompt(
            staff, p["s1"], "بازگرداندن به صف", card, "را به صف بازمی‌گردانید"
        )
        await _refused_reply(bot, staff, prompt, "رها شد", NOT_YOURS, cid, by=p["s2"])
        await _refused_reply(bot, staff, prompt, "رها شد", NOT_YOURS, cid, by=p["sup"])
        await _refused_reply(bot, staff, prompt, "رها شد", ANONYMOUS_ADMIN, cid)
        await _refused_reply(bot, staff, prompt, "   ", BAD_INPUT, cid, by=p["s1"])
        await _answer(staff, p["s1"], prompt, "باید کارشناس بازار بررسی کند", "به صف بازگشت")
        await staff.expect_edit(card, STATUS_NEW)
        assert HOLDER not in card.text and p["s1"].first_name not in card.text
        assert CLAIM in card.buttons() and "بازگرداندن به صف" not in card.buttons()
        case = await _case(bot, cid)
        assert (case["status"], case["holder_id"]) == ("new", None)
        assert await _prompts(bot) == []

        await staff.send_text(from_user=p["s2"], text="/queue")
        queue = await staff.expect_message("شکایت‌های بدون کارشناس")
        assert _short(code) in queue.text
        await staff.send_text(from_user=p["s1"], text="/mine")
        await staff.expect_message("شکایت بازی در دست شما نیست")

        # Someone else takes it up; the citizen hears of that, never of the internal release.
        await _claim(staff, p["s2"], card)
        assert p["s1"].first_name not in card.text
        await citizen.expect_message(CLAIMED_NOTICE)
        case = await _case(bot, cid)
        assert (case["status"], case["holder_id"]) == ("claimed", STAFF2)
        notices = await _notices(bot, CITIZEN)
        assert len(notices) == 2 and all(CLAIMED_NOTICE in n for n in notices)
        shown = await _lookup(citizen, code)
        assert STATUS_CLAIMED in shown.text and "رها" not in shown.text

        assert await _events(bot, cid) == [
            ("submit", CITIZEN, None, "new", None, True),
            ("claim", STAFF1, "new", "claimed", None, True),
            ("release", STAFF1, "claimed", "new", "باید کارشناس بازار بررسی کند", False),
            ("claim", STAFF2, "new", "claimed", None, True),
        ]


# -- urgent ----------------------------------------------------------------------------------------


async def test_mark_urgent_shows_on_the_card_and_leads_the_queue(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff = p["staff"]
        citizen2 = bot.server.user(CITIZEN2, first_name="شهرونددو")
        first, first_card = await _file(bot, staff, p["citizen"])
        second, card = await _file(bot, staff, citizen2, phone=PHONE)
        assert first_card.text.startswith("\u200f🆕") and card.text.startswith("\u200f🆕")

        await staff.send_text(from_user=p["s1"], text="/queue")
        queue = await staff.expect_message("شکایت‌های بدون کارشناس")
        assert queue.text.index(_short(first["code"])) < queue.text.index(_short(second["code"]))

        qid = await staff.press(from_user=p["s1"], text="🔴 فوری", message=card)
        answer = await staff.expect_answer(qid)
        assert answer["text"] == "فوری شد." and not answer.get("show_alert")
        await staff.expect_edit(card)
        assert card.text.startswith("\u200f🔴") and "🔴 فوری" not in card.buttons()
        assert CLAIM in card.buttons()
        assert first_card.text.startswith("\u200f🆕") and "🔴 فوری" in first_card.buttons()

        # The stale button pressed again: it is urgent already, nothing is written twice.
        qid = await staff.press(from_user=p["s2"], data=f"s:urgent:{second['id']}", message=card)
        assert WRONG_STATE in await _alert(staff, qid)

        await staff.send_text(from_user=p["s1"], text="/queue")
        queue = await staff.expect_message("شکایت‌های بدون کارشناس")
        assert queue.text.index(_short(second["code"])) < queue.text.index(_short(first["code"]))
        urgent_line = next(ln for ln in queue.text.splitlines() if _short(second["code"]) in ln)
        assert "🔴" in urgent_line

        # It stays urgent once claimed: still no urgent button.
        await _claim(staff, p["s2"], card)
        assert card.text.startswith("\u200f🔴") and "🔴 فوری" not in card.buttons()
        assert (await _case(bot, second["id"]))["urgent"] is True

        # Urgency is internal: the citizen is told of the claim only.
        await citizen2.expect_message(CLAIMED_NOTICE)
        assert len(await _notices(bot, CITIZEN2)) == 1
        assert await _events(bot, second["id"]) == [
            ("submit", CITIZEN2, None, "new", None, True),
            ("mark_urgent", STAFF1, "new", "new", None, False),
            ("claim", STAFF2, "new", "claimed", None, True),
        ]
        assert await _events(bot, first["id"]) == [("submit", CITIZEN, None, "new", None, True)]


# -- reject and reopen ---------------------------------------------------------------------------


async def test_reject_with_a_reason_then_staff_reopen(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, citizen = p["staff"], p["citizen"]
        row, card = await _file(bot, staff, citizen, phone=PHONE)
        cid, code = row["id"], row["code"]

        # A staff member rejects only what they hold.
        qid = await staff.press(from_user=p["s1"], text="رد", message=card)
        assert NOT_YOURS in await _alert(staff, qid)
        await _claim(staff, p["s1"], card)
        await citizen.expect_message(CLAIMED_NOTICE)

        prompt = await _open_prompt(staff, p["s1"], "رد", card, "رد می‌شود")
        await _refused_reply(bot, staff, prompt, "نامعتبر", NOT_YOURS, cid, by=p["s2"])
        await _refused_reply(bot, staff, prompt, "نامعتبر", ANONYMOUS_ADMIN, cid)
        reason = "شکایت دربارهٔ کالای قاچاق است و <b> اینجا جایش نیست"
        await _answer(staff, p["s1"], prompt, reason, "رد شد؛ به شهروند")
        told = await citizen.expect_message("پذیرفته نشد")
        assert reason in told.text and _short(code) in told.text
        assert "۱۳۵" in told.text and "شکایت تازه‌ای با جزئیات بیشتر" in told.text  # what next
        await staff.expect_edit(card, "وضعیت: پذیرفته نشد")
        assert card.buttons()[:2] == ["بازگشایی", "یادداشت"] and CLAIM not in card.buttons()
        case = await _case(bot, cid)
        assert (case["status"], case["outcome"]) == ("rejected", "rejected")

        # Any staff member may reopen; the prompt is theirs alone.
        prompt = await _open_prompt(staff, p["s2"], "بازگشایی", card, "بازگشایی می‌شود")
        await _refused_reply(bot, staff, prompt, "باز شود", NOT_YOURS, cid, by=p["s1"])
        await _refused_reply(bot, staff, prompt, "باز شود", ANONYMOUS_ADMIN, cid)
        await staff.send_text(from_user=p["out"], text="باز شود", reply_to=prompt)
        await staff.expect_message(NOT_STAFF)
        await _answer(staff, p["s2"], prompt, "شهروند مدرک تازه فرستاد", "بازگشایی شد.")
        await citizen.expect_message("بازگشایی شد و دوباره بررسی")
        await staff.expect_edit(card, "وضعیت: بازگشایی شد")
        assert CLAIM in card.buttons() and HOLDER not in card.text
        case = await _case(bot, cid)
        assert (case["status"], case["holder_id"], case["outcome"], case["resolved_at"]) == (
            "reopened",
            None,
            None,
            None,
        )

        # Claimable again, by someone else.
        await _claim(staff, p["s2"], card)
        await citizen.expect_message(CLAIMED_NOTICE)
        notices = await _notices(bot, CITIZEN)
        assert len(notices) == 4
        assert CLAIMED_NOTICE in notices[0] and "پذیرفته نشد" in notices[1]
        assert "بازگشایی شد" in notices[2] and CLAIMED_NOTICE in notices[3]
        shown = await _lookup(citizen, code)
        assert STATUS_CLAIMED in shown.text and "— پذیرفته نشد" in shown.text

        assert await _events(bot, cid) == [
            ("submit", CITIZEN, None, "new", None, True),
            ("claim", STAFF1, "new", "claimed", None, True),
            ("reject", STAFF1, "claimed", "rejected", reason, True),
            ("reopen", STAFF2, "rejected", "reopened", "شهروند مدرک تازه فرستاد", True),
            ("claim", STAFF2, "reopened", "claimed", None, True),
        ]


# -- merge ---------------------------------------------------------------------------------------


async def test_merge_into_another_case_by_its_code(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, citizen = p["staff"], p["citizen"]
        citizen2 = bot.server.user(CITIZEN2, first_name="شهرونددو")
        target, target_card = await _file(bot, staff, citizen, phone=PHONE)
        dup, card = await _file(bot, staff, citizen2, phone="+989351112233")
        await _claim(staff, p["s1"], target_card)
        await _claim(staff, p["s2"], card)
        await citizen2.expect_message(CLAIMED_NOTICE)

        prompt = await _open_prompt(staff, p["s2"], "ادغام", card, "تکرار آن است")
        await _refused_reply(
            bot, staff, prompt, _typed(target["code"]), NOT_YOURS, dup["id"], by=p["s1"]
        )
        await _refused_reply(bot, staff, prompt, _typed(target["code"]), ANONYMOUS_ADMIN, dup["id"])
        # Into itself, an unknown code, or not a code at all: refused, the prompt stays open.
        for wrong in (
            _typed(dup["code"]),
            _typed(_unknown_code(target["code"], dup["code"])),
            "همان قبلی",
        ):
            await _refused_reply(bot, staff, prompt, wrong, BAD_INPUT, dup["id"], by=p["s2"])
        assert await _events(bot, target["id"]) == [
            ("submit", CITIZEN, None, "new", None, True),
            ("claim", STAFF1, "new", "claimed", None, True),
        ]

        await _answer(staff, p["s2"], prompt, _typed(target["code"]), "ادغام شد.")
        told = await citizen2.expect_message("همان موضوعی است که در شکایت دیگری")
        assert _short(dup["code"]) in told.text and _short(target["code"]) not in told.text
        await staff.expect_edit(card, "ادغام با پروندهٔ دیگر")
        assert CLAIM not in card.buttons() and "ادغام" not in card.buttons()
        case = await _case(bot, dup["id"])
        assert (case["status"], case["merged_into"], case["holder_id"]) == (
            "merged",
            target["id"],
            None,
        )
        assert await _prompts(bot) == []

        # The citizen looks the merged case up: it follows the other case's status, whose
        # code and reporter stay hidden.
        shown = await _lookup(citizen2, dup["code"])
        assert "ادغام با پروندهٔ دیگر" in shown.text
        assert "همراه با شکایت دیگری" in shown.text
        after = shown.text.split("همراه با شکایت دیگری")[1]
        assert STATUS_CLAIMED in after
        assert _short(target["code"]) not in shown.text and "شهروند" not in shown.text

        # Merging the other case back into the merged one is refused too.
        back = await _open_prompt(staff, p["s1"], "ادغام", target_card, "تکرار آن است")
        await _refused_reply(
            bot, staff, back, _typed(dup["code"]), BAD_INPUT, target["id"], by=p["s1"]
        )

        notices = await _notices(bot, CITIZEN2)
        assert len(notices) == 2
        assert CLAIMED_NOTICE in notices[0] and "همان موضوعی است که در شکایت دیگری" in notices[1]
        assert await _events(bot, dup["id"]) == [
            ("submit", CITIZEN2, None, "new", None, True),
            ("claim", STAFF2, "new", "claimed", None, True),
            ("merge", STAFF2, "claimed", "merged", target["code"], True),
        ]
        assert (await _case(bot, target["id"]))["status"] == "claimed"


# -- a unit returns a referral ---------------------------------------------------------------------


async def test_unit_returns_a_referral_with_a_reason(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, unit, citizen = p["staff"], p["unit"], p["citizen"]
        row, card = await _file(bot, staff, citizen, phone=PHONE)
        cid, code = row["id"], row["code"]
        await _claim(staff, p["s1"], card)
        await _refer(staff, p["s1"], card, "تنظیم بازار")
        await citizen.expect_message("ارجاع شد")
        unit_card = await unit.expect_message(_short(code))
        await staff.expect_edit(card, "واحد رسیدگی‌کننده: تنظیم بازار")

        prompt = await _open_prompt(unit, p["s2"], "بازگرداندن ارجاع", unit_card, "بازمی‌گرداند")
        assert prompt.chat_id == UNIT_CHAT
        await _refused_reply(bot, unit, prompt, "مال ما نیست", NOT_YOURS, cid, by=p["s1"])
        await _refused_reply(bot, unit, prompt, "مال ما نیست", ANONYMOUS_ADMIN, cid)
        await _answer(unit, p["s2"], prompt, "در حوزهٔ این واحد نیست", "به صف بازگشت")

        case = await _case(bot, cid)
        assert (case["status"], case["unit_id"], case["holder_id"]) == ("new", None, None)
        await staff.expect_edit(card, STATUS_NEW)
        assert (
            "واحد رسیدگی‌کننده:" not in card.text
            and HOLDER not in card.text
            and CLAIM in card.buttons()
        )
        await unit.expect_edit(unit_card, STATUS_NEW)
        assert "پذیرش" not in unit_card.buttons() and "بازگرداندن ارجاع" not in unit_card.buttons()

        await staff.send_text(from_user=p["s2"], text="/queue")
        queue = await staff.expect_message("شکایت‌های بدون کارشناس")
        assert _short(code) in queue.text

        # The citizen was told of the referral; the return is internal, and their lookup shows
        # the case waiting for an officer again.
        notices = await _notices(bot, CITIZEN)
        assert len(notices) == 2 and "ارجاع شد" in notices[1]
        shown = await _lookup(citizen, code)
        assert STATUS_NEW in shown.text

        assert await _events(bot, cid) == [
            ("submit", CITIZEN, None, "new", None, True),
            ("claim", STAFF1, "new", "claimed", None, True),
            ("refer", STAFF1, "claimed", "referred", "تنظیم بازار", True),
            ("return_referral", STAFF2, "referred", "new", "در حوزهٔ این واحد نیست", False),
        ]


async def test_the_unit_member_who_accepted_resolves_from_the_unit_card(db_url: str) -> None:
    """The member who accepts a referral holds the case, and records its outcome from the unit's
    card (a unit's member need not be in the staff group). The press is checked as on the staff
    card: a desk role, the holder (or a supervisor), a state the lifecycle allows."""
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, unit, citizen = p["staff"], p["unit"], p["citizen"]
        row, card = await _file(bot, staff, citizen, phone=PHONE)
        cid, code = row["id"], row["code"]
        await _claim(staff, p["s1"], card)
        await _refer(staff, p["s1"], card, "تنظیم بازار")
        unit_card = await unit.expect_message(_short(code))
        # Waiting for the unit: accept or return, no outcome yet (nobody in the unit holds it).
        assert RESOLVE not in unit_card.buttons()
        qid = await unit.press(from_user=p["s2"], text="پذیرش", message=unit_card)
        assert (await unit.expect_answer(qid))["text"] == "ارجاع پذیرفته شد؛ پرونده در دست شماست."
        await unit.expect_edit(unit_card, "کارشناس‌دو")
        assert unit_card.buttons()[0] == RESOLVE
        assert "پذیرش" not in unit_card.buttons() and "📞 شماره" not in unit_card.buttons()

        # Not staff, or staff who do not hold it: refused before any choice is shown.
        resolve = unit_card.button_data(RESOLVE)
        qid = await unit.press(from_user=p["out"], data=resolve, message=unit_card)
        assert NOT_STAFF in await _alert(unit, qid)
        qid = await unit.press(from_user=p["s1"], data=resolve, message=unit_card)
        assert NOT_YOURS in await _alert(unit, qid)
        assert (await _case(bot, cid))["status"] == "claimed"

        # The holder: the outcomes, then the explanation, asked in the unit's chat.
        await unit.press(from_user=p["s2"], text=RESOLVE, message=unit_card)
        outcomes = await unit.expect_edit(unit_card)
        assert "مشکل برطرف شد" in outcomes.buttons()
        outcome = outcomes.button_data("مشکل برطرف شد")
        qid = await unit.press(from_user=p["s1"], data=outcome, message=outcomes)
        assert NOT_YOURS in await _alert(unit, qid)  # the choice is checked again
        await unit.press(from_user=p["s2"], data=outcome, message=outcomes)
        prompt = await unit.expect_message("توضیح برای شهروند")
        assert prompt.chat_id == UNIT_CHAT
        await _refused_reply(bot, unit, prompt, "قیمت اصلاح شد", NOT_YOURS, cid, by=p["s1"])
        await _answer(unit, p["s2"], prompt, "فروشنده قیمت را اصلاح کرد.", "نتیجه ثبت شد")

        told = await citizen.expect_message("مشکل برطرف شد")
        assert "فروشنده قیمت را اصلاح کرد." in told.text
        case = await _case(bot, cid)
        assert (case["status"], case["outcome"], case["holder_id"]) == (
            "resolved",
            "resolved",
            STAFF2,
        )
        await unit.expect_edit(unit_card, "مشکل برطرف شد")
        assert RESOLVE not in unit_card.buttons()
        await staff.expect_edit(card, "مشکل برطرف شد")

        # A second press on the resolved case (a stale copy): the state is checked on the press.
        qid = await unit.press(from_user=p["s2"], data=resolve, message=unit_card)
        assert WRONG_STATE in await _alert(unit, qid)
        assert [e[:4] for e in await _events(bot, cid)][-2:] == [
            ("accept_referral", STAFF2, "referred", "claimed"),
            ("resolve", STAFF2, "claimed", "resolved"),
        ]


# -- the evidence ----------------------------------------------------------------------------------


async def test_evidence_goes_to_the_private_chat_as_an_album(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        newcomer = bot.server.user(NEWCOMER, first_name="تازه‌کار", started=False)
        p = await _setup(bot)
        staff, citizen = p["staff"], p["citizen"]
        await staff.send_text(from_user=p["admin"], text=f"/staff add {NEWCOMER} staff")
        await staff.expect_message("کارکنان")
        row, card = await _file(bot, staff, citizen, photos=3, phone=PHONE)
        button = "📎 مدارک (۳)"
        assert button in card.buttons() and "۳ فایل" in card.text

        qid = await staff.press(from_user=p["s1"], text=button, message=card)
        answer = await staff.expect_answer(qid)
        assert "مدارک به گفت‌وگوی خصوصی" in answer["text"] and not answer.get("show_alert")
        items = p["s1"].inbox
        assert [m.kind for m in items] == ["media_group_item"] * 3
        assert len({m.media_group_id for m in items}) == 1
        assert [m.media_type for m in items] == ["photo"] * 3
        sent = {bot.server.files[m.media[0]].file_unique_id for m in items}
        assert len(sent) == 3 and all(u.startswith("album") for u in sent)
        calls = [c for c in bot.server.calls if c.method == "sendMediaGroup"]
        assert len(calls) == 1 and int(calls[0].params["chat_id"]) == STAFF1

        # Someone who never opened the bot cannot be written to: they are told what to do.
        bot.server.expect_refusal("bot can't initiate conversation")
        qid = await staff.press(from_user=newcomer, text=button, message=card)
        assert "گفت‌وگوی خصوصی با ربات را باز کنید" in await _alert(staff, qid)
        assert newcomer.inbox == []
        # ... and once they have, it works.
        await newcomer.send_text("/start")
        await newcomer.expect_message("سلام")
        qid = await staff.press(from_user=newcomer, text=button, message=card)
        assert "مدارک به گفت‌وگوی خصوصی" in (await staff.expect_answer(qid))["text"]
        assert [m.kind for m in newcomer.inbox[1:]] == ["media_group_item"] * 3

        # Not for members who are not staff; nothing about the case changes either way.
        qid = await staff.press(from_user=p["out"], text=button, message=card)
        assert NOT_STAFF in await _alert(staff, qid)
        assert p["out"].inbox == []
        assert await _events(bot, row["id"]) == [("submit", CITIZEN, None, "new", None, True)]
        assert await _notices(bot, CITIZEN) == []


async def test_evidence_of_photos_and_documents_in_two_albums(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, citizen = p["staff"], p["citizen"]
        await start_filing(citizen)
        await answer_until_evidence(citizen)
        await citizen.send_album(kinds=["photo", "video"])
        await citizen.expect_message("فایل‌های دریافت‌شده")
        await citizen.send_album(kinds=["document", "document"])
        await citizen.expect_message("۴ از ۵")
        await finish_after_evidence(citizen, phone=None)
        await confirm(citizen)
        [row] = await case_rows(bot, CITIZEN)
        card = await staff.expect_message(_short(row["code"]))
        qid = await staff.press(from_user=p["sup"], text="📎 مدارک (۴)", message=card)
        assert not (await staff.expect_answer(qid)).get("show_alert")
        items = p["sup"].inbox
        assert [m.media_type for m in items] == ["photo", "video", "document", "document"]
        assert len({m.media_group_id for m in items}) == 2


# -- /reassign -----------------------------------------------------------------------------------


async def test_supervisor_reassigns_and_staff_may_not(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, citizen = p["staff"], p["citizen"]
        row, card = await _file(bot, staff, citizen, phone=PHONE)
        cid, code = row["id"], row["code"]
        await _claim(staff, p["s1"], card)
        await citizen.expect_message(CLAIMED_NOTICE)

        await staff.send_text(from_user=p["s1"], text=f"/reassign {code} {STAFF2}")
        await staff.expect_message(NOT_YOURS)
        await staff.send_text(from_user=p["s2"], text=f"/reassign {_typed(code)} {STAFF2}")
        await staff.expect_message(NOT_YOURS)
        await staff.send_text(from_user=p["out"], text=f"/reassign {code} {OUTSIDER}")
        await staff.expect_message(NOT_STAFF)
        await staff.send_as_anonymous_admin(f"/reassign {code} {STAFF2}")
        await staff.expect_message(ANONYMOUS_ADMIN)
        # To someone who is not staff, or with no one named: refused.
        await staff.send_text(from_user=p["sup"], text=f"/reassign {code} {OUTSIDER}")
        await staff.expect_message(BAD_INPUT)
        await staff.send_text(from_user=p["sup"], text=f"/reassign {code}")
        await staff.expect_message(BAD_INPUT)
        assert (await _case(bot, cid))["holder_id"] == STAFF1

        await staff.send_text(from_user=p["sup"], text=f"/reassign {_typed(code)} {STAFF2}")
        await staff.expect_message("به کارشناس دیگر سپرده شد")
        await staff.expect_edit(card, p["s2"].first_name)
        assert p["s1"].first_name not in card.text and STATUS_CLAIMED in card.text
        case = await _case(bot, cid)
        assert (case["status"], case["holder_id"]) == ("claimed", STAFF2)

        await staff.send_text(from_user=p["s2"], text="/mine")
        mine = await staff.expect_message("شکایت‌هایی که در دست شماست")
        assert _short(code) in mine.text
        await staff.send_text(from_user=p["s1"], text="/mine")
        await staff.expect_message("شکایت بازی در دست شما نیست")
        # The old holder's buttons no longer work for them; the new holder's do.
        qid = await staff.press(from_user=p["s1"], data=f"s:release:{cid}", message=card)
        assert NOT_YOURS in await _alert(staff, qid)
        qid = await staff.press(from_user=p["s2"], text="📞 شماره", message=card)
        assert "۰۹۱۲ ۱۲۳ ۴۵۶۷" in await _alert(staff, qid)  # PHONE, as staff read it

        # Handing over is internal: the citizen was told of the claim only.
        assert len(await _notices(bot, CITIZEN)) == 1
        assert await _events(bot, cid) == [
            ("submit", CITIZEN, None, "new", None, True),
            ("claim", STAFF1, "new", "claimed", None, True),
            ("reassign", SUPERVISOR, "claimed", "claimed", str(STAFF2), False),
        ]


async def test_reassigning_an_unclaimed_case_hands_it_over(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN, SECOND_ADMIN]) as bot:
        p = await _setup(bot)
        staff, citizen = p["staff"], p["citizen"]
        row, card = await _file(bot, staff, citizen, phone=PHONE)
        cid, code = row["id"], row["code"]
        await staff.send_text(from_user=p["s1"], text="/mine")
        await staff.expect_message("شکایت بازی در دست شما نیست")
        await staff.send_text(from_user=p["admin"], text=f"/reassign {code} {STAFF1}")
        await staff.expect_message("به کارشناس دیگر سپرده شد")
        await staff.expect_edit(card, p["s1"].first_name)
        assert STATUS_CLAIMED in card.text and CLAIM not in card.buttons()
        case = await _case(bot, cid)
        assert (case["status"], case["holder_id"]) == ("claimed", STAFF1)
        assert case["claimed_at"] is not None
        await citizen.expect_message(CLAIMED_NOTICE)

        await staff.send_text(from_user=p["s1"], text="/mine")
        mine = await staff.expect_message("شکایت‌هایی که در دست شماست")
        assert _short(code) in mine.text
        await staff.send_text(from_user=p["s2"], text="/queue")
        await staff.expect_message("صف خالی است")
        # Nobody else can take it by pressing the (stale) claim button.
        qid = await staff.press(from_user=p["s2"], data=f"s:claim:{cid}", message=card)
        assert p["s1"].first_name in await _alert(staff, qid)
        assert (await _case(bot, cid))["holder_id"] == STAFF1

        # To an admin named only in the settings, who has never written to the bot.
        await staff.send_text(from_user=p["sup"], text=f"/reassign {code} {SECOND_ADMIN}")
        await staff.expect_message("به کارشناس دیگر سپرده شد")
        await staff.expect_edit(card, "مسئول: —")
        assert (await _case(bot, cid))["holder_id"] == SECOND_ADMIN
        assert len(await _notices(bot, CITIZEN)) == 1
        assert await _events(bot, cid) == [
            ("submit", CITIZEN, None, "new", None, True),
            ("reassign", ADMIN, "new", "claimed", str(STAFF1), False),
            ("reassign", SUPERVISOR, "claimed", "claimed", str(SECOND_ADMIN), False),
        ]


# -- /find, /mine, /help -------------------------------------------------------------------------
# Each test stays under Telegram's 20 messages a minute in one group, which the bot keeps to.

FOUND = "نتیجهٔ جست‌وجو"
NOTHING = "چیزی پیدا نشد"


async def test_find_by_name_code_and_phone(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff = p["staff"]
        citizen2 = bot.server.user(CITIZEN2, first_name="شهرونددو")
        one, _card = await _file(bot, staff, p["citizen"], phone=PHONE)
        two, _card2 = await _file(bot, staff, citizen2)  # anonymous
        a, b = _short(one["code"]), _short(two["code"])

        async def find(user: FakeUser, query: str) -> str:
            await staff.send_text(from_user=user, text=f"/find {query}")
            found = await staff.expect_message(
                predicate=lambda m: FOUND in (m.text or "") or NOTHING in (m.text or "")
            )
            assert PHONE not in found.text and "9121234567" not in found.text
            return str(found.text)

        # By business name (a part of it, typed with Arabic letters): both cases.
        found = await find(p["s1"], "زنجيره‌اي")
        assert FOUND in found and a in found and b in found
        assert "فروشگاه زنجیره‌ای نمونه" in found
        # By tracking code, as typed: that case only.
        for typed in (one["code"], _typed(one["code"])):
            found = await find(p["s2"], typed)
            assert a in found and b not in found
        # By phone: supervisors and admins find the case, however the number is written.
        for user, typed in (
            (p["sup"], "09121234567"),
            (p["sup"], "۰۹۱۲ ۱۲۳ ۴۵۶۷"),
            (p["admin"], PHONE),
        ):
            found = await find(user, typed)
            assert a in found and b not in found
        # A staff member's phone search finds nothing: numbers are not theirs to look up.
        for typed in ("09121234567", PHONE):
            assert NOTHING in await find(p["s1"], typed)
        assert NOTHING in await find(p["s1"], "نانوایی")
        # Under three letters is not searched (the index cannot serve it): the desk says why.
        for short in ("زن", ""):
            await staff.send_text(from_user=p["s1"], text=f"/find {short}")
            await staff.expect_message("دست‌کم سه حرف از نام واحد صنفی")
        await staff.send_text(from_user=p["out"], text="/find زنجیره‌ای")
        await staff.expect_message(NOT_STAFF)


async def test_mine_lists_held_cases_and_help_fits_the_role(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff = p["staff"]
        citizen2 = bot.server.user(CITIZEN2, first_name="شهرونددو")
        one, card = await _file(bot, staff, p["citizen"], phone=PHONE)
        two, _card2 = await _file(bot, staff, citizen2)

        await staff.send_text(from_user=p["s1"], text="/mine")
        await staff.expect_message("شکایت بازی در دست شما نیست")
        await _claim(staff, p["s1"], card)
        await staff.send_text(from_user=p["s1"], text="/mine")
        mine = await staff.expect_message("شکایت‌هایی که در دست شماست (۱)")
        assert _short(one["code"]) in mine.text and _short(two["code"]) not in mine.text
        await staff.send_text(from_user=p["s2"], text="/mine")
        await staff.expect_message("شکایت بازی در دست شما نیست")

        async def help_for(user: FakeUser) -> str:
            await staff.send_text(from_user=user, text="/help")
            return str((await staff.expect_message("میز کارشناسان")).text)

        staff_help = await help_for(p["s1"])
        sup_help = await help_for(p["sup"])
        admin_help = await help_for(p["admin"])
        for shown in (staff_help, sup_help, admin_help):
            for command in ("/queue", "/mine", "/case", "/find", "/note", "/ask", "/refer"):
                assert command in shown
        assert "/reassign" not in staff_help and "/staff" not in staff_help
        assert "/reassign" in sup_help and "/staff" not in sup_help
        assert "/reassign" in admin_help and "/staff" in admin_help
        await staff.send_text(from_user=p["out"], text="/help")
        await staff.expect_message(NOT_STAFF)


# -- prompts: the addressee only, never the anonymous admin ----------------------------------------


async def test_a_prompt_answered_as_the_anonymous_admin_changes_nothing(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, citizen = p["staff"], p["citizen"]
        row, card = await _file(bot, staff, citizen, phone=PHONE)
        cid = row["id"]
        await _claim(staff, p["s1"], card)
        before = await _notices(bot, CITIZEN)
        for button, contains in (
            ("یادداشت", "یادداشت داخلی"),
            ("پرسش از شهروند", "پرسش خود"),
            ("بازگرداندن به صف", "را به صف بازمی‌گردانید"),
            ("رد", "رد می‌شود"),
        ):
            prompt = await _open_prompt(staff, p["s1"], button, card, contains)
            await _refused_reply(bot, staff, prompt, "متن ناشناس", ANONYMOUS_ADMIN, cid)
        assert await _notices(bot, CITIZEN) == before
        # The last prompt is still the holder's to answer.
        await _answer(staff, p["s1"], prompt, "تکراری است", "رد شد؛")
        await citizen.expect_message("تکراری است")
        assert (await _events(bot, cid))[-1] == (
            "reject",
            STAFF1,
            "claimed",
            "rejected",
            "تکراری است",
            True,
        )


@dataclass(frozen=True)
class Kind:
    """One kind of prompt, and the audit row and citizen's side of answering it."""

    button: str
    prompt: str  # words of the prompt
    owner: str  # who opens it
    reply: str
    done: str  # what the bot says when it is carried out
    action: str
    before: str
    after: str
    public: bool
    citizen_told: bool


PROMPT_KINDS = {
    "note": Kind(
        "یادداشت", "یادداشت داخلی", "s1", "سابقه دارد", "یادداشت ثبت شد",
        "note", "claimed", "claimed", public=False, citizen_told=False,
    ),
    "ask": Kind(
        "پرسش از شهروند", "پرسش خود", "s1", "ساعت خرید؟", "پرسش برای شهروند",
        "ask", "claimed", "awaiting_citizen", public=True, citizen_told=True,
    ),
    "release": Kind(
        "بازگرداندن به صف", "را به صف بازمی‌گردانید", "s1", "مرخصی", "به صف بازگشت",
        "release", "claimed", "new", public=False, citizen_told=False,
    ),
    "reject": Kind(
        "رد", "رد می‌شود", "s1", "بی‌پایه است", "رد شد؛",
        "reject", "claimed", "rejected", public=True, citizen_told=True,
    ),
    "merge": Kind(
        "ادغام", "تکرار آن است", "s1", "", "ادغام شد.",
        "merge", "claimed", "merged", public=True, citizen_told=True,
    ),
    "resolve": Kind(
        "مشکل برطرف شد", "توضیح برای شهروند", "s1", "تذکر داده شد", "نتیجه ثبت شد",
        "resolve", "claimed", "resolved", public=True, citizen_told=True,
    ),
    "reopen": Kind(
        "بازگشایی", "بازگشایی می‌شود", "s2", "مدرک تازه", "بازگشایی شد.",
        "reopen", "rejected", "reopened", public=True, citizen_told=True,
    ),
    "return": Kind(
        "بازگرداندن ارجاع", "بازمی‌گرداند", "s2", "مال ما نیست", "به صف بازگشت",
        "return_referral", "referred", "new", public=False, citizen_told=False,
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(PROMPT_KINDS))
async def test_only_the_addressee_may_answer_a_prompt(env: Env, kind: str) -> None:
    """Other staff, the supervisor, an admin, a non-staff member and the anonymous group admin
    are refused and change nothing; the addressee's answer is carried out — on Bale sent in
    their private chat, with no ForceReply anywhere."""
    k = PROMPT_KINDS[kind]
    reply = k.reply
    async with running_bot(env.db_url, platform=env.platform, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, unit, citizen = p["staff"], p["unit"], p["citizen"]
        row, card = await _file(bot, staff, citizen, phone=PHONE)
        cid = row["id"]
        if kind == "merge":
            other, _other_card = await _file(bot, staff, bot.server.user(CITIZEN2, first_name="دو"))
            reply = _typed(other["code"])
        desk = bot.services.desk
        await _claim(staff, p["s1"], card)
        group, on = staff, card
        if kind == "resolve":
            await staff.press(from_user=p["s1"], text="اعلام نتیجه", message=card)
            on = await staff.expect_edit(card)
            # A forged outcome asks for nothing: its prompt could never be answered. Forged
            # callback data is answered like a case that does not exist.
            qid = await staff.press(from_user=p["s1"], data=f"s:ro:{cid}:bogus", message=on)
            assert "چنین پرونده‌ای نیست" in await _alert(staff, qid)
            assert await _prompts(bot) == []
        elif kind == "reopen":
            assert isinstance(await desk.reject(await desk.actor(STAFF1), cid, "تکراری"), Done)
            await staff.expect_edit(card, "وضعیت: پذیرفته نشد")
        elif kind == "return":
            unit_chat = UNIT_CHATS[env.platform]
            [market] = [u for u in await desk.units() if u["chat_id"] == unit_chat]
            assert isinstance(await desk.refer(await desk.actor(STAFF1), cid, market["id"]), Done)
            group, on = unit, await unit.expect_message(_short(row["code"]))
        owner = p[k.owner]
        notices = await _notices(bot, CITIZEN)

        prompt = await _open_prompt(group, owner, k.button, on, k.prompt, force_reply=not env.bale)
        for intruder in (p[key] for key in ("s1", "s2", "sup", "admin") if key != k.owner):
            await _refused_reply(bot, group, prompt, reply, NOT_YOURS, cid, by=intruder)
        await _refused_reply(bot, group, prompt, reply, NOT_STAFF, cid, by=p["out"])
        await _refused_reply(bot, group, prompt, reply, ANONYMOUS_ADMIN, cid)
        assert await _notices(bot, CITIZEN) == notices
        await answer_prompt(group, owner, prompt, reply, k.done, private=env.bale)

        assert await _prompts(bot) == []
        note = other["code"] if kind == "merge" else reply
        assert (await _events(bot, cid))[-1] == (
            k.action,
            owner.id,
            k.before,
            k.after,
            note,
            k.public,
        )
        assert (await _case(bot, cid))["status"] == k.after
        # The citizen's side: told of what concerns them, not of internal steps.
        new = (await _notices(bot, CITIZEN))[len(notices) :]
        assert len(new) == (1 if k.citizen_told else 0)
        if k.citizen_told:
            sent = shows(new[0], bot.settings.profile)  # on Bale, the plain text sent
            await citizen.expect_message(predicate=lambda m: m.html == sent)


async def test_queue_counts_the_whole_backlog_not_the_lines_shown(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff = p["staff"]
        await file_complaint(p["citizen"])
        [row] = await case_rows(bot, CITIZEN)
        now = bot.services.rt.now()
        async with bot.services.rt.engine.begin() as conn:
            for i in range(24):
                body = f"{700000000 + i}"
                values = {k: v for k, v in row.items() if k not in ("id", "code")}
                values.update(
                    code=body + tracking.check_digit(body), created_at=now, updated_at=now
                )
                await case_store.insert_case(conn, values)
        await staff.send_text(from_user=p["s1"], text="/queue")
        listing = await staff.expect_message("از قدیمی‌ترین")
        assert "(۲۵)" in listing.text and "۲۰ مورد نخست نمایش" in listing.text
        assert listing.text.count("•") == 20


async def test_the_audit_trail_holds_the_whole_text_the_citizen_was_sent(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen = p["citizen"]
        await file_complaint(citizen, phone=PHONE)
        [row] = await case_rows(bot, CITIZEN)
        desk = bot.services.desk
        s1 = await desk.actor(STAFF1)
        await desk.claim(s1, row["id"])
        explanation = "بازرسان از فروشگاه بازدید کردند و " + "پروندهٔ تخلف تشکیل شد. " * 150
        assert len(explanation) > 3000
        assert isinstance(await desk.resolve(s1, row["id"], "branch", explanation), Done)
        notice = (await _notices(bot, CITIZEN))[-1]
        assert text.normalize(explanation).strip() in text.normalize(notice)
        assert (await _events(bot, row["id"]))[-1][4] == text.normalize(explanation)


async def test_a_unit_card_loses_its_buttons_once_the_case_goes_to_another_unit(
    db_url: str,
) -> None:
    """Returned by one unit and referred to another: the first unit's copy of the card still
    shows where the case stands, but no longer offers to accept it or give it back there."""
    patrols_chat = -1002000000077
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, unit, citizen = p["staff"], p["unit"], p["citizen"]
        patrols = bot.server.group(patrols_chat, title="Joint patrols")
        await staff.send_text(from_user=p["admin"], text=f"/units joint_patrols {patrols_chat}")
        await staff.expect_message(text.format_id(patrols_chat))
        row, card = await _file(bot, staff, citizen, phone=PHONE)
        code = row["code"]
        await _claim(staff, p["s1"], card)
        await _refer(staff, p["s1"], card, "تنظیم بازار")
        unit_card = await unit.expect_message(_short(code))
        prompt = await _open_prompt(unit, p["s2"], "بازگرداندن ارجاع", unit_card, "بازمی‌گرداند")
        await _answer(unit, p["s2"], prompt, "در حوزهٔ این واحد نیست", "به صف بازگشت")
        await staff.expect_edit(card, STATUS_NEW)

        await _claim(staff, p["s1"], card)
        await _refer(staff, p["s1"], card, "هماهنگی امور گشت‌های مشترک")
        theirs = await patrols.expect_message(_short(code))
        assert theirs.buttons()[:2] == ["پذیرش", "بازگرداندن ارجاع"]
        await unit.expect_edit(unit_card, "هماهنگی امور گشت‌های مشترک")
        assert unit_card.buttons() == []


async def test_a_member_who_never_opened_the_bot_is_not_written_to_on_every_prompt(
    db_url: str,
) -> None:
    """The private copy of a prompt is refused (403) to someone who never opened the bot: it is
    tried once, not on every press; once they write to the bot, their prompts come there too."""
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        newcomer = bot.server.user(NEWCOMER, first_name="تازه‌کار", started=False)
        p = await _setup(bot)
        staff, citizen = p["staff"], p["citizen"]
        await staff.send_text(from_user=p["admin"], text=f"/staff add {NEWCOMER} staff")
        await staff.expect_message("کارکنان")
        _row, card = await _file(bot, staff, citizen, phone=PHONE)
        await _claim(staff, newcomer, card)
        bot.server.expect_refusal("bot can't initiate conversation")

        def private_tries() -> int:
            return sum(
                c.method == "sendMessage" and int(c.params["chat_id"]) == NEWCOMER
                for c in bot.server.calls
            )

        for _ in range(3):
            prompt = await _open_prompt(
                staff, newcomer, "بازگرداندن به صف", card, "را به صف بازمی‌گردانید"
            )
            assert "گفت‌وگوی خصوصی" in prompt.text and "Start" not in prompt.text
        assert private_tries() == 1
        assert newcomer.inbox == []

        await newcomer.send_text("/start")
        await newcomer.expect_message("سلام")
        await _open_prompt(staff, newcomer, "بازگرداندن به صف", card, "را به صف بازمی‌گردانید")
        await newcomer.expect_message("بازگرداندن پرونده به صف")
