"""Which desk a case's card goes to: STAFF_ROUTES, else the staff group.

Telegram takes 20 messages a minute from a bot in one group, so at a peak one staff group
cannot take a card per case. Routes send cases of a province, a sector or a violation type to a
group (and topic) of their own; every routed group is a desk like the staff group (its members'
presses and commands are accepted there), and a case's card is kept up to date wherever it was
posted. The first route that matches wins, in the order written:

    STAFF_ROUTES="province:23=-1001111111111/7, sector:fuel=-1002222222222"

(province 23 is Tehran, in the catalogue's ISO 3166-2:IR codes; /7 is a forum topic.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.catalogue import PROVINCES_BY_CODE, SECTORS_BY_CODE, VIOLATIONS_BY_CODE


class RouteBy(StrEnum):
    PROVINCE = "province"
    SECTOR = "sector"
    VIOLATION = "violation"


_CHAT = re.compile(r"-?[0-9]{1,19}", re.ASCII)  # Telegram's ids fit in 64 bits
_TOPIC = re.compile(r"[1-9][0-9]{0,9}", re.ASCII)

_CODES = {
    RouteBy.PROVINCE: PROVINCES_BY_CODE,
    RouteBy.SECTOR: SECTORS_BY_CODE,
    RouteBy.VIOLATION: VIOLATIONS_BY_CODE,
}


@dataclass(frozen=True)
class Desk:
    """A group the desk works in, and the topic cards go to (None: the group's main chat)."""

    chat_id: int
    thread_id: int | None = None


@dataclass(frozen=True)
class Route:
    by: RouteBy
    code: str
    desk: Desk


@dataclass(frozen=True)
class CaseKeys:
    """What a case is routed by."""

    province: str
    sector: str
    violation: str


def parse_routes(raw: str) -> list[Route]:
    """``by:code=chat[/topic]`` items, separated by commas or semicolons; ValueError naming
    the item that is wrong."""
    routes: list[Route] = []
    for item in (part.strip() for part in raw.replace(";", ",").split(",")):
        if not item:
            continue
        key, sep, target = item.partition("=")
        by_raw, colon, code = key.strip().partition(":")
        if not sep or not colon:
            raise ValueError(f"{item!r}: expected by:code=chat_id[/topic_id]")
        try:
            by = RouteBy(by_raw.strip())
        except ValueError:
            raise ValueError(f"{item!r}: route by province, sector or violation") from None
        code = code.strip()
        if code not in _CODES[by]:
            raise ValueError(f"{item!r}: no {by.value} with the code {code!r}")
        chat_raw, slash, thread_raw = (p.strip() for p in target.partition("/"))
        if not _CHAT.fullmatch(chat_raw) or (slash and not _TOPIC.fullmatch(thread_raw)):
            raise ValueError(f"{item!r}: the chat (and topic) must be whole numbers")
        desk = Desk(int(chat_raw), int(thread_raw) if slash else None)
        routes.append(Route(by, code, desk))
    return routes


def desk_for(routes: Sequence[Route], default: Desk | None, case: CaseKeys) -> Desk | None:
    """The first route that matches the case, else the default desk (None: no staff group)."""
    for route in routes:
        value = {
            RouteBy.PROVINCE: case.province,
            RouteBy.SECTOR: case.sector,
            RouteBy.VIOLATION: case.violation,
        }[route.by]
        if value == route.code:
            return route.desk
    return default


def desks(routes: Sequence[Route], default: Desk | None) -> list[Desk]:
    """Every group cards may go to, the default first."""
    found = [default] if default is not None else []
    for route in routes:
        if route.desk not in found:
            found.append(route.desk)
    return found


def thread_in(routes: Sequence[Route], default: Desk | None, chat_id: int) -> int | None:
    """The topic cards go to in this chat (for a card posted there again)."""
    for desk in desks(routes, default):
        if desk.chat_id == chat_id:
            return desk.thread_id
    return None
