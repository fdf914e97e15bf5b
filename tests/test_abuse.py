"""Abuse: admins ban and unban with a reason; a banned user gets one clear message per attempt
and nothing reaches staff; a flooding user is cut off for a while, nobody else is."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.storage.tables import cases
from tests.flows import answer_until_evidence, start_filing
from tests.harness import STAFF_CHAT_ID, running_bot

ADMIN, CITIZEN, OTHER = 9001, 8001, 8002


async def test_ban_and_unban(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        admin = bot.server.user(ADMIN, first_name="مدیر")
        citizen = bot.server.user(CITIZEN, first_name="مزاحم")
        other = bot.server.user(OTHER, first_name="دیگری")
        await start_filing(citizen)
        await answer_until_evidence(citizen)

        await other.send_text(f"/ban {CITIZEN} توهین")  # not an admin
        await other.expect_message("فقط راهبران سامانه")
        await admin.send_text(f"/ban {CITIZEN} پیام‌های توهین‌آمیز")
        await admin.expect_message("مسدود شد")

        await citizen.send_text("پایان ارسال مدارک")
        await citizen.expect_message("دسترسی شما به این ربات مسدود شده است")
        qid = await citizen.press(data="f:ok", message=citizen.inbox[-2])
        assert (await citizen.expect_answer(qid))["show_alert"]
        await citizen.send_text("/start")
        await citizen.expect_message("دسترسی شما به این ربات مسدود شده است")
        async with bot.services.rt.engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(cases))).scalar() == 0
        assert bot.server.messages(STAFF_CHAT_ID) == []

        await admin.send_text(f"/unban {CITIZEN}")
        await admin.expect_message("دیگر مسدود نیست")
        await citizen.send_text("پایان ارسال مدارک")  # the draft was kept
        await citizen.expect_message("کارشناسان چگونه با شما تماس بگیرند")


async def test_a_flood_is_cut_off_for_the_flooder_only(db_url: str) -> None:
    async with running_bot(db_url, flood_max_updates=20, flood_window_seconds=10) as bot:
        flooder = bot.server.user(CITIZEN, first_name="پرحرف")
        other = bot.server.user(OTHER, first_name="آرام")
        for _ in range(30):
            await flooder.send_text("سلام")
        await flooder.expect_message("با سرعت زیاد")
        await other.send_text("/help")
        await other.expect_message("راهنمای کار با ربات")
        await bot.server.wait_updates_consumed()
        menu_replies = [m for m in flooder.inbox if "از منوی زیر" in m.text]
        assert len(menu_replies) == 20
        assert len([m for m in flooder.inbox if "با سرعت زیاد" in m.text]) == 1
