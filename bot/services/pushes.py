"""Scheduled summaries for managers: due slots, exactly once, caught up after downtime.

A job runs every minute and asks `due_slots(now)` which scheduled moments have passed; the most
recent slot of each kind is pushed unless a row in `scheduled_pushes` says it already was. The
row and the queued messages are written in one transaction, so a crash or a second process
can neither send a summary twice nor lose it, and a bot that was down at 20:00 pushes the
missed summary once when it comes back.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot import charts
from bot.config import parse_clock, parse_weekly
from bot.domain.periods import Period, PeriodKind
from bot.domain.purposes import Purpose
from bot.domain.roles import Role
from bot.domain.summary import Summary
from bot.services.reports import summarize
from bot.services.runtime import Runtime
from bot.storage import chats
from bot.storage import outbox as outbox_store
from bot.storage import pushes as push_store
from bot.storage import users as user_store
from bot.views import summary as summary_views
from bot.views.screen import inline

SATURDAY = 5

# Charts are drawn one at a time (matplotlib is not thread-safe), off the event loop. A thread
# lock, taken in the drawing thread: an asyncio lock at module level would belong to the first
# event loop that waited on it.
_chart_lock = threading.Lock()


@dataclass(frozen=True)
class Slot:
    kind: str  # "daily" / "weekly"
    at: datetime  # aware UTC
    period: Period


def due_slots(rt: Runtime, now: datetime) -> list[Slot]:
    """The latest scheduled moment of each kind that is not after `now`, with what it reports.

    The daily summary reports the Tehran day it falls on (so far). The weekly one reports the
    Iranian week it falls in, or the week just ended when it is set for a Saturday."""
    tz = rt.settings.tz
    local = now.astimezone(tz)
    clock = parse_clock(rt.settings.daily_summary_at)
    daily = local.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)
    if daily > local:
        daily -= timedelta(days=1)
    weekday, wclock = parse_weekly(rt.settings.weekly_summary_at)
    weekly = local.replace(hour=wclock.hour, minute=wclock.minute, second=0, microsecond=0)
    weekly -= timedelta(days=(local.weekday() - weekday) % 7)
    if weekly > local:
        weekly -= timedelta(days=7)
    reported_week = weekly - timedelta(days=1) if weekday == SATURDAY else weekly
    return [
        Slot("daily", daily.astimezone(now.tzinfo), Period.containing(PeriodKind.DAY, daily, tz)),
        Slot(
            "weekly",
            weekly.astimezone(now.tzinfo),
            Period.containing(PeriodKind.WEEK, reported_week, tz),
        ),
    ]


async def recipients(rt: Runtime) -> list[int]:
    """MANAGER_CHAT_IDS and every user with the manager role (their private chats)."""
    async with rt.engine.connect() as conn:
        ids = await user_store.ids_with_role(conn, Role.MANAGER.value)
        found = list(rt.settings.manager_chat_ids) + ids
    return list(dict.fromkeys(found))


async def is_manager_chat(rt: Runtime, chat_id: int) -> bool:
    """A chat of MANAGER_CHAT_IDS, under the id configured or where it lives now (a group
    upgraded to a supergroup keeps its place)."""
    configured = rt.settings.manager_chat_ids
    if chat_id in configured:
        return True
    async with rt.engine.connect() as conn:
        return any([await chats.current_id(conn, c) == chat_id for c in configured])


async def build_summary(rt: Runtime, period: Period) -> Summary:
    start, end = period.bounds(rt.settings.tz)
    return await build_summary_for(rt, start, end)


async def build_summary_for(rt: Runtime, start: datetime, end: datetime) -> Summary:
    return await summarize(
        rt.engine, start, end, now=rt.now(), sla=timedelta(hours=rt.settings.sla_hours)
    )


async def chart_png(summary: Summary, title: str) -> bytes:
    def draw() -> bytes:
        with _chart_lock:
            return charts.summary_chart(summary, title)

    return await asyncio.to_thread(draw)


def summary_messages(
    summary: Summary, period: Period | None, tz: Any, *, title: str | None = None
) -> list[dict[str, Any]]:
    """sendMessage payloads: the digest (split if long), drill-down buttons on the last part."""
    parts = summary_views.render_summary(summary, period, tz=tz, title=title)
    payloads: list[dict[str, Any]] = [{"text": p, "parse_mode": "HTML"} for p in parts]
    if period is not None and payloads:
        markup = inline(summary_views.drilldown_keyboard(period))
        payloads[-1]["reply_markup"] = markup.to_dict()
    return payloads


async def push_due(rt: Runtime) -> list[str]:
    """Queue every due summary not pushed yet; returns the period keys pushed now."""
    now = rt.now()
    pushed: list[str] = []
    chats = await recipients(rt)
    for slot in due_slots(rt, now):
        async with rt.engine.connect() as conn:
            if await push_store.was_pushed(conn, slot.kind, slot.period.key):
                continue
        summary = await build_summary(rt, slot.period)
        title = summary_views.period_title(slot.period, rt.settings.tz)
        png = await chart_png(summary, title)
        messages = summary_messages(summary, slot.period, rt.settings.tz)
        photo = {
            "photo_b64": base64.b64encode(png).decode(),
            "caption": title,
            "parse_mode": "HTML",
        }
        try:
            async with rt.engine.begin() as conn:
                await push_store.record_push(
                    conn, kind=slot.kind, period_key=slot.period.key, slot_at=slot.at, now=now
                )
                for chat_id in chats:
                    await outbox_store.enqueue(
                        conn,
                        chat_id=chat_id,
                        method="sendPhoto",
                        payload=photo,
                        purpose=Purpose.SUMMARY,
                        now=now,
                    )
                    for payload in messages:
                        await outbox_store.enqueue(
                            conn,
                            chat_id=chat_id,
                            method="sendMessage",
                            payload=payload,
                            purpose=Purpose.SUMMARY,
                            now=now,
                        )
        except IntegrityError:  # another process pushed it a moment ago
            continue
        pushed.append(f"{slot.kind}:{slot.period.key}")
    if pushed:
        rt.ring()
    return pushed
