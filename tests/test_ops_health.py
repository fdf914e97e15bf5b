"""The health endpoint and the Prometheus metrics, over real sockets, on both databases."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Chat, Message, Update, User

from bot.ops.health import Figures, HealthServer
from bot.ops.logging import current_log_context
from bot.ops.metrics import LATENCY_BUCKETS, Metrics
from bot.ops.ptb import update_kind
from bot.storage import inbox as inbox_store
from bot.storage import outbox as outbox_store
from bot.storage.db import create_engine
from bot.storage.migrate import upgrade
from bot.update_order import PerChatUpdateProcessor

NOW = datetime(2026, 11, 28, 6, 30, tzinfo=UTC)
MAX_AGE = 600.0


class Response:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split(" ")[1])
        self.headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}

    def json(self) -> Any:
        return json.loads(self.body)


async def request(port: int, raw: bytes) -> Response:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        return Response(await asyncio.wait_for(reader.read(), timeout=10))
    finally:
        writer.close()


async def get(port: int, path: str) -> Response:
    return await request(port, f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())


Factory = Callable[..., Awaitable[HealthServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Factory]:
    """Start health servers on free ports; stop them and dispose their engines afterwards."""
    started: list[HealthServer] = []

    async def start(engine: AsyncEngine, **kwargs: Any) -> HealthServer:
        kwargs.setdefault("max_outbox_age", MAX_AGE)
        kwargs.setdefault("clock", lambda: NOW)
        server = HealthServer(engine, kwargs.pop("metrics", Metrics()), port=0, **kwargs)
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()
        await server.engine.dispose()


async def queue(engine: AsyncEngine, created: datetime) -> None:
    async with engine.begin() as conn:
        await outbox_store.enqueue(
            conn,
            chat_id=-1001000000001,
            method="sendMessage",
            payload={"text": "پرونده"},
            purpose="case_card",
            now=created,
        )


async def test_healthy(db_url: str, serve: Factory) -> None:
    server = await serve(create_engine(db_url))
    assert server.port > 0
    response = await get(server.port, "/healthz")
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "database": True,
        "bot_api": None,
        "outbox_pending": 0,
        "outbox_oldest_age_seconds": None,
        "inbox_waiting": 0,
        "inbox_oldest_age_seconds": None,
        "problems": [],
    }


async def test_outbox_age_within_and_beyond_the_threshold(db_url: str, serve: Factory) -> None:
    engine = create_engine(db_url)
    server = await serve(engine)
    await queue(engine, NOW - timedelta(seconds=30))
    await queue(engine, NOW - timedelta(seconds=5))
    body = (await get(server.port, "/healthz?verbose=1")).json()
    assert (body["status"], body["outbox_pending"], body["outbox_oldest_age_seconds"]) == (
        "ok",
        2,
        30.0,
    )

    await queue(engine, NOW - timedelta(seconds=MAX_AGE + 1))
    response = await get(server.port, "/healthz")
    assert response.status == 503
    body = response.json()
    assert body["status"] == "degraded" and body["database"] is True
    assert body["outbox_pending"] == 3 and body["outbox_oldest_age_seconds"] == MAX_AGE + 1
    assert "outbox" in body["problems"][0]

    # Sent and failed rows are not waiting: only pending rows count.
    async with engine.begin() as conn:
        rows = await outbox_store.due(conn, NOW)
        oldest = min(rows, key=lambda r: r["created_at"])
        await outbox_store.mark_failed(conn, oldest["id"], "chat not found")
    response = await get(server.port, "/healthz")
    assert response.status == 200 and response.json()["outbox_pending"] == 2


async def receive(engine: AsyncEngine, update_id: int, arrived: datetime) -> None:
    row: inbox_store.NewRow = {
        "update_id": update_id,
        "lane_key": 7000 + update_id,
        "payload": {"update_id": update_id},
        "flood_warning": False,
    }
    async with engine.begin() as conn:
        await inbox_store.add(conn, [row], arrived)


async def test_inbox_backlog_within_and_beyond_the_threshold(db_url: str, serve: Factory) -> None:
    engine = create_engine(db_url)
    server = await serve(engine, max_inbox_age=60.0)
    await receive(engine, 1, NOW - timedelta(seconds=20))
    await receive(engine, 2, NOW - timedelta(seconds=3))
    response = await get(server.port, "/healthz")
    body = response.json()
    assert response.status == 200
    assert (body["inbox_waiting"], body["inbox_oldest_age_seconds"]) == (2, 20.0)

    await receive(engine, 3, NOW - timedelta(seconds=61))
    response = await get(server.port, "/healthz")
    body = response.json()
    assert response.status == 503 and body["status"] == "degraded"
    assert (body["inbox_waiting"], body["inbox_oldest_age_seconds"]) == (3, 61.0)
    assert body["problems"] == ["oldest unhandled update arrived 61s ago"]

    # Handled updates are not waiting, whoever handled them.
    async with engine.begin() as conn:
        taken = await inbox_store.claim_heads(conn, "other", NOW, NOW + timedelta(seconds=30), 1)
        assert [r["update_id"] for r in taken] == [1]
        assert await inbox_store.mark_handled(conn, 1, "other", NOW)
    body = (await get(server.port, "/healthz")).json()
    assert (body["inbox_waiting"], body["inbox_oldest_age_seconds"]) == (2, 61.0)


def broken_url(db_url: str, tmp_path: Path) -> str:
    """A URL of the same backend that cannot work: a directory, or a database that is not."""
    if db_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path}"
    return db_url.rsplit("/", 1)[0] + f"/missing_{uuid.uuid4().hex[:12]}"


async def test_database_down_is_degraded(db_url: str, serve: Factory, tmp_path: Path) -> None:
    server = await serve(create_engine(broken_url(db_url, tmp_path)))
    response = await get(server.port, "/healthz")
    assert response.status == 503
    assert response.json() == {
        "status": "degraded",
        "database": False,
        "bot_api": None,
        "outbox_pending": None,
        "outbox_oldest_age_seconds": None,
        "inbox_waiting": None,
        "inbox_oldest_age_seconds": None,
        "problems": ["database check failed"],
    }
    metrics = (await get(server.port, "/metrics")).body.decode()
    assert "tazirat_database_up 0\n" in metrics
    assert not re.search(r"^tazirat_outbox_pending ", metrics, re.M)  # unknown, not stale


async def test_a_slow_database_times_out(tmp_path: Path, serve: Factory) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    server = await serve(engine, check_timeout=0.2)

    async def stuck() -> Figures:
        await asyncio.sleep(30)
        return Figures(0, None, 0, None)

    server.figures = stuck  # type: ignore[method-assign]
    started = asyncio.get_running_loop().time()
    response = await get(server.port, "/healthz")
    assert asyncio.get_running_loop().time() - started < 5
    assert response.status == 503 and response.json()["database"] is False


async def test_bot_api_is_reported_and_cached(tmp_path: Path, serve: Factory) -> None:
    calls: list[int] = []

    async def flaky() -> bool:
        calls.append(1)
        raise ConnectionError("Bot API unreachable")

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    await upgrade(engine)
    server = await serve(engine, bot_api_check=flaky)
    for _ in range(3):
        response = await get(server.port, "/healthz")
        # Telegram being away is shown but is not our outage.
        assert response.status == 200 and response.json()["bot_api"] is False
    assert len(calls) == 1

    async def fine() -> bool:
        return True

    server2 = await serve(engine, bot_api_check=fine)
    assert (await get(server2.port, "/healthz")).json()["bot_api"] is True


async def test_http_edges(tmp_path: Path, serve: Factory) -> None:
    server = await serve(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"))
    port = server.port
    assert (await get(port, "/")).status == 404
    assert (await get(port, "/healthz/../etc")).status == 404
    post = await request(port, b"POST /healthz HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    assert post.status == 405 and post.headers["allow"] == "GET"
    assert (await request(port, b"HELLO\r\n\r\n")).status == 400
    huge = b"GET /healthz HTTP/1.1\r\nX-Pad: " + b"a" * 20000 + b"\r\n\r\n"
    assert (await request(port, huge)).status == 431

    # A client that connects and says nothing does not hold up anyone else.
    _idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", port)
    assert (await get(port, "/metrics")).status == 200
    idle_writer.close()

    await server.stop()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


def parse_exposition(text: str) -> tuple[dict[str, str], dict[str, float]]:
    """TYPE per family and value per sample (`name{labels}`), checking the line syntax."""
    types: dict[str, str] = {}
    helps: set[str] = set()
    samples: dict[str, float] = {}
    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_]+="[^"]*"\})? (\S+)$')
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split(" ")[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name in helps and kind in ("counter", "gauge", "histogram")
            types[name] = kind
        else:
            match = sample.match(line)
            assert match, line
            name, labels, value = match.groups()
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert family in types or name in types, f"sample before its TYPE: {line}"
            assert f"{name}{labels or ''}" not in samples
            samples[f"{name}{labels or ''}"] = float(value)
    return types, samples


async def test_metrics_exposition(db_url: str, serve: Factory) -> None:
    engine = create_engine(db_url)
    metrics = Metrics()
    limiter_tally = [2]
    metrics.count_rate_limits_from(lambda: limiter_tally[0])
    durations = [0.001, 0.005, 0.02, 0.3, 0.3, 4.0, 12.0]
    for seconds in durations:
        metrics.update_handled("message", seconds)
    metrics.update_handled("callback_query", 0.07)
    for result in ["sent", "sent", "sent", "retry", "failed"]:
        metrics.delivery(result)
    metrics.rate_limited()
    with pytest.raises(ValueError):
        metrics.delivery("lost")
    server = await serve(engine, metrics=metrics)
    await queue(engine, NOW - timedelta(seconds=90))
    await receive(engine, 41, NOW - timedelta(seconds=12))

    response = await get(server.port, "/metrics")
    assert response.status == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    types, samples = parse_exposition(response.body.decode())
    assert types == {
        "tazirat_updates_handled_total": "counter",
        "tazirat_handler_duration_seconds": "histogram",
        "tazirat_outbox_pending": "gauge",
        "tazirat_outbox_oldest_pending_age_seconds": "gauge",
        "tazirat_inbox_waiting": "gauge",
        "tazirat_inbox_oldest_waiting_age_seconds": "gauge",
        "tazirat_outbox_deliveries_total": "counter",
        "tazirat_telegram_429_total": "counter",
        "tazirat_database_up": "gauge",
    }
    assert samples['tazirat_updates_handled_total{type="message"}'] == 7
    assert samples['tazirat_updates_handled_total{type="callback_query"}'] == 1

    buckets = [
        (key, value)
        for key, value in samples.items()
        if key.startswith("tazirat_handler_duration_seconds_bucket")
    ]
    bounds = [re.search(r'le="([^"]+)"', key).group(1) for key, _ in buckets]  # type: ignore[union-attr]
    assert bounds[-1] == "+Inf" and [float(b) for b in bounds[:-1]] == list(LATENCY_BUCKETS)
    counts = [value for _, value in buckets]
    assert counts == sorted(counts), "buckets must be cumulative"
    all_durations = [*durations, 0.07]
    for bound, count in zip(bounds, counts, strict=True):
        assert count == sum(1 for d in all_durations if d <= float(bound)), bound
    assert counts[-1] == samples["tazirat_handler_duration_seconds_count"] == 8
    assert samples["tazirat_handler_duration_seconds_sum"] == pytest.approx(sum(all_durations))

    assert samples["tazirat_outbox_pending"] == 1
    assert samples["tazirat_outbox_oldest_pending_age_seconds"] == 90
    assert samples["tazirat_inbox_waiting"] == 1
    assert samples["tazirat_inbox_oldest_waiting_age_seconds"] == 12
    assert samples['tazirat_outbox_deliveries_total{result="sent"}'] == 3
    assert samples['tazirat_outbox_deliveries_total{result="retry"}'] == 1
    assert samples['tazirat_outbox_deliveries_total{result="failed"}'] == 1
    assert samples["tazirat_telegram_429_total"] == 3
    assert samples["tazirat_database_up"] == 1


def test_label_values_are_escaped() -> None:
    metrics = Metrics()
    metrics.update_handled('we"ird\\kind\n', 0.0)
    assert 'type="we\\"ird\\\\kind\\n"} 1' in metrics.render()


async def test_update_processor_times_updates_and_binds_the_log_context() -> None:
    metrics = Metrics()
    processor = PerChatUpdateProcessor(metrics)
    user = User(id=42, first_name="Zahra", is_bot=False)
    message = Message(
        message_id=1, date=NOW, chat=Chat(id=42, type="private"), from_user=user, text="سلام"
    )
    update = Update(update_id=900001, message=message)
    seen: list[dict[str, Any]] = []

    async def handle() -> None:
        seen.append(current_log_context())
        await asyncio.sleep(0.01)

    async with processor:
        await processor.process_update(update, handle())
    assert seen == [{"update_id": 900001, "user_id": 42}]
    assert current_log_context() == {}
    assert update_kind(update) == "message"
    assert metrics.updates == {"message": 1}
    assert metrics.latency.count == 1 and metrics.latency.sum >= 0.01
