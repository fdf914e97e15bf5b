"""End to end: a citizen files complaints through the real Application and the fake Bot API."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import text
from bot.domain import tracking
from bot.domain.catalogue import VIOLATION_TYPES
from bot.i18n import _
from bot.storage.tables import attachments, case_events, drafts, outbox
from tests.flows import (
    DESCRIPTION,
    answer_until_evidence,
    case_rows,
    confirm,
    file_complaint,
    finish_after_evidence,
    start_filing,
)
from tests.harness import STAFF_CHAT_ID, running_bot


async def test_start_shows_welcome_and_main_menu(db_url: str) -> None:
    async with running_bot(db_url, expected_first_answer_work_days=3) as bot:
        u = bot.server.user(1001, first_name="علی")
        await u.send_text("/start")
        welcome = await u.expect_message("سلام علی")
        assert welcome.text.startswith(
            "سلام علی، به ربات رسیدگی به شکایات مردمی سازمان تعزیرات حکومتی (سامانهٔ ۱۳۵) خوش آمدید."
        )
        assert "۱۱۰" in welcome.text  # what this line is not
        # What to report, named as the buttons and the cards name it.
        for choice in VIOLATION_TYPES:
            if choice.code != "other":
                assert _(choice.label) in welcome.text
        # What happens next, how soon (from the setting), and who sees what.
        assert "ظرف سه روز کاری" in welcome.text and "محرمانه" in welcome.text
        assert welcome.reply_keyboard == [
            ["ثبت شکایت", "پیگیری شکایت"],
            ["شکایت‌های من", "راهنما"],
        ]


async def test_amounts_in_words_and_the_old_skip_label(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        u = bot.server.user(1006, first_name="رضا")
        await start_filing(u)
        await answer_until_evidence(u, description=False)
        await u.send_text(DESCRIPTION)
        prompt = await u.expect_message("چه مبلغی پرداخت کردید")
        assert prompt.reply_keyboard == [["بعدی", "انصراف"]]
        # A word the parser does not know: say to write digits, and keep the step.
        await u.send_text("حدود یک میلیون")
        refused = await u.expect_message("این مبلغ خوانده نشد")
        assert "با رقم بنویسید" in refused.text
        await u.send_text("یک و نیم میلیون تومان")
        await u.expect_message("قیمت مصوب یا متعارف")
        # The label Skip had before: an old keyboard or a habit still skips, never an answer.
        await u.send_text("رد شدن")
        await u.expect_message("عکس، ویدیو یا فایل بفرستید")
        await finish_after_evidence(u, phone=None)
        review = u.inbox[-1]
        assert "۱٬۵۰۰٬۰۰۰ تومان" in review.text
        assert "قیمت مصوب یا متعارف: واردنشده" in review.text
        done = await confirm(u)
        assert "از شما سپاسگزاریم" in done and "ظرف دو روز کاری" in done
        [case] = await case_rows(bot, 1006)
        assert (case["price_paid"], case["price_fair"]) == (15_000_000, None)


async def test_whole_filing_with_album_and_location(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        u = bot.server.user(1001, first_name="مریم")
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        await start_filing(u)
        await answer_until_evidence(u, location=True)
        await u.send_album(kinds=["photo", "photo", "video"])
        progress = await u.expect_message("فایل‌های دریافت‌شده")
        assert "۳ از ۵" in progress.text  # one acknowledgement for the whole album
        await finish_after_evidence(u, phone="+989121234567")
        review = u.inbox[-1]
        for expected in ("گران‌فروشی", "فروشگاه زنجیره‌ای نمونه", "۱۸۰٬۰۰۰ تومان", "۳ فایل"):
            assert expected in review.text
        done_text = await confirm(u)

        [case] = await case_rows(bot, 1001)
        assert tracking.is_valid(case["code"])
        assert text.to_persian_digits(case["code"][:5]) in done_text
        assert case["status"] == "new"
        assert (case["violation"], case["sector"], case["province"]) == (
            "overpricing",
            "food",
            "23",
        )
        assert case["city"] == "تهران" and case["description"] == text.normalize(DESCRIPTION)
        assert case["price_paid"] == 1_800_000 and case["price_fair"] == 1_200_000  # rials
        assert (case["latitude"], case["longitude"]) == (35.7, 51.4)
        assert case["contact_phone"] == "+989121234567"

        async with bot.services.rt.engine.connect() as conn:
            kinds = (
                await conn.execute(
                    select(attachments.c.kind).where(attachments.c.case_id == case["id"])
                )
            ).scalars()
            assert sorted(kinds) == ["photo", "photo", "video"]
            assert (await conn.execute(select(func.count()).select_from(drafts))).scalar() == 0
            events = (
                await conn.execute(
                    select(case_events.c.action, case_events.c.to_status).where(
                        case_events.c.case_id == case["id"]
                    )
                )
            ).all()
            assert [tuple(e) for e in events] == [("submit", "new")]

        card = await staff.expect_message(text.to_persian_digits(case["code"][:5]))
        assert "فروشگاه زنجیره‌ای نمونه" in card.text and "گران‌فروشی" in card.text
        assert "۳ فایل" in card.text and "openstreetmap.org" in str(card.entities)
        # Staff never see who the citizen is or their number on the group card.
        assert "مریم" not in card.text and "912" not in card.text and "۹۱۲" not in card.text
        await bot.server.wait_until(lambda: _all_sent(bot))


def _all_sent(bot) -> bool:  # type: ignore[no-untyped-def]
    return all(m.chat_id != STAFF_CHAT_ID or m.text for m in bot.server.messages(STAFF_CHAT_ID))


async def test_outbox_row_is_marked_sent_with_the_card_message_id(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        u = bot.server.user(1002, first_name="رضا")
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        await file_complaint(u)
        card = await staff.expect_message("شکایت")

        async def sent() -> list[tuple[str, int | None]]:
            async with bot.services.rt.engine.connect() as conn:
                rows = await conn.execute(
                    select(outbox.c.status, outbox.c.result_message_id).where(
                        outbox.c.purpose == "case_card"
                    )
                )
                return [tuple(r) for r in rows]

        # The worker marks the row after Telegram accepted it; wait for that commit.
        rows: list[tuple[str, int | None]] = []
        for _ in range(200):
            rows = await sent()
            if rows and rows[0][0] == "sent":
                break
            await bot.server.wait_until(lambda: True, timeout=0.05)
        assert rows == [("sent", card.message_id)]


async def test_editing_a_step_from_the_review_returns_to_the_review(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        u = bot.server.user(1003, first_name="سارا")
        await start_filing(u)
        await answer_until_evidence(u, location=False)
        await finish_after_evidence(u, phone=None)
        review = u.inbox[-1]
        assert "ناشناس" in review.text and "ارسال‌نشده" in review.text

        await u.press("ویرایش")
        menu = await u.expect_edit(review)
        assert "کدام بخش" in menu.text and "قیمت‌ها" in menu.buttons()
        await u.press("قیمت‌ها")
        await u.expect_message("چه مبلغی پرداخت کردید")
        await u.send_text("۲ میلیون ریال")
        await u.expect_message("قیمت مصوب یا متعارف")
        await u.send_text("بعدی")
        again = await u.expect_message("لطفاً شکایت خود را بازبینی کنید")
        assert "۲۰۰٬۰۰۰ تومان" in again.text and "قیمت مصوب یا متعارف: واردنشده" in again.text

        await u.press("ویرایش")
        await u.expect_edit(again)
        await u.press("نوع تخلف")
        await u.expect_message("چه نوع تخلفی دیدید")
        await u.press("کم‌فروشی")
        third = await u.expect_message("لطفاً شکایت خود را بازبینی کنید")
        assert "کم‌فروشی" in third.text

        await confirm(u)
        [case] = await case_rows(bot, 1003)
        assert case["violation"] == "short_weight"
        assert case["price_paid"] == 2_000_000 and case["price_fair"] is None
        assert case["contact_phone"] is None and case["latitude"] is None


async def test_cancel_works_by_command_button_and_inline_button(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        u = bot.server.user(1004, first_name="نرگس")
        await start_filing(u)
        await u.press("انصراف")  # the inline button under the first step
        await u.expect_message("لغو شد")

        await start_filing(u)
        await u.press("گران‌فروشی")
        await u.expect_message("کدام صنف")
        await u.press("سوخت")
        await u.expect_message("در کدام استان")
        await u.press("تهران")
        await u.expect_message("در کدام شهر")
        await u.send_text("انصراف")  # the reply-keyboard button
        await u.expect_message("لغو شد")

        await start_filing(u)  # a cancelled draft is gone: filing starts from step 1
        await u.send_text("/cancel")
        await u.expect_message("لغو شد")
        await u.send_text("/cancel")
        await u.expect_message("کاری در جریان نیست")
        assert await case_rows(bot, 1004) == []


async def test_filing_resumes_after_a_restart(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        u = bot.server.user(1005, first_name="امید")
        await start_filing(u)
        await u.press("کم‌فروشی")
        await u.expect_message("کدام صنف")
        await u.press("پوشاک و کفش")
        await u.expect_message("در کدام استان")
        await u.press("تهران")
        await u.expect_message("در کدام شهر")
        # A process that restarts within a second has forgotten what it just sent, so Telegram
        # may answer its first message with a 429, which the bot obeys and retries.
        bot.server.expect_refusal("Too Many Requests")

        await bot.restart()

        await u.send_text("كرج")  # Arabic kāf: normalised to Persian ک
        await u.expect_message("نام واحد صنفی چیست")
        await bot.restart()
        await u.send_text("ثبت شکایت")  # the menu button resumes the open draft
        await u.expect_message("یک شکایت نیمه‌تمام دارید")
        await u.expect_message("نام واحد صنفی چیست")
        await u.send_text("کفش ملی")
        await u.send_text("خیابان ولیعصر")
        await u.expect_message("موقعیت آن را")
        await u.send_text("بعدی")
        await u.expect_message("چه اتفاقی افتاد")
        await u.send_text(DESCRIPTION)
        await u.expect_message("چه مبلغی پرداخت کردید")
        await u.send_text("بعدی")
        await u.expect_message("عکس، ویدیو یا فایل بفرستید")
        await finish_after_evidence(u, phone=None)
        await confirm(u)
        [case] = await case_rows(bot, 1005)
        assert (case["violation"], case["sector"], case["city"]) == (
            "short_weight",
            "clothing",
            "کرج",
        )
        assert case["price_paid"] is None and case["price_fair"] is None


async def test_tracking_a_code_as_owner_and_as_stranger(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        owner = bot.server.user(1006, first_name="هانیه")
        stranger = bot.server.user(2006, first_name="غریبه")
        await file_complaint(owner)
        [case] = await case_rows(bot, 1006)
        code = case["code"]
        typed = text.to_persian_digits(code[:4]) + " - " + text.to_persian_digits(code[4:])

        await owner.send_text("پیگیری شکایت")
        await owner.expect_message("کد رهگیری ده‌رقمی")
        await owner.send_text(typed)
        found = await owner.expect_message("روند رسیدگی")
        assert "دریافت شد، در انتظار بررسی کارشناس" in found.text
        assert "شکایت ثبت شد" in found.text and "۱۴۰۵" in found.text  # Jalali timeline

        await stranger.send_text("پیگیری شکایت")
        await stranger.expect_message("کد رهگیری ده‌رقمی")
        await stranger.send_text(code)
        someone_elses = await stranger.expect_message("پیدا نشد")

        wrong = code[:-1] + str((int(code[-1]) + 1) % 10)  # fails the check digit
        await stranger.send_text("پیگیری شکایت")
        await stranger.expect_message("کد رهگیری ده‌رقمی")
        await stranger.send_text(wrong)
        not_existing = await stranger.expect_message("پیدا نشد")
        assert someone_elses.text == not_existing.text  # codes cannot be probed

        await stranger.send_text("پیگیری شکایت")
        await stranger.expect_message("کد رهگیری ده‌رقمی")
        await stranger.send_text("۱۲۳")
        await stranger.expect_message("کد رهگیری ده رقم دارد")


async def test_daily_limit_refuses_politely_and_resets_the_next_tehran_day(db_url: str) -> None:
    async with running_bot(db_url, max_complaints_per_day=2) as bot:
        u = bot.server.user(1007, first_name="کاوه")
        await file_complaint(u)
        await file_complaint(u)
        await u.send_text("ثبت شکایت")
        refusal = await u.expect_message("بیشترین تعداد مجاز در یک روز")
        assert "۲ شکایت" in refusal.text
        assert len(await case_rows(bot, 1007)) == 2

        bot.clock.advance(hours=18)  # 10:00 + 18h = 04:00 next day in Tehran
        await file_complaint(u)
        assert len(await case_rows(bot, 1007)) == 3


async def test_my_complaints_lists_newest_first_with_pages(db_url: str) -> None:
    async with running_bot(db_url, max_complaints_per_day=10) as bot:
        u = bot.server.user(1008, first_name="لیلا")
        await u.send_text("شکایت‌های من")
        await u.expect_message("هنوز شکایتی ثبت نکرده‌اید")
        for _ in range(6):
            await file_complaint(u)
            bot.clock.advance(minutes=1)
        codes = [c["code"] for c in reversed(await case_rows(bot, 1008))]

        await u.send_text("شکایت‌های من")
        page1 = await u.expect_message("شکایت‌های شما")
        assert "صفحهٔ ۱ از ۲" in page1.text
        shown = [b for b in page1.buttons() if "·" in b]
        assert [s.split(" · ")[0] for s in shown] == [text.to_persian_digits(c) for c in codes[:5]]
        await u.press("قدیمی‌تر ←")
        page2 = await u.expect_edit(page1)
        assert "صفحهٔ ۲ از ۲" in page2.text
        await u.press(next(b for b in page2.buttons() if "·" in b))
        opened = await u.expect_message("روند رسیدگی")
        assert text.to_persian_digits(codes[5][:5]) in opened.text


async def test_idle_draft_is_dropped_after_a_day_with_a_message(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        u = bot.server.user(1009, first_name="بهرام")
        await start_filing(u)
        await u.press("احتکار")
        await u.expect_message("کدام صنف")
        bot.clock.advance(hours=25)
        [job] = bot.app.job_queue.get_jobs_by_name("sweep-drafts")  # type: ignore[union-attr]
        await job.run(bot.app)
        await u.expect_message("دست‌نخورده ماند حذف شد")
        async with bot.services.rt.engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(drafts))).scalar() == 0
        qid = await u.press("سوخت")  # the old buttons no longer work
        assert (await u.expect_answer(qid))["show_alert"]


async def test_an_idle_draft_met_before_the_sweep_is_dropped_too(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        u = bot.server.user(1010, first_name="ژیلا")
        await start_filing(u)
        bot.clock.advance(hours=24, minutes=1)
        await u.send_text("یک متن")
        await u.expect_message("دست‌نخورده ماند حذف شد")
        await u.send_text("ثبت شکایت")
        await u.expect_message("ثبت شکایت تازه")
