"""Cases of a period as a spreadsheet (XLSX) and as CSV, for managers.

One row per case filed in the period. The XLSX reads right to left with a frozen header; the
CSV is UTF-8 with a BOM because Excel otherwise opens it as a legacy code page and shows the
Persian as mojibake. The citizen's phone is included only when the caller says so: the export
leaves the bot, so the default is to leave personal data out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot import jalali
from bot.domain.catalogue import PROVINCES_BY_CODE, SECTORS_BY_CODE, VIOLATIONS_BY_CODE, Choice
from bot.domain.lifecycle import Action, Status
from bot.i18n import N_, _
from bot.services.reports import STAFF_STATUS_LABELS
from bot.storage import reports as report_store
from bot.views.notices import OUTCOME_LABELS

# (msgid of the header, width in characters) in column order; the phone column is last.
COLUMNS: tuple[tuple[str, int], ...] = (
    (N_("Tracking code"), 13),
    (N_("Filed on"), 18),
    (N_("Status"), 18),
    (N_("Violation"), 26),
    (N_("Sector"), 20),
    (N_("Province"), 16),
    (N_("City"), 16),
    (N_("Business"), 30),
    (N_("Address"), 40),
    (N_("Unit"), 28),
    (N_("Officer id"), 14),
    (N_("Urgent"), 8),
    (N_("Hours to first officer"), 12),
    (N_("Hours to resolution"), 12),
    (N_("Outcome"), 16),
)
PHONE_COLUMN = (N_("Phone"), 16)
# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def headers(include_phone: bool) -> list[str]:
    """Translated column headers, in order."""
    return [_(msgid) for msgid, _width in _columns(include_phone)]


def _columns(include_phone: bool) -> tuple[tuple[str, int], ...]:
    return (*COLUMNS, PHONE_COLUMN) if include_phone else COLUMNS


async def export_cases(
    engine: AsyncEngine, start: datetime, end: datetime, *, include_phone: bool, tz: tzinfo
) -> tuple[bytes, bytes]:
    """(XLSX bytes, CSV bytes) of the cases filed in ``[start, end)``, oldest first."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("naive datetime: pass aware UTC datetimes")
    async with engine.connect() as conn:
        rows = await report_store.filed_cases_with_unit(conn, start, end)
        firsts, lasts = await _milestones(conn, start, end)
    table = [_row(r, firsts.get(r["id"]), lasts.get(r["id"]), include_phone, tz) for r in rows]
    header = headers(include_phone)
    return _xlsx(header, table, _columns(include_phone)), _csv(header, table)


async def _milestones(
    conn: AsyncConnection, start: datetime, end: datetime
) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """First claim and latest resolution per case filed in the period, from the audit trail."""
    spans = await report_store.event_spans(
        conn, start, end, [Action.CLAIM.value, Action.RESOLVE.value]
    )
    first_claim: dict[int, datetime] = {}
    last_resolve: dict[int, datetime] = {}
    for case_id, action, first, last in spans:
        if action == Action.CLAIM:
            first_claim[case_id] = first
        else:
            last_resolve[case_id] = last
    return first_claim, last_resolve


def _hours(since: datetime, until: datetime | None) -> float | None:
    """Elapsed hours with one decimal, or None when the milestone has not happened."""
    if until is None:
        return None
    return round(max(until - since, timedelta(0)).total_seconds() / 3600, 1)


def _label(table: dict[str, Choice], code: str) -> str:
    choice = table.get(code)
    return _(choice.label) if choice else code


def _status(code: str) -> str:
    try:
        return _(STAFF_STATUS_LABELS[Status(code)])
    except ValueError:
        return code


def _outcome(code: str | None) -> str:
    """The outcome as the staff card words it; a rejection is told by its status label."""
    if code in OUTCOME_LABELS:
        return _(OUTCOME_LABELS[code])
    if code == Status.REJECTED:
        return _(STAFF_STATUS_LABELS[Status.REJECTED])
    return code or ""


def _safe(value: str | None) -> str:
    """User text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _row(
    case: Mapping[str, Any],
    first_claim: datetime | None,
    last_resolve: datetime | None,
    include_phone: bool,
    tz: tzinfo,
) -> list[Any]:
    created = case["created_at"]
    row: list[Any] = [
        case["code"],
        f"{jalali.format_numeric_date(created, tz)} {jalali.format_time(created, tz)}",
        _status(case["status"]),
        _label(VIOLATIONS_BY_CODE, case["violation"]),
        _label(SECTORS_BY_CODE, case["sector"]),
        _label(PROVINCES_BY_CODE, case["province"]),
        _safe(case["city"]),
        _safe(case["business"]),
        _safe(case["address"]),
        case["unit_name"] or "",
        case["holder_id"],
        _("urgent") if case["urgent"] else _("not urgent"),
        _hours(created, first_claim),
        _hours(created, last_resolve),
        _outcome(case["outcome"]),
    ]
    if include_phone:
        row.append(case["contact_phone"] or "")
    return row


def _xlsx(
    header: list[str], rows: Iterable[Sequence[Any]], columns: Sequence[tuple[str, int]]
) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Cases")
    ws.sheet_view.rightToLeft = True
    ws.append(header)
    for row in rows:
        ws.append(list(row))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for index, (_msgid, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv(header: list[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buf.getvalue().encode("utf-8-sig")
