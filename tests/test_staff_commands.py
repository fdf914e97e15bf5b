"""End to end: desk commands typed the way a Persian-speaking officer types them: Persian words
for roles, units and outcomes, ids with Persian digits or copied from the bot's own messages
(with their direction marks), and a help whose lines all read right-to-left."""

from __future__ import annotations

from sqlalchemy import select

from bot import text
from bot.localapi import FakeGroup
from bot.storage.tables import cases, units
from tests.flows import case_rows, file_complaint
from tests.harness import STAFF_CHAT_ID, Bot, running_bot

ADMIN, OFFICER, SUPERVISOR, CITIZEN = 9001, 9101, 9201, 1001
UNIT_CHAT = -1002000000002


async def _desk(bot: Bot) -> FakeGroup:
    staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
    bot.server.group(UNIT_CHAT, title="Unit")
    admin = bot.server.user(ADMIN, first_name="راهبر")
    bot.server.user(OFFICER, first_name="کارشناس")
    bot.server.user(SUPERVISOR, first_name="سرپرست")
    officer_id = text.to_persian_digits(OFFICER)
    await staff.send_text(from_user=admin, text=f"/staff افزودن {officer_id} کارشناس")
    listed = await staff.expect_message("کارکنان")
    assert text.format_id(OFFICER) in listed.text
    await staff.send_text(from_user=admin, text=f"/staff add {SUPERVISOR} سرپرست")
    await staff.expect_message(text.format_id(SUPERVISOR))
    # The unit by a word of its name, the chat id as the bot shows it (copied with its marks).
    await staff.send_text(from_user=admin, text=f"/units بازار {text.format_id(UNIT_CHAT)}")
    listed = await staff.expect_message(text.format_id(UNIT_CHAT))
    assert "تنظیم بازار" in listed.text
    return staff


async def _claimed_case(bot: Bot, staff: FakeGroup) -> tuple[int, str]:
    await file_complaint(bot.server.user(CITIZEN, first_name="شهروند"))
    row = (await case_rows(bot, CITIZEN))[-1]
    card = await staff.expect_message(text.to_persian_digits(row["code"][:5]))
    officer = bot.server.user(OFFICER)
    qid = await staff.press(from_user=officer, data=f"s:claim:{row['id']}", message=card)
    await staff.expect_answer(qid)
    return row["id"], row["code"]


async def _case(bot: Bot, case_id: int) -> dict[str, object]:
    async with bot.services.rt.engine.connect() as conn:
        found = await conn.execute(select(cases).where(cases.c.id == case_id))
        return dict(found.mappings().one())


async def test_resolve_and_refer_with_persian_words(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        staff = await _desk(bot)
        officer = bot.server.user(OFFICER)
        citizen = bot.server.user(CITIZEN)
        case_id, code = await _claimed_case(bot, staff)

        # Not an outcome: the usage, with the words, and nothing changes.
        await staff.send_text(from_user=officer, text=f"/resolve {code} تمام")
        usage = await staff.expect_message("ثبت نتیجه")
        assert "«برطرف»" in usage.text and "«شعبه»" in usage.text
        assert (await _case(bot, case_id))["status"] == "claimed"

        await staff.send_text(
            from_user=officer, text=f"/resolve {code} مشکل برطرف شد فروشنده مبلغ را پس داد"
        )
        await staff.expect_message("نتیجه ثبت شد")
        notice = await citizen.expect_message("فروشنده مبلغ را پس داد")
        assert "مشکل برطرف شد" not in notice.text.split("فروشنده")[1]  # the words were eaten
        case = await _case(bot, case_id)
        assert (case["status"], case["outcome"]) == ("resolved", "resolved")

        case_id, code = await _claimed_case(bot, staff)
        # A word no unit's name holds: the list of units, nothing changes.
        await staff.send_text(from_user=officer, text=f"/refer {code} شهرداری")
        await staff.expect_message("واحدها")
        assert (await _case(bot, case_id))["status"] == "claimed"
        await staff.send_text(from_user=officer, text=f"/refer {code} تنظیم بازار")
        await staff.expect_message("ارجاع شد")
        unit_card = await bot.server.group(UNIT_CHAT).expect_message(
            text.to_persian_digits(code[:5])
        )
        assert unit_card.text
        async with bot.services.rt.engine.connect() as conn:
            market = (
                await conn.execute(select(units.c.id).where(units.c.code == "market_regulation"))
            ).scalar_one()
        case = await _case(bot, case_id)
        assert (case["status"], case["unit_id"]) == ("referred", market)


async def test_the_help_reads_right_to_left(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        staff = await _desk(bot)
        await staff.send_text(from_user=bot.server.user(ADMIN), text="/help")
        help_text = await staff.expect_message("پرسش از شهروند")
        lines = help_text.text.split("\n")
        # Each command comes after its description, isolated; no line begins with it.
        assert not [line for line in lines if line.lstrip("• ").startswith("/")]
        assert "پرسش از شهروند: \u2066/ask\u2069 کد پرسش" in help_text.text
        assert "«راهبر»" in help_text.text and "افزودن" in help_text.text
        assert "branch" not in help_text.text and "[" not in help_text.text
