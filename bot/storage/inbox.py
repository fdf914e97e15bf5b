"""The inbox table: updates committed on arrival, taken per lane (sender) in update_id order.

A lane's head is its oldest unhandled row, and only a head may be taken: the lane's next row
stays held back while the head is unhandled, so whoever holds the head's lease owns the lane,
and one sender's updates run one at a time, in order, whichever process takes them. On
PostgreSQL the heads are claimed with `FOR UPDATE SKIP LOCKED`, so concurrent claimers never
wait for one another nor take the same head; SQLite has no row locks, and its `BEGIN
IMMEDIATE` transactions (`bot.storage.db`) run the same claims one at a time instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypedDict

from sqlalchemy import Select, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.rows import InboxRow, every
from bot.storage.tables import inbox


class NewRow(TypedDict):
    update_id: int
    lane_key: int
    payload: dict[str, Any]
    flood_warning: bool


async def add(conn: AsyncConnection, updates: Sequence[NewRow], now: datetime) -> None:
    """Store updates as they arrived; an update_id stored already is skipped (Telegram sends
    again what it was not told had arrived)."""
    if not updates:
        return
    await conn.execute(_built(conn).add, [{**row, "received_at": now} for row in updates])


def _free(t: Any) -> Any:
    return or_(t.c.lease_until.is_(None), t.c.lease_until < bindparam("now"))


def _held_back(t: Any) -> Any:
    """An earlier row of the same lane is not handled yet: this row is not its lane's head."""
    earlier = inbox.alias("earlier")
    return exists().where(
        earlier.c.lane_key == t.c.lane_key,
        earlier.c.handled_at.is_(None),
        earlier.c.update_id < t.c.update_id,
    )


def _locking(query: Select[Any], dialect: str, of: Any) -> Select[Any]:
    if dialect == "postgresql":
        return query.with_for_update(skip_locked=True, of=of)
    return query


def _lease(chosen: Select[Any]) -> Any:
    """Lease the rows whose ids `chosen` selects and return them as leased: one statement
    (UPDATE … RETURNING), so a claim costs one round trip whether it finds rows or not.

    `chosen` is a materialised CTE, run once: as an `IN (…)` subquery PostgreSQL may run a
    locking `LIMIT n` again for each row it updates, and lease more than n."""
    picked = chosen.cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
    return (
        update(inbox)
        .where(inbox.c.update_id == picked.c.update_id, inbox.c.handled_at.is_(None))
        .values(lease_holder=bindparam("holder"), lease_until=bindparam("until"))
        .returning(*inbox.c)
    )


class _Statements(NamedTuple):
    """The inbox's statements for one dialect, built once: each update runs four of them, and
    building a statement costs more than SQLite's work on it."""

    add: Any
    claim_heads: Any
    claim_next: Any


def _build(dialect: str) -> _Statements:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    head = inbox.alias("head")
    heads = (
        select(head.c.update_id)
        .where(head.c.handled_at.is_(None), _free(head), ~_held_back(head))
        .order_by(head.c.update_id)
        .limit(bindparam("limit"))
    )
    # The lane's head is found first and only then locked: `SKIP LOCKED` on the lane's rows
    # would skip a head being claimed elsewhere and hand out the row behind it.
    lane = inbox.alias("lane")
    first = (
        select(lane.c.update_id)
        .where(lane.c.lane_key == bindparam("the_lane"), lane.c.handled_at.is_(None))
        .order_by(lane.c.update_id)
        .limit(1)
        .scalar_subquery()
    )
    lane_head = select(head.c.update_id).where(head.c.update_id == first, _free(head))
    return _Statements(
        add=insert(inbox).on_conflict_do_nothing(index_elements=["update_id"]),
        claim_heads=_lease(_locking(heads, dialect, head)),
        claim_next=_lease(_locking(lane_head, dialect, head)),
    )


_BUILT = {name: _build(name) for name in ("sqlite", "postgresql")}


def _built(conn: AsyncConnection) -> _Statements:
    return _BUILT[conn.dialect.name]


