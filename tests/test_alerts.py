"""End to end: complaint spikes pushed to managers once per window, and SLA reminders on working
time — an unclaimed case re-announced in the staff group, a quiet referral reminding its unit
or holder and then the supervisors — each once per crossing, with weekends and holidays paused.

Jobs are run by hand (`job.run`) at instants set on the test clock. "Nothing was sent" is read
from the outbox and the dedupe tables, which the jobs write before anything is delivered.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot import text
from bot.domain.purposes import Purpose
from bot.domain.roles import Role
from bot.localapi import BotMessage, FakeUser
from bot.storage import cases as case_store
from bot.storage.tables import outbox, sla_alerts, spike_alerts
from tests.flows import case_rows, confirm, file_complaint, finish_after_evidence, start_filing
from tests.harness import STAFF_CHAT_ID, Bot, running_bot

ADMIN, MANAGER, STAFF1, STAFF2, SUP1, SUP2 = 9001, 7001, 9101, 9102, 9201, 9202
CITIZENS = (1001, 1002, 1003, 1004)
MANAGERS_GROUP = -1003000000003
UNIT_CHAT = -1002000000002
TEHRAN = ZoneInfo("Asia/Tehran")
SHOP = "فروشگاه زنجیره‌ای نمونه"  # the business tests.flows.file_complaint names


def tehran(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TEHRAN).astimezone(UTC)


def no_holidays(tmp_path: Path) -> str:
    """An empty holiday folder: tests must not depend on the shipped (editable) data file."""
    folder = tmp_path / "holidays"
    folder.mkdir(exist_ok=True)
    return str(folder)


def write_holidays(folder: str, *dates: str) -> None:
    entries = [{"date": d, "name": "تعطیل آزمایشی"} for d in dates]
    data = {"year": "۱۴۰۵", "holidays": entries}
    (Path(folder) / "1405.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")


async def run_job(bot: Bot, name: str) -> None:
    [job] = bot.app.job_queue.get_jobs_by_name(name)  # type: ignore[union-attr]
    await job.run(bot.app)


async def count(bot: Bot, table: Any) -> int:
    async with bot.services.rt.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def queued(bot: Bot, *purposes: str) -> list[tuple[int, str]]:
    """(chat id, purpose) of every outbox row for these purposes, in order."""
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.chat_id, outbox.c.purpose)
            .where(outbox.c.purpose.in_(purposes))
            .order_by(outbox.c.id)
        )
        return [(int(c), str(p)) for c, p in rows]


async def spike_counts(bot: Bot) -> list[int]:
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(select(spike_alerts.c.case_count).order_by(spike_alerts.c.id))
        return [int(n) for n in rows.scalars()]


async def give_roles(bot: Bot, roles: dict[int, Role]) -> None:
    desk = bot.services.desk
    admin = await desk.actor(ADMIN)
    for uid, role in roles.items():
        assert await desk.set_role(admin, uid, role) is None


def digits(code: str) -> str:
    """How a tracking code's first half appears in a Persian message."""
    return text.to_persian_digits(code[:5])


async def file_about(u: FakeUser, business: str) -> None:
    """A complaint like tests.flows.file_complaint's, about another business."""
    await start_filing(u)
    await u.press("گران‌فروشی")
    await u.expect_message("کدام صنف")
    await u.press("مواد غذایی و خواربار")
    await u.expect_message("در کدام استان")
    await u.press("تهران")
    await u.expect_message("در کدام شهر")
    await u.send_text("تهران")
    await u.expect_message("نام واحد صنفی چیست")
    await u.send_text(business)
    await u.expect_message("نشانی واحد صنفی چیست")
    await u.send_text("خیابان آزادی، پلاک ۳")
    await u.expect_message("موقعیت آن را")
    await u.send_text("بعدی")
    await u.expect_message("چه اتفاقی افتاد")
    await u.send_text("روغن را دو برابر قیمت مصوب فروختند و فاکتور هم ندادند")
    await u.expect_message("چه مبلغی پرداخت کردید")
    await u.send_text("۲۰۰ هزار تومان")
    await u.expect_message("قیمت مصوب یا متعارف")
    await u.send_text("100,000")
    await u.expect_message("عکس، ویدیو یا فایل بفرستید")
    await finish_after_evidence(u, phone=None)
    await confirm(u)


# -- spikes --------------------------------------------------------------------------------------


