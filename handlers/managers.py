"""Managers: /report and /export for a period, and the drill-down buttons under summaries.

Allowed to managers, supervisors and admins, and in the chats listed in MANAGER_CHAT_IDS;
phone numbers go into exports only for supervisors and admins.
"""

from __future__ import annotations

from telegram import InputFile, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot import jalali
from bot.app import services_of
from bot.callbacks import Drilldown, parse_report
from bot.domain.roles import Role
from bot.i18n import _
from bot.services import periods, pushes
from bot.services.export import export_cases
from bot.views import summary as summary_views
from bot.views.screen import inline
from handlers.common import answer

REPORT_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.MANAGER})
PHONE_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR})


async def _allowed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Role | bool | None:
    """The asker's role if they may see reports (True for a manager chat), else False."""
    user = update.effective_user
    chat = update.effective_chat
    services = services_of(context)
    if user is None or (update.effective_message and update.effective_message.sender_chat):
        return False
    role = (await services.desk.actor(user.id)).role
    if role in REPORT_ROLES:
        return role
    if chat is not None and chat.id in services.rt.settings.manager_chat_ids:
        return True
    return False


def _usage() -> str:
    return _(
        "Use: /report [today | yesterday | week | month | DATE | FROM TO], dates in the Jalali "
        "calendar, e.g. /report 1405/09/01 1405/09/07. /export takes the same periods."
    )


def _refused() -> str:
    return _("Reports are for managers only.")


async def cmd_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    assert message
    if not await _allowed(update, context):
        await message.reply_text(_refused())
        return
    rt = services_of(context).rt
    asked = periods.parse(context.args or [], rt.now(), rt.settings.tz)
    if asked is None:
        await message.reply_text(_usage())
        return
    summary = await pushes.build_summary_for(rt, asked.start, asked.end)
    title = asked.title or summary_views.period_title(asked.period, rt.settings.tz)  # type: ignore[arg-type]
    png = await pushes.chart_png(summary, title)
    await message.reply_photo(InputFile(png, filename="chart.png"), caption=title)
    for payload in pushes.summary_messages(
        summary, asked.period, rt.settings.tz, title=asked.title
    ):
        await _send(message, payload)


async def _send(message: Message, payload: dict) -> None:  # type: ignore[type-arg]
    markup = payload.get("reply_markup")
    rows = (
        [[(b["text"], b["callback_data"]) for b in row] for row in markup["inline_keyboard"]]
        if markup
        else None
    )
    await message.reply_text(payload["text"], reply_markup=inline(rows) if rows else None)


async def cmd_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    assert message
    role = await _allowed(update, context)
    if not role:
        await message.reply_text(_refused())
        return
    rt = services_of(context).rt
    asked = periods.parse(context.args or [], rt.now(), rt.settings.tz)
    if asked is None:
        await message.reply_text(_usage())
        return
    xlsx, csv = await export_cases(
        rt.engine, asked.start, asked.end, include_phone=role in PHONE_ROLES, tz=rt.settings.tz
    )
    stem = "cases-" + jalali.format_numeric_date(asked.start, rt.settings.tz).replace("/", "-")
    stem = stem.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    caption = asked.title or summary_views.period_title(asked.period, rt.settings.tz)  # type: ignore[arg-type]
    await message.reply_document(InputFile(xlsx, filename=f"{stem}.xlsx"), caption=caption)
    await message.reply_document(InputFile(csv, filename=f"{stem}.csv"))


async def on_drilldown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query and query.data is not None
    if not await _allowed(update, context):
        return await answer(query, _refused(), show_alert=True)
    match parse_report(query.data):
        case Drilldown(view, period):
            pass
        case None:
            return await answer(query, _("This button is no longer active."), show_alert=True)
    rt = services_of(context).rt
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
