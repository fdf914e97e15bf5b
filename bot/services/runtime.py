"""What every service needs: the engine, the settings, a clock, and the doorbells of the outbox
and of the job runner."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.chat_kinds import ChatKinds
from bot.config import Settings


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Shared dependencies, built once per process (tests build one per test).

    `clock` is injectable so that tests can move time; `outbox_bell` is set after a transaction
    that queued messages commits, so the delivery worker wakes at once instead of polling
    (`jobs_bell` likewise for the job runner, after a job was queued);
    `chat_kinds` is what this process has seen of which chats are private and which groups.
    """

    engine: AsyncEngine
    settings: Settings
    clock: Callable[[], datetime] = utcnow
    outbox_bell: asyncio.Event = field(default_factory=asyncio.Event)
    chat_kinds: ChatKinds = field(default_factory=ChatKinds)
    jobs_bell: asyncio.Event = field(default_factory=asyncio.Event)

    def now(self) -> datetime:
        return self.clock()

    def ring(self) -> None:
        self.outbox_bell.set()

    def ring_jobs(self) -> None:
        self.jobs_bell.set()
