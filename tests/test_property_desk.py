"""Property-based: random sequences of citizen and staff actions against the real bot —
filing, asking, answering (typed, or with the answer button), looking up, rating, reopening,
referring, accepting, returning, resolving, rejecting, menu taps in between.

After every step: no case that is not finished is without someone able to act on it; the
citizen's input was answered (its effect, or a reason, or the question which it is for — never
silence); no Bot API call was refused; every button press was answered.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot import text
from bot.localapi import FakeUser
from bot.services.desk import Done
from bot.storage.tables import cases, held_inputs
from bot.text import to_persian_digits
from tests.flows import file_complaint
from tests.harness import Bot, running_bot
from tests.test_lifecycle_walk import _someone_can_act
from tests.test_staff_desk import ADMIN, STAFF1, STAFF2, SUPERVISOR, _setup

CITIZENS = (1001, 1002)
PHONE = "+989121234567"
HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
STEPS = 60
SEED_BASE = 20261201

CITIZEN_MOVES = (
    "file",
    "type",
    "answer_button",
    "start",
    "mine",
    "track",
    "rate",
    "reopen",
    "cancel",
)
STAFF_MOVES = ("claim", "ask", "refer", "accept", "return", "resolve", "reject")


async def _cases(bot: Bot) -> list[dict[str, Any]]:
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(select(cases).order_by(cases.c.id))
        return [dict(r) for r in rows.mappings()]


async def _held(bot: Bot) -> int:
    async with bot.services.rt.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(held_inputs))).scalar_one())


async def _more(bot: Bot, u: FakeUser, before: int) -> None:
    await bot.server.wait_until(lambda: len(u.inbox) > before, describe=u._inbox_dump)


async def _answered(bot: Bot, u: FakeUser, before: int) -> None:
    """The citizen got at least one reply; a «which one» question is answered by a press."""
    await bot.server.wait_until(lambda: len(u.inbox) > before, describe=u._inbox_dump)
    reply = u.inbox[-1]
    if "این پیام مربوط به کدام است" in (reply.text or ""):
        qid = await u.press(reply.buttons()[0], message=reply)
        await u.expect_answer(qid)
        await bot.server.wait_until(lambda: len(u.inbox) > before + 1, describe=u._inbox_dump)


@settings(max_examples=1, deadline=None, suppress_health_check=HEALTH, derandomize=True)
@given(seed=st.integers(0, 2**32))
async def test_random_desk_and_citizen_sequences_keep_every_promise(db_url: str, seed: int) -> None:
    # Hypothesis draws the seed (its first example is the simplest, 0); the walk itself is a
    # seeded random sequence, so a failure is replayed exactly from the seed in the report.
    # One walk per backend (a second example would meet the first one's daily limit), each
    # with its own sequence.
    rnd = random.Random(SEED_BASE + seed + ("postgresql" in db_url))
    async with running_bot(db_url, admin_ids=[ADMIN], max_complaints_per_day=3) as bot:
        await _setup(bot)
        desk = bot.services.desk
        people = {
            uid: bot.server.user(uid, first_name=f"شهروند{to_persian_digits(uid)}")
            for uid in CITIZENS
        }
        staff_ids = (STAFF1, STAFF2, SUPERVISOR)
        await file_complaint(people[CITIZENS[0]], phone=PHONE)
        filed = {CITIZENS[0]: 1, CITIZENS[1]: 0}
        unit_id = next(u["id"] for u in await desk.units() if u["code"] == "market_regulation")

        done: list[str] = []
        for _step in range(STEPS):
            all_cases = await _cases(bot)
            if rnd.random() < 0.5:
                uid = rnd.choice(CITIZENS)
                u = people[uid]
                move = rnd.choice(CITIZEN_MOVES)
                done.append(move)
                mine = [c for c in all_cases if c["citizen_id"] == uid]
                before = len(u.inbox)
                if move == "file" and filed[uid] < 3:
                    await bot.services.filing.cancel(uid)
                    await file_complaint(u, phone=PHONE)
                    filed[uid] += 1
                    continue
                if move == "answer_button":
                    notices = [m for m in u.inbox if "پاسخ به این پرسش" in m.buttons()]
                    if not notices:
                        continue
                    qid = await u.press("پاسخ به این پرسش", message=notices[-1])
                    await u.expect_answer(qid)
                    await _more(bot, u, before)
                    before = len(u.inbox)
                    move = "type"
                if move == "rate" or move == "reopen":
                    label = "بازگشایی شکایت" if move == "reopen" else "⭐⭐⭐"
                    rated = [m for m in u.inbox if label in m.buttons()]
                    if not rated:
                        continue
                    qid = await u.press(label, message=rated[-1])
                    await u.expect_answer(qid)
                    if move == "rate":
                        continue  # answered by the press (and perhaps a comment invitation)
                    before = len(u.inbox)
                    await u.send_text("مدرک تازه‌ای دارم که باید دیده شود")
                    await _answered(bot, u, before)
                    continue
                if move == "type":
                    words = rnd.choice(["بله دارم", "ساعت ۶ عصر", "نمی‌دانم"])
                    await u.send_text(words)
                elif move == "start":
                    await u.send_text("/start")
                elif move == "mine":
                    await u.send_text("شکایت‌های من")
                elif move == "track":
                    await u.send_text("پیگیری شکایت")
                    await _more(bot, u, before)
                    before = len(u.inbox)
                    code = mine[-1]["code"] if mine else "1234567890"
                    await u.send_text(text.to_persian_digits(code))
                elif move == "cancel":
                    await u.send_text("/cancel")
                else:
                    continue
                await _answered(bot, u, before)
            else:
                move = rnd.choice(STAFF_MOVES)
                done.append(move)
                open_cases = [c for c in all_cases if c["status"] not in ("closed", "merged")]
                if not open_cases:
                    continue
                case = rnd.choice(open_cases)
                who = await desk.actor(rnd.choice(staff_ids))
                holder = await desk.actor(case["holder_id"]) if case["holder_id"] else who
                cid = case["id"]
                if move == "claim":
                    result = await desk.claim(who, cid)
                elif move == "ask":
                    result = await desk.ask(holder, cid, "فاکتور خرید را دارید؟")
                elif move == "refer":
                    result = await desk.refer(holder, cid, unit_id)
                elif move == "accept":
                    result = await desk.accept_referral(who, cid)
                elif move == "return":
                    result = await desk.return_referral(who, cid, "در حوزهٔ ما نیست")
                elif move == "resolve":
                    result = await desk.resolve(holder, cid, "resolved", "تذکر داده شد")
                else:
                    result = await desk.reject(holder, cid, "تکراری است")
                if isinstance(result, Done) and move == "ask":
                    citizen = people[case["citizen_id"]]
                    await citizen.expect_message("فاکتور خرید را دارید؟")

            for row in await _cases(bot):
                assert _someone_can_act(row), (done, row)
            assert bot.server.refused == []
            assert await _held(bot) <= 2 * len(CITIZENS)
        statuses = {c["status"] for c in await _cases(bot)}
        print("moves:", done, "statuses:", statuses)
        assert len(done) == STEPS
