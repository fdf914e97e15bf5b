"""The lease heartbeat the inbox, outbox and job workers share: it renews what its worker holds,
tells the worker of what another process took over, and outlives a failed renewal."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services.heartbeat import Heartbeat
from tests.clock import Clock
from tests.test_inbox import runtime


async def test_a_beat_renews_what_is_held_and_reports_what_was_taken_over(db_url: str) -> None:
    clock = Clock()
    rt = runtime(db_url, clock, lease_seconds=30)
    renewed: list[tuple[list[int], str, datetime]] = []
    lost: list[set[int]] = []

    async def renew(
        conn: AsyncConnection, ids: list[int], holder: str, until: datetime
    ) -> list[int]:
        renewed.append((ids, holder, until))
        return [i for i in ids if i != 7]  # another process holds 7 now

    beat = Heartbeat(rt, "job", "me", lambda: {9, 7, 3}, renew, lost.append)
    try:
        await beat.beat(sorted(beat.held()))
        assert renewed == [([3, 7, 9], "me", clock.now + timedelta(seconds=30))]
        assert lost == [{7}]

        async def failing(
            conn: AsyncConnection, ids: list[int], holder: str, until: datetime
        ) -> list[int]:
            raise OSError("database away")

        beat.renew = failing
        await beat.beat([3, 9])  # logged, tried again at the next beat: nothing is lost
        assert lost == [{7}]
    finally:
        await rt.engine.dispose()
