"""A staff group upgraded to a supergroup: the stored chat id moves and delivery carries on."""

from __future__ import annotations

from sqlalchemy import select

from bot import text
from bot.storage.tables import chat_moves
from tests.flows import case_rows, file_complaint
from tests.harness import STAFF_CHAT_ID, running_bot

OLD, NEW, ADMIN, STAFF1 = -4000001, -1004000001, 9001, 9101


async def test_cards_follow_the_group_to_its_new_supergroup(db_url: str) -> None:
    async with running_bot(db_url, staff_chat_id=OLD, admin_ids=[ADMIN]) as bot:
        old = bot.server.group(OLD, title="Staff")
        admin = bot.server.user(ADMIN, first_name="مدیر")
        bot.server.user(STAFF1, first_name="کارشناس")
        await old.send_text(from_user=admin, text=f"/staff add {STAFF1} staff")
        await old.expect_message("کارکنان")
        citizen = bot.server.user(1001, first_name="شهروند")
        await file_complaint(citizen, phone="+989121234567")
        [first] = await case_rows(bot, 1001)
        await old.expect_message(text.to_persian_digits(first["code"][:5]))

        new = bot.server.migrate(OLD, NEW)
        bot.server.expect_refusal("upgraded to a supergroup")
        bot.clock.advance(minutes=5)
        await file_complaint(citizen)
        second = (await case_rows(bot, 1001))[-1]
        card2 = await new.expect_message(text.to_persian_digits(second["code"][:5]))
        async with bot.services.rt.engine.connect() as conn:
            moves = (
                await conn.execute(select(chat_moves.c.old_chat_id, chat_moves.c.new_chat_id))
            ).all()
        assert [tuple(m) for m in moves] == [(OLD, NEW)]

        # The first case's card is redrawn in the new supergroup when it changes.
        desk = bot.services.desk
        actor = await desk.actor(STAFF1)
        assert type(await desk.claim(actor, first["id"])).__name__ == "Done"
        moved = await new.expect_message(text.to_persian_digits(first["code"][:5]))
        assert "کارشناس" in moved.text and moved.message_id != card2.message_id
        # And it is edited in place there afterwards.
        assert type(await desk.mark_urgent(actor, first["id"])).__name__ == "Done"
        edited = await new.expect_edit(moved)
        assert edited.text.startswith("\u200f🔴")


async def test_a_unit_chat_that_moved_gets_its_card_and_the_staff_group_stays(
    db_url: str,
) -> None:
    """The move is learnt from a card refresh, which is queued for the staff group: the unit's
    chat is what moved, not the staff group."""
    unit_old, unit_new = -5000001, -1005000001
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        unit = bot.server.group(unit_old, title="Market regulation")
        admin = bot.server.user(ADMIN, first_name="مدیر")
        bot.server.user(STAFF1, first_name="کارشناس")
        await staff.send_text(from_user=admin, text=f"/staff add {STAFF1} staff")
        await staff.expect_message("کارکنان")
        await staff.send_text(from_user=admin, text=f"/units market_regulation {unit_old}")
        await staff.expect_message(text.format_id(unit_old))
        citizen = bot.server.user(1001, first_name="شهروند")
        await file_complaint(citizen)
        [case] = await case_rows(bot, 1001)
        short = text.to_persian_digits(case["code"][:5])
        card = await staff.expect_message(short)
        desk = bot.services.desk
        actor = await desk.actor(STAFF1)
        [market] = [u for u in await desk.units() if u["chat_id"] == unit_old]
        assert type(await desk.claim(actor, case["id"])).__name__ == "Done"
        assert type(await desk.refer(actor, case["id"], market["id"])).__name__ == "Done"
        await unit.expect_message(short)
        await staff.expect_edit(card, "واحد رسیدگی‌کننده: تنظیم بازار")

        new = bot.server.migrate(unit_old, unit_new)
        bot.server.expect_refusal("upgraded to a supergroup")
        assert type(await desk.mark_urgent(actor, case["id"])).__name__ == "Done"
        moved = await new.expect_message(short)
        assert moved.text.startswith("\u200f🔴")
        await staff.expect_edit(card)
        assert card.text.startswith("\u200f🔴")
        async with bot.services.rt.engine.connect() as conn:
            moves = (
                await conn.execute(select(chat_moves.c.old_chat_id, chat_moves.c.new_chat_id))
            ).all()
        assert [tuple(m) for m in moves] == [(unit_old, unit_new)]
        assert [u["chat_id"] for u in await desk.units() if u["id"] == market["id"]] == [unit_new]
        # The staff group still gets its messages.
        await file_complaint(bot.server.user(1002, first_name="دیگری"))
        [other] = await case_rows(bot, 1002)
        await staff.expect_message(text.to_persian_digits(other["code"][:5]))
