"""An export as a job: built in the export process, sent to the asker's private chat.

The status message (posted by /export, or here when a job was taken over before it had one)
shows the progress, edited at every further tenth; then both files are uploaded, and the job's
end (the status's «ready», the asking group's «sent to your private chat») goes through the
outbox with the job marked done. A job started again (a retry, a takeover after its holder
died) builds the files again from the start and reuses the status message.

The asker's role is read again when the job runs and once more before the upload: a job may
wait (behind another export, for a retry, for a takeover), and an export is personal data. A
role taken away meanwhile ends the job unsent; one that no longer sees phones gets none.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Any

from bot import jalali, text
from bot.domain.jobs import ExportParams, JobKind, read_params
from bot.domain.roles import PHONE_ROLES, REPORT_ROLES, Role
from bot.services.desk import role_now
from bot.services.export import Exports
from bot.services.jobs import Call, GiveUp, JobContext, Send, Upload, reply_to
from bot.storage.rows import WorkJobRow
from bot.views import export as export_views
from bot.views import summary as summary_views

log = logging.getLogger(__name__)

HTML = "HTML"  # what the handlers' bot sends by default
# The status message is edited at most this often (seconds, event-loop clock).
PROGRESS_SECONDS = 1.0


class ExportWork:
    kind = JobKind.EXPORT
    places = 1  # the export process is CPU-bound: one at a time per process

    def __init__(self, exports: Exports) -> None:
        self.exports = exports

    async def run(self, job: WorkJobRow, ctx: JobContext) -> list[Call]:
        params = read_params(JobKind.EXPORT, job["params"])
        assert isinstance(params, ExportParams)
        chat_id = job["chat_id"]
        status_id = job["status_message_id"]
        if status_id is None:
            first = {"chat_id": chat_id, "text": _progress(0), "parse_mode": HTML}
            sent = await ctx.send("sendMessage", first)
            status_id = int(sent["message_id"])
            await ctx.remember_status_message(job["id"], status_id)
        elif ctx.resumed:  # started again: the status goes back to the beginning
            await _edit(ctx.send, chat_id, status_id, _progress(0))
        role = await _still_allowed(ctx, job, status_id)
        include_phone = params.include_phone and role in PHONE_ROLES
        progress = _Progress(ctx.send, chat_id, status_id)
        tz = self.exports.rt.settings.tz
        stem = "cases-" + text.to_ascii_digits(
            jalali.format_numeric_date(params.start, tz).replace("/", "-")
        )
        caption = params.title or summary_views.period_title(params.period, tz)  # type: ignore[arg-type]
        with tempfile.TemporaryDirectory(prefix="export-") as folder:
            files = await self.exports.build(
                params.start,
                params.end,
                Path(folder),
                include_phone=include_phone,
                progress=progress,
            )
            # Both files are checked before either is sent: never half an export.
            if not self.exports.fits_upload(files):
                limit = self.exports.max_upload_bytes
                shown = export_views.too_large(files.largest, limit)
                raise GiveUp("too large to upload", (_edit_call(chat_id, status_id, shown),))
            again = await _still_allowed(ctx, job, status_id)  # the build may have taken long
            if include_phone and again not in PHONE_ROLES:
                raise GiveUp(
                    "the asker no longer sees phones",
                    (_edit_call(chat_id, status_id, export_views.no_longer_allowed()),),
                )
            for path, name, file_caption in (
                (files.xlsx, f"{stem}.xlsx", caption),
                (files.csv, f"{stem}.csv", None),
            ):
                document: dict[str, Any] = {"chat_id": chat_id, "document": Upload(path, name)}
                if file_caption:
                    document |= {"caption": file_caption, "parse_mode": HTML}
                await ctx.send("sendDocument", document)
        calls = [_edit_call(chat_id, status_id, export_views.ready(files.rows))]
        if job["origin_chat_id"] is not None and job["origin_chat_id"] != chat_id:
            notice = {"text": export_views.sent_to_private(), "parse_mode": HTML, **reply_to(job)}
            calls.append(Call(job["origin_chat_id"], "sendMessage", notice))
        return calls

    def failed(self, job: WorkJobRow) -> list[Call]:
        body = export_views.failed()
        if job["status_message_id"] is None:
            return [Call(job["chat_id"], "sendMessage", {"text": body, "parse_mode": HTML})]
        return [_edit_call(job["chat_id"], job["status_message_id"], body)]


async def _still_allowed(ctx: JobContext, job: WorkJobRow, status_id: int) -> Role:
    """The asker's role now, if it still allows an export; else the job ends here, told."""
    role = await role_now(ctx.rt, job["requested_by"])
    if role not in REPORT_ROLES:
        log.warning("export job %s stopped: its asker no longer has a role for it", job["id"])
        told = _edit_call(job["chat_id"], status_id, export_views.no_longer_allowed())
        raise GiveUp("the asker no longer may export", (told,))
    assert role is not None
    return role


def _progress(percent: int) -> str:
    return export_views.progress(percent)


def _edit_call(chat_id: int, message_id: int, body: str) -> Call:
    payload = {"message_id": message_id, "text": body, "parse_mode": HTML}
    return Call(chat_id, "editMessageText", payload)


async def _edit(send: Send, chat_id: int, message_id: int, body: str) -> None:
    """Edit the status message now; a failure (deleted by the asker, the same text again, a
    network blip) only costs this one step of the progress."""
    try:
        await send(
            "editMessageText", {"chat_id": chat_id, **_edit_call(chat_id, message_id, body).payload}
        )
    except Exception as exc:
        log.info("export status not updated: %s", exc)


class _Progress:
    """Edits the status message at every further tenth, at most once per PROGRESS_SECONDS."""

    def __init__(self, send: Send, chat_id: int, message_id: int) -> None:
        self.send, self.chat_id, self.message_id = send, chat_id, message_id
        self._shown = 0
        self._shown_at = 0.0

    async def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        now = asyncio.get_running_loop().time()
        if percent >= 100:  # «ready» follows at once
            return
        if percent // 10 <= self._shown // 10 or now - self._shown_at < PROGRESS_SECONDS:
            return
        self._shown, self._shown_at = percent, now
        await _edit(self.send, self.chat_id, self.message_id, _progress(percent))
