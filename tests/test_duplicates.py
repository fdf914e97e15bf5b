"""End to end: a second complaint about the same shop is offered the open case; joining it makes
a supporting report that shows on that case's card, with its evidence; the same place under
another name counts, a closed case or another city does not; an operator's call is offered the
case too, with its code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot import text
from bot.domain import tracking
from bot.i18n import _
from bot.localapi import FakeUser
from bot.storage.tables import case_events, cases
from bot.views import labels as L
from tests.flows import (
    DESCRIPTION,
    case_rows,
    confirm,
    file_complaint,
    finish_after_evidence,
    start_filing,
)
from tests.harness import STAFF_CHAT_ID, Bot, running_bot

ADMIN, STAFF1, FIRST, SECOND, THIRD, OPERATOR = 9001, 9101, 1001, 1002, 1003, 9102
SHOP = "فروشگاه زنجیره‌ای نمونه"
OFFER = "شکایت باز دیگر در دست رسیدگی است"


async def _until_business(u: FakeUser, business: str, city: str = "تهران") -> None:
    await start_filing(u)
    await u.press(_("Overpricing"))
    await u.expect_message("کدام صنف")
    await u.press(_("Food and groceries"))
    await u.expect_message("در کدام استان")
    await u.press(_("Tehran"))
    await u.expect_message("در کدام شهر")
    await u.send_text(city)
    await u.expect_message("نام واحد صنفی چیست")
    await u.send_text(business)
    await u.expect_message("نشانی واحد صنفی چیست")
    await u.send_text("خیابان انقلاب، پلاک ۱۲")
    await u.expect_message("موقعیت آن را")


async def _rest(u: FakeUser, *, photos: int = 0) -> str:
    await u.send_text(DESCRIPTION)
    await u.expect_message("چه مبلغی پرداخت کردید")
    await u.send_text(_(L.SKIP))
    await u.expect_message("عکس، ویدیو یا فایل بفرستید")
    if photos:
        await u.send_album(kinds=["photo"] * photos)
        await u.expect_message("فایل‌های دریافت‌شده")
    await finish_after_evidence(u, phone="+989121234567")
    return await confirm(u)


async def _events(bot: Bot, case_id: int) -> list[tuple[Any, ...]]:
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(
            select(case_events.c.action, case_events.c.from_status, case_events.c.to_status)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.id)
        )
        return [tuple(r) for r in rows]


async def test_a_second_complaint_about_the_shop_joins_the_open_case(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        admin = bot.server.user(ADMIN, first_name="مدیر")
        officer = bot.server.user(STAFF1, first_name="کارشناس")
        await staff.send_text(from_user=admin, text=f"/staff add {STAFF1} staff")
        await staff.expect_message("کارکنان")
        first, second = (bot.server.user(i, first_name="شهروند") for i in (FIRST, SECOND))
        await file_complaint(first, photos=1)
        [a] = await case_rows(bot, FIRST)
        card = await staff.expect_message(text.to_persian_digits(a["code"][:5]))

        # The same shop, spelled with an extra space, in the same city.
        await _until_business(second, "فروشگاه  زنجیره‌ای  نمونه")
        await second.send_location(35.7, 51.4)
        offer = await second.expect_message(OFFER)
        assert (
            "۱ شکایت باز دیگر" in offer.text and a["code"] not in offer.text
        )  # how many, not which
        await second.press(_(L.JOIN))
        await second.expect_message("چه اتفاقی افتاد")
        review = await _rest_until_review(second, photos=2)
        assert "گزارش تکمیلی برای پروندهٔ باز همین واحد صنفی" in review
        await second.press(_(L.CONFIRM))
        receipt = await second.expect_message("به پروندهٔ باز همین واحد صنفی افزوده شد")

        [b] = await case_rows(bot, SECOND)
        assert text.to_persian_digits(b["code"][:5]) in receipt.text
        assert (b["status"], b["merged_into"], b["channel"]) == ("merged", a["id"], "chat")
        assert await _events(bot, b["id"]) == [
            ("submit", None, "new"),
            ("merge", "new", "merged"),
        ]
        # The open case's card shows the supporting report and counts its evidence; the
        # supporting report gets no card of its own.
        card = await staff.expect_edit(card, "گزارش‌های تکمیلی")
        assert "گزارش‌های تکمیلی: ۱" in card.text
        assert text.to_persian_digits(b["code"][:5]) in card.text and "۲ فایل" in card.text
        button = "📎 مدارک (۳)"
        assert button in card.buttons()
        assert not [
            m
            for m in bot.server.messages(STAFF_CHAT_ID)
            if text.to_persian_digits(b["code"][:5]) in (m.text or "")
            and m.message_id != card.message_id
        ]
        qid = await staff.press(from_user=officer, text=button, message=card)
        assert "مدارک به گفت‌وگوی خصوصی" in (await staff.expect_answer(qid))["text"]
        sent = officer.inbox
        assert [m.kind for m in sent][:1] == ["photo"]  # the case's own, then the report's
        header = next(m for m in sent if "مدارک گزارش تکمیلی" in (m.text or ""))
        assert tracking.format_code(b["code"]) in (header.text or "")
        assert [m.media_type for m in sent if m.kind == "media_group_item"] == ["photo"] * 2

        # The second citizen follows the open case with their own code.
        await second.send_text(_(L.TRACK))
        await second.expect_message("کد رهگیری")
        await second.send_text(b["code"])
        shown = await second.expect_message("همراه با شکایت دیگری")
        assert "شکایت ثبت شد" in shown.text


async def _rest_until_review(u: FakeUser, *, photos: int = 0) -> str:
    await u.send_text(DESCRIPTION)
    await u.expect_message("چه مبلغی پرداخت کردید")
    await u.send_text(_(L.SKIP))
    await u.expect_message("عکس، ویدیو یا فایل بفرستید")
    if photos:
        await u.send_album(kinds=["photo"] * photos)
        await u.expect_message("فایل‌های دریافت‌شده")
    await u.send_text("پایان ارسال مدارک")
    await u.expect_message("کارشناسان چگونه با شما تماس بگیرند")
    await u.send_contact(own=True)
    review = await u.expect_message("لطفاً شکایت خود را بازبینی کنید")
    return review.text or ""


async def test_the_same_place_counts_another_city_or_a_closed_case_does_not(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        first, second, third = (
            bot.server.user(i, first_name="شهروند") for i in (FIRST, SECOND, THIRD)
        )
        await file_complaint(first)  # at 35.7, 51.4
        # Another name, 50 m away: the same place.
        await _until_business(second, "سوپرمارکت نمونه")
        await second.send_location(35.7004, 51.4001)
        await second.expect_message(OFFER)
        await second.press(_(L.SEPARATE))
        await second.expect_message("چه اتفاقی افتاد")
        await _rest(second)
        [b] = await case_rows(bot, SECOND)
        assert b["status"] == "new" and b["merged_into"] is None
        # The same name in another city, far away: not the same shop.
        await _until_business(third, SHOP, city="شیراز")
        await third.send_location(29.6, 52.5)
        await third.expect_message("چه اتفاقی افتاد")
        assert OFFER not in "".join(m.text or "" for m in third.inbox)
        await third.send_text(_(L.CANCEL))
        await third.expect_message("لغو شد")
        # Once the cases are decided, nothing is open to join.
        desk = bot.services.desk
        admin = await desk.actor(ADMIN)
        async with bot.services.rt.engine.connect() as conn:
            ids = (await conn.execute(select(cases.c.id))).scalars().all()
        for case_id in ids:
            assert type(await desk.reject(admin, case_id, "تکراری")).__name__ == "Done"
        await _until_business(third, SHOP)
        await third.send_location(35.7, 51.4)
        await third.expect_message("چه اتفاقی افتاد")
        assert OFFER not in "".join(m.text or "" for m in third.skipped)


async def test_an_operators_call_is_offered_the_open_case_with_its_code(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        operator = bot.server.user(OPERATOR, first_name="اپراتور")
        first = bot.server.user(FIRST, first_name="شهروند")
        await staff.send_text(from_user=bot.server.user(ADMIN), text=f"/staff add {OPERATOR} staff")
        await staff.expect_message("کارکنان")
        await file_complaint(first)
        [a] = await case_rows(bot, FIRST)
        card = await staff.expect_message(text.to_persian_digits(a["code"][:5]))
        await operator.send_text("/call")
        for said in ("۱", "۱", "تهران، تهران", SHOP, "خیابان انقلاب، پلاک ۱۲"):
            await operator.send_text(said)
        offer = await operator.expect_message("هم‌اکنون ۱ پروندهٔ باز دارد")
        assert tracking.format_code(a["code"]) in offer.text  # staff may see which
        await operator.send_text(_(L.JOIN))  # typed, as every choice may be
        await operator.expect_message("از زبان تماس‌گیرنده")
        for said in (DESCRIPTION, _(L.SKIP), "۰۹۱۲۳۴۵۶۷۸۹"):
            await operator.send_text(said)
        review = await operator.expect_message("اطلاعات این تماس را بازبینی کنید")
        assert "گزارش تکمیلی" in review.text and _(L.URGENT) not in review.buttons()
        await operator.send_text("فوری تنظیم بازار")  # a supporting report is not referred
        await operator.expect_message("⚠️")
        await operator.send_text(_(L.CALL_CONFIRM))
        receipt = await operator.expect_message("تماس ثبت شد")
        assert tracking.format_code(a["code"]) in receipt.text
        async with bot.services.rt.engine.connect() as conn:
            call = (
                (await conn.execute(select(cases).where(cases.c.channel == "phone")))
                .mappings()
                .one()
            )
        assert call["merged_into"] == a["id"] and call["status"] == "merged"
        assert not call["urgent"] and call["unit_id"] is None
        card = await staff.expect_edit(card, "گزارش‌های تکمیلی")
        assert text.to_persian_digits(call["code"][:5]) in card.text