async def test_a_business_spike_alerts_managers_once_per_window(
    db_url: str, tmp_path: Path
) -> None:
    async with running_bot(
        db_url,
        admin_ids=[ADMIN],
        manager_chat_ids=[MANAGERS_GROUP],
        spike_business_threshold=3,
        spike_province_threshold=50,
        spike_window_minutes=60,
        holidays_dir=no_holidays(tmp_path),
    ) as bot:
        server = bot.server
        group = server.group(MANAGERS_GROUP, title="Managers")
        manager = server.user(MANAGER, first_name="مدیر")
        staff = server.user(STAFF1, first_name="کارشناس")
        supervisor = server.user(SUP1, first_name="سرپرست")
        await give_roles(bot, {MANAGER: Role.MANAGER, STAFF1: Role.STAFF, SUP1: Role.SUPERVISOR})
        a, b, c = (server.user(uid, first_name="شهروند") for uid in CITIZENS[:3])

        # Saturday 10:00 Tehran (06:30 UTC, in the 06:00–07:00 UTC bucket): two is no spike.
        await file_complaint(a)
        await file_complaint(a)
        await run_job(bot, "spike-alerts")
        assert await count(bot, spike_alerts) == 0
        assert await queued(bot, "spike_alert") == []

        await file_complaint(b)
        await run_job(bot, "spike-alerts")
        codes = [
            r["code"] for r in await case_rows(bot, a.chat_id) + await case_rows(bot, b.chat_id)
        ]
        for chat in (group, manager):
            alert = await chat.expect_message(SHOP)
            assert "📈" in alert.text
            assert all(digits(code) in alert.text for code in codes)
            assert "گران‌فروشی" in alert.text and "تهران" in alert.text
        assert await queued(bot, "spike_alert") == [
            (MANAGERS_GROUP, "spike_alert"),
            (MANAGER, "spike_alert"),
        ]
        assert await spike_counts(bot) == [3]

        # The same window: not again, neither on a rerun nor for one more complaint.
        await run_job(bot, "spike-alerts")
        bot.clock.advance(minutes=20)
        await file_complaint(c)
        await run_job(bot, "spike-alerts")
        assert await count(bot, spike_alerts) == 1

        # 07:01 UTC, a new window; the four complaints are still within the last hour, and one
        # of them is newer than the first alert: alerted again, with the new count and code.
        bot.clock.advance(minutes=11)
        await run_job(bot, "spike-alerts")
        assert await count(bot, spike_alerts) == 2
        [fourth] = await case_rows(bot, c.chat_id)
        again = await manager.expect_message(digits(fourth["code"]))
        assert SHOP in again.text and await spike_counts(bot) == [3, 4]
        await group.expect_message(digits(fourth["code"]))
        await run_job(bot, "spike-alerts")
        assert await count(bot, spike_alerts) == 2

        # Later still, with no complaint since the last alert: nothing new to say.
        bot.clock.advance(minutes=15)
        await run_job(bot, "spike-alerts")
        assert await count(bot, spike_alerts) == 2

        # Only managers (the role and MANAGER_CHAT_IDS) were alerted.
        chats = {chat for chat, _ in await queued(bot, "spike_alert")}
        assert chats == {MANAGERS_GROUP, MANAGER}
        for other in (staff, supervisor, a, b, c, server.group(STAFF_CHAT_ID)):
            assert not [m for m in other.inbox if "📈" in (m.text or "")]


async def test_a_violation_type_spike_in_one_province_lists_the_businesses(
    db_url: str, tmp_path: Path
) -> None:
    async with running_bot(
        db_url,
        admin_ids=[ADMIN],
        spike_business_threshold=3,
        spike_province_threshold=3,
        holidays_dir=no_holidays(tmp_path),
    ) as bot:
        manager = bot.server.user(MANAGER, first_name="مدیر")
        await give_roles(bot, {MANAGER: Role.MANAGER})
        shops = ("نانوایی سنگک امید", "سوپرمارکت برادران", "میوه‌فروشی بهار")
        citizens = [bot.server.user(uid, first_name="شهروند") for uid in CITIZENS[:3]]
        for citizen, shop in zip(citizens[:2], shops[:2], strict=True):
            await file_about(citizen, shop)
        await run_job(bot, "spike-alerts")
        assert await count(bot, spike_alerts) == 0  # two of one type: below the threshold

        await file_about(citizens[2], shops[2])
        await run_job(bot, "spike-alerts")
        alert = await manager.expect_message("📈")
        assert "گران‌فروشی" in alert.text and "تهران" in alert.text
        assert all(shop in alert.text for shop in shops)
        for citizen in citizens:
            [row] = await case_rows(bot, citizen.chat_id)
            assert digits(row["code"]) in alert.text
        async with bot.services.rt.engine.connect() as conn:
            kinds = (await conn.execute(select(spike_alerts.c.kind))).scalars().all()
        assert kinds == ["province"]  # three businesses with one complaint each: no business spike


