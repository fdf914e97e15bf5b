"""Several outbox workers (one per process) on one outbox: no row is sent by two of them, each
chat's messages keep their order whichever worker sends them, and the rows a killed worker had
taken wait for its lease to run out, then go out.

Each worker has its own engine, as a process would; the clock is the test's, so a lease runs
out when the test moves it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.config import load_settings
from bot.services import delivery
from bot.services.delivery import OutboxWorker, Retry
from bot.services.runtime import Runtime
from bot.storage import chats as chat_store
from bot.storage import outbox as outbox_store
from bot.storage.db import create_engine
from bot.storage.tables import outbox
from tests.clock import Clock

BOUND = 20.0  # seconds: only how long a failing test waits before it reports
LEASE = 30.0


def runtime(db_url: str, clock: Clock) -> Runtime:
    settings = load_settings(
        bot_token="123456:OUTBOX-test-token",
        database_url=db_url,
        lease_seconds=LEASE,
        outbox_poll_seconds=0.05,
        _env_file=None,
    )
    return Runtime(engine=create_engine(db_url), settings=settings, clock=clock)


async def queue(rt: Runtime, chats: range, per_chat: int) -> None:
    async with rt.engine.begin() as conn:
        for n in range(per_chat):
            for chat in chats:
                await outbox_store.enqueue(
                    conn,
                    chat_id=chat,
                    method="sendMessage",
                    payload={"text": f"{chat}:{n}"},
                    purpose="test",
                    now=rt.now(),
                )


def crash(worker: OutboxWorker) -> list[asyncio.Task[Any]]:
    """What SIGKILL does to a worker: its coroutines stop where they are, and nothing of its
    graceful stop runs (its leases stay in the table)."""
    tasks = [t for t in (worker._task, worker._heartbeat.task, *worker._lanes.values()) if t]
    for task in tasks:
        task.cancel()
    return tasks


async def settled(rt: Runtime, *, except_holder: str) -> None:
    """Until no row is leased by anyone but `except_holder` (a condition, polled)."""
    while True:
        async with rt.engine.connect() as conn:
            held = (
                await conn.execute(
                    select(outbox.c.id).where(
                        outbox.c.lease_holder.is_not(None),
                        outbox.c.lease_holder != except_holder,
                    )
                )
            ).first()
        if held is None:
            return
        await asyncio.sleep(0.01)


async def test_three_workers_send_each_row_once_in_order_and_take_over_a_killed_ones(
    db_url: str,
) -> None:
    clock = Clock()
    rts = [runtime(db_url, clock) for _ in range(3)]
    sent: dict[int, list[tuple[str, str]]] = defaultdict(list)  # chat -> (worker, text)
    hung: list[str] = []
    all_hung, later_done, everything = asyncio.Event(), asyncio.Event(), asyncio.Event()
    per_chat, first_chats, later_chats = 4, range(1001, 1004), range(2001, 2004)
    total = per_chat * (len(first_chats) + len(later_chats))

    def sender(name: str) -> Any:
        async def send(method: str, params: dict[str, Any]) -> dict[str, Any]:
            if name == "killed":
                hung.append(params["text"])  # frozen before Telegram got it
                if len(hung) == len(first_chats):
                    all_hung.set()
                await asyncio.Event().wait()
            await asyncio.sleep(0)  # a Bot API call yields
            sent[int(params["chat_id"])].append((name, params["text"]))
            if sum(len(sent[c]) for c in later_chats) == per_chat * len(later_chats):
                later_done.set()
            if sum(map(len, sent.values())) == total:
                everything.set()
            return {"message_id": len(sent)}

        return send

    def worker(rt: Runtime, name: str) -> OutboxWorker:
        return OutboxWorker(rt, sender(name), lambda exc: Retry(str(exc)))

    # A process takes the first chats' lanes, and is killed with their first rows in hand.
    await queue(rts[0], first_chats, per_chat)
    killed = worker(rts[2], "killed")
    killed.start()
    await asyncio.wait_for(all_hung.wait(), BOUND)
    await asyncio.gather(*crash(killed), return_exceptions=True)

    # Two live processes share the rest; the killed one's lanes wait for its leases.
    a, b = worker(rts[0], "a"), worker(rts[1], "b")
    a.start()
    b.start()
    try:
        await queue(rts[0], later_chats, per_chat)
        rts[0].ring()
        await asyncio.wait_for(later_done.wait(), BOUND)
        assert not any(sent[c] for c in first_chats)  # held by a dead worker's leases
        # The clock jumps past every lease at once, the live workers' too: first let them
        # settle what they sent (a live worker renews on a timer the jump would outrun).
        await asyncio.wait_for(settled(rts[0], except_holder=killed.holder), BOUND)

        clock.advance(seconds=LEASE + 1)
        for rt in rts[:2]:
            rt.ring()
        await asyncio.wait_for(everything.wait(), BOUND)
    finally:
        await a.stop()
        await b.stop()
        for rt in rts:
            await rt.engine.dispose()

    for chat in (*first_chats, *later_chats):
        texts = [text for _, text in sent[chat]]
        assert texts == [f"{chat}:{n}" for n in range(per_chat)], chat  # once each, in order
    senders = {name for rows in sent.values() for name, _ in rows}
    assert "killed" not in senders
    # (Which of a and b sent what depends on scheduling: under load one may take every lane.
    # That neither blocks the other is what SKIP LOCKED gives; test_inbox checks the claims.)
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(outbox.c.status, outbox.c.lease_holder))).all()
    finally:
        await engine.dispose()
    assert {tuple(r) for r in rows} == {("sent", None)}


async def test_a_stalled_holders_late_retry_or_failure_leaves_a_taken_over_row_alone(
    db_url: str,
) -> None:
    # A stalled past its lease, B took the row over and is sending it. Were A's late "retry"
    # to clear B's lease, a third worker could take the row and send it a second time while B
    # sends; were A's late "failed" to win, a row B sent would read as failed.
    clock = Clock()
    rt = runtime(db_url, clock)
    try:
        await queue(rt, range(1, 3), 1)
        async with rt.engine.begin() as conn:
            ids = list((await conn.execute(select(outbox.c.id).order_by(outbox.c.id))).scalars())
            await outbox_store.lease(conn, ids, "B", rt.now() + timedelta(seconds=LEASE))
            await outbox_store.mark_sent(conn, ids[1], rt.now(), 7)
            await outbox_store.mark_retry(conn, ids[0], "late", rt.now(), holder="A")
            await outbox_store.mark_failed(conn, ids[1], "late", holder="A")
        async with rt.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(outbox.c.status, outbox.c.lease_holder).order_by(outbox.c.id)
                )
            ).all()
        assert [tuple(r) for r in rows] == [("pending", "B"), ("sent", None)]
    finally:
        await rt.engine.dispose()


async def test_a_send_the_database_would_not_record_is_recorded_later_not_sent_again(
    db_url: str, monkeypatch: Any
) -> None:
    # Telegram took the message, then writing "sent" failed (a lock timeout, a dropped
    # connection). Giving the row back would have another lane send it a second time: the
    # worker keeps its lease and writes again until the database takes it.
    clock = Clock()
    rts = [runtime(db_url, clock) for _ in range(2)]
    sent: list[str] = []
    recorded = asyncio.Event()
    real_mark_sent = outbox_store.mark_sent
    refusals = 2

    async def flaky_mark_sent(conn: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal refusals
        if refusals:
            refusals -= 1
            raise OSError("connection reset while recording")
        await real_mark_sent(conn, *args, **kwargs)
        recorded.set()

    monkeypatch.setattr(outbox_store, "mark_sent", flaky_mark_sent)

    async def send(method: str, params: dict[str, Any]) -> dict[str, Any]:
        sent.append(params["text"])
        return {"message_id": len(sent)}

    workers = [OutboxWorker(rt, send, lambda exc: Retry(str(exc))) for rt in rts]
    await queue(rts[0], range(1, 2), 1)
    for worker in workers:
        worker.start()
    try:
        # Meanwhile both workers poll every 50 ms: a row given back would be sent again.
        await asyncio.wait_for(recorded.wait(), BOUND)
    finally:
        for worker in workers:
            await worker.stop()
        for rt in rts:
            await rt.engine.dispose()
    assert sent == ["1:0"]
    assert refusals == 0
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(outbox.c.status, outbox.c.lease_holder))).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [("sent", None)]


async def test_the_look_for_due_heads_parts_citizens_from_groups_by_each_rows_chat(
    db_url: str,
) -> None:
    """Citizens' lanes and the others' are told apart by the row's own chat (its kind looked up
    by key): a chat of unknown kind goes with the groups, and on SQLite the look never reads
    the whole table of known chats, which grows with every citizen the bot has met."""
    rt = runtime(db_url, Clock(datetime(2026, 12, 8, 9, 0, tzinfo=UTC)))
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    try:
        async with rt.engine.begin() as conn:
            for chat in range(1001, 1201):
                await chat_store.record_kind(conn, chat, "private", rt.now())
            await chat_store.record_kind(conn, -100500, "supergroup", rt.now())
        await queue(rt, range(1001, 1004), 2)
        await queue(rt, range(-100500, -100499), 1)
        await queue(rt, range(5005, 5006), 1)  # never seen: not known to be private
        event.listen(rt.engine.sync_engine, "before_cursor_execute", capture)
        async with rt.engine.connect() as conn:
            citizens = await outbox_store.due_heads(conn, rt.now(), private=True, limit=10)
            others = await outbox_store.due_heads(conn, rt.now(), private=False, limit=10)
        event.remove(rt.engine.sync_engine, "before_cursor_execute", capture)
        plans = []
        if rt.engine.dialect.name == "sqlite":
            async with rt.engine.connect() as conn:
                for statement, parameters in seen:
                    rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                    plans.append("\n".join(str(r[-1]) for r in rows))
    finally:
        await rt.engine.dispose()
    assert [r["chat_id"] for r in citizens] == [1001, 1002, 1003]  # each lane's head once
    assert [r["payload"]["text"] for r in citizens] == ["1001:0", "1002:0", "1003:0"]
    assert [r["chat_id"] for r in others] == [-100500, 5005]
    for plan in plans:
        assert "SCAN chat_kinds" not in plan and "LIST SUBQUERY" not in plan, plan


async def test_messages_settled_long_ago_are_forgotten_a_batch_at_a_time(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows sent, or given up on, more than OUTBOX_KEEP_DAYS ago go; a row still pending,
    however old, stays (it has not gone out yet), and so does one queued long ago but sent
    just now (the group's pacing counts its recent posts), and everything newer."""
    clock = Clock(datetime(2026, 12, 8, 9, 0, tzinfo=UTC))
    rt = runtime(db_url, clock)
    keep = timedelta(days=rt.settings.outbox_keep_days)
    old, recent, just_now = keep + timedelta(days=1), keep - timedelta(hours=1), timedelta(0)
    monkeypatch.setattr(delivery, "FORGET_BATCH", 3)  # several batches
    rows = (
        [(old, old, "sent")] * 5
        + [(old, keep + timedelta(hours=1), "failed")] * 4
        + [(old + timedelta(days=2), None, "pending")]
        + [(recent, recent, "sent")] * 2
        + [(old, just_now, "sent"), (old, just_now, "failed")]
    )
    ids: dict[str, list[int]] = defaultdict(list)
    try:
        async with rt.engine.begin() as conn:
            for n, (queued, settled, status) in enumerate(rows):
                row_id = await outbox_store.enqueue(
                    conn,
                    chat_id=1000 + n,
                    method="sendMessage",
                    payload={"text": f"{n}"},
                    purpose="test",
                    now=clock.now - queued,
                )
                at = clock.now - settled if settled is not None else None
                values: dict[str, Any] = {"status": status}
                if status == "sent":
                    values["sent_at"] = at
                elif status == "failed":
                    values["next_attempt_at"] = at
                await conn.execute(outbox.update().where(outbox.c.id == row_id).values(**values))
                kept = settled is None or settled < keep
                ids["kept" if kept else "gone"].append(row_id)
        assert await delivery.forget_settled(rt) == 9
        assert await delivery.forget_settled(rt) == 0
        async with rt.engine.connect() as conn:
            left = sorted((await conn.execute(select(outbox.c.id))).scalars())
    finally:
        await rt.engine.dispose()
    assert left == sorted(ids["kept"]) and len(left) == 5
