"""A Bot API outage right after a citizen was told "received": nothing is lost, nothing doubled.

The fake server answers every call 502 Bad Gateway (or resets every connection) for a few
seconds, starting while the new case's staff card is on its way. The bot must keep running;
after the outage the card reaches the staff group once, the citizen's later notice reaches them
once, and the messages people sent during the outage are answered, each once.

The only wait that is not on an event is the outage itself: its length is what is tested.
The first tests check the fake's outage and hold features on their own, with a bare PTB bot.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import select
from telegram.error import NetworkError

from bot import text
from bot.localapi import Call, FakeTelegram
from bot.storage.db import create_engine
from bot.storage.tables import outbox
from tests.flows import (
    answer_until_evidence,
    case_rows,
    confirm,
    finish_after_evidence,
    start_filing,
)
from tests.harness import STAFF_CHAT_ID, Bot, running_bot

OUTAGE_SECONDS = 3.0
ADMIN, OFFICER, CITIZEN, NEWCOMER = 9001, 9101, 1001, 1002

RECEIVED = "شکایت شما دریافت و ثبت شد"
WELCOME = "به ربات رسیدگی به شکایات مردمی"
CLAIMED_NOTICE = "رسیدگی به شکایت شما با کد رهگیری"
FIRST_QUESTION = "چه نوع تخلفی دیدید"


# -- the fake server's outage on its own ------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "message"),
    [("502", "Bad Gateway"), ("502-html", "Bad Gateway (502)"), ("drop", "httpx.ReadError")],
)
async def test_the_fake_outage_refuses_every_call_then_ends(mode: str, message: str) -> None:
    async with FakeTelegram() as server:
        bot = server.application_builder().build().bot
        async with bot:
            outage = server.outage(seconds=None, mode=mode)
            assert server.outage_active
            with pytest.raises(NetworkError, match=re.escape(message)):
                await bot.send_message(1, "x")
            [call] = server.outage_refusals
            assert call.method == "sendMessage" and call.expected and call.outage
            assert call.error_code == (None if mode == "drop" else 502)
            server.assert_no_refusals()
            outage.end()
            assert not server.outage_active and not outage.active
            await outage.wait_over(timeout=1)
            assert (await bot.get_me()).username == server.bot_username


async def test_the_fake_outage_answers_a_parked_long_poll_and_a_held_call() -> None:
    async with FakeTelegram() as server:
        server.user(1001)
        bot = server.application_builder().build().bot
        async with bot:
            poll = asyncio.create_task(bot.get_updates(timeout=30))
            await server.wait_until(lambda: server.updates.waiting == 1)
            hold = server.hold("sendMessage")
            send = asyncio.create_task(bot.send_message(1001, "held"))
            await server.wait_until(lambda: len(hold.parked) == 1)
            assert hold.parked[0].params["text"] == "held"

            outage = server.outage(seconds=0.2, mode="502")
            for task in (poll, send):
                with pytest.raises(NetworkError, match="Bad Gateway"):
                    await task
            assert {c.method for c in outage.calls} == {"getUpdates", "sendMessage"}
            assert not server.messages(1001)  # the held message never reached the chat
            await outage.wait_over(timeout=5)

            hold.release()
            await bot.send_message(1001, "after")
            assert [m.text for m in server.messages(1001)] == ["after"]
            server.assert_no_refusals()


async def test_a_held_call_goes_through_when_released_and_listeners_see_calls() -> None:
    async with FakeTelegram() as server:
        server.user(1001)
        seen: list[str] = []
        arrived: list[str] = []
        remove = server.on_call(lambda c: seen.append(c.method))
        server.on_call(lambda c: arrived.append(c.params.get("text", c.method)), on_arrival=True)
        bot = server.application_builder().build().bot
        async with bot:
            hold = server.hold(lambda c: c.params.get("text") == "wait")
            send = asyncio.create_task(bot.send_message(1001, "wait"))
            await bot.send_message(1001, "first")  # not matched: not held
            await server.wait_until(lambda: len(hold.parked) == 1)
            hold.release()
            await send
            remove()
            await bot.get_me()
        assert [m.text for m in server.messages(1001)] == ["first", "wait"]
        assert seen == ["getMe", "sendMessage", "sendMessage"]
        assert sorted(arrived) == ["first", "getMe", "getMe", "wait"]  # "wait" too, while held


# -- the bot through an outage ------------------------------------------------------------------


def _is_card(call: Call) -> bool:
    return call.method == "sendMessage" and call.params.get("chat_id") == STAFF_CHAT_ID


def _outbox_results(bot: Bot) -> list[str]:
    """What the outbox worker concluded about each attempt ("sent", "retry", "failed"), in
    order; each one wakes the server's waiters. The worker has chosen its backoff by then,
    so the test may move the clock past it."""
    results: list[str] = []
    worker = bot.services.worker
    report = worker.on_result

    def record(result: str) -> None:
        report(result)
        results.append(result)
        bot.server.notify()

    worker.on_result = record
    return results


def _code_in(confirmation: str) -> str:
    found = re.search(r"\d{5}-\d{5}", text.to_ascii_digits(confirmation))
    assert found, confirmation
    return found.group().replace("-", "")


async def _outbox_rows(db_url: str) -> list[dict[str, Any]]:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(outbox).order_by(outbox.c.id))
            return [dict(r) for r in rows.mappings()]
    finally:
        await engine.dispose()


async def _outage_right_after_confirmation(db_url: str, mode: str, seconds: float) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        server = bot.server
        staff = server.group(STAFF_CHAT_ID)
        admin = server.user(ADMIN, first_name="مدیر")
        officer = server.user(OFFICER, first_name="کارشناس")
        citizen = server.user(CITIZEN, first_name="شهروند")
        newcomer = server.user(NEWCOMER, first_name="تازه‌وارد")
        await staff.send_text(from_user=admin, text=f"/staff add {OFFICER} staff")
        await staff.expect_message("کارکنان")

        await start_filing(citizen)
        await answer_until_evidence(citizen)
        await finish_after_evidence(citizen, phone=None)
        # The card is kept in flight at the server, so that the outage surely meets it.
        card_hold = server.hold(_is_card)
        results = _outbox_results(bot)
        code = _code_in(await confirm(citizen))
        [case] = await case_rows(bot, CITIZEN)
        assert case["code"] == code  # "received" is said only after the case was committed
        await server.wait_until(lambda: bool(card_hold.parked), describe="the card was not sent")

        outage = server.outage(seconds=seconds, mode=mode)
        card_hold.release()
        # People keep writing during the outage.
        await citizen.send_text("/start")
        await newcomer.send_text("ثبت شکایت")
        # Time passes for the outbox too: its retries meet the outage as well.
        await server.wait_until(lambda: results.count("retry") >= 1)
        bot.clock.advance(seconds=5)  # past the first backoff
        bot.services.rt.ring()
        await server.wait_until(
            lambda: results.count("retry") >= 2 or not outage.active, timeout=seconds + 5
        )
        await outage.wait_over(timeout=seconds + 5)
        assert sum(map(_is_card, outage.calls)) >= 1
        assert any(c.method == "getUpdates" for c in outage.calls)
        assert all(c.outage and not c.ok for c in outage.calls)

        # After the outage: the updates sent during it are handled, the outbox catches up.
        assert bot.app.running and bot.ingress.running
        bot.clock.advance(minutes=15)  # past any backoff the outbox chose
        bot.services.rt.ring()
        shown = text.to_persian_digits(code[:5])
        card = await staff.expect_message(shown, timeout=15)
        await citizen.expect_message(WELCOME, timeout=15)
        await newcomer.expect_message(FIRST_QUESTION, timeout=15)

        # A later notice about the case reaches the citizen.
        qid = await staff.press(from_user=officer, text="✋ رسیدگی می‌کنم", message=card)
        assert (await staff.expect_answer(qid))["text"] == "پرونده در دست شماست."
        await staff.expect_edit(card, contains="کارشناس")
        notice = await citizen.expect_message(CLAIMED_NOTICE)
        assert shown in notice.text
        await server.wait_updates_consumed()

        # Nothing twice.
        assert [m.text for m in server.messages(STAFF_CHAT_ID) if shown in (m.text or "")] == [
            card.text
        ]
        texts = [m.text or "" for m in server.messages(CITIZEN)]
        assert sum(RECEIVED in t for t in texts) == 1
        assert sum(WELCOME in t for t in texts) == 1
        assert sum(CLAIMED_NOTICE in t and shown in t for t in texts) == 1
        assert sum(FIRST_QUESTION in (m.text or "") for m in server.messages(NEWCOMER)) == 1
        assert len(await case_rows(bot, CITIZEN)) == 1
        assert bot.services.worker._task is not None and not bot.services.worker._task.done()

    # The bot has stopped (the worker finished its pass): every queued message was sent once.
    rows = await _outbox_rows(db_url)
    assert [r["status"] for r in rows] == ["sent"] * len(rows), rows
    [card_row] = [r for r in rows if r["purpose"] == "case_card"]
    assert card_row["attempts"] >= 2, card_row  # refused during the outage, then sent
    assert sum(r["purpose"] == "citizen_notice" for r in rows) == 1


async def test_a_502_outage_right_after_confirmation_loses_and_doubles_nothing(db_url: str) -> None:
    await _outage_right_after_confirmation(db_url, "502", OUTAGE_SECONDS)


async def test_dropped_connections_right_after_confirmation_lose_and_double_nothing(
    db_url: str,
) -> None:
    await _outage_right_after_confirmation(db_url, "drop", OUTAGE_SECONDS)


# -- failures around an outage that once lost messages (each test reproduced a bug) -----------


async def test_the_tracking_code_reaches_the_citizen_when_its_message_fails_once(
    db_url: str,
) -> None:
    async with running_bot(db_url) as bot:
        server = bot.server
        # Before the fix the error handler answered the press a second time (refused).
        server.expect_refusal("query is too old")
        citizen = server.user(CITIZEN, first_name="شهروند")
        await start_filing(citizen)
        await answer_until_evidence(citizen)
        await finish_after_evidence(citizen, phone=None)
        # The next message to the citizen - the one with the tracking code - meets a 502.
        server.fail_next("sendMessage", 502, chat_id=CITIZEN)
        await citizen.press("تأیید و ارسال")
        await server.wait_until(lambda: any(c.error_code == 502 for c in server.calls))
        await server.wait_updates_consumed()
        [case] = await case_rows(bot, CITIZEN)
        shown = text.to_persian_digits(case["code"][:5])
        await server.groups[STAFF_CHAT_ID].expect_message(shown)  # the case is real
    told = [m for m in server.messages(CITIZEN) if shown in (m.text or "")]
    queued = [r for r in await _outbox_rows(db_url) if r["chat_id"] == CITIZEN]
    assert told or queued, "the citizen was never given the tracking code"


async def test_a_citizen_whose_button_press_failed_is_told_so(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        server = bot.server
        citizen = server.user(CITIZEN, first_name="شهروند")
        await start_filing(citizen)
        # Closing the question (the edit after the press) meets a 502: the handler stops.
        server.fail_next("editMessageText", 502, chat_id=CITIZEN)
        await citizen.press("گران‌فروشی")

        def apologised() -> bool:
            return any("خطایی پیش آمد" in (m.text or "") for m in server.messages(CITIZEN))

        def refused_again() -> bool:
            return any(c.method == "answerCallbackQuery" and not c.ok for c in server.calls)

        await server.wait_until(lambda: apologised() or refused_again(), timeout=10)
        # A fixed handler may still try the answer first: give the apology a moment after it.
        await server.wait_for(apologised, timeout=2)
        server.expect_refusal("query is too old")  # so that the assertion below reports
        assert apologised(), "the citizen was not told that something went wrong"


async def test_a_confirmation_pressed_during_a_long_outage_is_answered_afterwards(
    db_url: str,
) -> None:
    async with running_bot(db_url) as bot:
        server = bot.server
        real_clock, shift = server.clock, [0.0]
        server.clock = lambda: real_clock() + shift[0]  # the fake's callback expiry clock
        citizen = server.user(CITIZEN, first_name="شهروند")
        await start_filing(citizen)
        await answer_until_evidence(citizen)
        await finish_after_evidence(citizen, phone=None)

        outage = server.outage(seconds=None, mode="502")
        await citizen.press("تأیید و ارسال")
        await server.wait_until(lambda: any(c.method == "getUpdates" for c in outage.calls))
        shift[0] += 20  # the outage lasted longer than the window for answering a press
        outage.end()
        server.expect_refusal("query is too old")  # so that the assertion below reports
        await server.wait_updates_consumed(timeout=15)

        def told() -> bool:
            return any(RECEIVED in (m.text or "") for m in server.messages(CITIZEN))

        # The late answer to the press is refused ("query is too old"); the work goes on: the
        # case is saved and the receipt with the code arrives through the outbox.
        await server.wait_until(told, timeout=15)
        [case] = await case_rows(bot, CITIZEN)
        receipt = next(m for m in server.messages(CITIZEN) if RECEIVED in (m.text or ""))
        assert text.to_persian_digits(case["code"][:5]) in receipt.text


async def test_the_card_survives_an_outage_longer_than_the_retry_budget(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        server = bot.server
        citizen = server.user(CITIZEN, first_name="شهروند")
        await start_filing(citizen)
        await answer_until_evidence(citizen)
        await finish_after_evidence(citizen, phone=None)
        card_hold = server.hold(_is_card)
        results = _outbox_results(bot)
        code = _code_in(await confirm(citizen))
        await server.wait_until(lambda: bool(card_hold.parked))
        outage = server.outage(seconds=None, mode="502")
        card_hold.release()

        async def card_row() -> dict[str, Any]:
            async with bot.services.rt.engine.connect() as conn:
                rows = await conn.execute(select(outbox).where(outbox.c.purpose == "case_card"))
                return dict(rows.mappings().one())

        # An hour and more of outage, in the outbox's time: every retry meets it.
        for attempt in range(1, 16):

            def settled(n: int = attempt) -> bool:
                return results.count("retry") >= n or "failed" in results

            await server.wait_until(settled)
            if "failed" in results:
                break
            bot.clock.advance(minutes=11)  # past the longest backoff
            bot.services.rt.ring()
        outage.end()
        assert (await card_row())["status"] == "pending", "the card was given up"
        bot.clock.advance(minutes=11)
        bot.services.rt.ring()
        await server.groups[STAFF_CHAT_ID].expect_message(text.to_persian_digits(code[:5]))
