"""Wiring: builds the python-telegram-bot Application around the services. Nothing else."""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import BotCommand, BotCommandScopeAllPrivateChats, InputFile, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder, ContextTypes
from telegram.warnings import PTBUserWarning

from bot.config import Settings
from bot.context import BotContext, Services
from bot.flood import FloodGuard
from bot.i18n import _
from bot.ingress.runner import handler_for
from bot.ops.health import HealthServer
from bot.ops.metrics import Metrics
from bot.outgoing import make_bot
from bot.pacing import LocalWindows, SlidingWindowRateLimiter, Window, Windows, _seconds
from bot.services import alerts, api_limits, apikeys, delivery, people, pushes
from bot.services.api_limits import ApiLimits
from bot.services.citizen_input import CitizenInput
from bot.services.delivery import Fatal, Moved, OutboxWorker, Retry
from bot.services.desk import Desk
from bot.services.export import Exports
from bot.services.export_job import ExportWork
from bot.services.filing import Filing
from bot.services.inbox import InboxWorker, forget_handled
from bot.services.jobs import JobRunner, Upload, forget_finished_jobs
from bot.services.my_cases import MyCases
from bot.services.open311 import Open311
from bot.services.report_job import ReportWork
from bot.services.runtime import Runtime, utcnow
from bot.storage import leases
from bot.storage.db import create_engine
from bot.update_order import PerChatUpdateProcessor
from bot.web.open311 import Open311Server
from handlers import admin, chats, citizen, errors, gate, managers, staff

log = logging.getLogger(__name__)

DRAFT_SWEEP_EVERY = timedelta(minutes=10)
CLOSE_SWEEP_EVERY = timedelta(hours=1)
PUSH_CHECK_EVERY = timedelta(minutes=1)
ALERT_CHECK_EVERY = timedelta(minutes=1)
SHUTDOWN_FLUSH_SECONDS = 5.0
# Seconds allowed for uploading one export file (PTB's default is 20).
UPLOAD_TIMEOUT = 300.0


def classify_error(exc: Exception) -> Exception:
    """Map python-telegram-bot's errors onto the outbox's Retry / Fatal."""
    if isinstance(exc, RetryAfter):
        seconds = _seconds(exc.retry_after)
        return Retry(f"429 retry after {seconds:.0f}", after=seconds)
    if isinstance(exc, ChatMigrated):
        return Moved(int(exc.new_chat_id))
    if isinstance(exc, Forbidden | BadRequest):
        return Fatal(exc.message)
    if isinstance(exc, TimedOut | NetworkError):
        return Retry(type(exc).__name__ + ": " + str(exc))
    return Retry(f"{type(exc).__name__}: {exc}")


def _shared_windows(
    settings: Settings, what: str = "pacing", max_tracked: int | None = None
) -> Windows | None:
    """Windows in Redis when several processes run this bot (the pacing's, or the Open311
    API's under a prefix of their own); None: this process's."""
    if not settings.pacing_redis_url:
        return None
    from bot.pacing_redis import RedisWindows

    bot_id = settings.bot_token.get_secret_value().split(":", 1)[0]
    return RedisWindows(
        settings.pacing_redis_url, prefix=f"tazirat:{what}:{bot_id}", max_tracked=max_tracked
    )


def open311_limits(rt: Runtime) -> ApiLimits:
    """The Open311 API's windows: shared in Redis, else this process's on the runtime's clock
    (which tests move)."""
    shared = _shared_windows(rt.settings, "open311", api_limits.MAX_TRACKED)
    if shared is not None:  # in Redis each caller has its own key (apart while it is away)
        return ApiLimits(
            shared,
            writes_per_minute=rt.settings.open311_writes_per_minute,
            reads_per_minute=rt.settings.open311_reads_per_minute,
        )

    def local() -> LocalWindows:
        return LocalWindows(lambda: rt.now().timestamp(), max_tracked=api_limits.MAX_TRACKED)

    return ApiLimits(
        local(),
        writes_per_minute=rt.settings.open311_writes_per_minute,
        reads_per_minute=rt.settings.open311_reads_per_minute,
        addresses=local(),
    )


