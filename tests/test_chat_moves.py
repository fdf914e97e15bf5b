"""A staff group upgraded to a supergroup: the stored chat id moves and delivery carries on.

The bot learns the move from Telegram's notices of the upgrade (``migrate_to_chat_id`` in the
old group, ``migrate_from_chat_id`` in the new one) or, if it missed them, from a send to the
old id that fails."""

from __future__ import annotations

from sqlalchemy import select

from bot import text
from bot.storage.tables import chat_moves
from tests.flows import case_rows, file_complaint
from tests.harness import STAFF_CHAT_ID, Bot, running_bot
from tests.test_staff_actions import CLAIM, _claim, _short

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


async def _moves(bot: Bot) -> list[tuple[int, int]]:
    async with bot.services.rt.engine.connect() as conn:
        query = select(chat_moves.c.old_chat_id, chat_moves.c.new_chat_id)
        rows = (await conn.execute(query)).all()
    return [(int(old), int(new)) for old, new in rows]


async def _move_recorded(bot: Bot, move: tuple[int, int]) -> None:
    """The notices of the upgrade were handled: the move is in the database."""
    for _ in range(200):
        if move in await _moves(bot):
            return
        await bot.server.wait_until(lambda: True, timeout=0.05)
    raise AssertionError(f"move {move} not recorded")


async def test_the_upgrade_notice_moves_the_staff_group_before_any_send_fails(
    db_url: str,
) -> None:
    """Told of the upgrade, the bot sends nothing more to the old id (no refused call at all),
    and a desk command typed in the supergroup right after is taken as the staff group's."""
    async with running_bot(db_url, staff_chat_id=OLD, admin_ids=[ADMIN]) as bot:
        old = bot.server.group(OLD, title="Staff")
        admin = bot.server.user(ADMIN, first_name="مدیر")
        staff1 = bot.server.user(STAFF1, first_name="کارشناس")
        await old.send_text(from_user=admin, text=f"/staff add {STAFF1} staff")
        await old.expect_message("کارکنان")
        citizen = bot.server.user(1001, first_name="شهروند")
        await file_complaint(citizen)
        [first] = await case_rows(bot, 1001)
        card = await old.expect_message(_short(first["code"]))

        new = bot.server.migrate(OLD, NEW, by=admin)
        await _move_recorded(bot, (OLD, NEW))
        await new.send_text(from_user=admin, text="/staff add 9102 staff")
        await new.expect_message("کارکنان")

        # The first case's card cannot be edited in the old group: it is posted afresh in
        # the supergroup, where its buttons work.
        desk = bot.services.desk
        actor = await desk.actor(STAFF1)
        assert type(await desk.mark_urgent(actor, first["id"])).__name__ == "Done"
        moved = await new.expect_message(_short(first["code"]))
        assert moved.message_id != card.message_id
        await _claim(new, staff1, moved)
        await file_complaint(citizen)
        second = (await case_rows(bot, 1001))[-1]
        assert CLAIM in (await new.expect_message(_short(second["code"]))).buttons()
        assert await _moves(bot) == [(OLD, NEW)]
        bot.server.assert_no_refusals()


async def test_a_routed_desk_upgraded_is_known_by_its_new_id_at_once(db_url: str) -> None:
    """STAFF_ROUTES names a basic group: after the upgrade notices, its cases' cards go to the
    supergroup and a press there is taken as the routed desk's."""
    routed_old, routed_new = -4000002, -1004000002
    async with running_bot(
        db_url, admin_ids=[ADMIN], staff_routes=f"sector:fuel={routed_old}"
    ) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        bot.server.group(routed_old, title="Fuel")
        admin = bot.server.user(ADMIN, first_name="مدیر")
        staff1 = bot.server.user(STAFF1, first_name="کارشناس")
        await staff.send_text(from_user=admin, text=f"/staff add {STAFF1} staff")
        await staff.expect_message("کارکنان")

        new = bot.server.migrate(routed_old, routed_new, by=admin)
        await _move_recorded(bot, (routed_old, routed_new))
        await new.send_text(from_user=staff1, text="/queue")
        queue = await new.expect_message()
        assert "فقط در گروه کارکنان" not in queue.text
        citizen = bot.server.user(1001, first_name="شهروند")
        await file_complaint(citizen, sector="سوخت")
        [case] = await case_rows(bot, 1001)
        card = await new.expect_message(_short(case["code"]))
        await _claim(new, staff1, card)
        assert bot.server.messages(routed_old) == []
        bot.server.assert_no_refusals()


async def test_an_upgraded_managers_group_still_gets_its_reports(db_url: str) -> None:
    """MANAGER_CHAT_IDS names a basic group: once upgraded, /report typed in the supergroup by
    someone with no role of their own is answered as the managers' chat's, and a stranger's
    group is still refused."""
    managers_old, managers_new, member = -4000003, -1004000003, 7301
    async with running_bot(db_url, admin_ids=[ADMIN], manager_chat_ids=[managers_old]) as bot:
        bot.server.group(managers_old, title="Managers")
        admin = bot.server.user(ADMIN, first_name="مدیر")
        someone = bot.server.user(member, first_name="عضو")
        new = bot.server.migrate(managers_old, managers_new, by=admin)
        await _move_recorded(bot, (managers_old, managers_new))
        await new.send_text(from_user=someone, text="/report")
        report = await new.expect_message()
        assert "فقط برای مدیران" not in report.text
        elsewhere = bot.server.group(-1004000009, title="Elsewhere")
        await elsewhere.send_text(from_user=someone, text="/report")
        assert "فقط برای مدیران" in (await elsewhere.expect_message()).text
