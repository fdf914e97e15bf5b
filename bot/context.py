"""The services a handler may call, and the typed context that carries them.

python-telegram-bot hands every handler and job a `CallbackContext`; the application is built
with `ContextTypes(context=BotContext)`, so handlers read `context.services` — typed, and
without importing the module that builds the application (which imports the handlers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from telegram.ext import CallbackContext, ExtBot, JobQueue

from bot.flood import FloodGuard
from bot.ops.health import HealthServer
from bot.ops.metrics import Metrics
from bot.services.citizen_input import CitizenInput
from bot.services.delivery import OutboxWorker
from bot.services.desk import Desk
from bot.services.export import Exports
from bot.services.filing import Filing
from bot.services.inbox import InboxWorker
from bot.services.jobs import JobRunner
from bot.services.my_cases import MyCases
from bot.services.runtime import Runtime
from bot.storage.rows import UserRow
from bot.web.open311 import Open311Server


@dataclass
class Services:
    """Everything a handler may call, kept in `application.bot_data["services"]`."""

    rt: Runtime
    filing: Filing
    my_cases: MyCases
    desk: Desk
    citizen_input: CitizenInput
    worker: OutboxWorker
    metrics: Metrics
    flood: FloodGuard
    exports: Exports
    jobs: JobRunner
    inbox: InboxWorker
    health: HealthServer | None = None
    open311: Open311Server | None = None


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context every handler and job of this bot receives (one per update, shared by
    its handler groups)."""

    # The sender's row as the gate read it at the start of this update (`handlers.gate`).
    sender: UserRow | None = None

    @property
    def services(self) -> Services:
        return cast(Services, self.bot_data["services"])

    @property
    def jobs(self) -> JobQueue[BotContext]:
        """The job queue, typed for callbacks that take this context (PTB types it for the
        default context only)."""
        assert self.job_queue is not None  # built with the job-queue extra
        return cast("JobQueue[BotContext]", self.job_queue)
