"""`python -m bot copy-data`: an installation on SQLite moves to PostgreSQL and carries on there.

Every test needs PostgreSQL (skipped with a reason when it is not reachable): the source is a
real SQLite file, the target a new PostgreSQL database, created and dropped here.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, null, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.__main__ import main
from bot.storage import copy as copy_module
from bot.storage.copy import CopyRefused, copy_data, tables
from bot.storage.db import create_engine
from bot.storage.migrate import current_revision, head_revision, upgrade
from bot.storage.tables import (
    api_requests,
    cases,
    held_inputs,
    processed_updates,
    units,
    users,
)
from tests.clock import START
from tests.conftest import empty_postgres
from tests.flows import case_rows, file_complaint, start_filing
from tests.harness import running_bot
from tests.test_staff_actions import CLAIMED_NOTICE, PHONE, STATUS_CLAIMED, _claim, _file, _short
from tests.test_staff_desk import ADMIN, CITIZEN, _setup

CITIZEN2 = 1002


@pytest.fixture(autouse=True)
def _root_logging_kept() -> Iterator[None]:
    """The command line sets up logging on the root logger: put it back for the next tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _plain(url: str) -> str:
    """A URL as an operator writes it, without the driver (copy-data adds it)."""
    return url.replace("sqlite+aiosqlite:", "sqlite:").replace("postgresql+asyncpg:", "postgresql:")