# -- SLA: unclaimed ------------------------------------------------------------------------------


async def test_an_unclaimed_case_is_announced_again_after_working_hours_not_wall_hours(
    db_url: str, tmp_path: Path
) -> None:
    async with running_bot(
        db_url, admin_ids=[ADMIN], sla_unclaimed_work_hours=8, holidays_dir=no_holidays(tmp_path)
    ) as bot:
        staff = bot.server.group(STAFF_CHAT_ID)
        officer = bot.server.user(STAFF1, first_name="کارشناس")
        await give_roles(bot, {STAFF1: Role.STAFF})
        citizen = bot.server.user(CITIZENS[0], first_name="شهروند")

        # Wednesday 11 Azar, 14:00: two working hours left that day, four on Thursday.
        bot.clock.now = tehran(12, 2, 14)
        await file_complaint(citizen)
        [case] = await case_rows(bot, citizen.chat_id)
        card = await staff.expect_message(digits(case["code"]))

        for moment in (tehran(12, 3, 12), tehran(12, 4, 23, 59), tehran(12, 5, 9, 59)):
            bot.clock.now = moment  # 22 and 58 wall-clock hours, but under 8 working hours
            await run_job(bot, "sla-reminders")
        assert await queued(bot, "sla_unclaimed") == []

        bot.clock.now = tehran(12, 5, 10)  # Saturday 10:00: eight working hours
        await run_job(bot, "sla-reminders")
        again = await staff.expect_message("⏰")
        assert digits(case["code"]) in again.text and SHOP in again.text
        assert again.reply_to_message_id == card.message_id
        assert text.to_persian_digits("8") in again.text
        bot.clock.advance(minutes=1)
        await run_job(bot, "sla-reminders")
        bot.clock.advance(hours=3)
        await run_job(bot, "sla-reminders")
        assert await queued(bot, "sla_unclaimed") == [(STAFF_CHAT_ID, "sla_unclaimed")]

        # Claimed, then released at 13:01: back in the queue, a new clock and a new crossing.
        desk = bot.services.desk
        actor = await desk.actor(STAFF1)
        await desk.claim(actor, case["id"])
        await desk.release(actor, case["id"], "نیاز به بررسی همکار دیگر")
        bot.clock.now = tehran(12, 6, 13)  # Sunday 13:00: a minute short of eight hours
        await run_job(bot, "sla-reminders")
        assert await count(bot, sla_alerts) == 1
        bot.clock.now = tehran(12, 6, 13, 1)
        await run_job(bot, "sla-reminders")
        assert await count(bot, sla_alerts) == 2
        await staff.expect_message("⏰")
        assert officer.inbox == []


async def test_a_holiday_in_the_data_file_pauses_the_clock_and_is_reloaded(
    db_url: str, tmp_path: Path
) -> None:
    folder = no_holidays(tmp_path)
    write_holidays(folder, "۱۴۰۵/۰۹/۰۸")  # Sunday 8 Azar
    async with running_bot(db_url, sla_unclaimed_work_hours=8, holidays_dir=folder) as bot:
        staff = bot.server.group(STAFF_CHAT_ID)
        citizen = bot.server.user(CITIZENS[0], first_name="شهروند")
        await file_complaint(citizen)  # Saturday 7 Azar, 10:00: six working hours that day
        [case] = await case_rows(bot, citizen.chat_id)
        await staff.expect_message(digits(case["code"]))

        bot.clock.now = tehran(11, 29, 12)  # without the holiday this would be 10 hours
        await run_job(bot, "sla-reminders")
        assert await count(bot, sla_alerts) == 0

        # The administrator adds Monday while the bot runs: it is read on the next check.
        write_holidays(folder, "۱۴۰۵/۰۹/۰۸", "1405/09/09")
        bot.clock.now = tehran(11, 30, 10)
        await run_job(bot, "sla-reminders")
        assert await count(bot, sla_alerts) == 0
        bot.clock.now = tehran(12, 1, 9, 59)
        await run_job(bot, "sla-reminders")
        assert await count(bot, sla_alerts) == 0
        bot.clock.now = tehran(12, 1, 10)  # Tuesday 10:00
        await run_job(bot, "sla-reminders")
        assert await count(bot, sla_alerts) == 1
        alert = await staff.expect_message("⏰")
        assert digits(case["code"]) in alert.text


