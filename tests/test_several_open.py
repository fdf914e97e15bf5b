"""End to end: a citizen with several things open at once — an officer's question, a rating
comment, a lookup, a complaint being filed. No message may be swallowed by the wrong one: with
one place to go it goes there; with several, it is held and the citizen is asked which."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot import text
from bot.services.desk import Done
from bot.storage.tables import case_events, held_inputs, ratings, units
from tests.flows import DESCRIPTION, case_rows, file_complaint, start_filing
from tests.harness import Bot, running_bot
from tests.test_staff_desk import ADMIN, CITIZEN, STAFF1, SUPERVISOR, _case, _setup

PHONE = "+989121234567"
ASKED = "کارشناس رسیدگی‌کننده به شکایت"
ANSWER_BUTTON = "پاسخ به این پرسش"
WHICH = "این پیام مربوط به کدام است"
SENT = "پاسخ شما برای کارشناس"
ANSWER_POSTED = "شهروند دربارهٔ شکایت"


async def _answers(bot: Bot, case_id: int) -> list[str | None]:
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(
            select(case_events.c.note)
            .where(case_events.c.case_id == case_id, case_events.c.action == "citizen_answer")
            .order_by(case_events.c.id)
        )
        return list(rows.scalars())


async def _held(bot: Bot) -> int:
    async with bot.services.rt.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(held_inputs))).scalar_one())


async def _asked_case(bot: Bot, p: dict[str, Any], question: str) -> dict[str, Any]:
    """A filed case, claimed by staff member 1, with `question` asked of the citizen."""
    await file_complaint(p["citizen"], phone=PHONE)
    row = (await case_rows(bot, CITIZEN))[-1]
    desk = bot.services.desk
    s1 = await desk.actor(STAFF1)
    assert isinstance(await desk.claim(s1, row["id"]), Done)
    assert isinstance(await desk.ask(s1, row["id"], question), Done)
    notice = await p["citizen"].expect_message(question)
    assert ANSWER_BUTTON in notice.buttons()
    return row


async def _asked_case_while_filing(bot: Bot, p: dict[str, Any], question: str) -> dict[str, Any]:
    """A case filed earlier (inserted by the desk's own services), now asked `question`."""
    desk = bot.services.desk
    [row] = await case_rows(bot, CITIZEN)
    s1 = await desk.actor(STAFF1)
    assert isinstance(await desk.claim(s1, row["id"]), Done)
    assert isinstance(await desk.ask(s1, row["id"], question), Done)
    await p["citizen"].expect_message(question)
    return row


async def test_the_answer_survives_the_menu_start_and_my_complaints(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen, staff = p["citizen"], p["staff"]
        row = await _asked_case(bot, p, "ساعت خرید چند بود؟")

        await citizen.send_text("شکایت‌های من")
        await citizen.expect_message("شکایت‌های شما")
        await citizen.send_text("/start")
        await citizen.expect_message("سلام")
        reminder = await citizen.expect_message("منتظر پاسخ شما")
        assert any(ANSWER_BUTTON in b for b in reminder.buttons())

        # One question open and nothing else: typed text is its answer.
        await citizen.send_text("حدود ساعت ۶ عصر")
        await citizen.expect_message(SENT)
        await staff.expect_message(ANSWER_POSTED)
        assert await _answers(bot, row["id"]) == [text.normalize("حدود ساعت ۶ عصر")]
        assert (await _case(bot, row["id"]))["status"] == "claimed"


async def test_a_lookup_and_an_open_question_ask_which_and_lose_nothing(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen = p["citizen"]
        row = await _asked_case(bot, p, "فاکتور دارید؟")

        await citizen.send_text("پیگیری شکایت")
        await citizen.expect_message("کد رهگیری ده‌رقمی")
        await citizen.send_text("بله فاکتور دارم")  # not a code: could be the answer
        which = await citizen.expect_message(WHICH)
        assert "«بله فاکتور دارم»" in which.text
        assert await _held(bot) == 1 and await _answers(bot, row["id"]) == []
        labels = which.buttons()
        assert any("پاسخ به پرسش" in b for b in labels) and "پیگیری با کد رهگیری" in labels

        choice = which.button_data(next(b for b in labels if "پاسخ به پرسش" in b))
        await citizen.press(data=choice, message=which)
        await citizen.expect_message(SENT)
        assert await _answers(bot, row["id"]) == ["بله فاکتور دارم"]
        assert await _held(bot) == 0
        assert (await citizen.expect_edit(which)).buttons() == []  # the choice is closed

        # A code typed after «پیگیری شکایت» is a lookup, whatever else is open.
        await citizen.send_text("پیگیری شکایت")
        await citizen.expect_message("کد رهگیری ده‌رقمی")
        await citizen.send_text(text.to_persian_digits(row["code"]))
        await citizen.expect_message("وضعیت:")

        # Pressing the same choice again (a second tap that raced the edit) does nothing twice.
        qid = await citizen.press(data=choice, message=which)
        answer = await citizen.expect_answer(qid)
        assert answer.get("show_alert")
        assert await _answers(bot, row["id"]) == ["بله فاکتور دارم"]


async def test_rating_another_case_does_not_swallow_the_answer(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen = p["citizen"]
        desk = bot.services.desk
        s1 = await desk.actor(STAFF1)
        # Case B is resolved and rated; case A then gets a question.
        await file_complaint(citizen, phone=PHONE)
        b = (await case_rows(bot, CITIZEN))[-1]
        await desk.claim(s1, b["id"])
        await desk.resolve(s1, b["id"], "resolved", "تذکر داده شد")
        resolved = await citizen.expect_message("نتیجه")
        a = await _asked_case(bot, p, "کالا را هنوز دارید؟")
        await citizen.press("⭐⭐⭐⭐", message=resolved)
        await citizen.expect_message("از امتیاز شما سپاسگزاریم")

        await citizen.send_text("بله کالا را نگه داشته‌ام")
        which = await citizen.expect_message(WHICH)
        options = which.buttons()
        assert any("نظر من دربارهٔ رسیدگی به شکایت" in o for o in options)
        await citizen.press(next(o for o in options if "پاسخ به پرسش" in o), message=which)
        await citizen.expect_message(SENT)
        assert await _answers(bot, a["id"]) == ["بله کالا را نگه داشته‌ام"]
        async with bot.services.rt.engine.connect() as conn:
            comment = (
                await conn.execute(select(ratings.c.comment).where(ratings.c.case_id == b["id"]))
            ).scalar_one()
        assert comment is None  # not stored as B's rating comment


async def test_the_answer_button_routes_text_and_a_photo_while_filing(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen, staff = p["citizen"], p["staff"]
        await file_complaint(citizen, phone=PHONE)
        await start_filing(citizen)
        await citizen.press("گران‌فروشی")
        sectors = await citizen.expect_message("کدام صنف")
        row = await _asked_case_while_filing(bot, p, "عکس قفسه را دارید؟")
        await citizen.press("مواد غذایی و خواربار", message=sectors)
        await citizen.expect_message("در کدام استان")
        await citizen.press("تهران")
        await citizen.expect_message("در کدام شهر")
        # The first text after the question could be either: asked once. Once the citizen
        # chose the draft, the rest of the filing goes on without asking again.
        await citizen.send_text("تهران")
        which = await citizen.expect_message(WHICH)
        await citizen.press("شکایتی که در حال ثبت آن هستم", message=which)
        await citizen.expect_message("نام واحد صنفی چیست")
        await citizen.send_text("فروشگاه نمونه")
        await citizen.expect_message("نشانی واحد صنفی چیست")
        await citizen.send_text("خیابان انقلاب، پلاک ۱۲")
        await citizen.expect_message("موقعیت آن را")
        await citizen.send_text("بعدی")
        await citizen.expect_message("چه اتفاقی افتاد")
        await citizen.send_text(DESCRIPTION)
        await citizen.expect_message("چه مبلغی پرداخت کردید")
        await citizen.send_text("بعدی")
        await citizen.expect_message("عکس، ویدیو یا فایل بفرستید")
        assert await _answers(bot, row["id"]) == []

        # A photo at the evidence step goes to the draft too (chosen above).
        await citizen.send_photo(file_unique="ph-draft")
        await citizen.expect_message("فایل‌های دریافت‌شده")

        # «پاسخ به این پرسش» says which: the next message goes there without asking.
        notice = next(m for m in citizen.inbox if ANSWER_BUTTON in m.buttons())
        await citizen.press(ANSWER_BUTTON, message=notice)
        await citizen.expect_message("پاسخ خود را دربارهٔ شکایت")
        await citizen.send_photo(file_unique="ph-ans", caption="این عکس قفسه است")
        await citizen.expect_message(SENT)
        await staff.expect_message(ANSWER_POSTED)
        await staff.expect_message(predicate=lambda m: m.kind == "photo")
        assert await _answers(bot, row["id"]) == ["این عکس قفسه است"]
        # The draft kept its one file and goes on.
        await citizen.send_text("پایان ارسال مدارک")
        await citizen.expect_message("کارشناسان چگونه با شما تماس بگیرند")


async def test_a_question_on_a_referred_case_returns_it_to_the_unit(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen, unit = p["citizen"], p["unit"]
        await file_complaint(citizen, phone=PHONE)
        row = (await case_rows(bot, CITIZEN))[-1]
        desk = bot.services.desk
        s1, sup = await desk.actor(STAFF1), await desk.actor(SUPERVISOR)
        async with bot.services.rt.engine.connect() as conn:
            unit_id = (
                await conn.execute(select(units.c.id).where(units.c.code == "market_regulation"))
            ).scalar_one()
        assert isinstance(await desk.claim(s1, row["id"]), Done)
        assert isinstance(await desk.refer(s1, row["id"], unit_id), Done)
        assert isinstance(await desk.ask(sup, row["id"], "نشانی دقیق را بفرستید"), Done)
        await citizen.expect_message("نشانی دقیق را بفرستید")
        await citizen.send_text("خیابان آزادی، پلاک ۳")
        await citizen.expect_message(SENT)

        case = await _case(bot, row["id"])
        assert (case["status"], case["unit_id"], case["holder_id"]) == ("referred", unit_id, None)
        # The unit can still take it up.
        assert isinstance(await desk.accept_referral(s1, row["id"]), Done)
        await unit.expect_message(text.to_persian_digits(row["code"][:5]))
