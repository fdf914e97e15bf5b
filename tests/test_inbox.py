"""The inbox: one sender's updates are handled one at a time and in update_id order, whichever
of several workers (processes) takes them; an update received twice is handled once; a dead
holder's updates are taken over once its lease has run out, and not before; a live holder keeps
its lease by renewing it; a graceful stop hands back what it did not finish.

Each worker here has its own engine, as a process would. The clock is the test's: leases run
out when the test moves it, never by waiting.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import load_settings
from bot.services.inbox import Arrival, InboxWorker
from bot.services.runtime import Runtime
from bot.storage import inbox as store
from bot.storage import tables
from bot.storage.db import create_engine
from bot.storage.rows import InboxRow
from bot.update_order import PerChatUpdateProcessor
from tests.clock import Clock
from tests.flows import start_filing
from tests.harness import running_bot

BOUND = 20.0  # seconds: only how long a failing test waits before it reports
IDLE = 3600.0  # a worker that looks for work only when rung


def runtime(db_url: str, clock: Clock, lease_seconds: float = 30.0) -> Runtime:
    settings = load_settings(
        bot_token="123456:INBOX-test-token",
        database_url=db_url,
        lease_seconds=lease_seconds,
        _env_file=None,
    )
    return Runtime(engine=create_engine(db_url), settings=settings, clock=clock)


def arrival(update_id: int, user_id: int) -> Arrival:
    raw = {"update_id": update_id, "message": {"from": {"id": user_id}, "text": str(update_id)}}
    return Arrival(update_id, user_id, raw)


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait until a database condition holds (looked at every 20 ms, for at most BOUND)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + BOUND
    while not await check():
        assert loop.time() < end, f"timed out waiting until {what}"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def workers(
    rts: list[Runtime], handles: list[Callable[[InboxRow], Awaitable[None]]], **kwargs: Any
) -> AsyncIterator[list[InboxWorker]]:
    started = [
        InboxWorker(rt, handle, holder=f"worker-{i}", **kwargs)
        for i, (rt, handle) in enumerate(zip(rts, handles, strict=True))
    ]
    for worker in started:
        worker.start()
    try:
        yield started
    finally:
        for worker in started:
            await worker.stop(grace=0)
        for rt in rts:
            await rt.engine.dispose()


async def unhandled(rt: Runtime) -> list[InboxRow]:
    async with rt.engine.connect() as conn:
        return await store.unhandled(conn)


# -- the table -----------------------------------------------------------------------------------


async def test_only_each_lanes_oldest_unhandled_row_can_be_claimed(db_url: str) -> None:
    clock = Clock()
    rt = runtime(db_url, clock)
    now, until_ = clock(), clock() + timedelta(seconds=30)
    try:
        async with rt.engine.begin() as conn:
            await store.add(
                conn,
                [
                    store.NewRow(update_id=i, lane_key=k, payload={}, flood_warning=False)
                    for i, k in ((1, 7), (2, 8), (3, 7), (4, 7))
                ],
                now,
            )
            heads = await store.claim_heads(conn, "a", now, until_, limit=10)
            assert [r["update_id"] for r in heads] == [1, 2]
            assert await store.claim_heads(conn, "b", now, until_, limit=10) == []
            assert await store.claim_next(conn, 7, "b", now, until_) is None  # 1 is held
            assert await store.mark_handled(conn, 1, "b", now) is False  # not b's to mark
            assert await store.mark_handled(conn, 1, "a", now) is True
            following = await store.claim_next(conn, 7, "a", now, until_)
            assert following is not None and following["update_id"] == 3
            # Once the lease of a holder runs out, its row is anybody's.
            later = until_ + timedelta(seconds=1)
            taken = await store.claim_heads(conn, "b", later, later + timedelta(seconds=30), 10)
            assert [r["update_id"] for r in taken] == [2, 3]
    finally:
        await rt.engine.dispose()


async def test_a_slow_holder_taken_over_can_neither_renew_nor_mark_nor_free_the_row(
    db_url: str,
) -> None:
    clock = Clock()
    rt = runtime(db_url, clock)
    now = clock()
    later, lease = now + timedelta(seconds=31), timedelta(seconds=30)
    try:
        async with rt.engine.begin() as conn:
            row = store.NewRow(update_id=1, lane_key=7, payload={}, flood_warning=False)
            await store.add(conn, [row], now)
            assert len(await store.claim_heads(conn, "a", now, now + lease, 10)) == 1
            assert len(await store.claim_heads(conn, "b", later, later + lease, 10)) == 1
            assert await store.renew(conn, [1], "a", later + lease) == 0
            await store.release(conn, [1], "a")
            assert await store.mark_handled(conn, 1, "a", later) is False
            [held] = await store.unhandled(conn)
            assert (held["lease_holder"], held["lease_until"]) == ("b", later + lease)
            assert await store.mark_handled(conn, 1, "b", later) is True
    finally:
        await rt.engine.dispose()


# -- workers -------------------------------------------------------------------------------------


async def test_two_workers_never_run_one_senders_updates_at_once_nor_out_of_order(
    db_url: str,
) -> None:
    """Five senders' updates arrive in rounds, received by the two workers in turn (as two
    processes behind one address); each worker may take any sender's lane."""
    clock = Clock()
    rts = [runtime(db_url, clock), runtime(db_url, clock)]
    senders, rounds = (101, 102, 103, 104, 105), 12
    total = len(senders) * rounds
    handled: dict[int, list[int]] = defaultdict(list)
    by_worker: dict[int, int] = defaultdict(int)
    running: dict[int, int] = {}
    overlaps: list[tuple[int, int]] = []
    done = asyncio.Event()

    def handle_as(worker: int) -> Callable[[InboxRow], Awaitable[None]]:
        async def handle(row: InboxRow) -> None:
            key = row["lane_key"]
            if key in running:
                overlaps.append((key, row["update_id"]))
            running[key] = row["update_id"]
            await asyncio.sleep(0)  # a handler yields (a query, a Bot API call)...
            async with rts[worker].engine.connect() as conn:
                await store.unhandled(conn, limit=1)  # ...to the database, too
            await asyncio.sleep(0)
            del running[key]
            handled[key].append(row["update_id"])
            by_worker[worker] += 1
            if sum(map(len, handled.values())) == total:
                done.set()

        return handle

    async with workers(rts, [handle_as(0), handle_as(1)], lanes=3) as (a, b):
        update_id = 1000
        for r in range(rounds):
            batch = []
            for sender in senders:
                update_id += 1
                batch.append(arrival(update_id, sender))
            await (a if r % 2 == 0 else b).receive(batch)
        await asyncio.wait_for(done.wait(), BOUND)
        assert overlaps == []
        for sender in senders:
            assert handled[sender] == sorted(handled[sender])
            assert len(handled[sender]) == rounds
        if db_url.startswith("postgresql"):
            # SKIP LOCKED: neither waits for the other. (SQLite's claims queue for its one
            # write lock, where the busier worker may keep winning: one process is the SQLite
            # deployment.)
            assert by_worker[0] and by_worker[1], dict(by_worker)
        await until(lambda: _all_handled(rts[0]), "every row is marked handled")
        assert a.lost == b.lost == 0


