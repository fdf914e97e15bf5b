"""The outbox delivers chat by chat: a staff group at Telegram's 20-a-minute limit holds back
only its own cards, never a citizen's receipt; messages to one chat keep their order; a long
message whose later part failed resumes after the parts already sent; a card deleted in a chat
is posted again while its other copies are still refreshed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot import text
from bot.localapi import Call, Limits
from bot.services.desk import Done
from bot.storage import outbox as outbox_store
from bot.storage.tables import outbox
from bot.text import to_persian_digits
from tests.flows import (
    answer_until_evidence,
    case_rows,
    file_complaint,
    finish_after_evidence,
    start_filing,
)
from tests.harness import FAST_SERVER_RATE, STAFF_CHAT_ID, Bot, running_bot
from tests.test_staff_desk import ADMIN, CITIZEN, STAFF1, STAFF2, UNIT_CHAT, _setup

RECEIVED = "شکایت شما دریافت و ثبت شد"
GONE_ALERT = "تحویل داده نشد"
CLAIMED = "در دست بررسی کارشناس"


async def _queue(bot: Bot, chat_id: int, payload: dict[str, Any], purpose: str = "test") -> int:
    rt = bot.services.rt
    async with rt.engine.begin() as conn:
        row = await outbox_store.enqueue(
            conn,
            chat_id=chat_id,
            method="sendMessage",
            payload=payload,
            purpose=purpose,
            now=rt.now(),
        )
    rt.ring()
    return row


async def _rows(bot: Bot, **where: Any) -> list[dict[str, Any]]:
    query = select(outbox).order_by(outbox.c.id)
    for column, value in where.items():
        query = query.where(outbox.c[column] == value)
    async with bot.services.rt.engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings()]


def _results(bot: Bot) -> list[str]:
    """The worker's verdicts ("sent", "retry", "failed") in order; each wakes the waiters."""
    results: list[str] = []
    worker = bot.services.worker
    report = worker.on_result

    def record(result: str) -> None:
        report(result)
        results.append(result)
        bot.server.notify()

    worker.on_result = record
    return results


def _short(code: str) -> str:
    return text.to_persian_digits(code[:5])


# -- a chat's limit delays only that chat ---------------------------------------------------------


async def test_a_receipt_goes_out_while_the_staff_group_is_at_its_limit(db_url: str) -> None:
    # Telegram's real windows on the server, the bot's own pacing (20 a minute in a group).
    limits = Limits(private_per_second=FAST_SERVER_RATE)
    async with running_bot(db_url, limits=limits) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        citizen = bot.server.user(CITIZEN, first_name="شهروند")
        await start_filing(citizen)
        await answer_until_evidence(citizen)
        await finish_after_evidence(citizen)

        # A wave of cards: twenty fill the group's minute, five more have to wait for it.
        for i in range(25):
            await _queue(
                bot, STAFF_CHAT_ID, {"text": f"کارت شمارهٔ {to_persian_digits(i)}"}, "case_card_test"
            )
        await bot.server.wait_until(lambda: len(staff.inbox) == 20)

        await citizen.press("تأیید و ارسال")
        receipt = await citizen.expect_message(RECEIVED)
        # The receipt was not queued behind the cards: they (and this case's own card) are
        # still waiting for the group's next minute.
        assert len(staff.inbox) == 20
        waiting = [r for r in await _rows(bot, chat_id=STAFF_CHAT_ID) if r["status"] == "pending"]
        assert len(waiting) == 6 and waiting[-1]["purpose"] == "case_card"
        [case] = await case_rows(bot, CITIZEN)
        assert text.to_persian_digits(case["code"][:5]) in receipt.text
        # Within the group, the order was kept.
        assert [m.text for m in staff.inbox] == [
            f"کارت شمارهٔ {to_persian_digits(i)}" for i in range(20)
        ]


async def test_messages_to_one_chat_keep_their_order_while_one_waits_to_be_retried(
    db_url: str,
) -> None:
    async with running_bot(db_url) as bot:
        citizen = bot.server.user(CITIZEN, first_name="شهروند")
        other = bot.server.user(CITIZEN + 1, first_name="دیگری")
        results = _results(bot)
        bot.server.fail_next("sendMessage", error_code=500, chat_id=CITIZEN)
        await _queue(bot, CITIZEN, {"text": "پیام یکم"})
        await bot.server.wait_until(lambda: results == ["retry"])
        await _queue(bot, CITIZEN, {"text": "پیام دوم"})
        await _queue(bot, other.id, {"text": "به دیگری"})
        await other.expect_message("به دیگری")  # another chat is not held back
        assert citizen.inbox == []  # ...but the second message waits for the first
        bot.clock.advance(seconds=5)  # past the first backoff
        bot.services.rt.ring()
        await citizen.expect_message("پیام دوم")
        assert [m.text for m in citizen.inbox] == ["پیام یکم", "پیام دوم"]


