"""The outbox table: queue in the caller's transaction, claim and settle from the worker.

Rows are delivered in lanes: one lane per chat for what is posted there, and one per chat for
the card refreshes addressed to it (edits, which Telegram does not count against the chat's
limit). Within a lane rows go strictly in id order; the lanes do not wait for one another. The
head of a lane is its oldest pending row, and only a due head may be taken: a row waiting for
its retry holds back the rest of its lane, never another lane. Taking heads rather than rows is
what lets several processes share the outbox: a worker that takes a head (`FOR UPDATE SKIP
LOCKED`, then a lease of LEASE_SECONDS, renewed while it sends) owns that lane until it settles
the row, since the lane's next row stays held back while its head is pending, so one chat's
messages keep their order whichever process sends them, and no row is taken by two workers. A
worker that died leaves its lease to run out; then anybody takes the row (and, if the worker
died between Telegram's answer and its mark, sends it again: at least once, as before).

Lanes to private chats (citizens) and to groups are taken separately; which a chat is comes
from `chat_kinds` (what the messenger said the chat is), never from the sign of its id. A chat
of unknown kind counts as a group.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter

from bot.chat_kinds import PRIVATE
from bot.domain.purposes import Purpose
from bot.storage.rows import OutboxRow, every, one
from bot.storage.tables import chat_kinds, outbox

REFRESH = Purpose.CARD_REFRESH.value

Lane = tuple[int, bool]  # (chat id, card refreshes)
_NO_LEASE: dict[str, Any] = {"lease_holder": None, "lease_until": None}  # settled: nobody holds it


def lane_of(row: OutboxRow) -> Lane:
    return (int(row["chat_id"]), row["purpose"] == REFRESH)


async def enqueue(
    conn: AsyncConnection,
    *,
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    purpose: Purpose,
    now: datetime,
    case_id: int | None = None,
) -> int:
    """Queue one Bot API call; it is sent only if the surrounding transaction commits."""
    result = await conn.execute(
        insert(outbox).values(
            chat_id=chat_id,
            method=method,
            payload=payload,
            purpose=str(purpose),  # the value, also for a plain string
            case_id=case_id,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    # Ignored below: SQLAlchemy types inserted_primary_key Optional; a one-row INSERT sets it.
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def due(conn: AsyncConnection, now: datetime, limit: int = 50) -> list[OutboxRow]:
    """Pending rows whose time has come, oldest first, whatever their lane."""
    rows = await conn.execute(
        select(outbox)
        .where(and_(outbox.c.status == "pending", outbox.c.next_attempt_at <= now))
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return every(rows.mappings(), OutboxRow)


def _free(now: datetime | BindParameter[Any]) -> Any:
    """No worker holds the row, or its holder's lease has run out (at `now`, a time or the
    parameter of a statement built once)."""
    return or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)


def _locking(query: Select[Any], conn: AsyncConnection, lock: bool) -> Select[Any]:
    """`FOR UPDATE SKIP LOCKED` on PostgreSQL: concurrent claimers neither wait for one another
    nor take the same row. SQLite's write transactions run one at a time instead."""
    if lock and conn.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=outbox)
    return query


async def due_heads(
    conn: AsyncConnection, now: datetime, *, private: bool, limit: int, lock: bool = False
) -> list[OutboxRow]:
    """The due head of each lane to private chats (citizens), or to groups (and chats of
    unknown kind), that no worker holds; oldest first. With `lock`, in a write transaction,
    they stay locked for `lease`."""
    locking = lock and conn.dialect.name == "postgresql"
    rows = await conn.execute(_DUE_HEADS[private, locking], {"now": now, "limit": limit})
    return every(rows.mappings(), OutboxRow)


def _due_heads(private: bool, locking: bool) -> Select[Any]:
    earlier = outbox.alias("earlier")
    # Looked up by each candidate's chat (the primary key), not as `IN (every private chat)`:
    # SQLite builds that list by reading the whole table, once per look (49 ms with 200,000
    # citizens known), and a worker looks every poll and after every send.
    private_chat = exists().where(
        chat_kinds.c.chat_id == outbox.c.chat_id, chat_kinds.c.kind == PRIVATE
    )
    held_back = exists().where(
        earlier.c.chat_id == outbox.c.chat_id,
        earlier.c.status == "pending",
        earlier.c.id < outbox.c.id,
        (earlier.c.purpose == REFRESH) == (outbox.c.purpose == REFRESH),
    )
    now = bindparam("now", type_=outbox.c.lease_until.type)
    query = (
        select(outbox)
        .where(
            outbox.c.status == "pending",
            outbox.c.next_attempt_at <= now,
            private_chat if private else ~private_chat,
            _free(now),
            ~held_back,
        )
        .order_by(outbox.c.id)
        .limit(bindparam("limit"))
    )
    return query.with_for_update(skip_locked=True, of=outbox) if locking else query


