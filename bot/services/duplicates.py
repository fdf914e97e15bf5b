"""«The same business already has open cases»: the check made after the business and its
address, while filing (chat), registering a call, and in the web API (as a hint).

The same business is the same normalised name in the same city, or a location within
`geo.SAME_PLACE_M`. Only open cases count: a report about a closed case is news, not a
duplicate. Nothing is blocked: the citizen, the operator or the caller of the API decides.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import text
from bot.domain import geo, typed
from bot.domain.lifecycle import OPEN_STATES
from bot.storage import cases as case_store
from bot.storage.rows import CaseRow

_OPEN = tuple(s.value for s in OPEN_STATES)


def business_key(business: str) -> str:
    """The key a case's business is stored and searched under (`cases.business_key`)."""
    return text.normalize(business).casefold()


async def open_matches(
    conn: AsyncConnection,
    *,
    business: str,
    city: str,
    latitude: float | None = None,
    longitude: float | None = None,
    citizen_id: int | None = None,
) -> list[CaseRow]:
    """Open cases about the same business, oldest first (the one a report would join). A
    citizen's own cases are left out: they already follow those, and a second report of
    theirs is a new incident, not support from someone else."""
    near = None
    if latitude is not None and longitude is not None:
        near = geo.box(latitude, longitude, geo.SAME_PLACE_M)
    found = await case_store.open_about(
        conn, business_key=business_key(business), near=near, statuses=_OPEN
    )
    city_key = typed.key(city)
    out = []
    for case in found:
        if citizen_id is not None and case["citizen_id"] == citizen_id:
            continue
        same_name = case["business_key"] == business_key(business) and (
            typed.key(case["city"]) == city_key
        )
        lat, lon = case["latitude"], case["longitude"]
        close = (
            latitude is not None
            and longitude is not None
            and lat is not None
            and lon is not None
            and geo.distance_m(latitude, longitude, lat, lon) <= geo.SAME_PLACE_M
        )
        if same_name or close:
            out.append(case)
    return out
