"""The Open311 API under pressure and between systems: each key (each client address, without a
valid key) has a window of writes and one of reads a minute, answered 429 with Retry-After
beyond; a key reads only the requests filed with it unless it is a trusted desk key; only
requests with a valid key are audited, and the audit is swept after OPEN311_AUDIT_DAYS. With
Redis, the windows are one for every process."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import aiohttp
from sqlalchemy import func, select

from bot.app import JOBS, open311_limits, run_housekeeping
from bot.config import load_settings
from bot.pacing import LocalWindows
from bot.pacing_redis import RedisWindows
from bot.services import apikeys
from bot.services.api_limits import MAX_TRACKED, ApiLimits, address_caller
from bot.services.runtime import Runtime
from bot.storage import apikeys as key_store
from bot.storage.db import create_engine
from bot.storage.tables import api_requests, case_events, cases
from tests.test_open311 import DESCRIPTION, PHONE, form, get, post, web_bot
from tests.test_pacing_shared import REDIS_URL, prefix  # noqa: F401 (the fixture)

REQUESTS = "/open311/v2/requests"


async def _audit_count(rt: Runtime) -> int:
    async with rt.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(api_requests))).scalar())


async def test_a_keys_writes_past_its_limit_get_429_with_retry_after(db_url: str) -> None:
    async with web_bot(db_url, open311_writes_per_minute=2, open311_reads_per_minute=3) as (
        bot,
        base,
    ):
        rt = bot.services.rt
        key = await apikeys.create(rt, "webdesk")
        other = await apikeys.create(rt, "portal")
        for _ in range(2):
            status, body = await post(base, f"{REQUESTS}.json", {**form(), "api_key": key})
            assert status == 200, body
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}{REQUESTS}.json", data={**form(), "api_key": key}) as r:
                assert r.status == 429
                wait = int(r.headers["Retry-After"])
                assert 1 <= wait <= 60
                assert r.headers["Content-Type"].startswith("application/json")
                assert json.loads(await r.read()) == [
                    {"code": 429, "description": f"too many requests: try again in {wait} seconds"}
                ]
        status, body = await post(base, f"{REQUESTS}.xml", {**form(), "api_key": key})
        assert status == 429 and ET.fromstring(body).findtext("error/code") == "429"
        # Reads are counted apart, and another key has windows of its own.
        status, _, _ = await get(base, f"{REQUESTS}.json", api_key=key)
        assert status == 200
        status, _ = await post(base, f"{REQUESTS}.json", {**form(), "api_key": other})
        assert status == 200
        async with rt.engine.connect() as conn:
            filed = (await conn.execute(select(func.count()).select_from(cases))).scalar()
        assert filed == 3  # the refused ones filed nothing

        # Reads: three a minute; the fourth waits.
        for _ in range(2):
            status, _, _ = await get(base, f"{REQUESTS}.json", api_key=key)
            assert status == 200
        status, _, body = await get(base, f"{REQUESTS}.json", api_key=key)
        assert status == 429 and json.loads(body)[0]["code"] == 429

        bot.clock.advance(seconds=61)  # the window moved on: both open again
        status, _ = await post(base, f"{REQUESTS}.json", {**form(), "api_key": key})
        assert status == 200
        status, _, _ = await get(base, f"{REQUESTS}.json", api_key=key)
        assert status == 200

        async with rt.engine.connect() as conn:
            rows = await key_store.audited(conn)
        # Accepted writes and reads are audited; the 429s are not (a flood writes nothing).
        assert [(r["key_name"], r["method"], r["status"]) for r in rows] == [
            ("webdesk", "POST", 200),
            ("webdesk", "POST", 200),
            ("webdesk", "GET", 200),
            ("portal", "POST", 200),
            ("webdesk", "GET", 200),
            ("webdesk", "GET", 200),
            ("webdesk", "POST", 200),
            ("webdesk", "GET", 200),
        ]


async def test_without_a_key_the_client_address_is_limited_and_nothing_audited(
    db_url: str,
) -> None:
    async with web_bot(db_url, open311_writes_per_minute=2, open311_reads_per_minute=3) as (
        bot,
        base,
    ):
        rt = bot.services.rt
        key = await apikeys.create(rt, "webdesk")
        for _ in range(3):
            status, _, _ = await get(base, "/open311/v2/services.json")
            assert status == 200
        status, _, body = await get(base, "/open311/v2/services.json")
        assert status == 429 and json.loads(body)[0]["code"] == 429
        status, _, _ = await get(base, "/open311/v2/nothing.json")  # unknown paths count too
        assert status == 429
        # Bad keys count against the address as well, writes apart from reads.
        for _ in range(2):
            status, _ = await post(base, f"{REQUESTS}.json", {**form(), "api_key": "x"})
            assert status == 403
        status, _ = await post(base, f"{REQUESTS}.json", {**form(), "api_key": "x"})
        assert status == 429
        # A valid key from the same address has its own windows.
        status, _, _ = await get(base, "/open311/v2/services.json", api_key=key)
        assert status == 200
        # Behind the proxy (127.0.0.1 is trusted by default), the client it names is counted.
        async with aiohttp.ClientSession() as http:
            for client, expected in (("198.51.100.7", 200), ("2001:db8::1", 200)):
                headers = {"X-Forwarded-For": f"203.0.113.9, {client}"}
                async with http.get(f"{base}/open311/v2/services.json", headers=headers) as r:
                    assert r.status == expected
        assert await _audit_count(rt) == 1  # only the request with a valid key


async def test_a_key_reads_only_the_requests_filed_with_it_unless_trusted(db_url: str) -> None:
    async with web_bot(db_url, open311_trusted_keys="desk") as (bot, base):
        rt = bot.services.rt
        mine = await apikeys.create(rt, "portal")
        theirs = await apikeys.create(rt, "other-city")
        desk = await apikeys.create(rt, "desk")
        status, body = await post(base, f"{REQUESTS}.json", {**form(), "api_key": mine})
        assert status == 200, body
        code = json.loads(body)[0]["service_request_id"]

        status, _, body = await get(base, f"{REQUESTS}/{code}.json", api_key=theirs)
        assert (status, json.loads(body)) == (
            404,
            [{"code": 404, "description": "service_request_id not found"}],
        )
        for params in ({}, {"service_request_id": code}, {"service_code": "overpricing"}):
            status, _, body = await get(base, f"{REQUESTS}.json", api_key=theirs, **params)
            assert (status, json.loads(body)) == (200, []), params

        for key in (mine, desk):
            status, _, body = await get(base, f"{REQUESTS}/{code}.json", api_key=key)
            assert status == 200 and json.loads(body)[0]["service_request_id"] == code
            status, _, body = await get(base, f"{REQUESTS}.json", api_key=key)
            assert [r["service_request_id"] for r in json.loads(body)] == [code]
            raw = body.decode()
            for private in ("9121234567", "مریم", "احمدی", DESCRIPTION[:12], PHONE):
                assert private not in raw

        # Which key filed it is the case's, and nothing in its timeline.
        async with rt.engine.connect() as conn:
            filed = (await conn.execute(select(cases.c.code, cases.c.api_key))).all()
            notes = (
                await conn.execute(select(case_events.c.id).where(case_events.c.note.is_not(None)))
            ).all()
        assert [tuple(f) for f in filed] == [(code, "portal")]
        assert notes == []


async def test_audit_rows_past_their_days_are_swept(db_url: str) -> None:
    async with web_bot(db_url, open311_audit_days=30) as (bot, base):
        rt = bot.services.rt
        key = await apikeys.create(rt, "webdesk")
        status, _, _ = await get(base, f"{REQUESTS}.json", api_key=key)
        assert status == 200
        bot.clock.advance(days=20)
        status, _, _ = await get(base, f"{REQUESTS}.json", api_key=key)
        assert status == 200
        bot.clock.advance(days=11)  # the first row is 31 days old, the second 11
        [sweep] = [job for job in JOBS if job.name == "sweep-drafts"]
        assert await run_housekeeping(bot.services, sweep, "test")
        async with rt.engine.connect() as conn:
            rows = await key_store.audited(conn)
        assert [r["at"] for r in rows] == [bot.clock.now - timedelta(days=11)]


async def test_with_redis_the_processes_share_one_window(prefix: str) -> None:  # noqa: F811
    """Two processes' limiters on one Redis prefix: a key gets its writes once between them."""
    first, second = (
        ApiLimits(RedisWindows(REDIS_URL, prefix), writes_per_minute=3, reads_per_minute=5)
        for _ in range(2)
    )
    try:
        waits = [
            await limits.retry_after("key:portal", write=True)
            for limits in (first, second, first, second)
        ]
        assert waits[:3] == [0, 0, 0] and 1 <= waits[3] <= 60
        assert await first.retry_after("key:portal", write=False) == 0  # reads apart
        assert await second.retry_after("key:desk", write=True) == 0  # another key apart
    finally:
        await first.close()
        await second.close()


