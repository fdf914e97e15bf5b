"""Queries behind spike and SLA alerts, and their dedupe rows.

Spikes read only the last window of cases (the `cases.created_at` index), so the check costs
the same every minute however large the history grows. SLA queries start from the open cases
of one kind (a short list) and read each one's latest events through `case_events(case_id, at)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.lifecycle import Status
from bot.storage.rows import ClockedCase, SpikeCase, every
from bot.storage.tables import case_events, cases, sla_alerts, spike_alerts, users

QUEUE_STATES = (Status.NEW.value, Status.REOPENED.value)
# A referred case is watched while the unit has it: before it accepts and after.
REFERRAL_STATES = (Status.REFERRED.value, Status.CLAIMED.value)

BUSINESS, PROVINCE = "business", "province"


@dataclass(frozen=True)
class SpikeGroup:
    kind: str  # BUSINESS / PROVINCE
    key: str
    count: int
    newest_case_id: int
    where: dict[str, str]  # the columns that define the group, for fetching its cases


async def spike_groups(
    conn: AsyncConnection, since: datetime, until: datetime, *, business: int, province: int
) -> list[SpikeGroup]:
    """Businesses, and (violation, province) pairs, with at least the threshold of complaints
    created in (since, until]."""
    window = and_(cases.c.created_at > since, cases.c.created_at <= until)
    found: list[SpikeGroup] = []
    rows = await conn.execute(
        select(cases.c.business_key, func.count(), func.max(cases.c.id))
        .where(window)
        .group_by(cases.c.business_key)
        .having(func.count() >= business)
        .order_by(cases.c.business_key)
    )
    for key, count, newest in rows:
        found.append(SpikeGroup(BUSINESS, key, count, newest, {"business_key": key}))
    rows = await conn.execute(
        select(cases.c.violation, cases.c.province, func.count(), func.max(cases.c.id))
        .where(window)
        .group_by(cases.c.violation, cases.c.province)
        .having(func.count() >= province)
        .order_by(cases.c.violation, cases.c.province)
    )
    for violation, prov, count, newest in rows:
        where = {"violation": violation, "province": prov}
        found.append(SpikeGroup(PROVINCE, f"{violation}:{prov}", count, newest, where))
    return found


async def spike_cases(
    conn: AsyncConnection, group: SpikeGroup, since: datetime, until: datetime
) -> list[SpikeCase]:
    """The group's cases in the window, newest first."""
    conds = [cases.c.created_at > since, cases.c.created_at <= until]
    conds += [cases.c[column] == value for column, value in group.where.items()]
    rows = await conn.execute(
        select(
            cases.c.id,
            cases.c.code,
            cases.c.business,
            cases.c.business_key,
            cases.c.violation,
            cases.c.province,
            cases.c.city,
            cases.c.created_at,
        )
        .where(and_(*conds))
        .order_by(cases.c.created_at.desc(), cases.c.id.desc())
    )
    return every(rows.mappings(), SpikeCase)


async def spike_already_alerted(conn: AsyncConnection, group: SpikeGroup, bucket: int) -> bool:
    """Alerted in this window already, or in an earlier one with no complaint since."""
    found = await conn.execute(
        select(spike_alerts.c.id)
        .where(
            and_(
                spike_alerts.c.kind == group.kind,
                spike_alerts.c.spike_key == group.key,
                or_(
                    spike_alerts.c.bucket == bucket,
                    spike_alerts.c.newest_case_id >= group.newest_case_id,
                ),
            )
        )
        .limit(1)
    )
    return found.first() is not None


async def record_spike(
    conn: AsyncConnection, group: SpikeGroup, bucket: int, now: datetime
) -> None:
    """The dedupe row; a second process inserting the same one gets an IntegrityError."""
    await conn.execute(
        insert(spike_alerts).values(
            kind=group.kind,
            spike_key=group.key,
            bucket=bucket,
            case_count=group.count,
            newest_case_id=group.newest_case_id,
            created_at=now,
        )
    )


# -- SLA -----------------------------------------------------------------------------------------


async def unclaimed_since(
    conn: AsyncConnection, entered_before: datetime, kind: str
) -> list[ClockedCase]:
    """Unclaimed cases that entered the queue (filed, released, returned, reopened) no later
    than `entered_before` and were not alerted for that entry: the case plus `since_event_id`
    and `since` (when the clock started)."""
    open_case = and_(cases.c.status.in_(QUEUE_STATES), cases.c.holder_id.is_(None))
    entry = and_(
        case_events.c.to_status.in_(QUEUE_STATES),
        or_(
            case_events.c.from_status.is_(None),
            case_events.c.from_status != case_events.c.to_status,
        ),
    )
    return await _clocked(conn, open_case, entry, entered_before, kind)


async def referred_quiet_since(
    conn: AsyncConnection, quiet_before: datetime, kind: str
) -> list[ClockedCase]:
    """Cases with a unit whose latest event of any kind is no later than `quiet_before`, not
    alerted for that quiet stretch yet."""
    with_unit = and_(cases.c.unit_id.is_not(None), cases.c.status.in_(REFERRAL_STATES))
    return await _clocked(conn, with_unit, None, quiet_before, kind)


async def awaiting_since(
    conn: AsyncConnection, asked_before: datetime, kind: str
) -> list[ClockedCase]:
    """Cases still waiting for the citizen's answer to a question asked no later than
    `asked_before`, not alerted for that question yet."""
    waiting = cases.c.status == Status.AWAITING_CITIZEN.value
    return await _clocked(conn, waiting, case_events.c.action == "ask", asked_before, kind)


async def _clocked(
    conn: AsyncConnection,
    case_cond: ColumnElement[bool],
    event_cond: ColumnElement[bool] | None,
    before: datetime,
    kind: str,
) -> list[ClockedCase]:
    """Cases matching `case_cond` whose latest event matching `event_cond` happened no later
    than `before`, with no `kind` alert for that event yet."""
    candidates = select(cases.c.id).where(case_cond)
    latest = select(
        case_events.c.case_id.label("case_id"), func.max(case_events.c.id).label("event_id")
    ).where(case_events.c.case_id.in_(candidates))
    if event_cond is not None:
        latest = latest.where(event_cond)
    last = latest.group_by(case_events.c.case_id).subquery()
    done = exists().where(
        and_(
            sla_alerts.c.case_id == cases.c.id,
            sla_alerts.c.kind == kind,
            sla_alerts.c.since_event_id == case_events.c.id,
        )
    )
    rows = await conn.execute(
        select(
            cases,
            case_events.c.id.label("since_event_id"),
            case_events.c.at.label("since"),
        )
        .select_from(
            cases.join(last, last.c.case_id == cases.c.id).join(
                case_events, case_events.c.id == last.c.event_id
            )
        )
        .where(and_(case_cond, case_events.c.at <= before, ~done))
        .order_by(case_events.c.at, cases.c.id)
    )
    return every(rows.mappings(), ClockedCase)


async def record_sla(
    conn: AsyncConnection, case_id: int, kind: str, since_event_id: int, age: int, now: datetime
) -> None:
    await conn.execute(
        insert(sla_alerts).values(
            case_id=case_id,
            kind=kind,
            since_event_id=since_event_id,
            working_seconds=age,
            created_at=now,
        )
    )


async def users_with_role(conn: AsyncConnection, role: str) -> list[int]:
    rows = await conn.execute(select(users.c.id).where(users.c.role == role).order_by(users.c.id))
    return [int(r) for r in rows.scalars()]
