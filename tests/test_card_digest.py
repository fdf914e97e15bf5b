"""A wave of new cases while the staff group is at its limit: the cards waiting are posted as one
«N پروندهٔ جدید» message with a button per case, and a press posts that case's own card there.
Nothing is lost (every card row is settled, every case reachable) and nothing is posted twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot.domain import tracking
from bot.domain.lifecycle import Action
from bot.domain.purposes import Purpose
from bot.localapi import BotMessage
from bot.services.desk import Done
from bot.storage import chats
from bot.storage import inbox as inbox_store
from bot.storage import outbox as outbox_store
from bot.storage.tables import outbox
from tests.flows import case_rows, file_complaint
from tests.harness import STAFF_CHAT_ID, Bot, running_bot
from tests.test_staff_actions import CLAIM, NOT_STAFF, _claim, _short
from tests.test_staff_desk import ADMIN, STAFF1, _alert, _setup

CITIZENS = (1201, 1202, 1203, 1204, 1205, 1206)
FUEL, FOOD = "سوخت", "مواد غذایی و خواربار"


async def _card_rows(bot: Bot) -> list[dict[str, object]]:
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.case_id, outbox.c.status, outbox.c.result_message_id)
            .where(outbox.c.purpose == "case_card")
            .order_by(outbox.c.id)
        )
        return [dict(r) for r in rows.mappings()]


BLOCKER = "یادداشت آزمایشی میز"


async def _block_lane(bot: Bot, chat_id: int, *, minutes: float) -> None:
    """A message to the chat that waits for its retry, holding back the chat's lane."""
    now = bot.services.rt.now()
    async with bot.services.rt.engine.begin() as conn:
        row_id = await outbox_store.enqueue(
            conn,
            chat_id=chat_id,
            method="sendMessage",
            payload={"text": BLOCKER},
            purpose=Purpose.ADMIN_ALERT,
            now=now,
        )
        await conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id)
            .values(next_attempt_at=now + timedelta(minutes=minutes))
        )


async def _busy_minute_after(bot: Bot, chat_id: int, *, places: int) -> None:
    """A minute and a second later (the blocker's retry is due, the cards waited a minute), the
    group's minute used by earlier posts but for `places` places (the lane's blocker, sent
    first, takes one of them): a wave, not a short outage, is what a digest is for. The posts
    are written before the clock moves: written after, a worker's poll between the two could
    send the blocker and draw a card into a minute still empty."""
    rt = bot.services.rt
    later = rt.now() + timedelta(minutes=1, seconds=1)
    async with rt.engine.begin() as conn:
        for n in range(rt.settings.group_rate - places):
            row_id = await outbox_store.enqueue(
                conn,
                chat_id=chat_id,
                method="sendMessage",
                payload={"text": BLOCKER},
                purpose=Purpose.ADMIN_ALERT,
                now=later,
            )
            await outbox_store.mark_sent(conn, row_id, later, 8000 + n)
    bot.clock.advance(minutes=1, seconds=1)


async def _inbox_empty(bot: Bot) -> None:
    """Every update received so far was handled to its end."""
    for _ in range(200):
        async with bot.services.rt.engine.connect() as conn:
            if not await inbox_store.unhandled(conn, limit=1):
                return
        await bot.server.wait_until(lambda: True, timeout=0.05)
    raise AssertionError("updates still unhandled")


async def _filed_behind(
    bot: Bot, chat_id: int, count: int, *, minutes: float = 1, sector: str | None = None
) -> list[dict[str, Any]]:
    """The chat's lane held back (`_block_lane`) while `count` citizens file a complaint each,
    so their cards queue behind the blocker; returns their cases."""
    await _block_lane(bot, chat_id, minutes=minutes)
    citizens = [bot.server.user(uid, first_name=f"شهروند{uid}") for uid in CITIZENS[:count]]
    for citizen in citizens:
        await file_complaint(citizen, sector=sector)
    return [(await case_rows(bot, c.id))[-1] for c in citizens]