# Built once (each worker looks every poll and after every send): by (private, locking).
_DUE_HEADS = {(p, lk): _due_heads(p, lk) for p in (False, True) for lk in (False, True)}


async def lane_head(
    conn: AsyncConnection, lane: Lane, now: datetime, *, lock: bool = False
) -> OutboxRow | None:
    """The lane's oldest pending row if it is due and no worker holds it; None if the lane is
    empty, waiting, or held. With `lock`, the head is found first and only then locked:
    `SKIP LOCKED` on the lane's rows would skip a head being taken elsewhere and hand out the
    row behind it."""
    chat_id, refresh = lane
    kind = outbox.c.purpose == REFRESH if refresh else outbox.c.purpose != REFRESH
    head = (
        select(outbox.c.id)
        .where(outbox.c.chat_id == chat_id, outbox.c.status == "pending", kind)
        .order_by(outbox.c.id)
        .limit(1)
        .scalar_subquery()
    )
    query = select(outbox).where(outbox.c.id == head, outbox.c.next_attempt_at <= now, _free(now))
    row = (await conn.execute(_locking(query, conn, lock))).mappings().first()
    return one(row, OutboxRow)


async def cards_behind(
    conn: AsyncConnection, head: OutboxRow, now: datetime, limit: int
) -> list[OutboxRow]:
    """New-case cards queued in the head's lane after it for the same topic, due and held by
    nobody, oldest first: what a digest may gather with the head. (The lane is ours while we
    hold its head.) `head` is the row as stored: its chat id names the lane even after the
    chat moved. Routes may send cases to several topics of one group, and a digest is posted
    in one of them, so cards for another topic stay for a digest (or a card) of their own."""
    query = (
        select(outbox)
        .where(
            outbox.c.chat_id == head["chat_id"],
            outbox.c.status == "pending",
            outbox.c.purpose == Purpose.CASE_CARD.value,
            outbox.c.id > head["id"],
            outbox.c.next_attempt_at <= now,
            _free(now),
        )
        .order_by(outbox.c.id)
        .limit(limit * 4)  # a few to spare for the cards of other topics
    )
    topic = head["payload"].get("message_thread_id")
    rows = every((await conn.execute(query)).mappings(), OutboxRow)
    return [r for r in rows if r["payload"].get("message_thread_id") == topic][:limit]


async def recent_posts(
    conn: AsyncConnection, chat_id: int, limit: int, per_post: int
) -> list[datetime]:
    """When the chat's last `limit` posts went out (edits are not posts), newest first. Rows
    settled by one message (a digest lists up to `per_post`) count once. Read from the newest
    end of the chat's lane index, at most limit × per_post rows, so it costs the same however
    long the chat's history."""
    last = (
        select(outbox.c.id, outbox.c.sent_at, outbox.c.result_message_id)
        .where(outbox.c.chat_id == chat_id, outbox.c.status == "sent", outbox.c.purpose != REFRESH)
        .order_by(outbox.c.id.desc())
        .limit(limit * per_post)
    )
    posts: dict[object, datetime] = {}
    for row_id, sent_at, message_id in await conn.execute(last):
        key = message_id if message_id is not None else ("row", row_id)
        if sent_at is not None and key not in posts:
            posts[key] = sent_at
        if len(posts) >= limit:
            break
    return sorted(posts.values(), reverse=True)


async def defer(conn: AsyncConnection, row_id: int, until: datetime, *, holder: str) -> None:
    """Put the row back until then, without counting an attempt (nothing was tried)."""
    await conn.execute(
        update(outbox).where(_still_ours(row_id, holder)).values(next_attempt_at=until, **_NO_LEASE)
    )


async def mark_sent_with(
    conn: AsyncConnection, row_ids: list[int], now: datetime, message_id: int | None
) -> list[int]:
    """Rows delivered by another row's message (a digest): sent, unless something settled
    them meanwhile. Returns those marked."""
    if not row_ids:
        return []
    result = await conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(row_ids), outbox.c.status == "pending")
        .values(status="sent", sent_at=now, result_message_id=message_id, **_NO_LEASE)
        .returning(outbox.c.id)
    )
    return sorted(result.scalars())


async def lease(conn: AsyncConnection, row_ids: list[int], holder: str, until: datetime) -> None:
    """Take these rows (heads found with `lock`) for `holder` until `until`."""
    if row_ids:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(row_ids))
            .values(lease_holder=holder, lease_until=until)
        )