async def test_an_update_received_twice_is_handled_once(db_url: str) -> None:
    clock = Clock()
    rts = [runtime(db_url, clock), runtime(db_url, clock)]
    seen: list[int] = []
    both = asyncio.Event()

    async def handle(row: InboxRow) -> None:
        seen.append(row["update_id"])
        if 2 in seen:
            both.set()

    async with workers(rts, [handle, handle]) as (a, b):
        await a.receive([arrival(1, 301)])
        await b.receive([arrival(1, 301)])  # Telegram sent it again, to the other process
        await a.receive([arrival(2, 301)])
        await asyncio.wait_for(both.wait(), BOUND)
    assert seen == [1, 2]


async def test_a_dead_holders_updates_are_taken_over_once_its_lease_ran_out(db_url: str) -> None:
    clock = Clock()
    rt = runtime(db_url, clock, lease_seconds=5)
    seen: list[int] = []
    other_done, taken_over = asyncio.Event(), asyncio.Event()

    async def handle(row: InboxRow) -> None:
        seen.append(row["update_id"])
        if row["update_id"] == 30:
            other_done.set()
        if row["update_id"] == 11:
            taken_over.set()

    # A process took sender 401's first update and died: its lease is left in the table.
    now = clock()
    async with rt.engine.begin() as conn:
        await store.add(
            conn,
            [
                store.NewRow(update_id=i, lane_key=401, payload={}, flood_warning=False)
                for i in (10, 11)
            ],
            now,
        )
        await store.claim_heads(conn, "dead", now, now + timedelta(seconds=5), 10)

    async with workers([rt], [handle], poll_seconds=IDLE) as (worker,):
        await worker.receive([arrival(30, 402)])  # a pass of this worker's, with 401 held
        await asyncio.wait_for(other_done.wait(), BOUND)
        assert seen == [30]  # 401's updates wait for the dead holder's lease
        clock.advance(seconds=6)
        worker.ring()
        await asyncio.wait_for(taken_over.wait(), BOUND)
    assert seen == [30, 10, 11]


