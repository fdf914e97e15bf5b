"""Case exports: XLSX (right to left, frozen header) and CSV (UTF-8 with BOM) of a period."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot import jalali
from bot.domain.catalogue import PROVINCES_BY_CODE, SECTORS_BY_CODE, VIOLATIONS_BY_CODE
from bot.domain.channels import CHANNEL_LABELS, Channel
from bot.domain.lifecycle import Action, Status
from bot.domain.periods import Period, PeriodKind
from bot.i18n import _
from bot.services.export import ExportFailed, Job, export_cases, headers, run_in_process
from bot.services.reports import STAFF_STATUS_LABELS
from bot.storage.db import create_engine
from bot.views.notices import OUTCOME_LABELS
from tests.test_reports import DAY, TZ, SeedCase, seed_database

_OUTCOMES = {
    "branch": _(OUTCOME_LABELS["branch"]),
    "rejected": _(STAFF_STATUS_LABELS[Status.REJECTED]),
}
WEEK = Period.containing(PeriodKind.WEEK, DAY.first_day, TZ)


def _hours(case: SeedCase, action: Action, pick: Any) -> float | None:
    times = [e.at for e in case.events if e.action is action]
    if not times:
        return None
    return round((pick(times) - case.created_at).total_seconds() / 3600, 1)


def _expected_row(case: SeedCase, units: dict[int, str], include_phone: bool) -> list[Any]:
    """The row as the test derives it from the seeded Python objects."""
    filed = jalali.format_numeric_date(case.created_at, TZ), jalali.format_time(case.created_at, TZ)
    row = [
        case.code,
        " ".join(filed),
        _(STAFF_STATUS_LABELS[case.status]),
        _(VIOLATIONS_BY_CODE[case.violation].label),
        _(SECTORS_BY_CODE[case.sector].label),
        _(PROVINCES_BY_CODE[case.province].label),
        case.city,
        "'" + case.business if case.business.startswith("=") else case.business,
        "'" + case.address if case.address.startswith("-") else case.address,
        units.get(case.unit_id, "") if case.unit_id else "",
        case.holder_id,
        _("urgent") if case.urgent else _("not urgent"),
        _hours(case, Action.CLAIM, min),
        _hours(case, Action.RESOLVE, max),
        _OUTCOMES.get(case.outcome, ""),
        _(CHANNEL_LABELS[Channel(case.channel)]),
        case.taken_by,
    ]
    if include_phone:
        row += [case.contact_phone or "", case.caller_name or ""]
    return row


def _blank(value: Any) -> Any:
    return "" if value is None else value


async def test_export_rows_columns_and_phone(db_url: str) -> None:
    seed = await seed_database(db_url)
    start, end = WEEK.bounds(TZ)
    wanted = sorted(
        (c for c in seed.cases if start <= c.created_at < end), key=lambda c: (c.created_at, c.id)
    )
    assert len(wanted) > 40 and any(c.business.startswith("=") for c in wanted)
    engine = create_engine(db_url)
    try:
        for include_phone in (False, True):
            xlsx, csv_bytes = await export_cases(
                engine, start, end, include_phone=include_phone, tz=TZ
            )
            expected = [_expected_row(c, seed.units, include_phone) for c in wanted]
            _check_xlsx(xlsx, include_phone, expected)
            _check_csv(csv_bytes, include_phone, expected)
    finally:
        await engine.dispose()


def _check_xlsx(data: bytes, include_phone: bool, expected: list[list[Any]]) -> None:
    ws = load_workbook(io.BytesIO(data)).active
    assert ws is not None
    assert ws.sheet_view.rightToLeft is True
    assert ws.freeze_panes == "A2"
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == headers(include_phone)
    assert (_("Phone") in rows[0]) is include_phone
    assert (_("Caller's name") in rows[0]) is include_phone
    assert len(rows[0]) == 17 + 2 * include_phone
    assert len(rows) == 1 + len(expected)
    for got, want in zip(rows[1:], expected, strict=True):
        assert [_blank(v) for v in got] == [_blank(v) for v in want]
    for cell in ws["H"][1:]:  # business: user text, never a formula
        assert cell.data_type == "s"
    if include_phone:
        assert any(str(v).startswith("+98") for v in (r[-2] for r in rows[1:]))
        assert any(v == "رضا احمدی" for v in (r[-1] for r in rows[1:]))
    channels = {r[15] for r in rows[1:]}
    assert {_(CHANNEL_LABELS[Channel.CHAT]), _(CHANNEL_LABELS[Channel.PHONE])} <= channels


def _check_csv(data: bytes, include_phone: bool, expected: list[list[Any]]) -> None:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel then reads UTF-8
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    assert rows[0] == headers(include_phone)
    assert len(rows) == 1 + len(expected)
    for got, want in zip(rows[1:], expected, strict=True):
        assert got == ["" if v is None else str(v) for v in want]


async def test_export_of_an_empty_period(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        start, end = DAY.bounds(TZ)
        xlsx, csv_bytes = await export_cases(engine, start, end, include_phone=False, tz=TZ)
    finally:
        await engine.dispose()
    ws = load_workbook(io.BytesIO(xlsx)).active
    assert ws is not None and ws.max_row == 1
    assert csv_bytes.decode("utf-8-sig").strip() == ",".join(headers(False))


async def test_naive_bounds_are_refused() -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises(ValueError):
        await export_cases(None, naive, naive, include_phone=False, tz=TZ)  # type: ignore[arg-type]


async def test_the_export_process_streams_in_chunks_and_reports_progress(
    db_url: str, tmp_path: Path
) -> None:
    seed = await seed_database(db_url)
    start, end = DAY.bounds(TZ)
    wanted = [c for c in seed.cases if start <= c.created_at < end]
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        seen.append((done, total))

    job = Job(db_url, start, end, str(tmp_path), True, "Asia/Tehran", 1000, chunk_rows=28)
    files = await run_in_process(job, progress)
    n = len(wanted)
    assert files.rows == n and seen == [(28, n), (56, n), (n, n)]
    engine = create_engine(db_url)
    try:
        xlsx, csv_bytes = await export_cases(engine, start, end, include_phone=True, tz=TZ)
    finally:
        await engine.dispose()
    assert files.csv.read_bytes() == csv_bytes  # the same rows as built in this process
    rows = list(load_workbook(files.xlsx).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows == list(load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))  # type: ignore[union-attr]

    # The cap: never more rows than max_rows, even when the period holds more.
    capped = Job(db_url, start, end, str(tmp_path), False, "Asia/Tehran", 30, chunk_rows=28)
    assert (await run_in_process(capped)).rows == 30


async def test_a_failing_export_process_raises_export_failed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'not-migrated.sqlite3'}"
    start, end = DAY.bounds(TZ)
    job = Job(url, start, end, str(tmp_path), False, "Asia/Tehran", 10, chunk_rows=5)
    with pytest.raises(ExportFailed, match="no such table"):
        await run_in_process(job)
