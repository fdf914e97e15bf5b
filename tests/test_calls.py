"""End to end: a desk member registers a phone call to 135 — by buttons, and typed fast — with an
urgent referral; the call is a draft of its own; the caller later follows the case in chat by
its code and their phone; cases without a chat citizen tell nobody in chat and do not count
against the daily limit; figures are broken down by channel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot import text
from bot.domain import tracking
from bot.domain.refusal import Refusal
from bot.i18n import _
from bot.localapi import FakeGroup, FakeUser
from bot.services.desk import Done, Refused
from bot.services.reports import summarize
from bot.storage.tables import case_events, cases, drafts, outbox
from bot.views import labels as L
from bot.views import summary as summary_view
from tests.flows import DESCRIPTION, case_rows, file_complaint
from tests.harness import STAFF_CHAT_ID, Bot, running_bot

ADMIN, OPERATOR, CALLER, OTHER = 9001, 9101, 1001, 1002
UNIT_CHAT = -1002000000002
CALLER_PHONE = "+989123456789"
SHOP = "فروشگاه زنجیره‌ای نمونه"


class Counted:
    """The operator, counting every message and press they make."""

    def __init__(self, user: FakeUser) -> None:
        self.user, self.count = user, 0

    async def send(self, said: str) -> None:
        self.count += 1
        await self.user.send_text(said)

    async def press(self, label: str, **kwargs: Any) -> str:
        self.count += 1
        return await self.user.press(label, **kwargs)


async def _setup(bot: Bot) -> tuple[FakeGroup, FakeGroup, FakeUser]:
    staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
    unit = bot.server.group(UNIT_CHAT, title="Market regulation")
    admin = bot.server.user(ADMIN, first_name="مدیر")
    operator = bot.server.user(OPERATOR, first_name="اپراتور")
    await staff.send_text(from_user=admin, text=f"/staff add {OPERATOR} staff")
    await staff.expect_message("کارکنان")
    await staff.send_text(from_user=admin, text=f"/units market_regulation {UNIT_CHAT}")
    await staff.expect_message(text.format_id(UNIT_CHAT))
    return staff, unit, operator


async def _case_of_code(bot: Bot, code: str) -> dict[str, Any]:
    async with bot.services.rt.engine.connect() as conn:
        row = (await conn.execute(select(cases).where(cases.c.code == code))).mappings().one()
        return dict(row)


async def _events(bot: Bot, case_id: int) -> list[tuple[Any, ...]]:
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(
            select(
                case_events.c.action,
                case_events.c.actor_id,
                case_events.c.from_status,
                case_events.c.to_status,
                case_events.c.note,
            )
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.id)
        )
        return [tuple(r) for r in rows]


def _code_in(receipt: str) -> str:
    digits = text.to_ascii_digits(receipt.split("\n")[2])
    code = "".join(ch for ch in digits if ch.isascii() and ch.isdigit())
    assert tracking.is_valid(code), receipt
    return code


async def register_typed(
    op: Counted, *, business: str = SHOP, caller: str = "علی رضایی ۰۹۱۲ ۳۴۵ ۶۷۸۹"
) -> str:
    """A whole call typed as fast as the operator can, never waiting on a button; every answer
    is taken (no hint). Returns the receipt's text."""
    u = op.user
    await op.send("/call")
    await u.expect_message("نوع تخلفی که تماس‌گیرنده گزارش می‌کند")
    for said in (
        "۱",  # the first violation type, by its number
        "مواد غذایی",  # the sector, by (part of) its name
        "اصفهان، کاشان",  # the province and the city in one message
        business,
        "خیابان امام، پلاک ۵",
        DESCRIPTION,
        _(L.SKIP),  # no price: both prices skipped
        caller,
        "فوری تنظیم بازار",
    ):
        await op.send(said)
    await u.expect_message("ارجاع فوری به «تنظیم بازار»")
    await op.send(_(L.CALL_CONFIRM))
    receipt = await u.expect_message("تماس ثبت شد")
    assert not [m.text for m in u.inbox if (m.text or "").startswith("⚠️")], u.inbox
    return receipt.text or ""