async def test_a_live_holder_keeps_its_lease_while_a_long_update_runs(db_url: str) -> None:
    clock = Clock()
    lease = 0.3  # renewed every 0.1 s of real time
    rts = [runtime(db_url, clock, lease_seconds=lease), runtime(db_url, clock, lease)]
    started, release, other_done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    runs: list[tuple[str, int]] = []

    async def slow(row: InboxRow) -> None:
        runs.append(("a", row["update_id"]))
        started.set()
        await release.wait()

    async def quick(row: InboxRow) -> None:
        runs.append(("b", row["update_id"]))
        other_done.set()

    first = InboxWorker(rts[0], slow, holder="worker-a", poll_seconds=IDLE)
    first.start()
    await first.receive([arrival(50, 501)])
    await asyncio.wait_for(started.wait(), BOUND)
    clock.advance(seconds=60)  # far past the lease it took...

    async def renewed() -> bool:  # ...which it renews while the update runs
        rows = await unhandled(rts[0])
        return any(r["lease_until"] and r["lease_until"] > clock() for r in rows)

    await until(renewed, "worker-a renewed its lease")
    async with workers(rts[1:], [quick], poll_seconds=IDLE) as (second,):
        await second.receive([arrival(60, 502)])  # a pass of the other worker's
        await asyncio.wait_for(other_done.wait(), BOUND)
        release.set()
        await until(lambda: _all_handled(rts[0]), "everything is handled")
    await first.stop()
    await rts[0].engine.dispose()
    assert runs == [("a", 50), ("b", 60)]
    assert (first.handled, first.lost) == (1, 0)


async def test_a_graceful_stop_hands_back_the_updates_it_did_not_finish(db_url: str) -> None:
    clock = Clock()
    rts = [runtime(db_url, clock), runtime(db_url, clock)]
    blocked, finished = asyncio.Event(), asyncio.Event()
    runs: list[tuple[str, int]] = []

    async def stuck(row: InboxRow) -> None:
        runs.append(("a", row["update_id"]))
        blocked.set()
        await asyncio.Event().wait()  # never finishes: cut short by the stop

    async def quick(row: InboxRow) -> None:
        runs.append(("b", row["update_id"]))
        if row["update_id"] == 71:
            finished.set()

    first = InboxWorker(rts[0], stuck, holder="worker-a", poll_seconds=IDLE)
    first.start()
    await first.receive([arrival(70, 601), arrival(71, 601)])
    await asyncio.wait_for(blocked.wait(), BOUND)
    await first.stop(grace=0)
    async with workers(rts[1:], [quick], poll_seconds=IDLE) as (second,):
        second.ring()  # at once: no lease to wait for
        await asyncio.wait_for(finished.wait(), BOUND)
    await rts[0].engine.dispose()
    assert runs == [("a", 70), ("b", 70), ("b", 71)]


async def _all_handled(rt: Runtime) -> bool:
    return not await unhandled(rt)


# -- the bot -------------------------------------------------------------------------------------


