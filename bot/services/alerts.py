"""Alerts that are pushed, not asked for: complaint spikes for managers, SLA nudges for staff.

Both run as once-a-minute jobs and follow the pattern of `pushes`: find what is due, then write
a dedupe row and the outbox messages in one transaction. A unique key on the dedupe row makes a
second process (or a rerun after a crash) fail to insert and send nothing, so every alert goes
out exactly once.

Spikes are counted over a rolling window ending now; each spike (a business, or a violation
type in a province) is alerted once per window bucket, and in a later bucket only if a new
complaint arrived since the last alert. SLA clocks count working time (`workcal`): an unclaimed
case from the moment it (re-)entered the queue; a referred case from its latest event. A new
event starts a new clock, so the same case may be alerted again after the next crossing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.purposes import Purpose
from bot.domain.roles import Role
from bot.domain.worktime import WorkCalendar
from bot.services import cards, pushes, workcal
from bot.services.runtime import Runtime
from bot.storage import alerts as alert_store
from bot.storage import cases as case_store
from bot.storage import chats
from bot.storage import desk as desk_store
from bot.storage import outbox as outbox_store
from bot.storage.rows import ClockedCase, SpikeCase, UnitRow
from bot.views import alerts as views

log = logging.getLogger(__name__)

UNCLAIMED = "unclaimed"
REMIND = "referral_remind"
ESCALATE = "referral_escalate"
AWAIT_REMIND = "awaiting_remind"  # the citizen, at half the clock
AWAIT_LATE = "awaiting_late"  # whoever the answer goes back to, at its end


# -- spikes --------------------------------------------------------------------------------------


def spike_bucket(now: datetime, window: timedelta) -> int:
    """Which window `now` falls in, counted from the epoch: the dedupe key's time part."""
    return int(now.timestamp()) // int(window.total_seconds())


async def check_spikes(rt: Runtime) -> list[str]:
    """Queue an alert for every spike not alerted in this window; returns their keys."""
    settings = rt.settings
    now = rt.now()
    window = timedelta(minutes=settings.spike_window_minutes)
    since, bucket = now - window, spike_bucket(now, window)
    due: list[tuple[alert_store.SpikeGroup, list[SpikeCase]]] = []
    async with rt.engine.connect() as conn:
        groups = await alert_store.spike_groups(
            conn,
            since,
            now,
            business=settings.spike_business_threshold,
            province=settings.spike_province_threshold,
        )
        for group in groups:
            if not await alert_store.spike_already_alerted(conn, group, bucket):
                due.append((group, await alert_store.spike_cases(conn, group, since, now)))
    if not due:
        return []
    chats = await pushes.recipients(rt)
    sent: list[str] = []
    for group, cases in due:
        texts = views.spike(group.kind, cases, window, tz=settings.tz)
        try:
            async with rt.engine.begin() as conn:
                await alert_store.record_spike(conn, group, bucket, now)
                for chat_id in chats:
                    for body in texts:
                        await _send(conn, rt, chat_id, body, purpose=Purpose.SPIKE_ALERT)
        except IntegrityError:  # another process alerted it a moment ago
            continue
        sent.append(f"{group.kind}:{group.key}")
    if sent:
        rt.ring()
    return sent


# -- SLA -----------------------------------------------------------------------------------------


async def check_sla(rt: Runtime) -> list[str]:
    """Queue the SLA messages now due; returns "kind:case_id" for each."""
    calendar = workcal.calendar(rt.settings)
    done = await _unclaimed(rt, calendar)
    done += await _referrals(rt, calendar, REMIND, rt.settings.sla_referral_remind_work_hours)
    done += await _referrals(rt, calendar, ESCALATE, rt.settings.sla_referral_escalate_work_hours)
    hours = rt.settings.sla_awaiting_citizen_work_hours
    done += await _awaiting(rt, calendar, AWAIT_REMIND, hours / 2)
    done += await _awaiting(rt, calendar, AWAIT_LATE, hours)
    if done:
        rt.ring()
    return done


