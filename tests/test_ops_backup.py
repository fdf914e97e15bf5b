"""Online SQLite backups: consistent while the bot writes, WAL included, never half-written."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

from bot.config import load_settings
from bot.ops.backup import BackupError, backup_sqlite, main_backup
from bot.storage.db import create_engine
from bot.storage.migrate import upgrade
from bot.storage.tables import processed_updates


class Writer:
    """Inserts one row per transaction until stopped; `committed` is always a true count."""

    def __init__(self, engine: Any, warm_up: int) -> None:
        self.engine = engine
        self.committed = 0
        self.stopping = False
        self.warm_up = warm_up
        self.warmed_up = asyncio.Event()

    async def run(self) -> None:
        while not self.stopping:
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert(processed_updates).values(
                        update_id=self.committed + 1, at=datetime.now(UTC)
                    )
                )
            self.committed += 1
            if self.committed >= self.warm_up:
                self.warmed_up.set()
            await asyncio.sleep(0)


def file_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else -1


def names(directory: Path, pattern: str) -> list[str]:
    return sorted(p.name for p in directory.glob(pattern))


def count_rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        return int(conn.execute("SELECT count(*) FROM processed_updates").fetchone()[0])
    finally:
        conn.close()


async def test_backup_is_consistent_while_the_bot_writes(tmp_path: Path) -> None:
    db = tmp_path / "live.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    engine = create_engine(url)

    # No automatic checkpoints: every row stays in the -wal file, so a backup that missed the
    # WAL would find no rows (and not even the tables).
    @event.listens_for(engine.sync_engine, "connect")
    def _no_checkpoints(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    await upgrade(engine)
    writer = Writer(engine, warm_up=200)
    task = asyncio.create_task(writer.run())
    try:
        await asyncio.wait_for(writer.warmed_up.wait(), timeout=60)
        assert file_size(Path(f"{db}-wal")) > 0
        for i in range(5):
            before = writer.committed
            written = await backup_sqlite(url, tmp_path / f"copy-{i}.sqlite3")
            after = writer.committed
            assert written == tmp_path / f"copy-{i}.sqlite3"
            assert before <= count_rows(written) <= after
            assert file_size(Path(f"{written}-wal")) == -1
    finally:
        writer.stopping = True
        await task
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(processed_updates))).one()
    assert total[0] == writer.committed >= 200
    await engine.dispose()
    # Nothing but the backups was left behind: no temporary files.
    assert names(tmp_path, "copy-*") == [f"copy-{i}.sqlite3" for i in range(5)]
    assert names(tmp_path, ".*.tmp") == []


async def test_backup_into_a_directory_picks_a_dated_name(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await upgrade(url)
    out = tmp_path / "backups"
    out.mkdir()
    written = await backup_sqlite(url, out)
    assert written.parent == out
    assert written.name.startswith("bot-") and written.suffix == ".sqlite3"
    assert count_rows(written) == 0


async def test_backup_replaces_an_older_backup_atomically(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    await upgrade(url)
    dest = tmp_path / "backup.sqlite3"
    dest.write_bytes(b"an old backup")
    await backup_sqlite(url, dest)
    assert count_rows(dest) == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+asyncpg://bot@127.0.0.1/bot", "pg_dump"),
        ("sqlite+aiosqlite:///:memory:", "in-memory"),
    ],
)
async def test_backup_refuses_what_it_cannot_copy(url: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=message):
        await backup_sqlite(url, tmp_path / "x.sqlite3")
    assert not (tmp_path / "x.sqlite3").exists()


async def test_backup_never_creates_a_missing_database(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite3"
    with pytest.raises(BackupError, match="no database file"):
        await backup_sqlite(f"sqlite+aiosqlite:///{missing}", tmp_path / "x.sqlite3")
    assert not missing.exists()


async def test_backup_refuses_to_overwrite_the_database(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    await upgrade(f"sqlite+aiosqlite:///{db}")
    with pytest.raises(BackupError, match="database itself"):
        await backup_sqlite(f"sqlite+aiosqlite:///{db}", db)


def test_cli_prints_one_line_and_returns_a_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bot.sqlite3"
    asyncio.run(upgrade(f"sqlite:///{db}".replace("sqlite:", "sqlite+aiosqlite:")))
    settings = load_settings(bot_token="123456:ABC", database_url=f"sqlite:///{db}", _env_file=None)
    assert main_backup(settings, tmp_path / "out.sqlite3") == 0
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and "out.sqlite3" in out and err == ""
    assert count_rows(tmp_path / "out.sqlite3") == 0

    pg = load_settings(
        bot_token="123456:ABC", database_url="postgresql://bot@127.0.0.1/bot", _env_file=None
    )
    assert main_backup(pg, tmp_path / "pg.sqlite3") == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "pg_dump" in err
