"""Seed data for the demo: a few hundred realistic past cases, filed and worked through the
services, with their notifications recorded as delivered so the demo starts quiet.

(Interface fixed for the demo's start-up and page; the body is being written.)
"""

from __future__ import annotations

from bot.context import Services


async def seed(services: Services, *, seed_value: int = 1405, cases: int = 300) -> int:
    """Fill the database with `cases` past cases over the last two months; return how many
    were made. Deterministic for one `seed_value`."""
    raise NotImplementedError("seed data is being written")
