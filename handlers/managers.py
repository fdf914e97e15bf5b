"""Managers: /report and /export for a period, and the drill-down buttons under summaries.

/report and the drill-downs are allowed to managers, supervisors and admins, and in the chats
listed in MANAGER_CHAT_IDS; /export (personal data) only to those roles, wherever typed.
Phone numbers go into exports only for supervisors and admins, and every export goes only to
the asker's private chat.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

from telegram import Bot, InputFile, Message, ReplyParameters, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot import jalali, text
from bot.callbacks import Drilldown, parse_report
from bot.context import BotContext
from bot.domain.roles import Role
from bot.i18n import _
from bot.services import periods, pushes
from bot.services.export import Exports
from bot.views import export as export_views
from bot.views import summary as summary_views
from bot.views.screen import inline
from handlers.common import answer

log = logging.getLogger(__name__)

REPORT_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.MANAGER})
PHONE_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR})
# The export's status message is edited at most this often (seconds, event-loop clock).
PROGRESS_SECONDS = 1.0
# Seconds allowed for uploading one export file (PTB's default is 20).
UPLOAD_TIMEOUT = 300.0


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
    if chat is not None and chat.id in services.rt.settings.manager_chat_ids:
        return True
    return False


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
    message = update.message
    assert message
    if not await _allowed(update, context):
        await message.reply_text(_refused())
        return
    rt = context.services.rt
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


async def cmd_export(update: Update, context: BotContext) -> None:
    """Check, then hand the work to a background task: the files are built in the export
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
    rt, exports = services.rt, services.exports
    asked = periods.parse(context.args or [], rt.now(), rt.settings.tz)
    if asked is None:
        await message.reply_text(_usage())
        return
    count = await exports.count(asked.start, asked.end)
    if count > exports.max_rows:
        await message.reply_text(export_views.too_many_rows(count, exports.max_rows))
        return
    user_id = update.effective_user.id
    if not exports.reserve(user_id):
        await message.reply_text(export_views.busy())
        return
    try:
        try:
            status = await context.bot.send_message(user_id, export_views.progress(0))
        except Forbidden:  # never opened the bot, or blocked it: only possible from a group
            exports.release(user_id)
            await message.reply_text(export_views.start_private_first(context.bot.username))
            return
        job = _Export(
            context.bot,
            exports,
            asked,
            status,
            include_phone=role in PHONE_ROLES,
            group_message=message if message.chat.type != "private" else None,
        )
        context.application.create_task(job.run(), update=update, name=f"export-{user_id}")
    except BaseException:
        exports.release(user_id)
        raise


class _Export:
    """One export, run as a background task so that the asker's next update is not held up;
    it edits one message in the private chat with its progress, then sends both files."""

    def __init__(
        self,
        bot: Bot,
        exports: Exports,
        asked: periods.Requested,
        status: Message,
        *,
        include_phone: bool,
        group_message: Message | None,
    ) -> None:
        self.bot, self.exports, self.asked, self.status = bot, exports, asked, status
        self.include_phone = include_phone
        self.group_message = group_message
        self.user_id = status.chat_id
        self._shown = 0
        self._shown_at = 0.0

    async def run(self) -> None:
        try:
            await self._run()
        except Forbidden:  # blocked the bot meanwhile: nobody to tell
            log.info("export abandoned: the asker blocked the bot")
        except Exception:
            log.exception("export failed")
            await self._show(export_views.failed())
        finally:
            self.exports.release(self.user_id)

    async def _run(self) -> None:
        rt = self.exports.rt
        tz = rt.settings.tz
        stem = "cases-" + text.to_ascii_digits(
            jalali.format_numeric_date(self.asked.start, tz).replace("/", "-")
        )
        caption = self.asked.title or summary_views.period_title(self.asked.period, tz)  # type: ignore[arg-type]
        with tempfile.TemporaryDirectory(prefix="export-") as folder:
            files = await self.exports.build(
                self.asked.start,
                self.asked.end,
                Path(folder),
                include_phone=self.include_phone,
                progress=self._progress,
            )
            # Both files are checked before either is sent: never half an export.
            if not self.exports.fits_upload(files):
                limit = self.exports.max_upload_bytes
                return await self._show(export_views.too_large(files.largest, limit))
            for path, name, file_caption in (
                (files.xlsx, f"{stem}.xlsx", caption),
                (files.csv, f"{stem}.csv", None),
            ):
                with path.open("rb") as fh:
                    document = InputFile(fh, filename=name)
                await self.bot.send_document(
                    self.user_id, document, caption=file_caption, write_timeout=UPLOAD_TIMEOUT
                )
        await self._show(export_views.ready(files.rows))
        if self.group_message is not None:
            await self.bot.send_message(
                self.group_message.chat_id,
                export_views.sent_to_private(),
                message_thread_id=self.group_message.message_thread_id
                if self.group_message.is_topic_message
                else None,
                reply_parameters=ReplyParameters(
                    self.group_message.message_id, allow_sending_without_reply=True
                ),
            )

    async def _progress(self, done: int, total: int) -> None:
        """Edit the status message at every further tenth, at most once per PROGRESS_SECONDS."""
        percent = 100 * done // total if total else 100
        now = asyncio.get_running_loop().time()
        if percent >= 100:  # «ready» follows at once
            return
        if percent // 10 <= self._shown // 10 or now - self._shown_at < PROGRESS_SECONDS:
            return
        self._shown, self._shown_at = percent, now
        await self._show(export_views.progress(percent))

    async def _show(self, body: str) -> None:
        try:
            await self.status.edit_text(body)
        except BadRequest as exc:  # deleted by the asker, or the same text again
            log.info("export status not updated: %s", exc.message)


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
