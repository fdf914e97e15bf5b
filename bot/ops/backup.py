"""A consistent copy of the SQLite database while the bot keeps running.

Copying the file with `cp` is not a backup: in WAL mode the newest commits live in the `-wal`
file, and a copy taken mid-write can be torn. SQLite's online backup API reads one snapshot
through a read transaction (WAL content included) while writers carry on. The copy is written
to a temporary file and renamed into place, so a crash never leaves a half-written backup under
the final name. PostgreSQL has `pg_dump` for the same job.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from bot.config import Settings

BUSY_TIMEOUT_SECONDS = 30.0


class BackupError(Exception):
    """The backup could not be taken; the message says why in one line."""


def sqlite_file(database_url: str) -> Path:
    """The database file behind a SQLite URL; refuse anything that is not a SQLite file."""
    if not database_url.startswith("sqlite"):
        raise BackupError(
            "only SQLite databases can be backed up this way; for PostgreSQL use pg_dump"
        )
    path = database_url.split(":///", 1)[1].split("?", 1)[0] if ":///" in database_url else ""
    if path in ("", ":memory:"):
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(path)


def _target(source: Path, dest: Path) -> Path:
    """An existing directory gets a time-stamped file inside it; anything else is the file."""
    if dest.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        dest = dest / f"{source.stem}-{stamp}{source.suffix or '.sqlite3'}"
    if dest.resolve() == source.resolve():
        raise BackupError("the backup must not overwrite the database itself")
    return dest


def _copy(source: Path, dest: Path) -> None:
    """Blocking part: snapshot `source` into a temporary file next to `dest`, then rename."""
    # mode=ro: the backup never writes to the live database, whatever goes wrong.
    src_uri = f"file:{quote(str(source.resolve()))}?mode=ro"
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        src = sqlite3.connect(src_uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            src.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            out = sqlite3.connect(tmp)
            try:
                # pages=-1: the whole database in one step, i.e. from a single read snapshot.
                src.backup(out, pages=-1)
                # The copy inherits WAL mode; a rollback journal makes it one self-contained file.
                out.execute("PRAGMA journal_mode = DELETE")
                verdict = out.execute("PRAGMA quick_check").fetchone()[0]
                if verdict != "ok":
                    raise BackupError(f"the copy failed its check: {verdict}")
            finally:
                out.close()
        finally:
            src.close()
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (not possible on every platform; best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


async def backup_sqlite(database_url: str, dest: Path) -> Path:
    """Write a consistent copy of the SQLite database at `database_url` to `dest`.

    `dest` may be a file or an existing directory (a time-stamped name is chosen inside it).
    Runs in a worker thread, so the bot's event loop keeps serving while pages are copied.
    Returns the path written. Raises `BackupError` for a non-SQLite URL or a missing database.
    """
    source = sqlite_file(database_url)
    try:
        return await asyncio.to_thread(_backup, source, Path(dest))
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite error: {exc}") from exc


def _backup(source: Path, dest: Path) -> Path:
    if not source.is_file():
        raise BackupError(f"no database file at {source}")
    target = _target(source, dest)
    _copy(source, target)
    return target


def main_backup(settings: Settings, path: str | Path) -> int:
    """`python -m bot backup PATH`: one line of output and an exit status (0 ok, 1 failed)."""
    try:
        written = asyncio.run(backup_sqlite(settings.database_url, Path(path)))
    except (BackupError, OSError) as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    size = written.stat().st_size
    print(f"backup written to {written} ({size} bytes)")
    return 0