def build_application(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    clock: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
) -> Application:  # type: ignore[type-arg]
    """The bot, ready for `bot.ingress.serve` (which a test harness runs as well).

    It has no PTB Updater: that one confirms updates to Telegram as it fetches them, before
    they are handled. Updates come through the inbox instead (`bot.ingress`)."""

    engine = engine or create_engine(settings.database_url)
    rt = Runtime(engine=engine, settings=settings, clock=clock)
    metrics = Metrics()
    limiter = SlidingWindowRateLimiter(
        overall=Window(settings.messages_per_second, 1.0),
        group=Window(settings.group_rate, 60.0),
        private=Window(settings.chat_messages_per_second, 1.0),
        windows=_shared_windows(settings),
        kinds=rt.chat_kinds,
    )
    metrics.count_rate_limits_from(lambda: limiter.retries_seen)  # every 429 the limiter saw
    processor = PerChatUpdateProcessor(metrics)
    app = (
        ApplicationBuilder()
        # The one bot every part of the process sends with (handlers, outbox, jobs): the
        # settings' server, and each call adapted to the platform (bot/outgoing.py).
        .bot(make_bot(settings, rate_limiter=limiter))
        .context_types(ContextTypes(context=BotContext))
        .concurrent_updates(processor)
        .updater(None)
        .post_init(on_start)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
        .build()
    )

    async def send(method: str, params: dict) -> object:  # type: ignore[type-arg]
        file = params.get("document")
        upload = isinstance(file, Upload)  # a job's file on disk
        if isinstance(file, Upload):
            data = await asyncio.to_thread(file.path.read_bytes)  # off the loop: up to 50 MB
            params = {**params, "document": InputFile(data, filename=file.filename)}
        if "photo_b64" in params:  # the outbox keeps files as base64 inside its JSON
            params = dict(params)
            data = base64.b64decode(params.pop("photo_b64"))
            if len(data) > settings.profile.limits.photo_upload_bytes:  # too big for a photo
                method = "sendDocument"
                params["document"] = InputFile(data, filename="chart.png")
            else:
                params["photo"] = InputFile(data, filename="chart.png")
        # The outbox stores raw Bot API calls; PTB warns when a raw call has a typed twin.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PTBUserWarning)
            if upload:
                return await app.bot.do_api_request(
                    method, api_kwargs=params, write_timeout=UPLOAD_TIMEOUT
                )
            return await app.bot.do_api_request(method, api_kwargs=params)

    worker = OutboxWorker(rt, send, classify_error, on_result=metrics.delivery)
    exports = Exports(rt)
    jobs = JobRunner(rt, [ExportWork(exports), ReportWork()], send, classify_error)
    filing, my_cases, desk = Filing(rt, rng), MyCases(rt), Desk(rt)
    app.bot_data["services"] = Services(
        rt=rt,
        filing=filing,
        my_cases=my_cases,
        desk=desk,
        citizen_input=CitizenInput(rt, desk, filing, my_cases),
        worker=worker,
        metrics=metrics,
        flood=FloodGuard(settings.flood_max_updates, settings.flood_window_seconds),
        exports=exports,
        jobs=jobs,
        inbox=InboxWorker(rt, handler_for(app), lanes=processor.max_concurrent_updates),
    )
    chats.register(app)  # before the gate
    gate.register(app)
    staff.register(app)  # before the citizen's catch-alls
    managers.register(app)
    admin.register(app)
    citizen.register(app)
    errors.register(app)
    return app


async def on_start(app: Application) -> None:  # type: ignore[type-arg]
    """Start the outbox worker, the job runner and the housekeeping jobs; publish the command
    menu. (A job that was running when the last process died is taken over once its lease
    has run out, by this process or another.)"""
    services: Services = app.bot_data["services"]
    services.worker.start()
    services.jobs.start()
    settings = services.rt.settings
    if settings.health_port:

        async def bot_api_ok() -> bool:
            await app.bot.get_me()
            return True

        services.health = HealthServer(
            services.rt.engine,
            services.metrics,
            port=settings.health_port,
            bot_api_check=bot_api_ok,
            max_outbox_age=settings.max_outbox_age_seconds,
            max_inbox_age=settings.max_inbox_age_seconds,
            clock=services.rt.now,  # the clock the rows were stamped with
        )
        await services.health.start()
    if settings.open311_port is not None:
        api = Open311(services.rt, services.filing)
        host, port = settings.open311_listen, settings.open311_port
        limits = open311_limits(services.rt)
        services.open311 = Open311Server(api, limits, host=host, port=port)
        await services.open311.start()
    assert app.job_queue is not None
    for job in JOBS:
        app.job_queue.run_repeating(_job(job), interval=job.every, first=job.first, name=job.name)
    await app.bot.set_my_commands(
        [
            BotCommand("start", _("Main menu")),
            BotCommand("cancel", _("Cancel what you are doing")),
            BotCommand("help", _("How it works")),
        ],
        scope=BotCommandScopeAllPrivateChats(),
    )