def test_the_client_address_behind_trusted_proxies() -> None:
    proxies = ["127.0.0.1", "::1", "10.0.0.2"]
    assert address_caller("198.51.100.7", ["1.2.3.4"], proxies) == "addr:198.51.100.7"
    # From a proxy: the nearest address it did not add itself; what the client wrote is ignored.
    assert address_caller("127.0.0.1", ["1.2.3.4, 198.51.100.7"], proxies) == "addr:198.51.100.7"
    assert address_caller("127.0.0.1", ["198.51.100.7, 10.0.0.2"], proxies) == "addr:198.51.100.7"
    assert address_caller("127.0.0.1", [], proxies) == "addr:127.0.0.1"
    # IPv6 by its /64; an IPv4-mapped address as IPv4.
    assert address_caller("2001:db8:1:2:3::9", [], proxies) == "addr:2001:db8:1:2::/64"
    assert address_caller("::ffff:198.51.100.7", [], proxies) == "addr:198.51.100.7"
    assert address_caller(None, [], proxies) == "addr:"


def test_the_settings_take_lists_of_names() -> None:
    settings = load_settings(
        bot_token="123456:TEST-TOKEN-abcdef",
        open311_trusted_keys="desk, portal",
        open311_trusted_proxies="127.0.0.1 10.0.0.2",
        _env_file=None,
    )
    assert settings.open311_trusted_keys == ["desk", "portal"]
    assert settings.open311_trusted_proxies == ["127.0.0.1", "10.0.0.2"]
    assert (settings.open311_writes_per_minute, settings.open311_reads_per_minute) == (60, 600)