# -- a long message resumes after the parts sent -------------------------------------------------


async def test_a_long_message_resumes_after_the_parts_already_sent(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        citizen = bot.server.user(CITIZEN, first_name="شهروند")
        results = _results(bot)
        sent_parts: list[Call] = []

        def fail_the_second_part(call: Call) -> None:
            if call.method == "sendMessage" and call.ok and call.params.get("chat_id") == CITIZEN:
                sent_parts.append(call)
                if len(sent_parts) == 1:
                    bot.server.fail_next("sendMessage", error_code=500, chat_id=CITIZEN)

        bot.server.on_call(fail_the_second_part)
        lines = [f"سطر {to_persian_digits(i)} " + "متن " * 40 for i in range(60)]
        markup = {"inline_keyboard": [[{"text": "دکمه", "callback_data": "x"}]]}
        row_id = await _queue(
            bot, CITIZEN, {"text": "\n".join(lines), "parse_mode": "HTML", "reply_markup": markup}
        )
        await bot.server.wait_until(lambda: results == ["retry"])
        [row] = await _rows(bot, id=row_id)
        assert (row["status"], row["parts_sent"]) == ("pending", 1)
        assert len(citizen.inbox) == 1

        bot.clock.advance(seconds=5)  # past the first backoff
        bot.services.rt.ring()
        await bot.server.wait_until(lambda: results == ["retry", "sent"])
        parts = citizen.inbox
        assert len(parts) >= 3
        # Every line once: the first part was not sent again.
        assert "\n".join(p.text for p in parts).count("سطر") == 60
        assert [bool(p.buttons()) for p in parts] == [False] * (len(parts) - 1) + [True]
        [row] = await _rows(bot, id=row_id)
        assert row["status"] == "sent" and row["parts_sent"] == len(parts) - 1
        assert row["result_message_id"] == parts[-1].message_id


# -- a deleted card ------------------------------------------------------------------------------


async def test_a_deleted_card_is_posted_again_and_the_unit_card_still_refreshed(
    db_url: str,
) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        staff, unit, citizen = p["staff"], p["unit"], p["citizen"]
        desk = bot.services.desk
        await file_complaint(citizen)
        [case] = await case_rows(bot, CITIZEN)
        cid, short = case["id"], _short(case["code"])
        card = await staff.expect_message(short)
        s1, s2 = await desk.actor(STAFF1), await desk.actor(STAFF2)
        [market] = [u for u in await desk.units() if u["chat_id"] == UNIT_CHAT]
        assert isinstance(await desk.claim(s1, cid), Done)
        assert isinstance(await desk.refer(s1, cid, market["id"]), Done)
        unit_card = await unit.expect_message(short)
        await staff.expect_edit(card, "واحد رسیدگی‌کننده: تنظیم بازار")

        staff.delete_message(card)  # someone cleared the group
        bot.server.expect_refusal("message to edit not found")  # once: the edit that finds out
        assert isinstance(await desk.accept_referral(s2, cid), Done)
        # The unit's copy is still edited, and the staff group gets the card again.
        await unit.expect_edit(unit_card, CLAIMED)
        again = await staff.expect_message(short)
        assert CLAIMED in again.text and again.message_id != card.message_id
        assert "اعلام نتیجه" in again.buttons()

        # Later changes edit the new card in place: it is posted once, not at every change.
        assert isinstance(await desk.mark_urgent(s2, cid), Done)
        again = await staff.expect_edit(again)
        assert again.text.startswith("\u200f🔴")
        await unit.expect_edit(unit_card)
        assert [m.message_id for m in staff.inbox if short in (m.text or "")] == [again.message_id]
        assert all(r["status"] != "failed" for r in await _rows(bot))
        gone = [c for c in bot.server.calls if "to edit not found" in (c.description or "")]
        assert len(gone) == 1
        admin = p["admin"]
        assert not any(GONE_ALERT in (m.text or "") for m in admin.inbox)