async def on_stop(app: Application) -> None:  # type: ignore[type-arg]
    """After updates stopped and handlers in flight finished: flush the outbox (bounded), while
    the bot can still talk to Telegram."""
    services: Services = app.bot_data["services"]
    if services.open311 is not None:  # no new requests while the outbox flushes
        await services.open311.stop()
    await services.jobs.stop()  # the jobs in hand are given back (and what they queued goes)
    await services.worker.stop(flush_seconds=SHUTDOWN_FLUSH_SECONDS)
    if services.health is not None:
        await services.health.stop()


async def on_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    await app.bot_data["services"].rt.engine.dispose()


async def _sweep_idle(services: Services) -> object:
    """Old update ids, held messages nobody routed, API audit rows past their days, messages
    sent long ago, jobs ended long ago, and idle drafts (their citizens told)."""
    await people.forget_old_updates(services.rt)
    await apikeys.forget_old_audit(services.rt)
    await forget_handled(services.rt)
    await forget_finished_jobs(services.rt)
    await services.citizen_input.forget_old()
    expired = await services.filing.expire_idle()
    await delivery.forget_settled(services.rt)  # last: the longest, and the least urgent
    return expired


@dataclass(frozen=True)
class Housekeeping:
    """A repeating job: what it does, how often, and how soon after start."""

    name: str
    run: Callable[[Services], Awaitable[object]]
    every: timedelta
    first: timedelta


# Every job reads the database for what is due and writes once per due thing, so a rerun after a
# crash repeats nothing; and each runs in one process at a time (run_housekeeping's lease).
JOBS: tuple[Housekeeping, ...] = (
    Housekeeping("sweep-drafts", _sweep_idle, DRAFT_SWEEP_EVERY, timedelta(seconds=5)),
    Housekeeping(
        "close-resolved", lambda s: s.desk.close_expired(), CLOSE_SWEEP_EVERY, timedelta(seconds=30)
    ),
    Housekeeping(
        "push-summaries", lambda s: pushes.push_due(s.rt), PUSH_CHECK_EVERY, PUSH_CHECK_EVERY
    ),
    Housekeeping(
        "spike-alerts", lambda s: alerts.check_spikes(s.rt), ALERT_CHECK_EVERY, ALERT_CHECK_EVERY
    ),
    Housekeeping(
        "sla-reminders", lambda s: alerts.check_sla(s.rt), ALERT_CHECK_EVERY, ALERT_CHECK_EVERY
    ),
)


async def run_housekeeping(services: Services, job: Housekeeping, holder: str) -> bool:
    """Run `job` if this process holds its lease (taking it when free or run out); False when
    another live process runs it. The lease lasts one interval plus LEASE_SECONDS, renewed at
    every run, so a holder that dies is replaced LEASE_SECONDS after the run it missed."""
    rt = services.rt
    now = rt.now()
    until = now + job.every + timedelta(seconds=rt.settings.lease_seconds)
    async with rt.engine.begin() as conn:
        if not await leases.take(conn, job.name, holder, now, until):
            return False
    done = await job.run(services)
    if done:
        log.info("%s: %s", job.name, done)
    return True


def _job(job: Housekeeping) -> Callable[[BotContext], Coroutine[Any, Any, None]]:
    async def run(context: BotContext) -> None:
        services = context.services
        await run_housekeeping(services, job, services.worker.holder)

    return run


def allowed_updates() -> list[str]:
    return Update.ALL_TYPES
