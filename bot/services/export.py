"""Cases of a period as a spreadsheet (XLSX) and as CSV, for managers.

One row per case filed in the period. The XLSX reads right to left with a frozen header; the
CSV is UTF-8 with a BOM because Excel otherwise opens it as a legacy code page and shows the
Persian as mojibake. The citizen's phone (and a caller's name) is included only when the caller
says so: the export leaves the bot, so the default is to leave personal data out. Each case says
how it came in (chat, phone, web…) and, for a call, the officer who registered it.

An export can be large (a year of cases), so the bot never builds one on its event loop: it
runs in a separate process, which reads the rows in chunks and writes the files straight to
disk.
"""

from __future__ import annotations

import asyncio
import csv
import multiprocessing
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot import jalali
from bot.domain import channels
from bot.domain.catalogue import PROVINCES_BY_CODE, SECTORS_BY_CODE, VIOLATIONS_BY_CODE, Choice
from bot.domain.lifecycle import Action, Status
from bot.i18n import N_, _
from bot.services.reports import STAFF_STATUS_LABELS
from bot.services.runtime import Runtime
from bot.storage import reports as report_store
from bot.views.notices import OUTCOME_LABELS

#: Cases read from the database (and written) per step.
CHUNK_ROWS = 1000
XLSX_NAME, CSV_NAME = "cases.xlsx", "cases.csv"
#: ``progress(rows written, rows in the export)``, awaited after each chunk.
Progress = Callable[[int, int], Awaitable[None]]

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
    (N_("Channel"), 16),
    (N_("Registered by (officer id)"), 14),
)
# Personal data, only in an export for those who may see phones: the number, a caller's name.
PHONE_COLUMNS = ((N_("Phone"), 16), (N_("Caller's name"), 20))
# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def headers(include_phone: bool) -> list[str]:
    """Translated column headers, in order."""
    return [_(msgid) for msgid, _width in _columns(include_phone)]


def _columns(include_phone: bool) -> tuple[tuple[str, int], ...]:
    return (*COLUMNS, *PHONE_COLUMNS) if include_phone else COLUMNS


@dataclass(frozen=True)
class ExportFiles:
    """The two files of one export, on disk in the folder the caller gave."""

    rows: int
    xlsx: Path
    csv: Path

    @property
    def largest(self) -> int:
        """Size in bytes of the bigger file (each is one upload)."""
        return max(self.xlsx.stat().st_size, self.csv.stat().st_size)


class ExportFailed(Exception):
    """The export process failed or ended without a result; the message says why."""


@dataclass(frozen=True)
class Job:
    """What the export process needs: plain values only (it is pickled into the process)."""

    database_url: str
    start: datetime
    end: datetime
    folder: str
    include_phone: bool
    timezone: str
    max_rows: int
    chunk_rows: int
    # A multiprocessing Event from the spawn context, or None: the process waits on it once
    # it has written ``hold_after_rows`` rows. Only for tests, to hold the builder mid-way.
    hold: Any = None
    hold_after_rows: int = 0


class Exports:
    """Builds exports without stalling the bot. The work runs in a separate process (a thread
    would still share the interpreter lock with the event loop: other people's answers then
    took ten times longer, see docs/benchmarks.md), one export at a time; the process reads
    the rows in chunks of CHUNK_ROWS in short transactions and reports its progress through a
    pipe the event loop watches. Exports are jobs (`bot.services.export_job`): one person has
    at most one in the making, whichever process makes it.
    """

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._one_at_a_time = asyncio.Lock()
        self.hold: Any = None  # tests: see Job.hold
        self.hold_after_rows = 0

    @property
    def max_rows(self) -> int:
        return self.rt.settings.export_max_rows

    @property
    def max_upload_bytes(self) -> int:
        return self.rt.settings.upload_limit

    async def count(self, start: datetime, end: datetime) -> int:
        """How many cases an export of ``[start, end)`` would hold."""
        _check_bounds(start, end)
        async with self.rt.engine.connect() as conn:
            return await report_store.count_filed(conn, start, end)

    def fits_upload(self, files: ExportFiles) -> bool:
        """Both files fit Telegram's upload limit: checked before either is sent."""
        return files.largest <= self.max_upload_bytes

    async def build(
        self,
        start: datetime,
        end: datetime,
        folder: Path,
        *,
        include_phone: bool,
        progress: Progress | None = None,
    ) -> ExportFiles:
        """Write the XLSX and the CSV of ``[start, end)`` into ``folder``, at most max_rows,
        in the export process; ExportFailed if it fails."""
        _check_bounds(start, end)
        job = Job(
            database_url=self.rt.settings.database_url,
            start=start,
            end=end,
            folder=str(folder),
            include_phone=include_phone,
            timezone=self.rt.settings.timezone,
            max_rows=self.max_rows,
            chunk_rows=CHUNK_ROWS,
            hold=self.hold,
            hold_after_rows=self.hold_after_rows,
        )
        async with self._one_at_a_time:
            return await run_in_process(job, progress)


