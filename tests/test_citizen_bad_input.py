"""End to end: whatever a citizen sends at whatever step gets a short Persian hint of what is
expected — never silence, never a traceback, never a call Telegram refuses."""

from __future__ import annotations

import pytest

from bot import text
from bot.domain.complaint import DraftData
from bot.views import citizen as citizen_views
from tests.flows import (
    answer_until_evidence,
    case_rows,
    confirm,
    file_complaint,
    finish_after_evidence,
    start_filing,
)
from tests.harness import running_bot
from tests.test_staff_desk import ADMIN, CITIZEN, _alert, _setup


async def test_wrong_kinds_of_input_at_each_step_get_a_hint(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        u = bot.server.user(3001, first_name="آرش")

        # No draft: anything unexpected points to the menu.
        await u.send_sticker()
        await u.expect_message("از منوی زیر استفاده کنید")
        await u.send_text("/nonsense")
        await u.expect_message("از منوی زیر استفاده کنید")
        await u.send_text("سلام")
        await u.expect_message("از منوی زیر استفاده کنید")

        await start_filing(u)
        # Text where a button is expected: a hint, and the buttons again.
        await u.send_text("گرانی")
        await u.expect_message("یکی از دکمه‌های بالا")
        again = await u.expect_message("چه نوع تخلفی دیدید")
        assert "گران‌فروشی" in again.buttons()
        await u.send_voice()
        await u.expect_message("یکی از دکمه‌های بالا")
        await u.expect_message("چه نوع تخلفی دیدید")
        await u.press("تقلب")
        await u.expect_message("کدام صنف")
        await u.press("دارو و سلامت")
        await u.expect_message("در کدام استان")
        await u.press("بعدی ←")  # paging edits the same message
        page2 = await u.expect_edit(u.inbox[-1])
        assert "صفحهٔ ۲ از ۳" in page2.text
        # Buttons in a row are laid out left to right: in Persian the next page is on the left.
        nav = [[b["text"] for b in row] for row in page2.inline_keyboard if len(row) == 2][-1]
        assert nav == ["بعدی ←", "→ قبلی"]
        await u.press("بعدی ←")
        page3 = await u.expect_edit(page2)
        assert "یزد" in page3.buttons() and "→ قبلی" in page3.buttons()
        assert "بعدی ←" not in page3.buttons()
        await u.press("یزد")
        await u.expect_message("در کدام شهر")

        # A photo, a sticker, a location where text is expected.
        await u.send_photo()
        await u.expect_message("به‌صورت متن بنویسید")
        await u.send_sticker()
        await u.expect_message("به‌صورت متن بنویسید")
        await u.send_location(31.9, 54.3)
        await u.expect_message("به‌صورت متن بنویسید")
        await u.send_text("ی")  # too short (min 2)
        await u.expect_message("دست‌کم ۲ حرف")
        await u.send_text("یزد")
        await u.expect_message("نام واحد صنفی چیست")
        # HTML-looking text is kept as text and shown escaped.
        await u.send_text("<b>داروخانه</b> & شرکا")
        await u.expect_message("نشانی واحد صنفی چیست")
        await u.send_text("کوچه " + "الف" * 200)  # over 300 characters
        await u.expect_message("حداکثر ۳۰۰ حرف")
        await u.send_text("بلوار جمهوری")
        await u.expect_message("موقعیت آن را")
        await u.send_text("همین نزدیکی")
        await u.expect_message("با دکمهٔ پایین موقعیت مکانی بفرستید")
        await u.send_location(31.9, 54.3)
        await u.expect_message("چه اتفاقی افتاد")
        await u.send_text("گران")
        await u.expect_message("دست‌کم ۲۰ حرف")
        await u.send_text("x" * 2001)
        await u.expect_message("حداکثر ۲٬۰۰۰ حرف")
        await u.send_text("داروی سرماخوردگی را دو برابر قیمت درج‌شده روی جعبه فروختند.")
        await u.expect_message("چه مبلغی پرداخت کردید")
        await u.send_text("خیلی گران")
        await u.expect_message("این مبلغ خوانده نشد")
        await u.send_text("۰")
        await u.expect_message("این مبلغ خوانده نشد")
        await u.send_text("۴۵۰٬۰۰۰ ریال")
        await u.expect_message("قیمت مصوب یا متعارف")
        await u.send_text("بعدی")
        await u.expect_message("عکس، ویدیو یا فایل بفرستید")

        # Evidence: stickers and voice notes are not evidence; text neither.
        await u.send_sticker()
        await u.expect_message("استیکر و پیام صوتی پذیرفته نمی‌شود")
        await u.send_text("عکس ندارم")
        await u.expect_message("استیکر و پیام صوتی پذیرفته نمی‌شود")
        for i in range(5):
            await u.send_document(file_name=f"r{i}.pdf", file_unique=f"doc{i}")
            await u.expect_message(f"{text.to_persian_digits(i + 1)} از ۵")
        await u.send_photo(file_unique="one-too-many")
        await u.expect_message("بیشترین تعداد مجاز است")

        await u.send_text("پایان ارسال مدارک")
        await u.expect_message("کارشناسان چگونه با شما تماس بگیرند")
        await u.send_contact(phone="+989351112233", own=False)
        await u.expect_message("شمارهٔ خودتان را")
        await u.send_text("09121234567")
        await u.expect_message("ارسال شمارهٔ تماس")
        await u.send_contact(phone="989121234567", own=True)  # Telegram often omits the +
        review = await u.expect_message("لطفاً شکایت خود را بازبینی کنید")
        assert "<b>داروخانه</b> & شرکا" in review.text  # shown as typed, not as markup
        assert "۵ فایل" in review.text and "\u2066۰۹۱۲ ۱۲۳ ۴۵۶۷\u2069" in review.text

        # Text at the review: buttons again.
        await u.send_text("بفرست")
        await u.expect_message("یکی از دکمه‌های بالا")
        await u.expect_message("لطفاً شکایت خود را بازبینی کنید")
        await confirm(u)
        [case] = await case_rows(bot, 3001)
        assert case["business"] == "<b>داروخانه</b> & شرکا"
        assert case["contact_phone"] == "+989121234567" and case["price_paid"] == 450_000


async def test_edited_messages_and_forged_buttons_change_nothing(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        u = bot.server.user(3002, first_name="بهار")
        await start_filing(u)
        await answer_until_evidence(u)
        sent = await u.send_text("یک پیام")
        await u.expect_message("عکس، ویدیو یا فایل بفرستید")  # the hint for text at evidence
        await u.edit_text(sent, "ویرایش شده")
        await u.expect_message("ویرایش پیامی که قبلاً فرستاده شده خوانده نمی‌شود")

        for forged in (
            "f:violation:overpricing",
            "f:province:99",
            "f:eg:nothing",
            "f:ok",
            "c:o:1234567890",
            "zzz",
            "f:pp:9999999999999",
            "c:l:-1",
        ):
            qid = await u.press(data=forged, message=u.inbox[-1])
            answer = await u.expect_answer(qid)
            assert (answer.get("show_alert") and "فعال نیست" in answer["text"]) or (
                "باز نشد" in answer.get("text", "")
            ), forged
        await finish_after_evidence(u)
        await confirm(u)
        assert len(await case_rows(bot, 3002)) == 1


FORGED_IDS = ("²", "٣", "99999999999999999999", "2147483648", "-5", "+5", " 5", "0x10", "")


async def test_forged_ids_get_the_ordinary_answer_never_a_traceback(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Ids that pass str.isdigit() but not int() («²»), or that overflow the column, in callback
    data and in command arguments: every press is answered, every command gets a reply, and
    nothing reaches the error handler."""
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen, staff, admin = p["citizen"], p["staff"], p["admin"]
        await file_complaint(citizen)
        [row] = await case_rows(bot, CITIZEN)
        caplog.clear()
        for raw in FORGED_IDS:
            for data in (f"c:rate:{raw}:5", f"c:reo:{raw}", f"c:l:{raw}", f"c:ans:{raw}"):
                qid = await citizen.press(data=data, message=citizen.inbox[-1])
                assert (await citizen.expect_answer(qid)).get("show_alert"), data
            for data in (f"s:claim:{raw}", f"s:ru:{row['id']}:{raw}", f"s:phone:{raw}"):
                qid = await staff.press(from_user=p["s1"], data=data, message=staff.inbox[-1])
                assert "چنین پرونده‌ای نیست" in await _alert(staff, qid), data
        for data in ("r:prov:d:99991231", "r:over:m:00010101", "r:unit:w:2026112٧"):
            qid = await admin.press(data=data, message=staff.inbox[-1])
            assert (await admin.expect_answer(qid)).get("show_alert"), data
        commands = (
            "/staff add 99999999999999999999 staff",
            "/staff add ²³ staff",
            f"/units market_regulation {'9' * 30}",
            "/units market_regulation -²",
            f"/reassign {row['code']} --5",
            f"/reassign {row['code']} {'9' * 25}",
        )
        for command in commands:
            await staff.send_text(from_user=admin, text=command)
            await staff.expect_message("این ورودی اینجا معتبر نیست")
        for command in ("/ban 99999999999999999999 spam", "/unban ²"):
            await admin.send_text(command)
            await admin.expect_message("/ban")
        errors = [r for r in caplog.records if r.levelname == "ERROR"]
        assert errors == [], [r.getMessage() for r in errors]


async def test_emoji_count_as_telegram_counts_and_the_review_is_always_sent(db_url: str) -> None:
    """Limits count UTF-16 units, as Telegram does: 2,000 emoji are too long for a description
    (once accepted, the review could then never be sent); 1,000 are fine, and the review with
    them goes out."""
    async with running_bot(db_url) as bot:
        u = bot.server.user(3003, first_name="نیلوفر")
        await start_filing(u)
        await answer_until_evidence(u, description=False)
        await u.send_text("😡" * 2000)
        await u.expect_message("حداکثر")
        await u.send_text("😡" * 1000)
        await u.expect_message("چه مبلغی پرداخت کردید")
        await u.send_text("بعدی")
        await u.expect_message("عکس، ویدیو یا فایل بفرستید")
        await finish_after_evidence(u)  # the review arrives: nothing refused by Telegram


def test_a_review_that_would_overflow_shortens_the_quote_not_the_screen() -> None:
    data = DraftData(
        violation="overpricing",
        sector="food",
        province="23",
        city="ش" * 60,
        business="ب" * 120,
        address="ن" * 300,
        description="😡" * 2000 + "پایان",
        anonymous=True,
    )
    screen = citizen_views.review_screen(data, 5)
    assert citizen_views.visible_length(screen.text) <= 4096
    assert "کوتاه شده" in screen.text and "پایان" not in screen.text
    assert screen.markup is not None  # the confirm button is still there


async def test_only_safe_evidence_types_are_kept_and_the_card_lists_each_file(
    db_url: str,
) -> None:
    """An .exe, an .apk, an .html page or a script dressed as a picture is refused with a
    hint; pictures, PDF, video and audio are kept, and the staff card names each file with
    its type and size."""
    async with running_bot(db_url) as bot:
        staff = bot.server.group(-1001000000001)
        u = bot.server.user(3004, first_name="سارا")
        await start_filing(u)
        await answer_until_evidence(u)
        refused = (
            ("setup.exe", "application/x-msdownload"),
            ("app.apk", "application/vnd.android.package-archive"),
            ("page.html", "text/html"),
            ("invoice.pdf.exe", "application/pdf"),
            ("photo.svg", "image/svg+xml"),
            ("noextension", "application/octet-stream"),
        )
        for name, mime in refused:
            await u.send_document(file_name=name, mime_type=mime)
            await u.expect_message("این نوع فایل به‌عنوان مدرک پذیرفته نمی‌شود")
        await u.send_document(file_name="فاکتور.pdf", mime_type="application/pdf", size=250_000)
        await u.expect_message("فایل‌های دریافت‌شده: ۱")
        await u.send_document(file_name="voice.m4a", mime_type="audio/mp4", size=3_400_000)
        await u.expect_message("فایل‌های دریافت‌شده: ۲")
        await finish_after_evidence(u)
        await confirm(u)
        card = await staff.expect_message("مدارک: ۲")
        assert "فاکتور.pdf" in card.text and "سند PDF" in card.text  # its type in words
        assert "فایل صوتی" in card.text and "/" not in card.text.split("مدارک:")[1]
        assert "۲۴۴ کیلوبایت" in card.text and "۳٫۲ مگابایت" in card.text
        assert "setup.exe" not in card.text