async def _settled(bot: Bot, count: int) -> list[dict[str, object]]:
    """The card rows once `count` of them are settled: the worker marks them just after
    Telegram accepted the message, so the message may be seen a moment before the mark."""
    rows = await _card_rows(bot)
    for _ in range(200):
        if sum(r["status"] != "pending" for r in rows) >= count:
            break
        await bot.server.wait_until(lambda: True, timeout=0.05)
        rows = await _card_rows(bot)
    return rows


async def test_cards_waiting_behind_a_late_one_go_out_as_one_digest(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff = p["staff"]
        # The group is at its limit: its lane is held back by an earlier message waiting for a
        # retry while four complaints come in and their cards queue behind it.
        codes = [c["code"] for c in await _filed_behind(bot, staff.id, 4)]
        await _busy_minute_after(bot, staff.id, places=2)  # the blocker, then one place for four
        bot.services.rt.ring()

        await staff.expect_message(BLOCKER)
        digest = await staff.expect_message("۴ پروندهٔ جدید")
        for code in codes:
            assert tracking.format_code(code) in digest.text
        assert digest.buttons() == [tracking.format_code(c) for c in codes]
        assert "شکایت‌های زیادی با هم رسیده است" in digest.text
        # Every card row is settled, the three by the digest's one message.
        rows = await _settled(bot, 4)
        assert [r["status"] for r in rows] == ["sent"] * 4
        assert {r["result_message_id"] for r in rows} == {digest.message_id}
        assert not [m for m in bot.server.messages(staff.id) if CLAIM in m.buttons()]
        posted = len(bot.server.messages(staff.id))

        async def press(who: str, code: str) -> str:
            data = digest.button_data(tracking.format_code(code))
            return await staff.press(from_user=p[who], data=data, message=digest)

        # A staff member asks for one of them: its card is posted in the group and works.
        qid = await staff.press(
            from_user=p["s1"], text=tracking.format_code(codes[2]), message=digest
        )
        await staff.expect_answer(qid)
        card = await staff.expect_message(_short(codes[2]))
        assert CLAIM in card.buttons()
        await _claim(staff, p["s1"], card)  # the claim redraws this card: it is on record
        assert p["s1"].first_name in card.text

        # Asked for again (a double tap, a colleague): no second copy, a word where it is.
        qid = await staff.press(
            from_user=p["s2"], text=tracking.format_code(codes[2]), message=digest
        )
        assert "پیش‌تر در همین گروه" in await _alert(staff, qid)
        # Someone who is not staff, and forged data for a case that does not exist.
        qid = await staff.press(
            from_user=p["out"], text=tracking.format_code(codes[1]), message=digest
        )
        assert NOT_STAFF in await _alert(staff, qid)
        qid = await staff.press(from_user=p["s1"], data="s:post:999999", message=digest)
        assert "چنین پرونده‌ای نیست" in await _alert(staff, qid)
        assert len(bot.server.messages(staff.id)) == posted + 1  # only the one card


async def test_a_card_on_time_goes_out_alone_even_with_others_behind(db_url: str) -> None:
    """Cards that did not wait long (the group has room again soon) are each posted as a card."""
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff = p["staff"]
        codes = [c["code"] for c in await _filed_behind(bot, staff.id, 3, minutes=5 / 60)]
        bot.clock.advance(seconds=5)  # the lane moves again; the cards waited 5 s
        bot.services.rt.ring()
        cards: list[BotMessage] = [await staff.expect_message(_short(c)) for c in codes]
        assert all(CLAIM in c.buttons() for c in cards)
        assert not [m for m in bot.server.messages(staff.id) if "پروندهٔ جدید" in (m.text or "")]


async def test_a_few_cards_late_after_an_outage_go_out_as_cards(db_url: str) -> None:
    """The cards waited a minute (an outage held the lane back) but the group has room for
    them all: each goes as its own card, ready to claim; a digest would only add a press."""
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff = p["staff"]
        codes = [c["code"] for c in await _filed_behind(bot, staff.id, 3)]
        bot.clock.advance(minutes=1, seconds=1)
        bot.services.rt.ring()
        await staff.expect_message(BLOCKER)
        cards = [await staff.expect_message(_short(c)) for c in codes]
        assert all(CLAIM in c.buttons() for c in cards)
        assert not [m for m in bot.server.messages(staff.id) if "پروندهٔ جدید" in (m.text or "")]


async def test_a_card_for_a_group_whose_minute_is_used_up_waits_in_the_outbox(db_url: str) -> None:
    """The group took its limit in the last minute: the next card is put back (no attempt
    counted, nothing sent into the pacing to wait there) until a place frees; if by then
    more cards wait than the minute has places, they go as one digest."""
    async with running_bot(db_url, group_messages_per_minute=3) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        rt = bot.services.rt
        posted_at = rt.now()
        async with rt.engine.begin() as conn:  # the group's minute, used up a moment ago
            for n in range(3):
                row_id = await outbox_store.enqueue(
                    conn,
                    chat_id=staff.id,
                    method="sendMessage",
                    payload={"text": BLOCKER},
                    purpose=Purpose.ADMIN_ALERT,
                    now=posted_at,
                )
                await outbox_store.mark_sent(conn, row_id, posted_at, 7000 + n)
        citizens = [bot.server.user(uid, first_name=f"شهروند{uid}") for uid in CITIZENS[:4]]
        for citizen in citizens:
            await file_complaint(citizen)
        codes = [(await case_rows(bot, c.id))[-1]["code"] for c in citizens]

        async def first_card() -> dict[str, object]:
            async with rt.engine.connect() as conn:
                rows = await conn.execute(
                    select(outbox.c.status, outbox.c.attempts, outbox.c.next_attempt_at)
                    .where(outbox.c.purpose == "case_card")
                    .order_by(outbox.c.id)
                )
                return dict(rows.mappings().first() or {})

        row = await first_card()
        for _ in range(200):  # the worker puts it back just after it took it
            if row.get("next_attempt_at") != posted_at:
                break
            await bot.server.wait_until(lambda: True, timeout=0.05)
            row = await first_card()
        assert row == {
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": posted_at + timedelta(minutes=1),
        }
        assert not [m for m in bot.server.messages(staff.id) if _short(codes[0]) in m.text]

        bot.clock.advance(minutes=1, seconds=1)  # the minute is free; the cards waited a minute
        rt.ring()
        digest = await staff.expect_message("۴ پروندهٔ جدید")  # four cards, three places
        assert digest.buttons() == [tracking.format_code(c) for c in codes]
        assert [r["status"] for r in await _settled(bot, 4)] == ["sent"] * 4
        assert not [m for m in bot.server.messages(staff.id) if CLAIM in m.buttons()]


async def test_cards_for_a_group_that_became_a_supergroup_still_go_out_as_a_digest(
    db_url: str,
) -> None:
    """The staff group was upgraded: its rows are still queued under the old id (STAFF_CHAT_ID
    names it) and sent to the new one. The digest gathers the lane's rows and counts the lane's
    posts, whatever id the chat has now."""
    old_id, new_id = -4000002, -1004000002
    async with running_bot(db_url, staff_chat_id=old_id) as bot:
        bot.server.group(old_id, title="Staff")
        new = bot.server.migrate(old_id, new_id)
        rt = bot.services.rt
        async with rt.engine.begin() as conn:
            await chats.record_move(conn, old_id, new_id, rt.now())
        codes = [c["code"] for c in await _filed_behind(bot, old_id, 3)]
        await _busy_minute_after(bot, old_id, places=2)  # the lane's posts, under the id it had
        rt.ring()

        await new.expect_message(BLOCKER)
        digest = await new.expect_message("۳ پروندهٔ جدید")
        assert digest.buttons() == [tracking.format_code(c) for c in codes]
        assert [r["status"] for r in await _settled(bot, 3)] == ["sent"] * 3


async def test_a_digest_lists_only_the_cases_of_its_own_topic(db_url: str) -> None:
    """STAFF_ROUTES may send cases to topics of one forum group: a digest goes to one topic, so
    it gathers the cards queued for that topic only (a press posts the card where it is)."""
    forum_id = -1004000003
    async with running_bot(
        db_url, staff_chat_id=forum_id, staff_thread_id=2, staff_routes=f"sector:fuel={forum_id}/1"
    ) as bot:
        forum = bot.server.group(forum_id, title="Desk", is_forum=True)
        assert (forum.create_topic("سوخت"), forum.create_topic("سایر")) == (1, 2)
        await _block_lane(bot, forum_id, minutes=1)
        sectors = {1201: FUEL, 1202: FOOD, 1203: FUEL, 1204: FOOD, 1205: FUEL, 1206: FOOD}
        for uid, sector in sectors.items():
            await file_complaint(bot.server.user(uid, first_name=f"شهروند{uid}"), sector=sector)
        codes = {uid: (await case_rows(bot, uid))[-1]["code"] for uid in sectors}
        await _busy_minute_after(bot, forum_id, places=3)  # the blocker, then two places for six
        bot.services.rt.ring()

        await forum.expect_message(BLOCKER)
        fuel = await forum.expect_message("۳ پروندهٔ جدید")
        food = await forum.expect_message("۳ پروندهٔ جدید")
        assert (fuel.thread_id, food.thread_id) == (1, 2)
        assert fuel.buttons() == [tracking.format_code(codes[u]) for u in (1201, 1203, 1205)]
        assert food.buttons() == [tracking.format_code(codes[u]) for u in (1202, 1204, 1206)]
        assert [r["status"] for r in await _settled(bot, 6)] == ["sent"] * 6


async def test_two_colleagues_pressing_one_case_at_once_post_one_card(db_url: str) -> None:
    """Two staff members press the same case of a digest at the same moment (each in a lane of
    their own, so the two presses run side by side): one card is posted, the other hears it is
    there, and the card posted is the one kept up to date."""
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff = p["staff"]
        codes = [c["code"] for c in await _filed_behind(bot, staff.id, 2)]
        await _busy_minute_after(bot, staff.id, places=2)
        bot.services.rt.ring()
        digest = await staff.expect_message("۲ پروندهٔ جدید")
        await _settled(bot, 2)
        label = tracking.format_code(codes[1])
        first = await staff.press(from_user=p["s1"], text=label, message=digest)
        second = await staff.press(from_user=p["s2"], text=label, message=digest)
        await staff.expect_answer(first)
        await staff.expect_answer(second)
        await staff.expect_message(_short(codes[1]))
        await _inbox_empty(bot)  # both presses were handled to their end
        cards = [m for m in bot.server.messages(staff.id) if CLAIM in m.buttons()]
        assert len(cards) == 1


async def test_a_case_taken_up_before_its_digest_gets_its_own_card(db_url: str) -> None:
    """A digest lists new cases: one claimed meanwhile (from /queue, say) is left out of it
    and gets its card on its own, showing who holds it."""
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff = p["staff"]
        rows = await _filed_behind(bot, staff.id, 4)
        desk = bot.services.desk
        claimed = await desk.act(await desk.actor(STAFF1), Action.CLAIM, rows[1]["id"])
        assert isinstance(claimed, Done)
        await _busy_minute_after(bot, staff.id, places=3)  # the blocker; three new, two places
        bot.services.rt.ring()

        digest = await staff.expect_message("۳ پروندهٔ جدید")
        assert digest.buttons() == [tracking.format_code(rows[i]["code"]) for i in (0, 2, 3)]
        card = await staff.expect_message(_short(rows[1]["code"]))
        assert "کارشناس مسئول" in card.text and CLAIM not in card.buttons()  # held
        assert [r["status"] for r in await _settled(bot, 4)] == ["sent"] * 4
