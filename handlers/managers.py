"""Managers: /report and /export for a period, and the drill-down buttons under summaries.

/report and the drill-downs are allowed to managers, supervisors and admins, and in the chats
listed in MANAGER_CHAT_IDS; /export (personal data) only to those roles, wherever typed.
Phone numbers go into exports only for supervisors and admins, and every export goes only to
the asker's private chat. Both commands queue a job (`bot.services.jobs`) that any process's
runner does; the handlers only check, queue and answer.
"""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.error import Forbidden
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import text
from bot.callbacks import Drilldown, parse_report
from bot.context import BotContext
from bot.domain.jobs import ExportParams, JobKind, ReportParams
from bot.domain.roles import PHONE_ROLES, REPORT_ROLES, Role
from bot.i18n import _
from bot.services import periods, pushes
from bot.services.jobs import Origin
from bot.views import export as export_views
from bot.views import summary as summary_views
from handlers.common import answer


async def _allowed(update: Update, context: BotContext) -> Role | bool | None:
    """The asker's role if they may see reports (True for a manager chat), else False."""
    user = update.effective_user
    chat = update.effective_chat
    services = context.services
    if user is None or (update.effective_message and update.effective_message.sender_chat):
        return False
    role = (await services.desk.actor(user.id)).role
    if role in REPORT_ROLES:
        return role
    return chat is not None and await pushes.is_manager_chat(services.rt, chat.id)


def _usage() -> str:
    # The period words are those `bot.domain.periods.read_period` reads (tests check it).
    return _(
        "How to use: {report} then «today», «yesterday», «week», «last week», «month», "
        "«last month», a Jalali date, or two dates, e.g. {report} from 1405/09/01 to 1405/09/07. "
        "{export} takes the same periods."
    ).format(report=text.ltr("/report"), export=text.ltr("/export"))


def _refused() -> str:
    return _("Reports are for managers only.")


async def cmd_report(update: Update, context: BotContext) -> None:
    """Queue a report job: the figures and the chart are made by the job runner (a long period
    reads many rows), which sends them here."""
    message = update.message
    assert message
    if not await _allowed(update, context) or update.effective_user is None:
        await message.reply_text(_refused())
        return
    services = context.services
    rt = services.rt
    asked = periods.parse(context.args or [], rt.now(), rt.settings.tz)
    if asked is None:
        await message.reply_text(_usage())
        return
    job = await services.jobs.request(
        JobKind.REPORT,
        requested_by=update.effective_user.id,
        chat_id=message.chat_id,
        params=ReportParams(**_period_params(asked)),
        origin=_origin(message),
    )
    if job is None:
        await message.reply_text(summary_views.report_busy())


async def cmd_export(update: Update, context: BotContext) -> None:
    """Check, then queue an export job for the runner: the files are built in the export
    process (never on the event loop) and sent only to the asker's private chat, wherever
    /export was typed. Every export holds personal data: business owners' names and addresses,
    citizens' own words, and for supervisors and admins the citizens' phones."""
    message = update.message
    assert message
    role = await _allowed(update, context)
    # Being in a managers' chat shows the summaries, not the personal data: an export needs
    # the asker's own role.
    if not isinstance(role, Role) or update.effective_user is None:
        await message.reply_text(_refused())
        return
    services = context.services
    rt, exports, jobs = services.rt, services.exports, services.jobs
    asked = periods.parse(context.args or [], rt.now(), rt.settings.tz)
    if asked is None:
        await message.reply_text(_usage())
        return
    count = await exports.count(asked.start, asked.end)
    if count > exports.max_rows:
        await message.reply_text(export_views.too_many_rows(count, exports.max_rows))
        return
    user_id = update.effective_user.id
    params = ExportParams(**_period_params(asked), include_phone=role in PHONE_ROLES)
    job = await jobs.request(
        JobKind.EXPORT,
        requested_by=user_id,
        chat_id=user_id,
        params=params,
        origin=_origin(message),
        hold=True,  # until the status message is posted
    )
    if job is None:
        await message.reply_text(export_views.busy())
        return
    try:
        status = await context.bot.send_message(user_id, export_views.progress(0))
    except Forbidden:  # never opened the bot, or blocked it: only possible from a group
        await jobs.withdraw(job, "the asker has not started the bot")
        await message.reply_text(export_views.start_private_first(context.bot.username))
        return
    except BaseException:
        await jobs.hand_over(job, None)  # the runner posts the status message itself
        raise
    await jobs.hand_over(job, status.message_id)


def _period_params(asked: periods.Requested) -> dict[str, Any]:
    return {
        "start": asked.start,
        "end": asked.end,
        "period_key": asked.period.key if asked.period else None,
        "title": asked.title,
    }


def _origin(message: Message) -> Origin | None:
    """A group's command, for the job's notices to reply to; None in a private chat."""
    if message.chat.type == "private":
        return None
    thread = message.message_thread_id if message.is_topic_message else None
    return Origin(message.chat_id, message.message_id, thread)


async def on_drilldown(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query and query.data is not None
    if not await _allowed(update, context):
        return await answer(query, _refused(), show_alert=True)
    match parse_report(query.data):
        case Drilldown(view, period):
            pass
        case None:
            return await answer(query, _("This button is no longer active."), show_alert=True)
    rt = context.services.rt
    start, end = period.bounds(rt.settings.tz)
    summary = await pushes.build_summary_for(rt, start, end)
    await answer(query)
    if isinstance(query.message, Message):
        for part in summary_views.render_drilldown(view, summary, period, tz=rt.settings.tz):
            await query.message.reply_text(part)


def register(app: Application) -> None:  # type: ignore[type-arg]
    new = filters.UpdateType.MESSAGE
    app.add_handler(CommandHandler("report", cmd_report, filters=new))
    app.add_handler(CommandHandler("export", cmd_export, filters=new))
    app.add_handler(CallbackQueryHandler(on_drilldown, pattern=r"^r:"))