async def renew(conn: AsyncConnection, row_ids: list[int], holder: str, until: datetime) -> None:
    """Extend the leases `holder` still has on these rows (a send waits in the pacing)."""
    if row_ids:
        await conn.execute(
            update(outbox)
            .where(
                outbox.c.id.in_(row_ids),
                outbox.c.lease_holder == holder,
                outbox.c.status == "pending",
            )
            .values(lease_until=until)
        )


async def release(conn: AsyncConnection, row_ids: list[int], holder: str) -> None:
    """Give back rows not sent (a stop, a lane that broke): anybody may take them at once."""
    if row_ids:
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(row_ids), outbox.c.lease_holder == holder)
            .values(lease_holder=None, lease_until=None)
        )


async def mark_sent(
    conn: AsyncConnection, row_id: int, now: datetime, message_id: int | None
) -> None:
    values: dict[str, Any] = {
        "status": "sent",
        "sent_at": now,
        "attempts": outbox.c.attempts + 1,
        **_NO_LEASE,
    }
    if message_id is not None:  # else keep the one a first part recorded
        values["result_message_id"] = message_id
    await conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))


async def mark_part_sent(
    conn: AsyncConnection, row_id: int, parts_sent: int, message_id: int | None
) -> None:
    """One part of a message sent as several went out: a retry resumes after it."""
    values: dict[str, Any] = {"parts_sent": parts_sent}
    if message_id is not None:
        values["result_message_id"] = message_id
    await conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))


async def last_refresh(conn: AsyncConnection, case_id: int) -> int | None:
    """The newest pending card refresh of a case (its id)."""
    newest = (
        await conn.execute(
            select(func.max(outbox.c.id)).where(
                outbox.c.case_id == case_id,
                outbox.c.purpose == REFRESH,
                outbox.c.status == "pending",
            )
        )
    ).scalar()
    return int(newest) if newest is not None else None


async def settle_refreshes(conn: AsyncConnection, case_id: int, up_to: int, now: datetime) -> None:
    """Refreshes of a case queued before it was drawn are done by that drawing."""
    await conn.execute(
        update(outbox)
        .where(
            and_(
                outbox.c.case_id == case_id,
                outbox.c.purpose == REFRESH,
                outbox.c.status == "pending",
                outbox.c.id <= up_to,
            )
        )
        .values(status="sent", sent_at=now, **_NO_LEASE)
    )


def _still_ours(row_id: int, holder: str | None) -> Any:
    """The row is pending and `holder` (when named) has not lost it to another worker: a late
    mark by a holder that stalled past its lease leaves the row to whoever took it over."""
    if holder is None:
        return outbox.c.id == row_id
    return and_(
        outbox.c.id == row_id,
        outbox.c.status == "pending",
        or_(outbox.c.lease_holder.is_(None), outbox.c.lease_holder == holder),
    )


async def mark_retry(
    conn: AsyncConnection, row_id: int, error: str, next_at: datetime, *, holder: str | None = None
) -> None:
    await conn.execute(
        update(outbox)
        .where(_still_ours(row_id, holder))
        .values(
            last_error=error[:1000],
            next_attempt_at=next_at,
            attempts=outbox.c.attempts + 1,
            **_NO_LEASE,
        )
    )


async def mark_failed(
    conn: AsyncConnection, row_id: int, error: str, *, holder: str | None = None
) -> None:
    await conn.execute(
        update(outbox)
        .where(_still_ours(row_id, holder))
        .values(
            status="failed", last_error=error[:1000], attempts=outbox.c.attempts + 1, **_NO_LEASE
        )
    )


async def backlog(conn: AsyncConnection) -> tuple[int, datetime | None]:
    """How many rows wait to be sent, and when the oldest of them was queued (None when none
    wait): what /healthz reports, whichever process queued them."""
    query = select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.status == "pending")
    pending, oldest = (await conn.execute(query)).one()
    return int(pending), oldest


async def forget_settled_before(conn: AsyncConnection, cutoff: datetime, limit: int) -> int:
    """Delete up to `limit` rows sent before `cutoff`, and up to `limit` given up on (after
    their last try, due) before it, those longest settled first; how many went. Each is a
    range of an index (`status, sent_at`; `status, next_attempt_at`): a batch reads what it
    deletes, not the table's history. A row queued long ago and sent just now stays: the
    group's pacing counts its recent posts."""
    gone = 0
    for status, settled in (("sent", outbox.c.sent_at), ("failed", outbox.c.next_attempt_at)):
        oldest = (
            select(outbox.c.id)
            .where(outbox.c.status == status, settled < cutoff)
            .order_by(settled)
            .limit(limit)
        )
        result = await conn.execute(delete(outbox).where(outbox.c.id.in_(oldest.scalar_subquery())))
        gone += max(result.rowcount or 0, 0)
    return gone
