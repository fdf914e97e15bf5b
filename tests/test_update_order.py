"""One sender's updates run in order, different senders' at once, and one sender's backlog never
holds up anybody else: it waits in its own lane, holding none of the global slots, and a
flooder's surplus is dropped as it arrives.

No test here uses a clock: the handlers are held on events (or, end to end, the bot's replies
are held by the fake Telegram), so each assertion is about what happened first.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.flood import FloodGuard
from bot.localapi import Hold
from bot.update_order import PerChatUpdateProcessor
from tests.flows import start_filing
from tests.harness import Bot, running_bot

NOW = datetime(2026, 11, 28, 6, 30, tzinfo=UTC)
FLOODER, OTHER = 8101, 8102
WELCOME = "از منوی زیر انتخاب کنید"  # the end of the /start screen
HELP = "راهنمای کار با ربات"
SLOW_DOWN = "با سرعت زیاد"
_ids = iter(range(1, 1_000_000))


def update_from(user_id: int) -> Update:
    user = User(id=user_id, first_name="کاربر", is_bot=False)
    chat = Chat(id=user_id, type="private")
    n = next(_ids)
    return Update(n, message=Message(n, NOW, chat, from_user=user, text="سلام"))


BOUND = 10  # seconds: only how long a failing test waits before it reports, never a pacing


# -- the processor on its own ------------------------------------------------------------------


async def test_one_senders_updates_run_in_order_and_never_overlap() -> None:
    processor = PerChatUpdateProcessor()
    log: list[tuple[int, int, str]] = []
    running: dict[int, int] = {}

    async def handle(user_id: int, n: int) -> None:
        running[user_id] = running.get(user_id, 0) + 1
        assert running[user_id] == 1, f"user {user_id}: two updates at once"
        log.append((user_id, n, "start"))
        await asyncio.sleep(0)  # a handler yields (a query, a Bot API call)...
        await asyncio.sleep(0)
        log.append((user_id, n, "end"))
        running[user_id] -= 1

    senders = (1, 2, 3)
    await asyncio.gather(
        *(
            processor.process_update(update_from(u), handle(u, n))
            for n in range(30)
            for u in senders
        )
    )
    for u in senders:
        mine = [(n, what) for user, n, what in log if user == u]
        assert mine == [(n, what) for n in range(30) for what in ("start", "end")]
    # ...and while one sender's handler waits, another sender's runs: they interleave.
    firsts = [user for user, _, what in log[:6] if what == "start"]
    assert set(firsts) == set(senders)
    assert processor.waiting(1) == processor.waiting(2) == 0  # idle lanes are forgotten


async def test_a_senders_backlog_holds_one_slot_and_nobody_waits_behind_it() -> None:
    """PTB took a slot before the sender's lane: two slots, and a sender with a backlog held
    both while waiting for their own first update; the other sender never got one."""
    processor = PerChatUpdateProcessor(max_concurrent_updates=2)
    head_running = asyncio.Event()
    release = asyncio.Event()

    async def blocked() -> None:
        head_running.set()
        await release.wait()

    async def other() -> None:
        pass

    backlog = [
        asyncio.create_task(processor.process_update(update_from(FLOODER), blocked()))
        for _ in range(10)
    ]
    # When the head of the lane runs, the other nine have arrived too (tasks start in order).
    await asyncio.wait_for(head_running.wait(), BOUND)
    assert processor.current_concurrent_updates == 1
    assert processor.waiting(FLOODER) == 10
    await asyncio.wait_for(processor.process_update(update_from(OTHER), other()), BOUND)
    assert not any(t.done() for t in backlog)
    release.set()
    await asyncio.gather(*backlog)
    assert processor.waiting(FLOODER) == 0


async def test_a_flood_is_dropped_as_it_arrives_and_warned_about_once_after_the_rest() -> None:
    processor = PerChatUpdateProcessor()
    guard = FloodGuard(limit=3, seconds=10, clock=lambda: 0.0)  # the clock never moves
    events: list[str] = []
    warned: list[int] = []

    async def warn(update: Update) -> None:
        events.append("warning")
        warned.append(update.update_id)

    processor.guard_floods(guard.check, warn)
    release = asyncio.Event()

    async def handle(n: int) -> None:
        await release.wait()
        events.append(f"update {n}")

    updates = [update_from(FLOODER) for _ in range(10)]
    coroutines: list[Awaitable[None]] = [handle(n) for n in range(10)]
    tasks = [
        asyncio.create_task(processor.process_update(u, c))
        for u, c in zip(updates, coroutines, strict=True)
    ]
    # The head of the lane is held, and yet the surplus is gone: dropped at the door.
    _, pending = await asyncio.wait(tasks[4:], timeout=BOUND)
    assert not pending and not any(t.done() for t in tasks[:4])
    assert processor.dropped == 6
    assert processor.waiting(FLOODER) == 4  # three admitted, the warning
    for c in coroutines[3:]:  # never run, and closed (no "never awaited" warning)
        assert inspect.getcoroutinestate(c) == inspect.CORO_CLOSED  # type: ignore[arg-type]
    release.set()
    await asyncio.gather(*tasks)
    assert events == ["update 0", "update 1", "update 2", "warning"]
    assert warned == [updates[3].update_id]


async def test_updates_from_nobody_in_particular_are_not_guarded() -> None:
    """An update with neither user nor chat (a poll's state, say) has no lane and no guard."""
    processor = PerChatUpdateProcessor()
    calls: list[int] = []
    checks: Callable[[int], str] = lambda user_id: calls.append(user_id) or "drop"  # noqa: E731

    async def nothing() -> None:
        pass

    async def warn(update: Update) -> None:
        raise AssertionError("not a flood")

    processor.guard_floods(checks, warn)
    ran = asyncio.Event()

    async def handle() -> None:
        ran.set()

    await processor.process_update(Update(next(_ids)), handle())
    assert ran.is_set() and calls == []
    await processor.process_update(update_from(5), nothing())  # a person: asked, and dropped
    assert calls == [5] and processor.dropped == 1


# -- the real bot ------------------------------------------------------------------------------


@contextlib.contextmanager
def replies_held(bot: Bot, user_id: int) -> Iterator[Hold]:
    """The bot's messages to this user wait in the fake Telegram until released (at the latest
    on leaving, so that a failing test does not leave the bot stuck on them)."""
    hold = bot.server.hold(
        lambda c: c.method == "sendMessage" and str(c.params.get("chat_id")) == str(user_id)
    )
    try:
        yield hold
    finally:
        hold.release()


async def test_another_user_is_answered_while_a_backlog_of_100_waits(db_url: str) -> None:
    async with running_bot(db_url) as bot:  # the harness lets 10,000 updates through the guard
        flooder = bot.server.user(FLOODER, first_name="پرحرف")
        other = bot.server.user(OTHER, first_name="آرام")
        with replies_held(bot, FLOODER) as hold:  # the flooder's first answer is stuck
            for _ in range(100):
                await flooder.send_text("/start")
            await bot.server.wait_until(lambda: hold.held == 1, 10)

            await other.send_text("/help")
            await other.expect_message(HELP)
            # ...answered while the flooder's backlog is all there, their first answer held.
            assert flooder.inbox == [] and hold.held == 1
            # The backlog waits in the inbox, not in the process: one update in hand.
            assert await bot.inbox_waiting(FLOODER) == 100
            assert bot.app.update_processor.waiting(FLOODER) == 1  # type: ignore[attr-defined]
        await bot.server.wait_until(lambda: len(flooder.inbox) == 100, 30)
        assert all(WELCOME in (m.text or "") for m in flooder.inbox)


async def test_a_flood_is_cut_off_before_it_queues(db_url: str) -> None:
    async with running_bot(db_url, flood_max_updates=20, flood_window_seconds=600) as bot:
        flooder = bot.server.user(FLOODER, first_name="پرحرف")
        other = bot.server.user(OTHER, first_name="آرام")
        processor = bot.app.update_processor
        with replies_held(bot, FLOODER) as hold:
            for _ in range(100):
                await flooder.send_text("/start")
            await bot.server.wait_until(lambda: hold.held == 1, 10)
            await other.send_text("/help")
            await other.expect_message(HELP)
            # The other user's update came after all of the flooder's, so each of those has been
            # screened by now, as it was received: 79 dropped at once (never stored), 21 in the
            # inbox (20 let through, the warning).
            assert processor.dropped == 79  # type: ignore[attr-defined]
            assert await bot.inbox_waiting(FLOODER) == 21
            assert flooder.inbox == []
        await bot.server.wait_until(lambda: len(flooder.inbox) == 21, 30)
        texts = [m.text or "" for m in flooder.inbox]
        assert all(WELCOME in t for t in texts[:20])
        assert SLOW_DOWN in texts[20]  # warned once, after the answers to what got through
        await bot.server.wait_updates_consumed()
        assert len(flooder.inbox) == 21


async def test_a_citizens_quick_answers_are_applied_in_order(db_url: str) -> None:
    """Three answers sent without waiting, while the reply to the first is held: the second
    is not applied before the first was handled to the end, and each lands in its own step."""
    async with running_bot(db_url) as bot:
        u = bot.server.user(5101, first_name="شتاب‌زده")
        await start_filing(u)
        await u.press("گران‌فروشی")
        await u.expect_message("کدام صنف")
        await u.press("سوخت")
        await u.expect_message("در کدام استان")
        await u.press("تهران")
        await u.expect_message("در کدام شهر")

        with replies_held(bot, 5101) as hold:
            await u.send_text("شیراز")
            await u.send_text("نانوایی بربری")
            await u.send_text("خیابان زند، کوچه سوم")
            await bot.server.wait_until(lambda: hold.held == 1, 10)
            draft = (await bot.services.filing.current(5101)).draft
            assert draft is not None
            assert (draft.data.city, draft.data.business) == ("شیراز", None)
        await u.expect_message("نام واحد صنفی چیست")
        await u.expect_message("نشانی واحد صنفی چیست")
        await u.expect_message("موقعیت آن را")
        draft = (await bot.services.filing.current(5101)).draft
        assert draft is not None
        assert (draft.data.city, draft.data.business, draft.data.address) == (
            "شیراز",
            "نانوایی بربری",
            "خیابان زند، کوچه سوم",
        )
