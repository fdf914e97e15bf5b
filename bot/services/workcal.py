"""The working calendar from the settings and the holiday files, re-read when a file changes.

Holiday files are edited by an administrator while the bot runs (the lunar dates are confirmed
during the year), so the folder is checked on every use — a few `stat` calls — and re-read
only when a file was added, removed or changed. A file with an error is logged once and the
previous list stays in force: a typo must not make every holiday a working day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.config import Settings
from bot.domain import holidays as holiday_files
from bot.domain.worktime import Shift, WorkCalendar, parse_shift

log = logging.getLogger(__name__)

Signature = tuple[tuple[str, int, int], ...]


@dataclass
class _Loaded:
    signature: Signature
    days: frozenset[date]


_loaded: dict[Path, _Loaded] = {}


def _signature(folder: Path) -> Signature:
    found = []
    for path in holiday_files.files_in(folder):
        try:
            st = path.stat()
        except OSError:
            continue
        found.append((path.name, st.st_mtime_ns, st.st_size))
    return tuple(found)


def holidays(folder: Path) -> frozenset[date]:
    """The folder's holiday dates, re-read only when its files changed."""
    signature = _signature(folder)
    known = _loaded.get(folder)
    if known is not None and known.signature == signature:
        return known.days
    try:
        days = holiday_files.load_folder(folder)
    except holiday_files.HolidayFileError as exc:
        log.error("holiday files not reloaded, the previous list stays in force: %s", exc)
        days = known.days if known is not None else frozenset()
    else:
        if known is not None:
            log.info("holiday files reloaded: %d days", len(days))
    _loaded[folder] = _Loaded(signature, days)
    return days


def calendar(settings: Settings) -> WorkCalendar:
    """The Iranian working week with the configured hours and the current holidays."""
    hours = parse_shift(settings.work_hours)
    assert isinstance(hours, Shift)  # the settings validator refuses "off" here
    return WorkCalendar.iranian(
        settings.tz,
        hours=hours,
        thursday=parse_shift(settings.work_thursday_hours),
        holidays=holidays(settings.holidays_dir),
    )
