"""End to end: the staff desk in the staff group and a unit's chat, with a citizen, two staff
members, a supervisor, a non-staff member and an admin. Every action, its audit row, what the
citizen is told, and refusals for everything that must be refused. The whole walk runs on
Telegram and on Bale too (`env`), where prompts are answered in the private chat, with no
ForceReply."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from sqlalchemy import select

from bot import text
from bot.domain.roles import Role
from bot.localapi import FakeGroup, FakeUser
from bot.storage.rows import CaseRow
from bot.storage.tables import case_events, cases, ratings
from bot.text import to_persian_digits
from bot.views import notices
from tests.conftest import Env
from tests.flows import answer_prompt, case_rows, file_complaint
from tests.harness import STAFF_CHAT_ID, Bot, running_bot

ADMIN, STAFF1, STAFF2, SUPERVISOR, OUTSIDER, CITIZEN = 9001, 9101, 9102, 9201, 9301, 1001
UNIT_CHAT = -1002000000002
UNIT_CHATS = {"telegram": UNIT_CHAT, "bale": 5_100_000_002}  # Bale: a plain group, any sign


async def _setup(bot: Bot) -> dict[str, Any]:
    server = bot.server
    unit_chat = UNIT_CHATS[server.profile.name]
    assert bot.settings.staff_chat_id is not None
    staff = server.group(bot.settings.staff_chat_id, title="Staff")
    unit = server.group(unit_chat, title="Market regulation")
    people = {
        "admin": server.user(ADMIN, first_name="مدیر"),
        "s1": server.user(STAFF1, first_name="کارشناس‌یک"),
        "s2": server.user(STAFF2, first_name="کارشناس‌دو"),
        "sup": server.user(SUPERVISOR, first_name="سرپرست"),
        "out": server.user(OUTSIDER, first_name="عضوعادی"),
        "citizen": server.user(CITIZEN, first_name="شهروند"),
    }
    admin = people["admin"]
    for uid, role in ((STAFF1, "staff"), (STAFF2, "staff"), (SUPERVISOR, "supervisor")):
        await staff.send_text(from_user=admin, text=f"/staff add {uid} {role}")
        await staff.expect_message("کارکنان")
    await staff.send_text(from_user=admin, text=f"/units market_regulation {unit_chat}")
    await staff.expect_message(text.format_id(unit_chat))
    return {"staff": staff, "unit": unit, **people}


async def _events(bot: Bot, case_id: int) -> list[tuple[Any, ...]]:
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(
            select(
                case_events.c.action,
                case_events.c.actor_id,
                case_events.c.from_status,
                case_events.c.to_status,
                case_events.c.note,
                case_events.c.public,
            )
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.id)
        )
        return [tuple(r) for r in rows]


async def _case(bot: Bot, case_id: int) -> dict[str, Any]:
    async with bot.services.rt.engine.connect() as conn:
        row = (await conn.execute(select(cases).where(cases.c.id == case_id))).mappings().one()
        return dict(row)


async def _alert(chat: FakeGroup | FakeUser, qid: str) -> str:
    answer = await chat.expect_answer(qid)
    assert answer.get("show_alert"), answer
    return str(answer["text"])


async def test_a_case_from_card_to_rating_with_every_refusal(env: Env) -> None:
    async with running_bot(env.db_url, platform=env.platform, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, unit, citizen = p["staff"], p["unit"], p["citizen"]
        await file_complaint(citizen, phone="+989121234567")
        [row] = await case_rows(bot, CITIZEN)
        cid, code = row["id"], row["code"]
        card = await staff.expect_message(text.to_persian_digits(code[:5]))
        assert "✋ رسیدگی می‌کنم" in card.buttons() and "+98" not in card.text

        # A group member who is not staff: refused, nothing changes.
        qid = await staff.press(from_user=p["out"], text="✋ رسیدگی می‌کنم", message=card)
        assert "فقط برای کارکنان تعزیرات مجاز است" in await _alert(staff, qid)

        qid = await staff.press(from_user=p["s1"], text="✋ رسیدگی می‌کنم", message=card)
        assert (await staff.expect_answer(qid))["text"] == "پرونده در دست شماست."
        card = await staff.expect_edit(card)
        assert "کارشناس‌یک" in card.text and "در دست بررسی کارشناس" in card.text
        await citizen.expect_message("رسیدگی به شکایت شما با کد رهگیری")

        # The second claimer is told who holds it (pressing the stale button).
        qid = await staff.press(from_user=p["s2"], data=f"s:claim:{cid}", message=card)
        assert "کارشناس‌یک" in await _alert(staff, qid)

        # An internal note: asked in the group and privately; only its addressee may answer.
        await staff.press(from_user=p["s1"], text="یادداشت", message=card)
        prompt = await staff.expect_message("یادداشت داخلی")
        # The bot records the prompt just after posting it, and handles one person's updates
        # in order: once a later press of s1's is answered, others' replies meet the prompt.
        await staff.expect_answer(
            await staff.press(from_user=p["s1"], text="📞 شماره", message=card)
        )
        await staff.send_text(from_user=p["s2"], text="من می‌نویسم", reply_to=prompt)
        await staff.expect_message("اجازهٔ این کار")
        await answer_prompt(
            staff, p["s1"], prompt, "فروشنده سابقه دارد", "یادداشت ثبت شد", private=env.bale
        )

        # The phone number: to the holder and the supervisor in an alert, not to others.
        qid = await staff.press(from_user=p["s1"], text="📞 شماره", message=card)
        assert "۰۹۱۲ ۱۲۳ ۴۵۶۷" in await _alert(staff, qid)
        qid = await staff.press(from_user=p["s2"], text="📞 شماره", message=card)
        assert "+98" not in await _alert(staff, qid)
        qid = await staff.press(from_user=p["sup"], text="📞 شماره", message=card)
        assert "۰۹۱۲ ۱۲۳ ۴۵۶۷" in await _alert(staff, qid)

        # Ask the citizen; their answer comes back to the group and the case wakes up.
        await staff.press(from_user=p["s1"], text="پرسش از شهروند", message=card)
        prompt = await staff.expect_message("پرسش خود")
        await answer_prompt(
            staff, p["s1"], prompt, "ساعت خرید چند بود؟", "پرسش برای شهروند", private=env.bale
        )
        question = await citizen.expect_message("ساعت خرید چند بود؟")
        assert "می‌پرسد" in question.text
        card = await staff.expect_edit(card)
        assert "در انتظار پاسخ شما" in card.text
        await citizen.send_text("حدود ساعت ۶ عصر")
        await citizen.expect_message("پاسخ شما برای کارشناس")
        relayed = await staff.expect_message("پاسخ شهروند")
        # Shown as typed, with Persian digits (stored normalised, with ASCII ones).
        assert "حدود ساعت ۶ عصر" in relayed.text and "شهروند" not in relayed.text.split(":")[-1]
        card = await staff.expect_edit(card)
        assert "در دست بررسی کارشناس" in card.text

        # Refer to the unit; the unit's chat gets its own card and accepts.
        await staff.press(from_user=p["s1"], text="ارجاع", message=card)
        menu = await staff.expect_edit(card)
        assert "تنظیم بازار" in menu.buttons()
        qid = await staff.press(from_user=p["s1"], text="تنظیم بازار", message=menu)
        assert (await staff.expect_answer(qid))["text"] == "ارجاع شد."
        await citizen.expect_message("ارجاع شد")
        unit_card = await unit.expect_message(text.to_persian_digits(code[:5]))
        assert unit_card.buttons()[:2] == ["پذیرش", "بازگرداندن ارجاع"]
        qid = await unit.press(from_user=p["s2"], text="پذیرش", message=unit_card)
        assert (await unit.expect_answer(qid))["text"] == "ارجاع پذیرفته شد؛ پرونده در دست شماست."
        unit_card = await unit.expect_edit(unit_card)
        assert "کارشناس‌دو" in unit_card.text
        await citizen.expect_message("واحد رسیدگی‌کننده بررسی")

        # s1 no longer holds it: resolving is refused; s2 resolves with an outcome.
        qid = await staff.press(from_user=p["s1"], data=f"s:resolve:{cid}", message=card)
        assert "اجازهٔ این کار" in await _alert(staff, qid)
        latest = next(m for m in staff.inbox if m.message_id == card.message_id)
        await staff.press(from_user=p["s2"], text="اعلام نتیجه", message=latest)
        menu = await staff.expect_edit(latest)
        await staff.press(from_user=p["s2"], text="به شعبهٔ تعزیرات ارسال شد", message=menu)
        prompt = await staff.expect_message("توضیح برای شهروند")
        await answer_prompt(
            staff, p["s2"], prompt, "پرونده به شعبهٔ ۳ رفت.", "نتیجه ثبت شد", private=env.bale
        )
        outcome = await citizen.expect_message("به شکایت")
        assert "به شعبهٔ تعزیرات ارسال شد" in outcome.text and "شعبهٔ ۳" in outcome.text
        # Rated with the stars it shows, and reopened within a window it states.
        assert "از یک ستاره (ضعیف) تا پنج ستاره (عالی)" in outcome.text
        assert "تا هفت روز پس از اعلام این نتیجه" in outcome.text

        # The citizen rates, comments and reopens within the window.
        await citizen.press("⭐⭐⭐⭐⭐", message=outcome)
        await citizen.expect_message("از امتیاز شما")
        await citizen.send_text("رسیدگی سریع بود")
        await citizen.expect_message("نظر شما ثبت شد")
        await citizen.press("بازگشایی شکایت", message=outcome)
        await citizen.expect_message("چرا شکایت باید بازگشایی شود")
        await citizen.send_text("فروشنده باز هم گران می‌فروشد")
        await citizen.expect_message("بازگشایی شد")
        case = await _case(bot, cid)
        assert case["status"] == "reopened" and case["holder_id"] is None

        async with bot.services.rt.engine.connect() as conn:
            rating = (await conn.execute(select(ratings))).mappings().one()
        assert (rating["score"], rating["comment"]) == (5, "رسیدگی سریع بود")

        # The whole audit trail, event by event.
        assert await _events(bot, cid) == [
            ("submit", CITIZEN, None, "new", None, True),
            ("claim", STAFF1, "new", "claimed", None, True),
            ("note", STAFF1, "claimed", "claimed", "فروشنده سابقه دارد", False),
            ("ask", STAFF1, "claimed", "awaiting_citizen", "ساعت خرید چند بود؟", True),
            ("citizen_answer", CITIZEN, "awaiting_citizen", "claimed", "حدود ساعت 6 عصر", True),
            ("refer", STAFF1, "claimed", "referred", "تنظیم بازار", True),
            ("accept_referral", STAFF2, "referred", "claimed", None, True),
            ("resolve", STAFF2, "claimed", "resolved", "پرونده به شعبهٔ 3 رفت.", True),
            ("reopen", CITIZEN, "resolved", "reopened", "فروشنده باز هم گران می‌فروشد", True),
        ]

        # /case shows the timeline with notes to staff only.
        await staff.send_text(from_user=p["s1"], text=f"/case {code}")
        timeline = await staff.expect_message("روند پروندهٔ")
        assert "فروشنده سابقه دارد" in timeline.text
        await staff.send_text(from_user=p["out"], text=f"/case {code}")
        await staff.expect_message("فقط برای کارکنان تعزیرات مجاز است")
        # Posting as the anonymous group admin is refused: nobody to record.
        await staff.send_as_anonymous_admin("/queue")
        await staff.expect_message("ناشناس ماندن")
        await staff.send_text(from_user=p["s2"], text="/queue")
        queue = await staff.expect_message("شکایت‌های بدون کارشناس")
        assert text.to_persian_digits(code[:5]) in queue.text


async def test_forged_and_stale_presses_change_nothing(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, citizen = p["staff"], p["citizen"]
        await file_complaint(citizen)  # anonymous
        [row] = await case_rows(bot, CITIZEN)
        cid = row["id"]
        card = await staff.expect_message(text.to_persian_digits(row["code"][:5]))
        before = await _events(bot, cid)
        acts = [
            "claim",
            "urgent",
            "accept",
            "phone",
            "files",
            "note",
            "ask",
            "release",
            "reject",
            "merge",
            "reopen",
            "return",
            "resolve",
            "refer",
        ]
        for act in acts:  # a case that does not exist
            qid = await staff.press(from_user=p["s1"], data=f"s:{act}:987654", message=card)
            assert "چنین پرونده‌ای نیست" in await _alert(staff, qid), act
        for act in acts:  # a non-staff member, on a real case
            qid = await staff.press(from_user=p["out"], data=f"s:{act}:{cid}", message=card)
            assert "فقط برای کارکنان تعزیرات مجاز است" in await _alert(staff, qid), act
        for data in (f"s:ru:{cid}:99", f"s:ro:{cid}", "s:claim", "s:x:y:z:w", f"s:zz:{cid}"):
            qid = await staff.press(from_user=p["s1"], data=data, message=card)
            await _alert(staff, qid)
        # Wrong state: accepting or reopening a new case; asking an anonymous citizen.
        for data, expect in (
            (f"s:accept:{cid}", "وضعیت کنونی"),
            (f"s:reopen:{cid}", "وضعیت کنونی"),
        ):
            qid = await staff.press(from_user=p["s1"], data=data, message=card)
            assert expect in await _alert(staff, qid)
        qid = await staff.press(from_user=p["s1"], data=f"s:claim:{cid}", message=card)
        await staff.expect_answer(qid)
        qid = await staff.press(from_user=p["s1"], data=f"s:ask:{cid}", message=card)
        assert "ناشناس" in await _alert(staff, qid)
        assert await _events(bot, cid) == [*before, ("claim", STAFF1, "new", "claimed", None, True)]


async def test_fifty_staff_pressing_claim_at_once_leave_one_holder(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        citizen = bot.server.user(CITIZEN, first_name="شهروند")
        members = [
            bot.server.user(20000 + i, first_name=f"ک{to_persian_digits(i)}") for i in range(50)
        ]
        admin = await bot.services.desk.actor(ADMIN)
        for m in members:
            assert await bot.services.desk.set_role(admin, m.id, Role.STAFF) is None
        await file_complaint(citizen)
        [row] = await case_rows(bot, CITIZEN)
        card = await staff.expect_message(text.to_persian_digits(row["code"][:5]))
        qids = [
            await staff.press(from_user=m, data=f"s:claim:{row['id']}", message=card)
            for m in members
        ]
        answers = [await staff.expect_answer(q) for q in qids]
        winners = [a for a in answers if a["text"] == "پرونده در دست شماست."]
        assert len(winners) == 1
        case = await _case(bot, row["id"])
        winner = members[answers.index(winners[0])]
        assert case["holder_id"] == winner.id
        assert all(winner.first_name in a["text"] for a in answers if a is not winners[0])
        claims = [e for e in await _events(bot, row["id"]) if e[0] == "claim"]
        assert claims == [("claim", winner.id, "new", "claimed", None, True)]


async def test_fifty_concurrent_claims_in_the_service(db_url: str) -> None:
    """The race without Telegram in between: 50 transactions at once against the database."""
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        citizen = bot.server.user(CITIZEN, first_name="شهروند")
        desk = bot.services.desk
        admin = await desk.actor(ADMIN)
        ids = list(range(30000, 30050))
        for uid in ids:
            await desk.set_role(admin, uid, Role.STAFF)
        await file_complaint(citizen)
        [row] = await case_rows(bot, CITIZEN)
        actors = [await desk.actor(uid) for uid in ids]
        results = await asyncio.gather(*(desk.claim(a, row["id"]) for a in actors))
        done = [r for r in results if type(r).__name__ == "Done"]
        assert len(done) == 1
        assert (await _case(bot, row["id"]))["holder_id"] == done[0].case["holder_id"]


async def test_a_citizen_who_blocked_the_bot_is_shown_on_the_card(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, citizen = p["staff"], p["citizen"]
        await file_complaint(citizen, phone="+989121234567")
        [row] = await case_rows(bot, CITIZEN)
        card = await staff.expect_message(text.to_persian_digits(row["code"][:5]))
        bot.server.block(CITIZEN)
        bot.server.expect_refusal("bot was blocked by the user")
        await staff.press(from_user=p["s1"], text="✋ رسیدگی می‌کنم", message=card)
        await bot.server.wait_until(lambda: "ربات را مسدود" in _latest(bot, card).text)
        async with bot.services.rt.engine.connect() as conn:
            from bot.storage.tables import outbox, users

            failed = (
                (await conn.execute(select(outbox.c.last_error).where(outbox.c.status == "failed")))
                .scalars()
                .all()
            )
            blocked = (
                await conn.execute(select(users.c.blocked_bot).where(users.c.id == CITIZEN))
            ).scalar_one()
        assert failed == ["Forbidden: bot was blocked by the user"] and blocked


def _latest(bot: Bot, message: Any) -> Any:
    return next(
        m for m in bot.server.messages(message.chat_id) if m.message_id == message.message_id
    )


async def test_resolved_cases_close_when_the_reopen_window_passes(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN], reopen_window_days=7) as bot:
        p = await _setup(bot)
        await file_complaint(p["citizen"], phone="+989121234567")
        [row] = await case_rows(bot, CITIZEN)
        desk = bot.services.desk
        s1 = await desk.actor(STAFF1)
        assert type(await desk.claim(s1, row["id"])).__name__ == "Done"
        assert (
            type(await desk.resolve(s1, row["id"], "no_violation", "بررسی شد")).__name__ == "Done"
        )
        bot.clock.advance(days=6)
        assert await desk.close_expired() == 0
        bot.clock.advance(days=2)
        [job] = bot.app.job_queue.get_jobs_by_name("close-resolved")  # type: ignore[union-attr]
        await job.run(bot.app)
        case = await _case(bot, row["id"])
        assert case["status"] == "closed"
        assert (await _events(bot, row["id"]))[-1] == (
            "close",
            None,
            "resolved",
            "closed",
            None,
            True,
        )
        refused = await desk.citizen_reopen(CITIZEN, row["id"], "دوباره")
        assert type(refused).__name__ == "Refused"


async def test_deciding_without_the_answer_stops_asking_the_citizen(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen = p["citizen"]
        await file_complaint(citizen, phone="+989121234567")
        [row] = await case_rows(bot, CITIZEN)
        desk = bot.services.desk
        s1 = await desk.actor(STAFF1)
        await desk.claim(s1, row["id"])
        await desk.ask(s1, row["id"], "فاکتور دارید؟")
        await citizen.expect_message("فاکتور دارید؟")
        await desk.resolve(s1, row["id"], "resolved", "بدون پاسخ بررسی شد")
        await citizen.expect_message("به شکایت")
        await citizen.send_text("بله دارم")  # no longer an answer: just text, so the menu
        await citizen.expect_message("از منوی زیر استفاده کنید")
        assert [e[0] for e in await _events(bot, row["id"])][-1] == "resolve"


async def test_a_long_timeline_is_split_between_messages(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        await file_complaint(p["citizen"])
        [row] = await case_rows(bot, CITIZEN)
        desk = bot.services.desk
        s1 = await desk.actor(STAFF1)
        for i in range(30):
            await desk.note(s1, row["id"], f"یادداشت {to_persian_digits(i)} " + "جزئیات " * 60)
        staff = p["staff"]
        await staff.send_text(from_user=p["s1"], text=f"/case {row['code']}")
        first = await staff.expect_message("روند پروندهٔ")
        rest = [await staff.expect_message("یادداشت") for _ in range(2)]
        for part in (first, *rest):
            assert len(part.text.encode("utf-16-le")) // 2 <= 4096


@pytest.mark.parametrize(("days", "offered"), [(3, True), (0, False)])
def test_the_resolved_notice_offers_reopening_only_within_a_window(
    days: int, offered: bool
) -> None:
    case = cast(CaseRow, {"id": 7, "code": "1234567890"})
    payload = notices.resolved(case, "resolved", "فروشنده تذکر گرفت.", days)
    # The outcome has its own words, not the status «رسیدگی شد» a second time.
    assert "<b>نتیجه:</b> مشکل برطرف شد" in payload["text"]
    labels = [b["text"] for row in payload["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[:5] == ["⭐" * n for n in range(1, 6)]
    assert ("بازگشایی شکایت" in labels) is offered
    assert ("تا سه روز پس از اعلام این نتیجه" in payload["text"]) is offered