async def test_the_bot_handles_an_update_received_again_only_once(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        u = bot.server.user(5002, first_name="تکرار")
        await start_filing(u)
        await u.press("گران‌فروشی")
        await u.expect_message("کدام صنف")
        await u.press("سوخت")
        await u.expect_message("در کدام استان")
        await u.press("تهران")
        await u.expect_message("در کدام شهر")
        message = await u.send_text("شیراز")
        update_id = bot.server.updates.last_injected
        await u.expect_message("نام واحد صنفی چیست")

        # Received again (Telegram had not heard it arrived): were it handled, «شیراز» would
        # become the business name.
        await bot.ingress.store([{"update_id": update_id, "message": message}])
        await u.send_text("نانوایی بربری")
        await u.expect_message("نشانی واحد صنفی چیست")
        assert not [m for m in u.skipped if "نشانی" in m.text]
        draft = (await bot.services.filing.current(5002)).draft
        assert draft is not None
        assert (draft.data.city, draft.data.business) == ("شیراز", "نانوایی بربری")


async def test_an_update_read_on_arrival_is_handled_as_read_and_not_kept(db_url: str) -> None:
    """The process that receives an update reads it once: the handlers get that Update (its
    bot set, so its shortcuts answer) and nothing of it is kept once handled."""
    async with running_bot(db_url) as bot:
        processor = bot.app.update_processor
        assert isinstance(processor, PerChatUpdateProcessor)
        read: list[int] = []
        arrived = processor.arrived

        class Watch(dict[int, Any]):
            def pop(self, key: int, default: Any = None) -> Any:
                found = super().pop(key, default)
                if found is not None:
                    read.append(key)
                return found

        processor.arrived = Watch(arrived)
        u = bot.server.user(5003, first_name="یک‌بار")
        await start_filing(u)
        await u.press("گران‌فروشی")
        await u.expect_message("کدام صنف")
        assert len(read) == 2  # the text and the button press, both as read on arrival
        assert dict(processor.arrived) == {}


async def test_an_update_whose_commit_failed_is_not_counted_again_by_the_flood_guard(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Polling fetches the same batch again after each failed commit (a webhook gets it posted
    # again): were each try counted, a database blip would turn a citizen's one message into a
    # flood, and the message would be dropped as it finally went in.
    async with running_bot(db_url, flood_max_updates=2) as bot:
        worker = bot.services.inbox
        receive = worker.receive
        failures = [OSError("the database went away")] * 3

        async def flaky(arrivals: list[Arrival]) -> None:
            if failures:
                raise failures.pop()
            await receive(arrivals)

        monkeypatch.setattr(worker, "receive", flaky)
        u = bot.server.user(5003, first_name="صبور")
        update = {
            "update_id": 990_001,
            "message": {
                "message_id": 1,
                "date": 1_790_000_000,
                "chat": {"id": u.id, "type": "private", "first_name": u.first_name},
                "from": u.as_dict(),
                "text": "سلام",
            },
        }
        for _ in range(3):
            with pytest.raises(OSError):
                await bot.ingress.store([update])
        await bot.ingress.store([update])
        async with bot.services.rt.engine.connect() as conn:
            rows = await conn.execute(
                select(tables.inbox.c.flood_warning).where(tables.inbox.c.update_id == 990_001)
            )
            assert rows.scalars().all() == [False]


async def test_an_update_received_while_its_lane_ends_is_handled_at_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender's next update is committed while their lane is ending: the receiving
    transaction saw the lane still held (so it could not claim the row), and the lane's last
    settle and the look that followed it ran before that commit (so they did not see the row).
    Someone must look again after the commit, not at the next idle poll."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite runs the two write transactions one after the other")
    clock = Clock()
    rt = runtime(db_url, clock)
    first_running, release_first, in_receive, looked = (asyncio.Event() for _ in range(4))
    handled: list[int] = []
    pause_receive = False
    claim_heads, free_heads = store.claim_heads, store.free_heads

    async def slow_claim(*args: Any, **kwargs: Any) -> list[InboxRow]:
        rows = await claim_heads(*args, **kwargs)
        if pause_receive:  # the receiving transaction is open, its row not yet committed
            in_receive.set()
            await asyncio.wait_for(looked.wait(), BOUND)
        return rows

    async def watched_look(*args: Any, **kwargs: Any) -> bool:
        found = await free_heads(*args, **kwargs)
        if in_receive.is_set():
            looked.set()
        return found

    monkeypatch.setattr(store, "claim_heads", slow_claim)
    monkeypatch.setattr(store, "free_heads", watched_look)

    async def handle(row: InboxRow) -> None:
        if row["update_id"] == 1:
            first_running.set()
            await release_first.wait()
        handled.append(row["update_id"])

    async with workers([rt], [handle], poll_seconds=IDLE) as (worker,):
        await worker.receive([arrival(1, 401)])
        await asyncio.wait_for(first_running.wait(), BOUND)
        pause_receive = True
        receiving = asyncio.create_task(worker.receive([arrival(2, 401)]))
        await asyncio.wait_for(in_receive.wait(), BOUND)
        release_first.set()  # the lane settles update 1, finds nothing behind it, and ends
        await asyncio.wait_for(receiving, BOUND)
        await until(lambda: asyncio.sleep(0, len(handled) == 2), "update 2 is handled")
    assert handled == [1, 2]


async def test_updates_received_at_once_take_no_more_lanes_than_the_worker_has(
    db_url: str,
) -> None:
    """Webhook requests are received side by side, and each receive leases lane heads: together
    they must not start more lanes than `lanes` (the rest wait in the table for a free lane,
    where another process may take them)."""
    clock = Clock()
    rt = runtime(db_url, clock)
    release = asyncio.Event()
    started: list[int] = []

    async def handle(row: InboxRow) -> None:
        started.append(row["update_id"])
        await release.wait()

    async with workers([rt], [handle], lanes=2, poll_seconds=IDLE) as (worker,):
        await asyncio.gather(
            worker.receive([arrival(1, 501), arrival(2, 502)]),
            worker.receive([arrival(3, 503), arrival(4, 504)]),
        )
        await until(lambda: asyncio.sleep(0, len(started) >= 2), "two lanes run")
        assert worker.busy == 2
        release.set()
        await until(lambda: asyncio.sleep(0, len(started) == 4), "all four are handled")


async def test_a_claim_leases_no_more_heads_than_asked_and_one_per_lane(db_url: str) -> None:
    """The claim is one UPDATE … RETURNING over the heads it picks; the pick runs once (on
    PostgreSQL a locking `LIMIT n` run again per updated row leased every head there was)."""
    clock = Clock()
    rt = runtime(db_url, clock)
    now = clock.now
    until_ = now + timedelta(seconds=30)
    rows = [
        store.NewRow(update_id=i, lane_key=100 + i % 5, payload={}, flood_warning=False)
        for i in range(1, 21)
    ]
    try:
        async with rt.engine.begin() as conn:
            await store.add(conn, rows, now)
            first = await store.claim_heads(conn, "a", now, until_, 3)
        async with rt.engine.begin() as conn:
            second = await store.claim_heads(conn, "b", now, until_, 3)
            held = await store.claim_next(conn, 101, "b", now, until_)
        assert [r["update_id"] for r in first] == [1, 2, 3]
        assert [r["update_id"] for r in second] == [4, 5]  # the other two lanes' heads
        assert all(r["lease_holder"] == "b" for r in second)
        assert held is None  # lane 101's head is a's
        async with rt.engine.begin() as conn:
            assert await store.mark_handled(conn, 1, "a", now)
            after = await store.claim_next(conn, 101, "a", now, until_)
        assert after is not None and after["update_id"] == 6 and after["lease_holder"] == "a"
        async with rt.engine.connect() as conn:
            leased = (
                await conn.execute(
                    select(tables.inbox.c.update_id).where(tables.inbox.c.lease_holder.is_not(None))
                )
            ).scalars()
            assert sorted(leased) == [2, 3, 4, 5, 6]
    finally:
        await rt.engine.dispose()


async def test_a_lane_left_by_an_earlier_life_is_drained_without_waiting_for_polls(
    db_url: str,
) -> None:
    """Rows this process never received (committed before a restart) are looked for lane by
    lane as each settles: a settle skips the look only for the newest row it received itself."""
    clock = Clock()
    rt = runtime(db_url, clock)
    async with rt.engine.begin() as conn:
        rows = [
            store.NewRow(
                update_id=i, lane_key=601, payload=arrival(i, 601).raw, flood_warning=False
            )
            for i in (1, 2, 3)
        ]
        await store.add(conn, rows, clock.now)
    handled: list[int] = []

    async def handle(row: InboxRow) -> None:
        handled.append(row["update_id"])

    async with workers([rt], [handle], poll_seconds=IDLE):
        await until(lambda: asyncio.sleep(0, len(handled) == 3), "the earlier life's rows")
    assert handled == [1, 2, 3]


async def test_a_row_received_while_its_lane_settles_is_taken_at_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender's next update is committed while the lane's settle is open: held back by
    the row being settled, its receive could not claim it; the settle's look takes it (there
    is no idle poll here)."""
    clock = Clock()
    rt = runtime(db_url, clock)
    in_mark, go = asyncio.Event(), asyncio.Event()
    mark_handled = store.mark_handled
    handled: list[int] = []

    async def paused_mark(*args: Any, **kwargs: Any) -> bool:
        if not go.is_set():
            in_mark.set()
            await asyncio.wait_for(go.wait(), BOUND)
        return await mark_handled(*args, **kwargs)

    monkeypatch.setattr(store, "mark_handled", paused_mark)

    async def handle(row: InboxRow) -> None:
        handled.append(row["update_id"])

    async with workers([rt], [handle], poll_seconds=IDLE) as (worker,):
        await worker.receive([arrival(1, 602)])
        await asyncio.wait_for(in_mark.wait(), BOUND)  # update 1 handled, its settle open
        await worker.receive([arrival(2, 602)])
        go.set()
        await until(lambda: asyncio.sleep(0, len(handled) == 2), "update 2 is handled")
    assert handled == [1, 2]


async def test_a_lanes_next_row_received_by_another_process_is_taken_at_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes on one database (SQLite too, as tests and a cut-over may run): the next
    row of a lane handled by one was received by the other, whose claim and look found it held
    back. The settle of the first must look for it, not leave it to an idle poll."""
    clock = Clock()
    rts = [runtime(db_url, clock), runtime(db_url, clock)]
    handled: list[int] = []
    in_first, go, looked = asyncio.Event(), asyncio.Event(), asyncio.Event()
    free_heads = store.free_heads

    async def watched_look(*args: Any, **kwargs: Any) -> bool:
        found = await free_heads(*args, **kwargs)
        if in_first.is_set():
            looked.set()  # the receiver's look after its claim found update 2 held back
        return found

    monkeypatch.setattr(store, "free_heads", watched_look)
    claim_heads, second_received = store.claim_heads, asyncio.Event()

    async def watched_claim(*args: Any, **kwargs: Any) -> list[InboxRow]:
        claimed = await claim_heads(*args, **kwargs)
        if second_received.is_set():
            looked.set()  # or the receiver's pass after its commit was a claim (its receive
        return claimed  # found no room while a claim was in flight), finding update 2 held back

    monkeypatch.setattr(store, "claim_heads", watched_claim)

    async def handle(row: InboxRow) -> None:
        if row["update_id"] == 1:
            in_first.set()
            await asyncio.wait_for(go.wait(), BOUND)
        handled.append(row["update_id"])

    async with workers(rts, [handle, handle], poll_seconds=IDLE) as (a, b):
        await until(lambda: asyncio.sleep(0, not a._claim_now and not b._claim_now), "idle")
        await a.receive([arrival(1, 701)])
        await asyncio.wait_for(in_first.wait(), BOUND)
        await b.receive([arrival(2, 701)])
        second_received.set()  # no await since its commit: a claim from now on came after it
        await asyncio.wait_for(looked.wait(), BOUND)
        go.set()
        await until(lambda: asyncio.sleep(0, len(handled) == 2), "update 2 is handled")
    assert handled == [1, 2]
