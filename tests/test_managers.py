"""End to end: summaries pushed to managers at the right Tehran times, once; /report, /export
and the drill-down buttons; non-managers refused."""

from __future__ import annotations

import io

import openpyxl
from sqlalchemy import func, select

from bot.domain.roles import Role
from bot.storage.tables import scheduled_pushes
from tests.flows import file_complaint
from tests.harness import Bot, running_bot

MANAGER, STAFF, SUPERVISOR, CITIZEN, ADMIN = 7001, 7101, 7201, 1001, 9001
MANAGERS_GROUP = -1003000000003


async def _run_push_job(bot: Bot) -> None:
    [job] = bot.app.job_queue.get_jobs_by_name("push-summaries")  # type: ignore[union-attr]
    await job.run(bot.app)


async def _pushes(bot: Bot) -> list[str]:
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(
            select(scheduled_pushes.c.kind, scheduled_pushes.c.period_key).order_by(
                scheduled_pushes.c.id
            )
        )
        return [f"{k}:{p}" for k, p in rows]


async def _roles(bot: Bot) -> None:
    desk = bot.services.desk
    admin = await desk.actor(ADMIN)
    await desk.set_role(admin, MANAGER, Role.MANAGER)
    await desk.set_role(admin, STAFF, Role.STAFF)
    await desk.set_role(admin, SUPERVISOR, Role.SUPERVISOR)


async def test_daily_and_weekly_pushes_fire_on_time_once_and_catch_up(db_url: str) -> None:
    async with running_bot(
        db_url, admin_ids=[ADMIN], manager_chat_ids=[MANAGERS_GROUP], weekly_summary_at="fri 20:00"
    ) as bot:
        group = bot.server.group(MANAGERS_GROUP, title="Managers")
        manager = bot.server.user(MANAGER, first_name="مدیر")
        await _roles(bot)
        await file_complaint(bot.server.user(CITIZEN, first_name="شهروند"))

        # Saturday 7 Azar 10:00: Friday's 20:00 daily and the week that ended then are due.
        await _run_push_job(bot)
        assert await _pushes(bot) == ["daily:d:20261127", "weekly:w:20261121"]
        for chat in (group, manager):
            await chat.expect_message(predicate=lambda m: m.kind == "photo")
            daily = await chat.expect_message("گزارش روزانهٔ جمعه ۶ آذر ۱۴۰۵")
            assert "استان" in " ".join(daily.buttons())
            await chat.expect_message(predicate=lambda m: m.kind == "photo")
            await chat.expect_message("گزارش هفتگی ۳۰ آبان تا ۶ آذر ۱۴۰۵")

        await _run_push_job(bot)  # nothing twice
        bot.clock.advance(hours=9, minutes=59)  # 19:59
        await _run_push_job(bot)
        assert len(await _pushes(bot)) == 2
        bot.clock.advance(minutes=1)  # 20:00 Saturday
        await _run_push_job(bot)
        assert (await _pushes(bot))[-1] == "daily:d:20261128"
        today = await manager.expect_message("گزارش روزانهٔ شنبه ۷ آذر ۱۴۰۵")
        assert "۱" in today.text  # the complaint filed today is counted

        # Across the week boundary: Friday 13 Azar 20:00 gives a daily and the week 7–13 Azar.
        bot.clock.advance(days=6)
        await bot.restart()
        await _run_push_job(bot)
        await _run_push_job(bot)
        assert (await _pushes(bot))[-2:] == ["daily:d:20261204", "weekly:w:20261128"]
        await manager.expect_message("گزارش هفتگی ۷ تا ۱۳ آذر ۱۴۰۵")

        # Down for three days: the missed dailies are caught up once, with the latest only.
        bot.clock.advance(days=3)
        await _run_push_job(bot)
        await _run_push_job(bot)
        assert (await _pushes(bot))[-1] == "daily:d:20261207"
        async with bot.services.rt.engine.connect() as conn:
            count = (
                await conn.execute(select(func.count()).select_from(scheduled_pushes))
            ).scalar()
        assert count == 6


async def test_report_command_periods_drilldown_and_refusals(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        await _roles(bot)
        manager = bot.server.user(MANAGER, first_name="مدیر")
        staff = bot.server.user(STAFF, first_name="کارشناس")
        await file_complaint(bot.server.user(CITIZEN, first_name="شهروند"))

        await staff.send_text("/report")
        await staff.expect_message("فقط برای مدیران")
        await manager.send_text("/report week")
        await manager.expect_message(predicate=lambda m: m.kind == "photo")
        week = await manager.expect_message("گزارش هفتگی")
        assert "شکایت‌های تازه" in week.text
        await manager.send_text("/report ۱۴۰۵/۰۹/۰۱ 1405-09-07")
        await manager.expect_message(predicate=lambda m: m.kind == "photo")
        ranged = await manager.expect_message("۱ آذر ۱۴۰۵")
        assert "۷ آذر ۱۴۰۵" in ranged.text
        # Persian words beside the Latin codes, and a range written as it is said.
        await manager.send_text("/report از ۱۴۰۵/۰۹/۰۱ تا ۱۴۰۵/۰۹/۰۷")
        await manager.expect_message(predicate=lambda m: m.kind == "photo")
        ranged = await manager.expect_message("۱ آذر ۱۴۰۵")
        assert "۷ آذر ۱۴۰۵" in ranged.text
        await manager.send_text("/report هفتهٔ گذشته")
        await manager.expect_message(predicate=lambda m: m.kind == "photo")
        last_week = await manager.expect_message("گزارش هفتگی")
        assert "۳۰ آبان تا ۶ آذر ۱۴۰۵" in last_week.text
        await manager.send_text("/report 1405/13/01")
        usage = await manager.expect_message("روش استفاده")
        assert "/report" in usage.text and "«هفتهٔ گذشته»" in usage.text

        await manager.send_text("/report")
        await manager.expect_message(predicate=lambda m: m.kind == "photo")
        today = await manager.expect_message("گزارش روزانهٔ شنبه ۷ آذر ۱۴۰۵")
        await manager.press(next(b for b in today.buttons() if "استان" in b), message=today)
        provinces = await manager.expect_message("تهران")
        assert "۱" in provinces.text
        qid = await staff.press(data=today.button_data(today.buttons()[0]), message=today)
        assert (await staff.expect_answer(qid))["show_alert"]
        qid = await manager.press(data="r:prov:x:99999999", message=today)
        assert (await manager.expect_answer(qid))["show_alert"]


async def test_export_opens_in_openpyxl_and_hides_phones_from_managers(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        await _roles(bot)
        await file_complaint(bot.server.user(CITIZEN, first_name="شهروند"), phone="+989121234567")
        for uid, sees_phone in ((MANAGER, False), (SUPERVISOR, True)):
            user = bot.server.user(uid, first_name="x")
            await user.send_text("/export today")
            xlsx = await user.expect_message(predicate=lambda m: m.kind == "document")
            await user.expect_message(predicate=lambda m: m.kind == "document")
            data = bot.server.files[xlsx.media[0]].content
            assert data is not None
            sheet = openpyxl.load_workbook(io.BytesIO(data)).active
            rows = list(sheet.iter_rows(values_only=True))
            assert len(rows) == 2  # header and the one case
            flat = " ".join(str(v) for v in rows[1])
            assert ("+989121234567" in flat) is sees_phone
        bot.server.user(STAFF, first_name="k")
        await bot.server.user(STAFF).send_text("/export")
        await bot.server.user(STAFF).expect_message("فقط برای مدیران")
