"""A staff group upgraded to a supergroup: the stored chat id moves and delivery carries on."""

from __future__ import annotations

from sqlalchemy import select

from bot import text
from bot.storage.tables import chat_moves
from tests.flows import case_rows, file_complaint
from tests.harness import running_bot

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
        assert edited.text.startswith("🔴")