async def test_an_operator_registers_an_urgent_call_with_buttons(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        staff, unit, operator = await _setup(bot)
        # The desk member's private menu has «ثبت تماس تلفنی»; a citizen's does not.
        await operator.send_text("/start")
        welcome = await operator.expect_message()
        assert [_(L.CALL)] in (welcome.reply_keyboard or [])
        citizen = bot.server.user(CALLER, first_name="شهروند")
        await citizen.send_text("/start")
        assert [_(L.CALL)] not in ((await citizen.expect_message()).reply_keyboard or [])

        op = Counted(operator)
        await op.send(_(L.CALL))
        await operator.expect_message("ثبت تماس تلفنی.")
        await operator.expect_message("نوع تخلفی که تماس‌گیرنده گزارش می‌کند")
        await op.press("۱. " + _("Overpricing"))
        await operator.expect_message("مربوط به کدام صنف")
        await op.press("۱. " + _("Food and groceries"))
        await operator.expect_message("در کدام استان")
        await op.press(_("Tehran"))
        await operator.expect_message("کدام شهر یا روستا؟")
        await op.send("تهران")
        await operator.expect_message("همان‌طور که تماس‌گیرنده می‌گوید")
        await op.send(SHOP)
        await operator.expect_message("نشانی آن؟")
        await op.send("خیابان انقلاب، پلاک ۱۲")
        await operator.expect_message("از زبان تماس‌گیرنده")
        await op.send(DESCRIPTION)
        await operator.expect_message("تماس‌گیرنده چه مبلغی")
        await op.send("۱۸۰ هزار تومان")
        await operator.expect_message("اگر تماس‌گیرنده می‌داند")
        await op.send("۱۲۰ هزار تومان")
        await operator.expect_message("نام و شمارهٔ تماس‌گیرنده")
        await op.send("علی رضایی ۰۹۱۲ ۳۴۵ ۶۷۸۹")
        review = await operator.expect_message("اطلاعات این تماس را بازبینی کنید")
        assert "علی رضایی" in review.text and text.format_phone(CALLER_PHONE) in review.text
        await op.press(_(L.URGENT), message=review)
        menu = await operator.expect_edit(review)
        assert "تنظیم بازار" in menu.buttons()
        await op.press("تنظیم بازار", message=menu)
        review = await operator.expect_edit(menu, "ارجاع فوری به «تنظیم بازار»")
        await op.press(_(L.CALL_CONFIRM), message=review)
        receipt = await operator.expect_message("تماس ثبت شد")
        assert op.count == 14  # the menu button, then one message or press a step

        code = _code_in(receipt.text)
        assert tracking.format_spoken(code) in receipt.text  # grouped for reading aloud
        assert "مسئول آن شما هستید" in receipt.text
        case = await _case_of_code(bot, code)
        assert case["channel"] == "phone" and case["citizen_id"] is None
        assert case["taken_by"] == OPERATOR and case["holder_id"] == OPERATOR
        assert case["caller_name"] == "علی رضایی" and case["contact_phone"] == CALLER_PHONE
        assert case["status"] == "referred" and case["urgent"] and case["unit_id"]
        assert (case["price_paid"], case["price_fair"]) == (1_800_000, 1_200_000)
        assert await _events(bot, case["id"]) == [
            ("submit", OPERATOR, None, "new", None),
            ("claim", OPERATOR, "new", "claimed", None),
            ("mark_urgent", OPERATOR, "claimed", "claimed", None),
            ("refer", OPERATOR, "claimed", "referred", "تنظیم بازار"),
        ]
        # The staff group's card says how it came and who took it, never the caller.
        card = await staff.expect_message(text.to_persian_digits(code[:5]))
        assert "تماس تلفنی (۱۳۵)، ثبت‌شده به دست " + text.fsi("اپراتور") in card.text
        assert "در ربات دنبال نمی‌شود" in card.text
        assert "علی رضایی" not in card.text and "+98" not in card.text
        assert _("Ask the citizen") not in card.buttons()
        assert card.text.lstrip(text.RLM).startswith("🔴")
        await unit.expect_message(text.to_persian_digits(code[:5]))  # referred at once
        # The operator holds it: /mine lists it; the phone button shows name and number.
        await operator.send_text("/mine")
        assert text.to_persian_digits(code[:5]) in (await operator.expect_message()).text
        qid = await staff.press(from_user=operator, text="📞 شماره", message=card)
        shown = (await staff.expect_answer(qid))["text"]
        assert "علی رضایی" in shown and text.format_phone(CALLER_PHONE) in shown


async def test_the_same_call_typed_fast(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        staff, unit, operator = await _setup(bot)
        op = Counted(operator)
        receipt = await register_typed(op, caller="۰۲۱-۸۸۷۷۶۶۵۵ رضایی")
        assert op.count == 11  # /call, nine answers, «ثبت تماس»
        code = _code_in(receipt)
        case = await _case_of_code(bot, code)
        assert (case["violation"], case["sector"], case["province"]) == (
            "overpricing",
            "food",
            "10",
        )
        assert case["city"] == "کاشان" and case["price_paid"] is None
        assert case["contact_phone"] == "+982188776655" and case["caller_name"] == "رضایی"
        assert case["status"] == "referred" and case["holder_id"] == OPERATOR
        await staff.expect_message(text.to_persian_digits(code[:5]))
        await unit.expect_message(text.to_persian_digits(code[:5]))


async def test_typed_answers_that_fit_no_choice_are_explained_not_guessed(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        _staff, _unit, operator = await _setup(bot)
        await operator.send_text("/call")
        await operator.expect_message("نوع تخلفی که تماس‌گیرنده گزارش می‌کند")
        await operator.send_text("۹۹")
        await operator.expect_message("با هیچ‌یک از گزینه‌ها جور درنمی‌آید")
        await operator.send_text("گران فروشی")  # without the ZWNJ: the same word
        await operator.expect_message("مربوط به کدام صنف")
        await operator.send_text("سایر")
        await operator.expect_message("در کدام استان")
        await operator.send_text("خراسان")  # three provinces: which one?
        await operator.expect_message("بیش از یک گزینه")
        await operator.send_text("بویر احمد")
        await operator.expect_message("کدام شهر")
        await operator.send_text("یاسوج")
        await operator.send_text("نانوایی")
        await operator.send_text("بلوار معلم")
        await operator.send_text(DESCRIPTION)
        await operator.send_text(_(L.SKIP))
        await operator.expect_message("نام و شمارهٔ تماس‌گیرنده")
        await operator.send_text("علی ۱۲۳۴۵")  # digits, but no phone number
        await operator.expect_message("شمارهٔ همراه یا ثابت ایران خوانده نشد")
        await operator.send_text(_(L.CALLER_ANONYMOUS))
        review = await operator.expect_message("اطلاعات این تماس را بازبینی کنید")
        assert "کهگیلویه و بویراحمد" in review.text and "نام داده نشد" in review.text
        await operator.send_text(_(L.CALL_CONFIRM))
        code = _code_in((await operator.expect_message("تماس ثبت شد")).text)
        case = await _case_of_code(bot, code)
        assert case["province"] == "17" and case["contact_phone"] is None
        assert case["caller_name"] is None and case["status"] == "new"


async def test_a_call_is_a_draft_apart_from_the_operators_own_complaint(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        _staff, _unit, operator = await _setup(bot)
        await operator.send_text(_(L.FILE))
        await operator.expect_message("چه نوع تخلفی دیدید")
        await operator.press(_("Fraud or adulteration"))
        await operator.expect_message("کدام صنف")
        await register_typed(Counted(operator))
        async with bot.services.rt.engine.connect() as conn:
            left = (await conn.execute(select(drafts.c.kind, drafts.c.step))).all()
        assert [tuple(r) for r in left] == [("complaint", "sector")]
        [call] = await _all_cases(bot)
        assert call["channel"] == "phone" and call["violation"] == "overpricing"
        # Their own complaint continues where it stood, untouched by the call.
        await operator.send_text(_(L.FILE))
        await operator.expect_message("ادامه می‌دهیم")
        await operator.expect_message("کدام صنف")
        # And «انصراف» in a call cancels the call, not the complaint.
        await operator.send_text("/call")
        await operator.expect_message("نوع تخلفی که تماس‌گیرنده")
        await operator.send_text(_(L.CANCEL))
        await operator.expect_message("تماس لغو شد")
        async with bot.services.rt.engine.connect() as conn:
            left = (await conn.execute(select(drafts.c.kind))).scalars().all()
        assert left == ["complaint"]


async def _all_cases(bot: Bot) -> list[dict[str, Any]]:
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(select(cases).order_by(cases.c.id))
        return [dict(r) for r in rows.mappings()]


async def test_only_desk_members_register_calls(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        citizen = bot.server.user(CALLER, first_name="شهروند")
        await citizen.send_text("/call")
        await citizen.expect_message("فقط برای کارشناسان میز رسیدگی")
        await citizen.send_text(_(L.CALL))
        await citizen.expect_message("فقط برای کارشناسان میز رسیدگی")
        qid = await citizen.press(data="k:ok")
        assert (await citizen.expect_answer(qid)).get("show_alert")
        async with bot.services.rt.engine.connect() as conn:
            assert (await conn.execute(select(drafts))).first() is None


async def test_the_caller_links_the_case_with_the_right_phone_only(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN], max_complaints_per_day=1) as bot:
        staff, _unit, operator = await _setup(bot)
        code = _code_in(await register_typed(Counted(operator)))
        case = await _case_of_code(bot, code)
        desk = bot.services.desk
        holder = await desk.actor(OPERATOR)
        # Nobody follows it in chat yet: no question can be asked, nobody is told anything.
        assert await desk.ask(holder, case["id"], "ساعت خرید؟") == Refused(Refusal.NOT_LINKED)
        assert isinstance(await desk.note(holder, case["id"], "تماس گرفتم"), Done)

        caller = bot.server.user(CALLER, first_name="تماس‌گیرنده", phone=CALLER_PHONE)

        async def look_up(typed: str) -> Any:
            await caller.send_text(_(L.TRACK))
            await caller.expect_message("کد رهگیری")
            await caller.send_text(typed)
            return await caller.expect_message()

        async def share(phone: str, *, own: bool = True) -> Any:
            await caller.send_contact(phone=phone, own=own)
            return await caller.expect_message()

        wrong_code = code[:-2] + str((int(code[-2]) + 1) % 10) + code[-1]
        offer = await look_up(text.to_persian_digits(code))
        assert "اگر این شکایت را تلفنی" in offer.text
        after_wrong_phone = await share("+989350000000")
        assert (await look_up(wrong_code)).text == offer.text  # the same offer for any code
        after_wrong_code = await share(CALLER_PHONE)
        # A wrong code and a wrong phone get the same answer: codes cannot be probed.
        assert after_wrong_code.text == after_wrong_phone.text
        assert after_wrong_code.reply_keyboard == after_wrong_phone.reply_keyboard
        await look_up(code)
        assert (await share(CALLER_PHONE, own=False)).text == after_wrong_phone.text
        assert (await _case_of_code(bot, code))["citizen_id"] is None

        await look_up(code)
        await caller.send_contact(phone=CALLER_PHONE.lstrip("+"), own=True)
        await caller.expect_message("اکنون در همین گفت‌وگو پیگیری می‌شود")
        shown = await caller.expect_message(text.to_persian_digits(code[:5]))
        assert "ارجاع" in shown.text
        linked = await _case_of_code(bot, code)
        assert linked["citizen_id"] == CALLER
        assert (await _events(bot, case["id"]))[-1] == (
            "link",
            CALLER,
            "referred",
            "referred",
            None,
        )
        # Another citizen's number cannot take it over now.
        other = bot.server.user(OTHER, first_name="دیگری", phone=CALLER_PHONE)
        await other.send_text(_(L.TRACK))
        await other.expect_message("کد رهگیری")
        await other.send_text(code)
        await other.expect_message("اگر این شکایت را تلفنی")
        await other.send_contact(phone=CALLER_PHONE, own=True)
        await other.expect_message(after_wrong_phone.text.split("\n")[0])
        assert (await _case_of_code(bot, code))["citizen_id"] == CALLER

        # From now on the caller is told in chat, and may be asked.
        await caller.send_text(_(L.MINE))
        await caller.expect_message(text.to_persian_digits(code[:5]))
        unit_member = await desk.actor(ADMIN)
        assert isinstance(await desk.accept_referral(unit_member, case["id"]), Done)
        await caller.expect_message("واحد رسیدگی‌کننده")
        # A linked call does not count against the caller's daily limit in chat.
        await file_complaint(caller)
        assert len(await case_rows(bot, CALLER)) == 2
        await staff.expect_message(text.to_persian_digits(code[:5]))


async def test_calls_tell_nobody_and_do_not_count_against_the_daily_limit(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN], max_complaints_per_day=1) as bot:
        _staff, _unit, operator = await _setup(bot)
        codes = []
        for business, caller in (("نانوایی برکت", "علی رضایی ۰۹۱۲۳۴۵۶۷۸۹"), (SHOP, "۰۹۳۵۱۱۱۲۲۳۳")):
            said = await register_typed(Counted(operator), business=business, caller=caller)
            codes.append(_code_in(said))
        desk = bot.services.desk
        holder = await desk.actor(OPERATOR)
        for code in codes:
            case = await _case_of_code(bot, code)
            assert isinstance(await desk.accept_referral(holder, case["id"]), Done)
            assert isinstance(await desk.resolve(holder, case["id"], "resolved", "رسیدگی شد"), Done)
        async with bot.services.rt.engine.connect() as conn:
            purposes = (await conn.execute(select(outbox.c.purpose, outbox.c.chat_id))).all()
        assert not [p for p in purposes if p[0] == "citizen_notice"], purposes
        assert all(chat for _p, chat in purposes)
        # The operator's own complaint is still within their limit: calls are not theirs.
        await file_complaint(operator)


async def test_figures_are_broken_down_by_channel(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        _staff, _unit, operator = await _setup(bot)
        await register_typed(Counted(operator))
        await file_complaint(bot.server.user(CALLER, first_name="شهروند"))
        rt = bot.services.rt
        now = rt.now()
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        got = await summarize(rt.engine, start, now + timedelta(seconds=1), now=now)
        assert sorted(got.by_channel) == [("chat", 1), ("phone", 1)]
        rendered = "\n".join(summary_view.render_summary(got, None, tz=rt.settings.tz, title="t"))
        assert "به تفکیک راه ثبت" in rendered and "تماس تلفنی (۱۳۵): ۱" in rendered


async def test_a_caller_card_from_the_phone_book_and_an_idle_call(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        staff, _unit, operator = await _setup(bot)
        await staff.send_text(from_user=operator, text="/call")  # not in front of the group
        await staff.expect_message("در گفت‌وگوی خصوصی شما با ربات ثبت می‌شوند")
        await operator.send_text(_(L.HELP))  # the desk member's menu keeps «ثبت تماس تلفنی»
        assert [_(L.CALL)] in ((await operator.expect_message()).reply_keyboard or [])
        await operator.send_text("/call")
        for said in ("۲", "۳", "تهران، تهران", SHOP, "خیابان انقلاب، پلاک ۱۲", DESCRIPTION):
            await operator.send_text(said)
        await operator.send_text(_(L.SKIP))
        await operator.expect_message("نام و شمارهٔ تماس‌گیرنده")
        # A contact card sent from the operator's phone book is the caller's name and number.
        await operator.send_contact(phone="989121112233", own=False, first_name="مریم")
        review = await operator.expect_message("اطلاعات این تماس را بازبینی کنید")
        assert "مریم" in review.text and text.format_phone("+989121112233") in review.text
        # Left for a day, the call is dropped and the operator told; nothing was registered.
        bot.clock.advance(hours=25)
        [job] = bot.app.job_queue.get_jobs_by_name("sweep-drafts")  # type: ignore[union-attr]
        await job.run(bot.app)
        await operator.expect_message("تماس نیمه‌کاره کنار گذاشته شد")
        assert await _all_cases(bot) == []
