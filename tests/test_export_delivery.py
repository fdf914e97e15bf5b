"""End to end: where /export sends its files, and that building them stalls nobody.

Exports hold personal data (phones for supervisors, and always business names, addresses and
citizens' own words), so every export goes only to the asker's private chat, wherever /export
was typed. It is a job (any process's runner builds it, off the event loop), with its progress
shown by editing one message; too many rows, or a file over Telegram's upload limit, sends nothing.
"""

from __future__ import annotations

import io
import multiprocessing
from typing import Any

import openpyxl
import pytest
from sqlalchemy import select

from bot import text
from bot.domain.roles import Role
from bot.localapi import FakeGroup, FakeUser, Limits
from bot.localapi.models import BotMessage
from bot.services import export, export_job
from bot.services.export import export_cases
from bot.storage.db import create_engine
from bot.storage.tables import work_jobs
from tests.harness import FAST_SERVER_RATE, STAFF_CHAT_ID, Bot, running_bot, webhook_bots
from tests.test_reports import DAY, TZ, seed_database

MANAGER, SUPERVISOR, ADMIN, OTHER = 8001, 8201, 8901, 8301
MANAGERS_GROUP = -1003000000003
SENT_TO_PRIVATE = "فایل به گفت‌وگوی خصوصی شما فرستاده شد"
PREPARING = "در حال آماده‌سازی…"
# The seed files 70 cases on «yesterday» (Friday 6 Azar 1405), 107 of 160 with a phone.
YESTERDAY_CASES = 70


async def _roles(bot: Bot) -> None:
    desk = bot.services.desk
    admin = await desk.actor(ADMIN)
    await desk.set_role(admin, MANAGER, Role.MANAGER)
    await desk.set_role(admin, SUPERVISOR, Role.SUPERVISOR)


def _documents(chat: FakeUser | FakeGroup) -> list[BotMessage]:
    return [m for m in chat.inbox if m.kind == "document"]


def _sheet_rows(bot: Bot, document: BotMessage) -> list[tuple[Any, ...]]:
    data = bot.server.files[document.media[0]].content
    assert data is not None
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


async def _expect_export(bot: Bot, user: FakeUser) -> tuple[list[tuple[Any, ...]], bytes]:
    """The XLSX rows and the CSV bytes the user received, after the status said «ready»."""
    xlsx = await user.expect_message(predicate=lambda m: m.kind == "document")
    csv_doc = await user.expect_message(predicate=lambda m: m.kind == "document")
    names = [bot.server.files[m.media[0]].name or "" for m in (xlsx, csv_doc)]
    assert names[0].endswith(".xlsx") and names[1].endswith(".csv"), names
    csv_bytes = bot.server.files[csv_doc.media[0]].content
    assert csv_bytes is not None
    return _sheet_rows(bot, xlsx), csv_bytes


async def test_export_typed_in_a_group_goes_only_to_the_askers_private_chat(db_url: str) -> None:
    await seed_database(db_url)
    async with running_bot(db_url, admin_ids=[ADMIN], manager_chat_ids=[MANAGERS_GROUP]) as bot:
        await _roles(bot)
        staff_group = bot.server.group(STAFF_CHAT_ID, title="Staff")
        managers_group = bot.server.group(MANAGERS_GROUP, title="Managers")
        supervisor = bot.server.user(SUPERVISOR, first_name="سرپرست")
        manager = bot.server.user(MANAGER, first_name="مدیر")

        # A supervisor's export holds the citizens' phones; typed in the staff group, the
        # group is told where it went and gets no file.
        await staff_group.send_text(from_user=supervisor, text="/export yesterday")
        status = await supervisor.expect_message(PREPARING)
        rows, csv_bytes = await _expect_export(bot, supervisor)
        assert len(rows) == 1 + YESTERDAY_CASES
        assert any(str(v).startswith("+98") for v in (r[-2] for r in rows[1:]))  # then the name
        assert b"+98" in csv_bytes
        await supervisor.expect_edit(status, "آماده است")
        assert text.format_number(YESTERDAY_CASES) in status.text  # type: ignore[operator]
        await staff_group.expect_message(SENT_TO_PRIVATE)

        # A manager's export has no phones, and it too goes to the private chat only: every
        # export does (business owners' names and addresses, the citizens' own words).
        await managers_group.send_text(from_user=manager, text="/export yesterday")
        rows, csv_bytes = await _expect_export(bot, manager)
        assert len(rows) == 1 + YESTERDAY_CASES and len(rows[0]) == 17  # no phone columns
        assert b"+98" not in csv_bytes
        await managers_group.expect_message(SENT_TO_PRIVATE)

        assert _documents(staff_group) == [] and _documents(managers_group) == []
        # Asked in the private chat itself: the files are there, no «sent to» note.
        await supervisor.send_text("/export yesterday")
        await _expect_export(bot, supervisor)
        assert not any(SENT_TO_PRIVATE in (m.text or "") for m in supervisor.inbox)