async def test_the_api_keeps_its_windows_in_redis_when_the_pacing_does(tmp_path: Path) -> None:
    """Under a prefix of its own: the API's windows never share a budget with the sends'."""
    settings = load_settings(
        bot_token="123456:TEST-TOKEN-abcdef",
        pacing_redis_url=REDIS_URL,
        database_url=f"sqlite:///{tmp_path}/x.sqlite3",
        _env_file=None,
    )
    engine = create_engine(settings.database_url)
    limits = open311_limits(Runtime(engine=engine, settings=settings))
    try:
        assert isinstance(limits.windows, RedisWindows)
        assert limits.windows.prefix == "tazirat:open311:123456"
        assert limits.windows.local.max_tracked == MAX_TRACKED
    finally:
        await limits.close()
        await engine.dispose()
    alone = open311_limits(
        Runtime(engine=engine, settings=settings.model_copy(update={"pacing_redis_url": ""}))
    )
    assert isinstance(alone.windows, LocalWindows) and alone.windows.max_tracked == MAX_TRACKED


async def test_a_flood_from_many_addresses_does_not_reset_a_keys_window(tmp_path: Path) -> None:
    """Without Redis a process forgets the oldest callers beyond MAX_TRACKED; addresses are
    forgotten among themselves, so cycling through a /48 of addresses cannot push a key's
    window out and give it a fresh minute."""
    settings = load_settings(
        bot_token="123456:TEST-TOKEN-abcdef",
        database_url=f"sqlite:///{tmp_path}/x.sqlite3",
        open311_writes_per_minute=2,
        _env_file=None,
    )
    engine = create_engine(settings.database_url)
    limits = open311_limits(Runtime(engine=engine, settings=settings))
    try:
        assert [await limits.retry_after("key:portal", write=True) for _ in range(2)] == [0, 0]
        for n in range(MAX_TRACKED + 10):
            caller = address_caller(f"2001:db8:0:{n:x}::1", [], [])
            assert await limits.retry_after(caller, write=True) == 0
        assert await limits.retry_after("key:portal", write=True) > 0  # still counted
    finally:
        await limits.close()
        await engine.dispose()
