"""In-process counters rendered in Prometheus' text format (0.0.4), without a client library.

Everything runs on one event loop, so plain integers and floats need no locks. The outbox
and inbox gauges are not pushed by the workers: the health server reads them from the database
when it is scraped, so they are right even after a restart or when another process queued or
received the rows.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable

#: Handler latency buckets in seconds (Prometheus' defaults: 5 ms … 10 s).
LATENCY_BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
DELIVERY_RESULTS = ("sent", "retry", "failed")
PREFIX = "tazirat_"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Histogram:
    """Counts per bucket (not cumulative; made cumulative when rendered), sum and count."""

    def __init__(self, buckets: Iterable[float] = LATENCY_BUCKETS) -> None:
        self.bounds = tuple(sorted(buckets))
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        # bisect_left: a value equal to a bound belongs to that bucket (le = "less or equal").
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        running, out = 0, []
        for bound, n in zip((*map(_number, self.bounds), "+Inf"), self.counts, strict=True):
            running += n
            out.append((bound, running))
        return out


class Metrics:
    """What the bot counts; the lead's code calls the three recording methods."""

    def __init__(self) -> None:
        self.updates: dict[str, int] = {}
        self.latency = Histogram()
        self.deliveries = dict.fromkeys(DELIVERY_RESULTS, 0)
        self.rate_limits = 0
        self._rate_limit_sources: list[Callable[[], int]] = []
        # Set at scrape time by the health server; None while unknown (database down).
        self.outbox_pending: int | None = None
        self.outbox_oldest_age: float | None = None
        self.inbox_waiting: int | None = None
        self.inbox_oldest_age: float | None = None
        self.database_up: bool | None = None

    # -- recording ------------------------------------------------------------------------------

    def update_handled(self, kind: str, seconds: float) -> None:
        """One update of `kind` (message, callback_query, …) took `seconds` to handle."""
        self.updates[kind] = self.updates.get(kind, 0) + 1
        self.latency.observe(max(0.0, seconds))

    def delivery(self, result: str) -> None:
        """The outbox worker settled one row: `sent`, `retry` or `failed`."""
        if result not in self.deliveries:
            raise ValueError(f"delivery result must be one of {DELIVERY_RESULTS}, not {result!r}")
        self.deliveries[result] += 1

    def rate_limited(self, count: int = 1) -> None:
        """Telegram answered 429 (Too Many Requests)."""
        self.rate_limits += count

    def count_rate_limits_from(self, source: Callable[[], int]) -> None:
        """Also add `source()` to the 429 counter at scrape time (e.g. a limiter's tally).

        For counters kept elsewhere, such as `SlidingWindowRateLimiter.retries_seen`; do not
        also call `rate_limited()` for the same 429s.
        """
        self._rate_limit_sources.append(source)

    def set_outbox(self, pending: int | None, oldest_age: float | None) -> None:
        self.outbox_pending, self.outbox_oldest_age = pending, oldest_age

    def set_inbox(self, waiting: int | None, oldest_age: float | None) -> None:
        self.inbox_waiting, self.inbox_oldest_age = waiting, oldest_age

    # -- exposition -----------------------------------------------------------------------------

    def total_rate_limits(self) -> int:
        return self.rate_limits + sum(int(source()) for source in self._rate_limit_sources)

    def render(self) -> str:
        """The text exposition format 0.0.4: HELP and TYPE lines, then samples."""
        out: list[str] = []

        def family(name: str, kind: str, help_text: str) -> str:
            full = PREFIX + name
            out.append(f"# HELP {full} {help_text}")
            out.append(f"# TYPE {full} {kind}")
            return full

        name = family("updates_handled_total", "counter", "Telegram updates handled, by type.")
        for kind, n in sorted(self.updates.items()):
            out.append(f'{name}{{type="{_label(kind)}"}} {n}')

        name = family("handler_duration_seconds", "histogram", "Time to handle one update.")
        for bound, n in self.latency.cumulative():
            out.append(f'{name}_bucket{{le="{bound}"}} {n}')
        out.append(f"{name}_sum {_number(self.latency.sum)}")
        out.append(f"{name}_count {self.latency.count}")

        def gauge(name: str, help_text: str, value: float | None) -> None:
            """A gauge read from the database: no sample while it is unknown (not a stale one)."""
            full = family(name, "gauge", help_text)
            if value is not None:
                out.append(f"{full} {_number(value) if isinstance(value, float) else value}")

        gauge("outbox_pending", "Outbox rows waiting to be delivered.", self.outbox_pending)
        gauge(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox row.",
            self.outbox_oldest_age,
        )
        gauge("inbox_waiting", "Updates received and not handled yet.", self.inbox_waiting)
        gauge(
            "inbox_oldest_waiting_age_seconds",
            "Age of the oldest unhandled update.",
            self.inbox_oldest_age,
        )

        name = family("outbox_deliveries_total", "counter", "Outbox delivery attempts, by result.")
        for result, n in self.deliveries.items():
            out.append(f'{name}{{result="{result}"}} {n}')

        name = family("telegram_429_total", "counter", "Too Many Requests answers from Telegram.")
        out.append(f"{name} {self.total_rate_limits()}")

        name = family("database_up", "gauge", "1 if the last database check succeeded.")
        if self.database_up is not None:
            out.append(f"{name} {int(self.database_up)}")
        return "\n".join(out) + "\n"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