# -- SLA: referrals ------------------------------------------------------------------------------


async def _referred_case(bot: Bot) -> tuple[dict[str, Any], BotMessage]:
    """A complaint filed on Saturday 10:00, claimed by STAFF1 and referred to market
    regulation, whose chat is UNIT_CHAT; returns the case and its card in the staff group."""
    desk = bot.services.desk
    admin = await desk.actor(ADMIN)
    unit = await desk.set_unit_chat(admin, "market_regulation", UNIT_CHAT, None)
    assert isinstance(unit, dict)
    citizen = bot.server.user(CITIZENS[0], first_name="شهروند")
    await file_complaint(citizen)
    [case] = await case_rows(bot, citizen.chat_id)
    card = await bot.server.group(STAFF_CHAT_ID).expect_message(digits(case["code"]))
    actor = await desk.actor(STAFF1)
    await desk.claim(actor, case["id"])
    await desk.refer(actor, case["id"], unit["id"])
    return case, card


async def test_a_quiet_referral_reminds_the_unit_then_the_supervisors_once_each(
    db_url: str, tmp_path: Path
) -> None:
    async with running_bot(
        db_url,
        admin_ids=[ADMIN],
        manager_chat_ids=[MANAGERS_GROUP],
        sla_unclaimed_work_hours=500,
        sla_referral_remind_work_hours=8,
        sla_referral_escalate_work_hours=16,
        holidays_dir=no_holidays(tmp_path),
    ) as bot:
        server = bot.server
        people = {
            uid: server.user(uid, first_name=name)
            for uid, name in (
                (STAFF1, "کارشناس‌یک"),
                (STAFF2, "کارشناس‌دو"),
                (SUP1, "سرپرست‌یک"),
                (SUP2, "سرپرست‌دو"),
                (MANAGER, "مدیر"),
            )
        }
        await give_roles(
            bot,
            {
                STAFF1: Role.STAFF,
                STAFF2: Role.STAFF,
                SUP1: Role.SUPERVISOR,
                SUP2: Role.SUPERVISOR,
                MANAGER: Role.MANAGER,
            },
        )
        staff, unit_chat = server.group(STAFF_CHAT_ID), server.group(UNIT_CHAT, title="Unit")
        case, staff_card = await _referred_case(bot)
        code = digits(case["code"])
        unit_card = await unit_chat.expect_message(code)
        await _card_recorded(bot, case["id"], UNIT_CHAT, unit_card.message_id)

        # Referred Saturday 10:00; eight working hours: Sunday 10:00.
        bot.clock.now = tehran(11, 29, 9, 59)
        await run_job(bot, "sla-reminders")
        assert await queued(bot, "sla_reminder", "sla_escalation") == []
        bot.clock.now = tehran(11, 29, 10)
        await run_job(bot, "sla-reminders")
        reminder = await unit_chat.expect_message("⏰")
        assert code in reminder.text and reminder.reply_to_message_id == unit_card.message_id
        assert "تنظیم بازار" in reminder.text and SHOP in reminder.text
        for minutes in (1, 60):
            bot.clock.advance(minutes=minutes)
            await run_job(bot, "sla-reminders")
        assert await queued(bot, "sla_reminder", "sla_escalation") == [(UNIT_CHAT, "sla_reminder")]

        # Sixteen working hours: Monday 10:00, to each supervisor and the staff group.
        bot.clock.now = tehran(11, 30, 9, 59)
        await run_job(bot, "sla-reminders")
        assert len(await queued(bot, "sla_escalation")) == 0
        bot.clock.now = tehran(11, 30, 10)
        await run_job(bot, "sla-reminders")
        for sup in (SUP1, SUP2):
            escalation = await people[sup].expect_message("🔺")
            assert code in escalation.text
        in_group = await staff.expect_message("🔺")
        assert in_group.reply_to_message_id == staff_card.message_id
        await run_job(bot, "sla-reminders")
        assert await queued(bot, "sla_reminder", "sla_escalation") == [
            (UNIT_CHAT, "sla_reminder"),
            (SUP1, "sla_escalation"),
            (SUP2, "sla_escalation"),
            (STAFF_CHAT_ID, "sla_escalation"),
        ]

        # The unit accepts (an update: a new clock); STAFF2 holds it and is reminded in private
        # eight working hours later, then the supervisors again after sixteen.
        await bot.services.desk.accept_referral(await bot.services.desk.actor(STAFF2), case["id"])
        bot.clock.now = tehran(12, 1, 10)
        await run_job(bot, "sla-reminders")
        nudge = await people[STAFF2].expect_message("⏰")
        assert code in nudge.text
        bot.clock.now = tehran(12, 2, 10)
        await run_job(bot, "sla-reminders")
        second = await people[SUP1].expect_message("🔺")
        assert text.to_persian_digits(STAFF2) in second.text  # never wrote to the bot: no name
        await run_job(bot, "sla-reminders")
        sent = await queued(bot, "sla_reminder", "sla_escalation")
        assert sent[4:] == [
            (STAFF2, "sla_reminder"),
            (SUP1, "sla_escalation"),
            (SUP2, "sla_escalation"),
            (STAFF_CHAT_ID, "sla_escalation"),
        ]
        # Managers, the first officer and the manager group are not part of the SLA chain.
        assert not {MANAGER, STAFF1, MANAGERS_GROUP} & {chat for chat, _ in sent}
        assert await queued(bot, "spike_alert") == []