async def run_in_process(job: Job, progress: Progress | None = None) -> ExportFiles:
    """Run `job` in a fresh process (spawned: nothing of this process's threads, connections
    or event loop is inherited) and relay its progress; the process is killed if the caller
    is cancelled."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_export_process, args=(job, sender), name="export", daemon=True
    )
    process.start()
    sender.close()  # the child holds the only writing end: EOF when it is gone
    loop = asyncio.get_running_loop()
    messages: asyncio.Queue[tuple[Any, ...] | None] = asyncio.Queue()
    fd = receiver.fileno()

    def readable() -> None:
        try:
            messages.put_nowait(receiver.recv())
        except (EOFError, OSError):
            loop.remove_reader(fd)
            messages.put_nowait(None)

    loop.add_reader(fd, readable)
    try:
        while True:
            message = await messages.get()
            if message is None:
                raise ExportFailed(f"the export process ended (exit code {process.exitcode})")
            if message[0] == "progress":
                if progress is not None:
                    await progress(message[1], message[2])
            elif message[0] == "done":
                folder = Path(job.folder)
                return ExportFiles(message[1], folder / XLSX_NAME, folder / CSV_NAME)
            else:
                raise ExportFailed(message[1])
    finally:
        loop.remove_reader(fd)
        receiver.close()
        if process.is_alive():
            process.kill()
        await asyncio.to_thread(process.join)


def _export_process(job: Job, channel: Connection) -> None:
    """The export process: build the files, telling the parent how far it got."""
    from zoneinfo import ZoneInfo

    from bot.storage.db import create_engine

    async def progress(done: int, total: int) -> None:
        channel.send(("progress", done, total))
        if job.hold is not None and done >= job.hold_after_rows:
            await asyncio.to_thread(job.hold.wait, 60)

    async def build() -> int:
        engine = create_engine(job.database_url)
        try:
            files = await write_export(
                engine,
                job.start,
                job.end,
                Path(job.folder),
                include_phone=job.include_phone,
                tz=ZoneInfo(job.timezone),
                max_rows=job.max_rows,
                progress=progress,
                chunk_rows=job.chunk_rows,
            )
        finally:
            await engine.dispose()
        return files.rows

    try:
        channel.send(("done", asyncio.run(build())))
    except BaseException as exc:  # told to the parent, which logs it
        channel.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        channel.close()


async def write_export(
    engine: AsyncEngine,
    start: datetime,
    end: datetime,
    folder: Path,
    *,
    include_phone: bool,
    tz: tzinfo,
    max_rows: int | None = None,
    progress: Progress | None = None,
    chunk_rows: int | None = None,
) -> ExportFiles:
    """Stream the cases filed in ``[start, end)``, oldest first, into ``folder``.

    Each chunk is read in its own short transaction (keyset on (created_at, id), so a case filed
    meanwhile is appended, never repeated or skipped), then converted and written: CPU work
    that blocks, which is why the bot runs this in the export process (`run_in_process`).
    ``progress(done, total)`` is awaited after each chunk.
    """
    _check_bounds(start, end)
    async with engine.connect() as conn:
        total = await report_store.count_filed(conn, start, end)
    if max_rows is not None:
        total = min(total, max_rows)
    chunk_rows = chunk_rows or CHUNK_ROWS
    writer = _Writer(folder, include_phone, tz)
    done = 0
    after: tuple[datetime, int] | None = None
    try:
        while max_rows is None or done < max_rows:
            size = chunk_rows if max_rows is None else min(chunk_rows, max_rows - done)
            async with engine.connect() as conn:
                chunk = await report_store.filed_chunk(conn, start, end, after, size, include_phone)
                if not chunk:
                    break
                firsts, lasts = await _milestones(conn, [r["id"] for r in chunk])
            writer.write(chunk, firsts, lasts)
            done += len(chunk)
            after = (chunk[-1]["created_at"], chunk[-1]["id"])
            if progress is not None:
                await progress(done, max(total, done))
            if len(chunk) < size:
                break
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return ExportFiles(done, writer.xlsx_path, writer.csv_path)


async def export_cases(
    engine: AsyncEngine, start: datetime, end: datetime, *, include_phone: bool, tz: tzinfo
) -> tuple[bytes, bytes]:
    """(XLSX bytes, CSV bytes) of the cases filed in ``[start, end)``, oldest first."""
    _check_bounds(start, end)
    with tempfile.TemporaryDirectory(prefix="export-") as folder:
        files = await write_export(
            engine, start, end, Path(folder), include_phone=include_phone, tz=tz
        )
        return files.xlsx.read_bytes(), files.csv.read_bytes()


def _check_bounds(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("naive datetime: pass aware UTC datetimes")


async def _milestones(
    conn: AsyncConnection, case_ids: list[int]
) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """First claim and latest resolution per case, from the audit trail."""
    first_claim: dict[int, datetime] = {}
    last_resolve: dict[int, datetime] = {}
    actions = [Action.CLAIM.value, Action.RESOLVE.value]
    for case_id, action, first, last in await report_store.spans_of(conn, case_ids, actions):
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
    case: Any,
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
        _(channels.label(case["channel"])),
        case["taken_by"],
    ]
    if include_phone:
        row += [case["contact_phone"] or "", _safe(case["caller_name"])]
    return row


class _Writer:
    """The XLSX (write-only, streamed to disk) and the CSV, fed chunk by chunk.

    Every method blocks and is CPU-bound: the bot calls them in the export process only.
    """

    def __init__(self, folder: Path, include_phone: bool, tz: tzinfo) -> None:
        self.xlsx_path = folder / XLSX_NAME
        self.csv_path = folder / CSV_NAME
        self.include_phone = include_phone
        self.tz = tz
        columns = _columns(include_phone)
        header = headers(include_phone)
        self._book = Workbook(write_only=True)
        sheet = self._book.create_sheet(_("Cases"))
        sheet.sheet_view.rightToLeft = True
        sheet.freeze_panes = "A2"
        for index, (_msgid, width) in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        bold, wrapped = Font(bold=True), Alignment(wrap_text=True, vertical="center")
        cells = []
        for title in header:
            cell = WriteOnlyCell(sheet, value=title)
            cell.font, cell.alignment = bold, wrapped
            cells.append(cell)
        sheet.append(cells)
        self._sheet = sheet
        self._csv_file = self.csv_path.open("w", encoding="utf-8-sig", newline="")
        self._csv = csv.writer(self._csv_file, lineterminator="\r\n")
        self._csv.writerow(header)

    def write(
        self, chunk: list[Any], firsts: dict[int, datetime], lasts: dict[int, datetime]
    ) -> None:
        for case in chunk:
            row = _row(
                case, firsts.get(case["id"]), lasts.get(case["id"]), self.include_phone, self.tz
            )
            self._sheet.append(row)
            self._csv.writerow(["" if v is None else v for v in row])

    def close(self) -> None:
        self._csv_file.close()
        self._book.save(self.xlsx_path)

    def abort(self) -> None:
        self._csv_file.close()
        self._book.close()
