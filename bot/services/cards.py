"""Case cards are drawn when they are sent, from the case as it is then: a card queued before a
claim shows the claim, and several refreshes of one card collapse into one edit."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Settings
from bot.domain import routing
from bot.domain.purposes import CARD_PURPOSES, Purpose
from bot.domain.routing import CaseKeys, Desk, Route
from bot.storage import cases as case_store
from bot.storage import chats
from bot.storage import desk as desk_store
from bot.storage import outbox as outbox_store
from bot.storage.rows import CardMessageRow, CaseRow, UnitRow
from bot.views import staff_card


def desk_of(settings: Settings, case: CaseRow) -> Desk | None:
    """The desk the case's card goes to now (STAFF_ROUTES, else the staff group)."""
    return settings.desk_for(CaseKeys(case["province"], case["sector"], case["violation"]))


async def configured_desks(conn: AsyncConnection, settings: Settings) -> dict[int, Desk]:
    """The staff group and the routed desks, by chat id: each under the id it was configured
    with and the one it has now, if the group was upgraded (the first desk of a chat wins)."""
    by_chat: dict[int, Desk] = {}
    for desk in reversed(routing.desks(settings.staff_routes, settings.staff_desk)):
        by_chat[desk.chat_id] = by_chat[await chats.current_id(conn, desk.chat_id)] = desk
    return by_chat


async def routes_into_unit_chats(
    conn: AsyncConnection, settings: Settings
) -> list[tuple[Route, UnitRow]]:
    """Routes that send new cases' cards to a unit's chat (where the group lives now, if it
    was upgraded), which must not be: that chat is for the cases referred to the unit. A route
    into the staff group itself (one of its topics) is the staff group's matter, not theirs."""
    found: list[tuple[Route, UnitRow]] = []
    for route in settings.staff_routes:
        chat_id = route.desk.chat_id
        if chat_id == settings.staff_chat_id:
            continue
        for at in dict.fromkeys((chat_id, await chats.current_id(conn, chat_id))):
            unit = await desk_store.unit_by_chat(conn, at)
            if unit is not None:
                found.append((route, unit))
                break
    return found


async def routed_chats(conn: AsyncConnection, settings: Settings) -> set[int]:
    """The groups STAFF_ROUTES sends cards to besides the staff group, under the id each was
    configured with and the one it has now: none of them may become a unit's chat."""
    found: set[int] = set()
    for route in settings.staff_routes:
        chat_id = route.desk.chat_id
        if chat_id != settings.staff_chat_id:
            found |= {chat_id, await chats.current_id(conn, chat_id)}
    return found


async def card_desk(conn: AsyncConnection, settings: Settings, case: CaseRow) -> Desk | None:
    """The desk where the case's card is: the first desk group it was posted in (where that
    group lives now, if it was upgraded), else where it would go now (`desk_of`). STAFF_ROUTES
    may have changed since the case was filed: its answers and notices belong with its card,
    where the officers working it are."""
    routed = desk_of(settings, case)
    by_chat = await configured_desks(conn, settings)
    for card in await targets(conn, case["id"]):
        found = by_chat.get(card["chat_id"]) if card["purpose"] == Purpose.CASE_CARD else None
        if found is not None:
            same_chat = routed is not None and by_chat.get(routed.chat_id) == found
            return routed if same_chat else found
    return routed


async def render(
    conn: AsyncConnection,
    case_id: int,
    *,
    now: datetime,
    tz: ZoneInfo,
    unit_chat: bool,
    chat_id: int | None = None,
) -> dict[str, Any] | None:
    """sendMessage/editMessageText parameters for the case's card, or None if it is gone.
    `chat_id`: the unit's chat the card is drawn for; a case no longer referred to that unit
    (returned, then referred elsewhere) gets no buttons there."""
    case = await case_store.by_id(conn, case_id)
    if case is None:
        return None
    evidence = await case_store.case_attachments(conn, case_id)
    supporting = [
        (report, len(await case_store.case_attachments(conn, report["id"])))
        for report in await case_store.supporting(conn, case_id)
    ]
    files = len(evidence) + sum(n for _report, n in supporting)
    people = {p for p in (case["holder_id"], case["taken_by"]) if p is not None}
    names = await desk_store.names(conn, people)
    holder = None
    if case["holder_id"] is not None:
        holder = names.get(case["holder_id"], "")
    taken_by = names.get(case["taken_by"], "") if case["taken_by"] is not None else None
    unit = None
    if case["unit_id"] is not None:
        row = await desk_store.unit(conn, case["unit_id"])
        unit = row["name"] if row else None
    text = staff_card.card_text(
        case,
        evidence_count=len(evidence),
        files=evidence,
        supporting=supporting,
        supporting_total=await case_store.count_supporting(conn, case_id),
        taken_by=taken_by,
        now=now,
        tz=tz,
        holder=holder,
        unit=unit,
        unreachable=case["citizen_id"] is not None
        and await desk_store.is_unreachable(conn, case["citizen_id"]),
    )
    elsewhere = unit_chat and chat_id is not None and not await _referred_to(conn, case, chat_id)
    markup = staff_card.card_buttons(case, files, unit_chat=unit_chat, elsewhere=elsewhere)
    payload: dict[str, Any] = {"text": text, "parse_mode": "HTML"}
    if markup.inline_keyboard:  # none: an edit without a keyboard takes the old one away
        payload["reply_markup"] = markup.to_dict()
    return payload


async def _referred_to(conn: AsyncConnection, case: CaseRow, chat_id: int) -> bool:
    """The case is with the unit whose chat this is (wherever the two groups live now)."""
    unit = await desk_store.unit(conn, case["unit_id"]) if case["unit_id"] is not None else None
    if unit is None or unit["chat_id"] is None:
        return False
    here = await chats.current_id(conn, chat_id)
    return await chats.current_id(conn, unit["chat_id"]) == here


def content_hash(payload: dict[str, Any]) -> str:
    """What the card shows, minus the age line's drift, decides whether an edit is needed."""
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


async def targets(conn: AsyncConnection, case_id: int) -> list[CardMessageRow]:
    """Where the case's cards live, in the order they were posted (the staff group's first)."""
    found = await desk_store.card_messages(conn, case_id)
    return sorted((m for m in found if m["purpose"] in CARD_PURPOSES), key=lambda m: m["id"])


async def queue_refresh(
    conn: AsyncConnection, case_id: int, *, staff_chat_id: int | None, now: datetime
) -> None:
    """Ask the outbox to redraw the case's cards; it renders the newest state when sending."""
    await outbox_store.enqueue(
        conn,
        chat_id=staff_chat_id or 0,
        method="editMessageText",
        payload={},
        purpose=Purpose.CARD_REFRESH,
        case_id=case_id,
        now=now,
    )


def unit_card_payload(unit: UnitRow) -> dict[str, Any]:
    """sendMessage parameters (but the card, drawn when sent) for a unit's chat or topic."""
    return {"message_thread_id": unit["thread_id"]} if unit["thread_id"] is not None else {}


async def queue_unit_card(
    conn: AsyncConnection, case_id: int, unit: UnitRow, now: datetime
) -> None:
    """Post the case's card to the unit's own chat, if it has one (a referral)."""
    if unit["chat_id"] is None:
        return
    await outbox_store.enqueue(
        conn,
        chat_id=unit["chat_id"],
        method="sendMessage",
        payload=unit_card_payload(unit),
        purpose=Purpose.UNIT_CARD,
        case_id=case_id,
        now=now,
    )
