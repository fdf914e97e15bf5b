"""End to end, attacking calls, linking and duplicates: a lookup that leads nowhere must not eat
the contact the citizen shares later for their complaint, the citizen's «تأیید و ارسال» typed in a
call must not send the operator's own complaint; the operator's words follow the glossary."""

from __future__ import annotations

import random

from sqlalchemy import select

from bot.domain import tracking
from bot.domain.complaint import DraftData, Problem, Step
from bot.i18n import _
from bot.storage.tables import cases, drafts
from bot.views import calls as call_views
from bot.views import labels as L
from tests.flows import DESCRIPTION, answer_until_evidence, finish_after_evidence, start_filing
from tests.harness import running_bot
from tests.test_calls import ADMIN, _setup

CITIZEN = 1001
PHONE = "+989121234567"


async def test_a_lookup_that_found_nothing_does_not_eat_the_complaints_contact(
    db_url: str,
) -> None:
    async with running_bot(db_url) as bot:
        citizen = bot.server.user(CITIZEN, first_name="شهروند", phone=PHONE)
        await start_filing(citizen)
        await answer_until_evidence(citizen)
        # Half-way, the citizen looks up a code that is not theirs (a typo): offered to link.
        await citizen.send_text("پیگیری شکایت")
        await citizen.expect_message("کد رهگیری")
        await citizen.send_text(tracking.generate(random.Random(3)))
        await citizen.expect_message("اگر این شکایت را تلفنی")
        bot.clock.advance(seconds=30)
        # They go back to their complaint; its contact step takes their number.
        await citizen.send_text("پایان ارسال مدارک")
        await citizen.expect_message("کارشناسان چگونه با شما تماس بگیرند")
        await citizen.send_contact(own=True)
        await citizen.expect_message("لطفاً شکایت خود را بازبینی کنید")


def test_the_operators_screens_name_the_unit_as_the_glossary_does() -> None:
    """Beside the business («واحد صنفی») a bare «واحد» is ambiguous: Ta'zirat's unit is «واحد
    رسیدگی‌کننده» (docs/style-fa.md); and the call's review is not «contact details»."""
    data = DraftData(violation="overpricing", sector="food", province="23", city="تهران")
    review = call_views.review_screen(data, None).text
    menu = call_views.urgent_menu(data, None, []).text
    hint = call_views.problem_text(Problem.USE_BUTTONS, Step.REVIEW)
    for said in (review, menu, hint):
        assert "واحد رسیدگی‌کننده" in said, said
    assert "اطلاعات این تماس" in review
    assert "امکان‌پذیر" in call_views.not_desk().text


async def test_the_citizens_confirm_typed_in_a_call_registers_the_call_not_the_own_complaint(
    db_url: str,
) -> None:
    """An operator whose own complaint waits at its review registers a call and types the
    citizen's «تأیید و ارسال» instead of «ثبت تماس»: the call is registered; their own
    complaint is not sent behind their back."""
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        _staff, _unit, operator = await _setup(bot)
        await start_filing(operator)
        await answer_until_evidence(operator)
        await finish_after_evidence(operator, phone=None)
        await operator.send_text("/call")
        await operator.expect_message("نوع تخلفی که تماس‌گیرنده گزارش می‌کند")
        for said in (
            "۱",
            "مواد غذایی",
            "اصفهان، کاشان",
            "نانوایی برکت",
            "خیابان امام، پلاک ۵",
            DESCRIPTION,
            _(L.SKIP),
            "علی رضایی ۰۹۱۲ ۳۴۵ ۶۷۸۹",
        ):
            await operator.send_text(said)
        await operator.expect_message("اطلاعات این تماس را بازبینی کنید")
        await operator.send_text(_(L.CONFIRM))
        await operator.expect_message("تماس ثبت شد")
        async with bot.services.rt.engine.connect() as conn:
            channels = (await conn.execute(select(cases.c.channel))).scalars().all()
            left = (await conn.execute(select(drafts.c.kind, drafts.c.step))).all()
        assert channels == ["phone"]
        assert [tuple(r) for r in left] == [("complaint", "review")]


def test_the_receipt_promises_following_in_the_bot_only_with_a_mobile_number() -> None:
    """A caller who gave a landline or no number cannot link the case (Telegram shares a
    mobile): the operator must not tell them to try."""
    code = tracking.generate(random.Random(5))
    follow = "همان شمارهٔ همراه را می‌فرستد"
    assert follow in call_views.registered(code, mobile=True).text
    said = call_views.registered(code, mobile=False).text
    assert follow not in said and "سامانهٔ ۱۳۵" in said
