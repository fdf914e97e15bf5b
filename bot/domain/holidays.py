"""Official holidays as yearly data files with Jalali dates, one file per Solar Hijri year.

Iran's holidays follow both the solar and the lunar (Hijri) calendar, and the lunar ones move
by about eleven days a year and are fixed only when the official calendar is published, so they
cannot be computed here: an administrator drops `1406.json` next to `1405.json` each year.
Files are checked strictly (a typo in a date must not silently shorten an SLA clock): dates
may use Persian or ASCII digits, must be real dates of the file's year, and every entry needs
a name.

Format::

    {"year": 1405,
     "note": "…",
     "holidays": [{"date": "1405/01/01", "name": "نوروز"},
                  {"date": "۱۴۰۵/۰۳/۱۴", "name": "…", "lunar": false}]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from persiantools.jdatetime import JalaliDate

from bot import jalali, text

ENTRY_KEYS = frozenset({"date", "name", "lunar"})
TOP_KEYS = frozenset({"year", "note", "holidays"})


class HolidayFileError(ValueError):
    """A holiday file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Holiday:
    day: date  # Gregorian
    name: str
    lunar: bool = False


@dataclass(frozen=True)
class YearFile:
    year: int  # Jalali
    holidays: tuple[Holiday, ...]


def parse(raw: str | bytes, *, source: str = "holidays") -> YearFile:
    """One file's year and holidays; `HolidayFileError` on anything doubtful."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HolidayFileError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise HolidayFileError(f"{source}: must be a JSON object with year and holidays")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise HolidayFileError(f"{source}: unknown keys {sorted(unknown)}")
    year = _year(data.get("year"), source)
    entries = data.get("holidays")
    if not isinstance(entries, list):
        raise HolidayFileError(f"{source}: holidays must be a list")
    return YearFile(
        year,
        tuple(_entry(item, year, f"{source}: holidays[{i}]") for i, item in enumerate(entries)),
    )


def _year(value: object, source: str) -> int:
    if isinstance(value, str):
        value = text.normalize(value)
        value = int(value) if value.isascii() and value.isdigit() else None
    if isinstance(value, bool) or not isinstance(value, int):
        raise HolidayFileError(f"{source}: year must be a Jalali year such as 1405")
    if not jalali.MIN_YEAR <= value <= jalali.MAX_YEAR:
        raise HolidayFileError(f"{source}: year {value} is out of range")
    return value


def _entry(item: object, year: int, where: str) -> Holiday:
    if not isinstance(item, dict):
        raise HolidayFileError(f"{where}: must be an object with date and name")
    unknown = set(item) - ENTRY_KEYS
    if unknown:
        raise HolidayFileError(f"{where}: unknown keys {sorted(unknown)}")
    raw_date, name, lunar = item.get("date"), item.get("name"), item.get("lunar", False)
    if not isinstance(raw_date, str):
        raise HolidayFileError(f"{where}: date must be a string like 1405/01/01")
    day = jalali.parse_jalali_date(raw_date)
    if day is None:
        raise HolidayFileError(f"{where}: {raw_date!r} is not a valid Jalali date")
    if JalaliDate(day).year != year:
        raise HolidayFileError(f"{where}: {raw_date!r} is not in the year {year}")
    if not isinstance(name, str) or not text.normalize(name):
        raise HolidayFileError(f"{where}: name is missing")
    if not isinstance(lunar, bool):
        raise HolidayFileError(f"{where}: lunar must be true or false")
    return Holiday(day, text.normalize(name), lunar)


def files_in(folder: Path) -> list[Path]:
    """The yearly files of a folder (`1405.json`, …), oldest year first."""
    return sorted(p for p in folder.glob("*.json") if p.is_file())


def load(paths: Iterable[Path]) -> list[Holiday]:
    """Every holiday of the given files; a file named after a year must hold that year."""
    found: list[Holiday] = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise HolidayFileError(f"{path.name}: cannot read ({exc.strerror})") from None
        parsed = parse(raw, source=path.name)
        stem = text.normalize(path.stem)
        if stem.isascii() and stem.isdigit() and int(stem) != parsed.year:
            raise HolidayFileError(f"{path.name}: says year {parsed.year}")
        found.extend(parsed.holidays)
    return found


def load_folder(folder: Path) -> frozenset[date]:
    """The holiday dates of every yearly file in `folder`."""
    if not folder.is_dir():
        raise HolidayFileError(f"{folder}: no such folder")
    return frozenset(h.day for h in load(files_in(folder)))