async def _unclaimed(rt: Runtime, calendar: WorkCalendar) -> list[str]:
    settings = rt.settings
    if not settings.desk_chat_ids():
        return []
    now = rt.now()
    limit = timedelta(hours=settings.sla_unclaimed_work_hours)
    # Working time never exceeds wall time: anything younger than the limit cannot be due.
    async with rt.engine.connect() as conn:
        waiting = await alert_store.unclaimed_since(conn, now - limit, UNCLAIMED)
    done: list[str] = []
    for case in waiting:
        age = calendar.between(case["since"], now)
        if age < limit:
            continue
        async with rt.engine.connect() as conn:
            desk = await cards.card_desk(conn, settings, case)  # where its card is
            if desk is None:
                continue
            reply_to = await _card_in(conn, case["id"], desk.chat_id)
        body = views.unclaimed(case, age, tz=settings.tz)
        message = _message(body, thread=desk.thread_id, reply_to=reply_to)
        if await _record_and_send(
            rt, case, UNCLAIMED, age, [(desk.chat_id, message, Purpose.SLA_UNCLAIMED)]
        ):
            done.append(f"{UNCLAIMED}:{case['id']}")
    return done


async def _referrals(rt: Runtime, calendar: WorkCalendar, kind: str, hours: float) -> list[str]:
    async def targets(conn: AsyncConnection, case: ClockedCase, age: timedelta) -> list[Target]:
        if kind == REMIND:
            return await _reminder_targets(rt, conn, case, age)
        return await _escalation_targets(rt, conn, case, age)

    return await _on_clock(rt, calendar, kind, hours, alert_store.referred_quiet_since, targets)


async def _on_clock(
    rt: Runtime,
    calendar: WorkCalendar,
    kind: str,
    hours: float,
    candidates: Callable[[AsyncConnection, datetime, str], Awaitable[list[ClockedCase]]],
    targets: Callable[[AsyncConnection, ClockedCase, timedelta], Awaitable[list[Target]]],
) -> list[str]:
    """Every case whose working-time clock has passed `hours` and that was not alerted for this
    crossing yet: its messages, and the dedupe row, in one transaction."""
    now = rt.now()
    limit = timedelta(hours=hours)
    # Working time never exceeds wall time: anything younger than the limit cannot be due.
    async with rt.engine.connect() as conn:
        due = await candidates(conn, now - limit, kind)
    done: list[str] = []
    for case in due:
        age = calendar.between(case["since"], now)
        if age < limit:
            continue
        async with rt.engine.connect() as conn:
            messages = await targets(conn, case, age)
        if messages and await _record_and_send(rt, case, kind, age, messages):
            done.append(f"{kind}:{case['id']}")
    return done


Target = tuple[int, dict[str, Any], Purpose]  # chat id, sendMessage payload, outbox purpose


async def _awaiting(rt: Runtime, calendar: WorkCalendar, kind: str, hours: float) -> list[str]:
    """A question unanswered for a while: the citizen is reminded once at half the clock, and
    at its end whoever the answer would go back to (the holder, else the unit) is told, so a
    case waiting on the citizen never stalls unseen."""

    async def targets(conn: AsyncConnection, case: ClockedCase, age: timedelta) -> list[Target]:
        if kind == AWAIT_REMIND:
            citizen = case["citizen_id"]
            if citizen is None:  # not followed in chat: nobody there to remind
                return []
            return [(citizen, views.answer_reminder(case), Purpose.SLA_REMINDER)]
        return await _late_answer_targets(rt, conn, case, age)

    return await _on_clock(rt, calendar, kind, hours, alert_store.awaiting_since, targets)


async def _late_answer_targets(
    rt: Runtime, conn: AsyncConnection, case: ClockedCase, age: timedelta
) -> list[Target]:
    body = views.answer_overdue(case, age, tz=rt.settings.tz)
    if case["holder_id"] is not None:
        return [(case["holder_id"], _message(body), Purpose.SLA_REMINDER)]
    unit = await _unit_of(conn, case)
    if unit is not None and unit["chat_id"] is not None:
        reply_to = await case_store.card_message_id(
            conn, case["id"], unit["chat_id"], Purpose.UNIT_CARD
        )
        message = _message(body, thread=unit["thread_id"], reply_to=reply_to)
        return [(unit["chat_id"], message, Purpose.SLA_REMINDER)]
    return await _staff_group(rt, conn, case, body, Purpose.SLA_REMINDER)


async def _unit_of(conn: AsyncConnection, case: ClockedCase) -> UnitRow | None:
    unit_id = case["unit_id"]
    return await desk_store.unit(conn, unit_id) if unit_id is not None else None


