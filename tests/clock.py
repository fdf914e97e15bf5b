"""A clock the test moves by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Saturday 7 Azar 1405, 10:00 in Tehran.
START = datetime(2026, 11, 28, 6, 30, tzinfo=UTC)


@dataclass
class Clock:
    """A clock the test moves by hand; services read it through `Runtime.clock`."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)