def _leased(result: Any) -> list[InboxRow]:
    rows = every(result.mappings(), InboxRow)
    rows.sort(key=lambda r: r["update_id"])  # RETURNING keeps no order
    return rows


async def claim_heads(
    conn: AsyncConnection, holder: str, now: datetime, until: datetime, limit: int
) -> list[InboxRow]:
    """Lease up to `limit` lane heads that nobody holds (or whose holder's lease ran out),
    oldest first: at most one row per lane."""
    params = {"now": now, "holder": holder, "until": until, "limit": limit}
    return _leased(await conn.execute(_built(conn).claim_heads, params))


async def free_heads(conn: AsyncConnection, now: datetime) -> bool:
    """Whether any row could be claimed now (a read: no lock taken)."""
    query = select(inbox.c.update_id).where(
        inbox.c.handled_at.is_(None), _free(inbox), ~_held_back(inbox)
    )
    return (await conn.execute(query.limit(1), {"now": now})).first() is not None


async def claim_next(
    conn: AsyncConnection, lane_key: int, holder: str, now: datetime, until: datetime
) -> InboxRow | None:
    """Lease this lane's head if nobody holds it; None when the lane is empty or held."""
    params = {"the_lane": lane_key, "now": now, "holder": holder, "until": until}
    rows = _leased(await conn.execute(_built(conn).claim_next, params))
    return rows[0] if rows else None


_MARK_HANDLED = (
    update(inbox)
    .where(
        inbox.c.update_id == bindparam("id"),
        inbox.c.lease_holder == bindparam("holder"),
        inbox.c.handled_at.is_(None),
    )
    .values(handled_at=bindparam("now"), lease_holder=None, lease_until=None)
)


async def mark_handled(conn: AsyncConnection, update_id: int, holder: str, now: datetime) -> bool:
    """Record the update handled; False when `holder` no longer holds it (its lease ran out
    and another worker took it over)."""
    result = await conn.execute(_MARK_HANDLED, {"id": update_id, "holder": holder, "now": now})
    return bool(result.rowcount)


async def renew(
    conn: AsyncConnection, update_ids: Sequence[int], holder: str, until: datetime
) -> int:
    """Extend the leases `holder` still has on these rows; returns how many it still had."""
    if not update_ids:
        return 0
    result = await conn.execute(
        update(inbox)
        .where(
            inbox.c.update_id.in_(list(update_ids)),
            inbox.c.lease_holder == holder,
            inbox.c.handled_at.is_(None),
        )
        .values(lease_until=until)
    )
    return result.rowcount or 0


async def release(conn: AsyncConnection, update_ids: Sequence[int], holder: str) -> None:
    """Give back leases (a graceful stop): another worker may take the rows at once."""
    if update_ids:
        await conn.execute(
            update(inbox)
            .where(
                inbox.c.update_id.in_(list(update_ids)),
                inbox.c.lease_holder == holder,
                inbox.c.handled_at.is_(None),
            )
            .values(lease_holder=None, lease_until=None)
        )


async def unhandled(conn: AsyncConnection, limit: int = 1000) -> list[InboxRow]:
    """Rows not handled yet, oldest first (for health figures and tests)."""
    rows = await conn.execute(
        select(inbox).where(inbox.c.handled_at.is_(None)).order_by(inbox.c.update_id).limit(limit)
    )
    return every(rows.mappings(), InboxRow)


async def backlog(conn: AsyncConnection) -> tuple[int, datetime | None]:
    """How many updates wait to be handled, and when the oldest of them arrived (None when
    none wait): what /healthz reports, whichever process received them."""
    query = select(func.count(), func.min(inbox.c.received_at)).where(inbox.c.handled_at.is_(None))
    waiting, oldest = (await conn.execute(query)).one()
    return int(waiting), oldest


async def forget_handled_before(conn: AsyncConnection, cutoff: datetime) -> None:
    await conn.execute(delete(inbox).where(inbox.c.handled_at < cutoff))
