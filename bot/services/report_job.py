"""A report as a job: the period's summary and chart, to the chat where /report was typed.

The figures are read and the chart drawn by the runner, not inside the update (a long period
reads many rows, and the percentiles are computed in Python); the chart and the summary's
messages are queued in the outbox with the job marked done, so they go out once and in order.
"""

from __future__ import annotations

import base64
from typing import Any

from bot.domain.jobs import JobKind, ReportParams, read_params
from bot.services import pushes
from bot.services.jobs import Call, JobContext, reply_to
from bot.storage.rows import WorkJobRow
from bot.views import summary as summary_views


class ReportWork:
    kind = JobKind.REPORT
    places = 2  # reports do not wait behind one another's chart

    async def run(self, job: WorkJobRow, ctx: JobContext) -> list[Call]:
        params = read_params(JobKind.REPORT, job["params"])
        assert isinstance(params, ReportParams)
        rt = ctx.rt
        tz = rt.settings.tz
        summary = await pushes.build_summary_for(rt, params.start, params.end)
        title = params.title or summary_views.period_title(params.period, tz)  # type: ignore[arg-type]
        png = await pushes.chart_png(summary, title)
        reply = reply_to(job)
        photo: dict[str, Any] = {
            "photo_b64": base64.b64encode(png).decode(),
            "caption": title,
            "parse_mode": "HTML",
            **reply,
        }
        messages = pushes.summary_messages(summary, params.period, tz, title=params.title)
        return [
            Call(job["chat_id"], "sendPhoto", photo),
            *(Call(job["chat_id"], "sendMessage", {**m, **reply}) for m in messages),
        ]

    def failed(self, job: WorkJobRow) -> list[Call]:
        body = {"text": summary_views.report_failed(), "parse_mode": "HTML", **reply_to(job)}
        return [Call(job["chat_id"], "sendMessage", body)]