async def _rows(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows in key order, read through the bot's Table objects."""
    found: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as conn:
        for table in tables():
            result = await conn.execute(select(table).order_by(*table.primary_key.columns))
            found[table.name] = [dict(r) for r in result.mappings()]
    return found


async def _cli(*argv: str) -> int:
    """The command line as an operator runs it (it runs its own event loop: a thread here)."""
    return await asyncio.to_thread(main, ["copy-data", *argv])


async def test_the_bot_carries_on_over_the_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await upgrade(source_url)
    async with running_bot(source_url, admin_ids=[ADMIN]) as bot:
        p = await _setup(bot)
        citizen = p["citizen"]
        row, card = await _file(bot, p["staff"], citizen, photos=2, phone=PHONE)
        await _claim(p["staff"], p["s1"], card)
        await citizen.expect_message(CLAIMED_NOTICE)
        other = bot.server.user(CITIZEN2, first_name="نرگس")
        await start_filing(other)  # a draft left half-way
        await other.press("گران‌فروشی")
        await other.expect_message("کدام صنف")

    async with empty_postgres() as target_url:
        assert await _cli(_plain(source_url), _plain(target_url)) == 0
        printed = capsys.readouterr().out
        assert "every table copied, row counts match" in printed

        source, target = create_engine(source_url), create_engine(target_url)
        try:
            before, after = await _rows(source), await _rows(target)
        finally:
            await source.dispose()
            await target.dispose()
        for name in ("users", "cases", "case_events", "outbox", "drafts", "attachments", "inbox"):
            assert before[name], f"the flow left no {name} rows to copy"
            count = len(before[name])
            assert f"\n{name} " in printed and f" {count}  " in printed
        # Every value comes back as it went in: aware datetimes, JSON, booleans, floats.
        assert after == before
        assert after["cases"][0]["created_at"].tzinfo is not None

        async with running_bot(target_url, admin_ids=[ADMIN]) as bot:
            citizen = bot.server.user(CITIZEN, first_name="شهروند")
            await citizen.send_text("شکایت‌های من")
            listing = await citizen.expect_message("شکایت‌های شما")
            mine = [b for b in listing.buttons() if _short(row["code"]) in b]
            assert len(mine) == 1
            await citizen.press(mine[0])
            opened = await citizen.expect_message("روند رسیدگی")
            assert STATUS_CLAIMED in opened.text

            await file_complaint(citizen)  # new rows: the sequences were set past the copy
            ids = [c["id"] for c in await case_rows(bot, CITIZEN)]
            assert ids == [row["id"], max(c["id"] for c in before["cases"]) + 1]
            await bot.server.group(bot.settings.staff_chat_id or 0).expect_message(
                _short((await case_rows(bot, CITIZEN))[-1]["code"])
            )


def _case(number: int, **values: Any) -> dict[str, Any]:
    at = START + timedelta(minutes=number)
    return {
        "id": number,
        "code": f"{1000000000 + number}",
        "citizen_id": CITIZEN,
        "status": "new",
        "violation": "overpricing",
        "sector": "food",
        "province": "23",
        "city": "تهران",
        "business": "فروشگاه",
        "business_key": "فروشگاه",
        "address": "خیابان انقلاب",
        "description": "گران فروخت",
        "created_at": at,
        "updated_at": at,
        **values,
    }


async def _source(tmp_path: Path, *, first_name: str = "سارا") -> str:
    """A migrated SQLite database with rows written directly: more than a batch in two tables,
    an older case merged into a newer one, held inputs with and without a file."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'source.sqlite3'}"
    await upgrade(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                users.insert(),
                {"id": CITIZEN, "first_name": first_name, "created_at": START, "updated_at": START},
            )
            await conn.execute(cases.insert(), _case(2))  # the older case is merged into it
            await conn.execute(cases.insert(), _case(1, merged_into=2))
            await conn.execute(
                api_requests.insert(),
                [
                    {"id": i, "method": "GET", "path": "/requests.json", "status": 200, "at": START}
                    for i in range(1, 24)
                ],
            )
            await conn.execute(
                processed_updates.insert(), [{"update_id": i, "at": START} for i in range(1, 24)]
            )
            held = {"user_id": CITIZEN, "chat_id": CITIZEN, "message_id": 5, "created_at": START}
            await conn.execute(held_inputs.insert().values(attachment=null()), held)
            await conn.execute(held_inputs.insert(), held | {"attachment": None})
            await conn.execute(held_inputs.insert(), held | {"attachment": {"kind": "photo"}})
    finally:
        await engine.dispose()
    return url


async def test_small_batches_forward_references_and_sequences(tmp_path: Path) -> None:
    source_url = await _source(tmp_path)
    async with empty_postgres() as target_url:
        report = await copy_data(source_url, target_url, batch_rows=5)
        assert report.complete
        counts = {c.table: c.target for c in report.counts}
        assert (counts["api_requests"], counts["processed_updates"], counts["cases"]) == (23, 23, 2)
        target = create_engine(target_url)
        try:
            async with target.begin() as conn:
                merged = await conn.execute(select(cases.c.id, cases.c.merged_into).order_by("id"))
                assert list(merged) == [(1, 2), (2, None)]
                # SQL NULL and JSON null stay apart; a file's JSON comes back as it was.
                attached = await conn.execute(select(held_inputs.c.attachment).order_by("id"))
                assert list(attached.scalars()) == [None, None, {"kind": "photo"}]
                empty = select(func.count()).where(held_inputs.c.attachment.is_(None))
                assert (await conn.execute(empty)).scalar_one() == 1
                # The next ids follow the copied ones; a table copied empty starts at 1.
                new = await conn.execute(
                    api_requests.insert().returning(api_requests.c.id),
                    {"method": "GET", "path": "/", "status": 200, "at": START},
                )
                assert new.scalar_one() == 24
                new = await conn.execute(
                    cases.insert().returning(cases.c.id),
                    {k: v for k, v in _case(3).items() if k != "id"},
                )
                assert new.scalar_one() == 3
                new = await conn.execute(
                    units.insert().returning(units.c.id), {"code": "x", "name": "x"}
                )
                assert new.scalar_one() == 5
        finally:
            await target.dispose()


@pytest.fixture
async def source_url(tmp_path: Path) -> str:
    return await _source(tmp_path)


async def test_refuses_a_target_that_holds_rows(
    source_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with empty_postgres() as target_url:
        await upgrade(target_url)
        target = create_engine(target_url)
        try:
            async with target.begin() as conn:
                await conn.execute(
                    users.insert(), {"id": 77, "created_at": START, "updated_at": START}
                )
            assert await _cli(_plain(source_url), _plain(target_url)) == 2
            assert "the target already holds rows (in users)" in capsys.readouterr().err
            async with target.connect() as conn:
                assert (await conn.execute(select(users.c.id))).scalars().all() == [77]
                assert (await conn.execute(select(func.count()).select_from(cases))).scalar() == 0
        finally:
            await target.dispose()


async def test_refuses_a_source_not_at_the_head(tmp_path: Path) -> None:
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    await upgrade(source_url, "0014")
    async with empty_postgres() as target_url:
        expected = f"the source is at migration 0014, not {head_revision()}"
        with pytest.raises(CopyRefused, match=expected):
            await copy_data(source_url, target_url)
        target = create_engine(target_url)
        try:
            async with target.connect() as conn:
                assert await current_revision(conn) is None  # not even migrated
        finally:
            await target.dispose()


async def test_refuses_a_missing_source_without_creating_it(tmp_path: Path) -> None:
    missing = tmp_path / "typo.sqlite3"
    async with empty_postgres() as target_url:
        with pytest.raises(CopyRefused, match="does not exist"):
            await copy_data(f"sqlite+aiosqlite:///{missing}", target_url)
    assert not missing.exists()


async def test_a_value_postgresql_cannot_store_stops_the_copy_and_writes_nothing(
    tmp_path: Path,
) -> None:
    source_url = await _source(tmp_path, first_name="ن" * 200)  # SQLite keeps past String(128)
    async with empty_postgres() as target_url:
        with pytest.raises(CopyRefused, match=r"users\.first_name of the row id=1001 is 200"):
            await copy_data(source_url, target_url)
        target = create_engine(target_url)
        try:
            async with target.connect() as conn:
                for table in tables():  # rolled back: the seeded units are still the seed
                    count = (await conn.execute(select(func.count()).select_from(table))).scalar()
                    assert count == (4 if table.name == "units" else 0), table.name
        finally:
            await target.dispose()


@pytest.mark.parametrize(
    "argv",
    [
        ["postgresql://postgres@127.0.0.1/a", "sqlite:///b.sqlite3"],  # the wrong way round
        ["sqlite:///a.sqlite3", "sqlite:///b.sqlite3"],
        ["mysql://x/a", "postgresql://postgres@127.0.0.1/b"],
    ],
)
def test_the_command_copies_only_sqlite_into_postgresql(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["copy-data", *argv]) == 2
    assert "copy-data:" in capsys.readouterr().err


async def test_counts_that_differ_roll_the_copy_back(
    source_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit status 1 and nothing written: the target is counted inside the copy's transaction
    (here made to come out one short for `cases`)."""
    real = copy_module._count

    async def short_on_the_target(conn: AsyncConnection, table: Table) -> int:
        found = await real(conn, table)
        return found - 1 if table.name == "cases" and conn.dialect.name == "postgresql" else found

    monkeypatch.setattr(copy_module, "_count", short_on_the_target)
    async with empty_postgres() as target_url:
        assert await _cli(_plain(source_url), _plain(target_url)) == 1
        out, err = capsys.readouterr()
        assert re.search(r"^cases +2 +1  DIFFERS$", out, re.M), out
        assert "rolled back, nothing was written" in err
        target = create_engine(target_url)
        try:
            async with target.connect() as conn:
                for table in (users, cases, api_requests, held_inputs):
                    assert (
                        await conn.execute(select(func.count()).select_from(table))
                    ).scalar() == 0
        finally:
            await target.dispose()
