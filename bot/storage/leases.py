"""Job leases (the `job_leases` table): which process runs a scheduled job now."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.tables import job_leases


async def take(
    conn: AsyncConnection, name: str, holder: str, now: datetime, until: datetime
) -> bool:
    """Hold `name` until `until` if nobody else holds it now (a renewal for its holder, a
    takeover once the lease ran out); False while another holder's lease runs."""
    renewed = await conn.execute(
        update(job_leases)
        .where(
            job_leases.c.name == name,
            or_(job_leases.c.holder == holder, job_leases.c.until <= now),
        )
        .values(holder=holder, until=until)
    )
    if renewed.rowcount:
        return True
    try:
        async with conn.begin_nested():
            await conn.execute(insert(job_leases).values(name=name, holder=holder, until=until))
    except IntegrityError:  # another process made the row first: theirs until it runs out
        return False
    return True