async def _reminder_targets(
    rt: Runtime, conn: AsyncConnection, case: ClockedCase, age: timedelta
) -> list[Target]:
    """The holder's private chat; with no holder yet, the unit's chat, else the staff group."""
    settings = rt.settings
    unit = await _unit_of(conn, case)
    body = views.referral_reminder(case, age, unit=unit["name"] if unit else None, tz=settings.tz)
    if case["holder_id"] is not None:
        return [(case["holder_id"], _message(body), Purpose.SLA_REMINDER)]
    if unit is not None and unit["chat_id"] is not None:
        reply_to = await case_store.card_message_id(
            conn, case["id"], unit["chat_id"], Purpose.UNIT_CARD
        )
        message = _message(body, thread=unit["thread_id"], reply_to=reply_to)
        return [(unit["chat_id"], message, Purpose.SLA_REMINDER)]
    return await _staff_group(rt, conn, case, body, Purpose.SLA_REMINDER)


async def _escalation_targets(
    rt: Runtime, conn: AsyncConnection, case: ClockedCase, age: timedelta
) -> list[Target]:
    """Every supervisor in private, and the staff group (replying to the card)."""
    unit = await _unit_of(conn, case)
    holder = None
    if case["holder_id"] is not None:
        names = await desk_store.names(conn, {case["holder_id"]})
        holder = (case["holder_id"], names.get(case["holder_id"], ""))
    body = views.referral_escalation(
        case, age, unit=unit["name"] if unit else None, holder=holder, tz=rt.settings.tz
    )
    targets: list[Target] = [
        (uid, _message(body), Purpose.SLA_ESCALATION)
        for uid in await alert_store.users_with_role(conn, Role.SUPERVISOR.value)
    ]
    return targets + await _staff_group(rt, conn, case, body, Purpose.SLA_ESCALATION)


async def _staff_group(
    rt: Runtime, conn: AsyncConnection, case: ClockedCase, body: str, purpose: Purpose
) -> list[Target]:
    desk = await cards.card_desk(conn, rt.settings, case)  # where its card is
    if desk is None:
        return []
    reply_to = await _card_in(conn, case["id"], desk.chat_id)
    return [(desk.chat_id, _message(body, thread=desk.thread_id, reply_to=reply_to), purpose)]


async def _card_in(conn: AsyncConnection, case_id: int, chat_id: int) -> int | None:
    """The case's card in this desk group, to reply to (the card moved with the group, if it
    was upgraded to a supergroup)."""
    now_at = await chats.current_id(conn, chat_id)
    return await case_store.card_message_id(conn, case_id, now_at, Purpose.CASE_CARD)


async def _record_and_send(
    rt: Runtime, case: ClockedCase, kind: str, age: timedelta, targets: list[Target]
) -> bool:
    """The dedupe row and the messages, together or not at all; False if already done."""
    now = rt.now()
    try:
        async with rt.engine.begin() as conn:
            await alert_store.record_sla(
                conn, case["id"], kind, case["since_event_id"], int(age.total_seconds()), now
            )
            for chat_id, payload, purpose in targets:
                await _enqueue(conn, rt, chat_id, payload, purpose, case_id=case["id"])
    except IntegrityError:  # another process got there first
        return False
    return True


# -- messages ------------------------------------------------------------------------------------


def _message(
    body: str, *, thread: int | None = None, reply_to: int | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"text": body, "parse_mode": "HTML"}
    if thread is not None:
        payload["message_thread_id"] = thread
    if reply_to is not None:
        # The card may have been deleted by an admin: then the reminder stands on its own.
        payload["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
    return payload


async def _send(
    conn: AsyncConnection, rt: Runtime, chat_id: int, body: str, *, purpose: Purpose
) -> None:
    await _enqueue(conn, rt, chat_id, _message(body), purpose)


async def _enqueue(
    conn: AsyncConnection,
    rt: Runtime,
    chat_id: int,
    payload: dict[str, Any],
    purpose: Purpose,
    *,
    case_id: int | None = None,
) -> None:
    await outbox_store.enqueue(
        conn,
        chat_id=chat_id,
        method="sendMessage",
        payload=payload,
        purpose=purpose,
        case_id=case_id,
        now=rt.now(),
    )