async def test_an_asker_who_never_started_the_bot_is_told_how(db_url: str) -> None:
    await seed_database(db_url)
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        await _roles(bot)
        staff_group = bot.server.group(STAFF_CHAT_ID, title="Staff")
        supervisor = bot.server.user(SUPERVISOR, first_name="سرپرست", started=False)
        bot.server.expect_refusal("bot can't initiate conversation with a user")

        await staff_group.send_text(from_user=supervisor, text="/export yesterday")
        hint = await staff_group.expect_message("«شروع»")
        assert "@" + bot.server.bot_username in hint.text  # type: ignore[operator]
        assert "/export" in hint.text  # type: ignore[operator]
        assert _documents(staff_group) == [] and supervisor.inbox == []

        # Once they have started the bot, the same command works (their slot was given back).
        await supervisor.send_text("/start")
        await staff_group.send_text(from_user=supervisor, text="/export yesterday")
        await _expect_export(bot, supervisor)
        await staff_group.expect_message(SENT_TO_PRIVATE)
        assert _documents(staff_group) == []


async def test_export_is_built_off_the_loop_in_the_background_with_progress(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The builder (a separate process) is held after its first chunk until the test lets it
    go: meanwhile another user's /start and the asker's own next command are answered, so the
    export holds neither the event loop nor the asker's update slot."""
    await seed_database(db_url)
    monkeypatch.setattr(export, "CHUNK_ROWS", 28)  # 28 of 70 rows: 40 %
    monkeypatch.setattr(export_job, "PROGRESS_SECONDS", 0.0)
    release = multiprocessing.get_context("spawn").Event()
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        await _roles(bot)
        bot.services.exports.hold, bot.services.exports.hold_after_rows = release, 28
        supervisor = bot.server.user(SUPERVISOR, first_name="سرپرست")
        other = bot.server.user(OTHER, first_name="علی")

        await supervisor.send_text("/export yesterday")
        status = await supervisor.expect_message(PREPARING)
        assert status.text == f"{PREPARING} ۰٪"
        await supervisor.expect_edit(status, "۴۰٪")
        assert status.text == f"{PREPARING} ۴۰٪"
        # Held: the export process is alive and waiting on the test.
        assert "export" in [p.name for p in multiprocessing.active_children()]

        await other.send_text("/start")
        await other.expect_message("سلام علی")
        await supervisor.send_text("/export yesterday")
        await supervisor.expect_message("هنوز در حال آماده‌سازی")
        assert _documents(supervisor) == [] and status.text == f"{PREPARING} ۴۰٪"

        release.set()
        rows, _csv = await _expect_export(bot, supervisor)
        await supervisor.expect_edit(status, "آماده است")
        assert status.history[1:] == [f"{PREPARING} ۴۰٪", f"{PREPARING} ۸۰٪"]
    assert len(rows) == 1 + YESTERDAY_CASES


async def test_a_period_over_the_row_limit_is_refused_with_the_limit(db_url: str) -> None:
    await seed_database(db_url)
    async with running_bot(db_url, admin_ids=[ADMIN], export_max_rows=69) as bot:
        await _roles(bot)
        supervisor = bot.server.user(SUPERVISOR, first_name="سرپرست")
        await supervisor.send_text("/export yesterday")
        refusal = await supervisor.expect_message("بازهٔ کوتاه‌تری")
        assert "۶۹" in refusal.text and "۷۰" in refusal.text  # type: ignore[operator]
        assert [m.text for m in supervisor.inbox] == [refusal.text]  # no progress, no files


async def test_files_over_the_upload_limit_send_neither_file(db_url: str) -> None:
    """The CSV is larger than the XLSX: a limit between the two must not let the XLSX go out
    alone (the fake refuses an upload over the limit with 413, as Telegram does)."""
    await seed_database(db_url)
    engine = create_engine(db_url)
    try:
        start, end = DAY.bounds(TZ)
        xlsx, csv_bytes = await export_cases(engine, start, end, include_phone=True, tz=TZ)
    finally:
        await engine.dispose()
    assert len(xlsx) < len(csv_bytes)
    limit = (len(xlsx) + len(csv_bytes)) // 2
    limits = Limits(private_per_second=FAST_SERVER_RATE, upload_max_bytes=limit)
    async with running_bot(db_url, admin_ids=[ADMIN], limits=limits, upload_max_bytes=limit) as bot:
        await _roles(bot)
        supervisor = bot.server.user(SUPERVISOR, first_name="سرپرست")
        await supervisor.send_text("/export yesterday")
        status = await supervisor.expect_message(PREPARING)
        await supervisor.expect_edit(status, "بازهٔ کوتاه‌تری")
        assert "مگابایت" in status.text  # type: ignore[operator]
        assert _documents(supervisor) == []
    # Under a limit both fit, the same export goes out.
    limits = Limits(private_per_second=FAST_SERVER_RATE, upload_max_bytes=len(csv_bytes))
    async with running_bot(
        db_url, admin_ids=[ADMIN], limits=limits, upload_max_bytes=len(csv_bytes)
    ) as bot:
        await _roles(bot)
        supervisor = bot.server.user(SUPERVISOR, first_name="سرپرست")
        await supervisor.send_text("/export yesterday")
        rows, got_csv = await _expect_export(bot, supervisor)
        assert len(rows) == 1 + YESTERDAY_CASES and got_csv == csv_bytes


async def test_a_member_of_a_managers_chat_without_a_role_gets_no_export(db_url: str) -> None:
    """MANAGER_CHAT_IDS lets anyone there read the summaries; the export's personal data
    (names, addresses, the citizens' words) needs the asker's own role."""
    await seed_database(db_url)
    async with running_bot(db_url, admin_ids=[ADMIN], manager_chat_ids=[MANAGERS_GROUP]) as bot:
        await _roles(bot)
        managers_group = bot.server.group(MANAGERS_GROUP, title="Managers")
        other = bot.server.user(OTHER, first_name="عضو")
        await managers_group.send_text(from_user=other, text="/export yesterday")
        await managers_group.expect_message("فقط برای مدیران")
        # The same member still gets the summary there.
        await managers_group.send_text(from_user=other, text="/report yesterday")
        await managers_group.expect_message(predicate=lambda m: m.kind == "photo")
        assert other.inbox == [] and _documents(managers_group) == []


async def test_an_export_in_the_making_when_the_bot_stops_is_made_after_the_restart(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export is a job row, not a task of the process that received /export: a process
    stopped mid-way gives its job back, and the next one builds it again from the start on the
    same status message; the files and the group's note arrive once."""
    await seed_database(db_url)
    monkeypatch.setattr(export, "CHUNK_ROWS", 28)  # 28 of 70 rows: 40 %
    monkeypatch.setattr(export_job, "PROGRESS_SECONDS", 0.0)
    release = multiprocessing.get_context("spawn").Event()  # never set: held until the stop
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        await _roles(bot)
        bot.services.exports.hold, bot.services.exports.hold_after_rows = release, 28
        staff_group = bot.server.group(STAFF_CHAT_ID, title="Staff")
        supervisor = bot.server.user(SUPERVISOR, first_name="سرپرست")

        await staff_group.send_text(from_user=supervisor, text="/export yesterday")
        status = await supervisor.expect_message(PREPARING)
        await supervisor.expect_edit(status, "۴۰٪")
        await bot.restart()  # the new process's exports are not held

        rows, _csv = await _expect_export(bot, supervisor)
        await supervisor.expect_edit(status, "آماده است")
        await staff_group.expect_message(SENT_TO_PRIVATE)
        async with bot.services.rt.engine.connect() as conn:
            [job] = (await conn.execute(select(work_jobs))).mappings().all()
        assert job["status"] == "done" and job["attempts"] == 1  # a stop is no failure
        assert job["status_message_id"] == status.message_id
        # Back to the start on the same message, then as far as the first run got, and on.
        assert status.history[1:] == [
            f"{PREPARING} ۴۰٪",
            f"{PREPARING} ۰٪",
            f"{PREPARING} ۴۰٪",
            f"{PREPARING} ۸۰٪",
        ]
    assert len(rows) == 1 + YESTERDAY_CASES
    assert len(_documents(supervisor)) == 2
    assert sum(SENT_TO_PRIVATE in (m.text or "") for m in staff_group.inbox) == 1


async def test_exports_asked_of_two_processes_are_each_made_once(db_url: str) -> None:
    """Two processes behind one webhook address: whichever received /export, whichever runner
    took the job, each asker gets the two files once, on their one status message."""
    await seed_database(db_url)
    async with webhook_bots(db_url, 2, admin_ids=[ADMIN]) as (bots, _hooks):
        await _roles(bots[0])
        server = bots[0].server
        supervisor = server.user(SUPERVISOR, first_name="سرپرست")
        admin = server.user(ADMIN, first_name="مدیر کل")
        await supervisor.send_text("/export yesterday")
        await admin.send_text("/export yesterday")
        for user in (supervisor, admin):
            rows, _csv = await _expect_export(bots[0], user)
            assert len(rows) == 1 + YESTERDAY_CASES
            status = user.inbox[0]  # «preparing», edited to «ready» once the files are there
            await server.wait_until(lambda s=status: "آماده است" in (s.text or ""))
            assert [m.kind for m in user.inbox] == ["text", "document", "document"]
        assert len(_documents(supervisor)) == len(_documents(admin)) == 2
        async with bots[1].services.rt.engine.connect() as conn:
            jobs = (await conn.execute(select(work_jobs))).mappings().all()
        assert [(j["status"], j["attempts"]) for j in jobs] == [("done", 1), ("done", 1)]