async def test_an_unanswered_question_reminds_the_citizen_once_then_tells_the_holder(
    db_url: str, tmp_path: Path
) -> None:
    """`awaiting_citizen` is on a clock too: the citizen is reminded once at half of
    SLA_AWAITING_CITIZEN_WORK_HOURS, the holder is told once at its end, and an answer stops it."""
    async with running_bot(
        db_url,
        admin_ids=[ADMIN],
        sla_unclaimed_work_hours=500,
        sla_referral_remind_work_hours=500,
        sla_referral_escalate_work_hours=501,
        sla_awaiting_citizen_work_hours=16,
        holidays_dir=no_holidays(tmp_path),
    ) as bot:
        server = bot.server
        holder = server.user(STAFF1, first_name="کارشناس‌یک")
        citizen = server.user(CITIZENS[0], first_name="شهروند")
        await give_roles(bot, {STAFF1: Role.STAFF})
        bot.clock.now = tehran(11, 28, 10)  # Saturday 10:00
        await file_complaint(citizen, phone="+989121234567")
        [case] = await case_rows(bot, CITIZENS[0])
        desk = bot.services.desk
        await desk.claim(await desk.actor(STAFF1), case["id"])
        await desk.ask(await desk.actor(STAFF1), case["id"], "فاکتور دارید؟")
        await citizen.expect_message("فاکتور دارید؟")
        code = digits(case["code"])

        # Eight working hours: Sunday 10:00, the citizen is reminded, once.
        bot.clock.now = tehran(11, 29, 9, 59)
        await run_job(bot, "sla-reminders")
        assert await queued(bot, "sla_reminder") == []
        bot.clock.now = tehran(11, 29, 10)
        await run_job(bot, "sla-reminders")
        await run_job(bot, "sla-reminders")
        reminder = await citizen.expect_message("یادآوری")
        assert code in reminder.text and "پاسخ به این پرسش" in reminder.buttons()
        assert await queued(bot, "sla_reminder") == [(CITIZENS[0], "sla_reminder")]

        # Sixteen: Monday 10:00, the holder is told in private, once.
        bot.clock.now = tehran(11, 30, 10)
        await run_job(bot, "sla-reminders")
        await run_job(bot, "sla-reminders")
        late = await holder.expect_message("⏰")
        assert code in late.text
        assert await queued(bot, "sla_reminder") == [
            (CITIZENS[0], "sla_reminder"),
            (STAFF1, "sla_reminder"),
        ]

        # Answered: no clock runs any more.
        await citizen.send_text("بله، فاکتور دارم")
        await citizen.expect_message("پاسخ شما")
        bot.clock.now = tehran(12, 5, 10)
        await run_job(bot, "sla-reminders")
        assert len(await queued(bot, "sla_reminder")) == 2


async def _card_recorded(bot: Bot, case_id: int, chat_id: int, message_id: int) -> None:
    """Until the bot has recorded where the unit's card is (it does so once Telegram answered
    the send, a moment after the card shows): a reminder replies to that card."""
    for _ in range(2000):
        async with bot.services.rt.engine.connect() as conn:
            found = await case_store.card_message_id(conn, case_id, chat_id, Purpose.UNIT_CARD)
        if found == message_id:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the unit's card {message_id} was never recorded")
