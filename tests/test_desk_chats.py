"""End to end: desk commands answer only on the desk and only to desk roles.

The desk is the staff chat, a unit's chat and a desk member's private chat with the bot. A
manager reads the summaries, not the internal notes; a staff member typing /case in some other
group the bot is in (a managers' group, any group) gets a refusal, not the case.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot import text
from bot.domain.roles import Role
from bot.services.desk import Refusal, Refused
from bot.storage import chats
from tests.flows import case_rows, file_complaint
from tests.harness import STAFF_CHAT_ID, Bot, running_bot

ADMIN, STAFF1, MANAGER, OUTSIDER, CITIZEN = 8901, 8101, 8001, 8301, 1001
UNIT_CHAT = -1002000000002
MANAGERS_GROUP = -1003000000003
OTHER_GROUP = -1006000000006
NOTE = "یادداشت داخلی: فروشنده آشنای یکی از همکاران است"
NOT_STAFF = "فقط برای کارکنان تعزیرات مجاز است"
NOT_DESK = "فقط در گروه کارکنان"
COMMANDS = ("/case {code}", "/queue", "/mine", "/find {code}", "/staff", "/units", "/help")


async def _setup(bot: Bot) -> str:
    """Roles, a unit chat and a case with an internal note; returns the case's code."""
    desk = bot.services.desk
    admin = await desk.actor(ADMIN)
    await desk.set_role(admin, STAFF1, Role.STAFF)
    await desk.set_role(admin, MANAGER, Role.MANAGER)
    assert not isinstance(
        await desk.set_unit_chat(admin, "market_regulation", UNIT_CHAT, None), Refused
    )
    await file_complaint(bot.server.user(CITIZEN, first_name="شهروند"), phone="+989121234567")
    [case] = await case_rows(bot, CITIZEN)
    staff = await desk.actor(STAFF1)
    assert not isinstance(await desk.claim(staff, case["id"]), Refused)
    assert not isinstance(await desk.note(staff, case["id"], NOTE), Refused)
    return str(case["code"])


async def test_managers_are_refused_desk_commands_and_never_see_notes(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN], manager_chat_ids=[MANAGERS_GROUP]) as bot:
        code = await _setup(bot)
        staff_group = bot.server.group(STAFF_CHAT_ID, title="Staff")
        managers_group = bot.server.group(MANAGERS_GROUP, title="Managers")
        manager = bot.server.user(MANAGER, first_name="مدیر")
        for chat in (staff_group, managers_group):
            for command in COMMANDS:
                await chat.send_text(from_user=manager, text=command.format(code=code))
                await chat.expect_message(NOT_STAFF)
        for command in COMMANDS[:-1]:  # /help in a private chat is the citizen's help
            await manager.send_text(command.format(code=code))
            await manager.expect_message(NOT_STAFF)
        for chat in (staff_group, managers_group, manager):
            assert not any(NOTE in (m.text or "") for m in chat.inbox)
        # What managers do get: the summaries.
        await manager.send_text("/report")
        await manager.expect_message("گزارش روزانه")


async def test_staff_are_refused_desk_commands_outside_the_desk(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN], manager_chat_ids=[MANAGERS_GROUP]) as bot:
        code = await _setup(bot)
        staff = bot.server.user(STAFF1, first_name="کارشناس")
        admin = bot.server.user(ADMIN, first_name="مدیرکل")
        outsider = bot.server.user(OUTSIDER, first_name="عضو")
        for group_id in (OTHER_GROUP, MANAGERS_GROUP):
            group = bot.server.group(group_id, title="Some group")
            for user in (staff, admin):
                for command in COMMANDS:
                    await group.send_text(from_user=user, text=command.format(code=code))
                    await group.expect_message(NOT_DESK)
            await group.send_text(from_user=outsider, text=f"/case {code}")
            await group.expect_message(NOT_STAFF)
            assert not any(NOTE in (m.text or "") for m in group.inbox)
            # Nothing of the case either: no card, no timeline, no queue line.
            assert not any(text.to_persian_digits(code[:5]) in (m.text or "") for m in group.inbox)


async def test_staff_use_desk_commands_in_the_staff_group_a_unit_chat_and_privately(
    db_url: str,
) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        code = await _setup(bot)
        staff = bot.server.user(STAFF1, first_name="کارشناس")
        staff_group = bot.server.group(STAFF_CHAT_ID, title="Staff")
        unit_group = bot.server.group(UNIT_CHAT, title="Market regulation")
        for chat in (staff_group, unit_group):
            await chat.send_text(from_user=staff, text=f"/case {code}")
            timeline = await chat.expect_message("روند پروندهٔ")
            assert NOTE in timeline.text  # type: ignore[operator]
            await chat.send_text(from_user=staff, text="/mine")
            mine = await chat.expect_message("در دست شماست")
            assert text.to_persian_digits(code[:5]) in mine.text  # type: ignore[operator]
        await staff.send_text(f"/case {code}")
        timeline = await staff.expect_message("روند پروندهٔ")
        assert NOTE in timeline.text  # type: ignore[operator]
        await staff.send_text("/queue")
        await staff.expect_message("صف خالی است")  # the only case is claimed


async def test_the_rule_follows_the_staff_chat_to_its_supergroup(db_url: str) -> None:
    old, new = -4000001, -1004000001
    async with running_bot(db_url, admin_ids=[ADMIN], staff_chat_id=old) as bot:
        desk = bot.services.desk
        staff, manager = await desk.actor(ADMIN), await desk.actor(MANAGER)
        assert await desk.command_refusal(staff, old, private=False) is None
        assert await desk.command_refusal(staff, new, private=False) == Refused(
            Refusal.NOT_DESK_CHAT
        )
        async with bot.services.rt.engine.begin() as conn:
            await chats.record_move(conn, old, new, datetime(2026, 11, 28, tzinfo=UTC))
        assert await desk.command_refusal(staff, new, private=False) is None
        assert await desk.command_refusal(staff, ADMIN, private=True) is None
        assert await desk.command_refusal(manager, new, private=False) == Refused(Refusal.NOT_STAFF)
        assert await desk.command_refusal(manager, MANAGER, private=True) == Refused(
            Refusal.NOT_STAFF
        )


async def test_card_buttons_do_nothing_outside_the_desk(db_url: str) -> None:
    """A card forwarded to another group, or forged card data on any bot message there: the
    press is refused, no prompt or submenu appears there and nothing changes on the case."""
    async with running_bot(db_url, admin_ids=[ADMIN], manager_chat_ids=[MANAGERS_GROUP]) as bot:
        code = await _setup(bot)
        case = await bot.services.desk.case_by_code(code)
        assert case is not None
        cid = case["id"]
        staff = bot.server.user(STAFF1, first_name="کارشناس")
        group = bot.server.group(OTHER_GROUP, title="Some group")
        await group.send_text(from_user=staff, text="/queue")
        refusal = await group.expect_message(NOT_DESK)
        for action in ("note", "back", "refer", "mark_urgent", "phone"):
            data = f"s:{action}:{cid}"
            qid = await group.press(from_user=staff, data=data, message=refusal)
            alert = await group.expect_answer(qid)
            assert NOT_DESK in alert.get("text", ""), (data, alert)
        assert [m.message_id for m in group.inbox] == [refusal.message_id]
        assert refusal.edits == 0
        after = await bot.services.desk.case_by_code(code)
        assert after is not None and not after["urgent"]
