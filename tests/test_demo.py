"""The demo in-process: its start-up gives the cast their roles (again and again, harmlessly),
`--seed` and the page's button reach the seed data, and the page's backend refuses what a chat
client could not do."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.context import Services
from bot.demo import personas, render
from bot.demo import seed as seed_module
from bot.demo.runner import Demo, Options
from bot.demo.seed import SeedRefused
from bot.i18n import _
from bot.storage.tables import cases

pytestmark = pytest.mark.sqlite  # the demo keeps SQLite: `-k sqlite` selects these


@asynccontextmanager
async def started(tmp_path: Path, **options: Any) -> AsyncIterator[tuple[Demo, str]]:
    demo = Demo(Options(port=0, data_dir=tmp_path / "demo", **options))
    try:
        url = await demo.start()
        yield demo, url
    finally:
        await demo.stop()


class SeedCalls:
    """Stands in for bot.demo.seed.seed: records how it was called."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.called = asyncio.Event()

    async def __call__(
        self, services: Services, *, seed_value: int = 1405, cases: int = 300
    ) -> int:
        assert isinstance(services, Services)
        self.calls.append({"seed_value": seed_value, "cases": cases})
        self.called.set()
        return 42


async def _post(session: aiohttp.ClientSession, url: str, **body: Any) -> tuple[int, Any]:
    async with session.post(url, json=body) as r:
        return r.status, await r.json()


async def test_start_up_gives_the_cast_their_roles_and_the_unit_its_chat_idempotently(
    tmp_path: Path,
) -> None:
    for fresh in (True, False):  # a second start on the same database changes nothing
        async with started(tmp_path, fresh=fresh) as (demo, _url):
            desk = demo.services.desk
            for p in personas.PERSONAS:
                actor = await desk.actor(p.user_id)
                assert actor.role == p.role, p
            units = {u["code"]: u for u in await desk.units()}
            assert units[personas.UNIT_CODE]["chat_id"] == personas.UNIT_GROUP.chat_id
            assert await desk.is_desk_group(personas.STAFF_GROUP.chat_id)
            settings = demo.services.rt.settings
            assert settings.manager_chat_ids == [personas.MANAGERS_GROUP.chat_id]
            assert settings.bot_api_url.startswith("http://127.0.0.1:")
            assert str(tmp_path) in settings.database_url


async def test_the_seed_flag_fills_before_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = SeedCalls()
    monkeypatch.setattr(seed_module, "seed", fake)
    async with started(tmp_path, fresh=True, seed=True, seed_value=7) as (_demo, _url):
        assert fake.calls == [{"seed_value": 7, "cases": 300}]  # before start() returned


async def test_the_page_s_seed_button_reaches_the_seed_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = SeedCalls()
    monkeypatch.setattr(seed_module, "seed", fake)
    async with (
        started(tmp_path, fresh=True) as (_demo, url),
        aiohttp.ClientSession() as session,
        session.get(url + "api/events") as events,
    ):
        status, body = await _post(session, url + "api/seed", persona=personas.CITIZEN_1.user_id)
        assert (status, body) == (200, {"ok": True})
        await asyncio.wait_for(fake.called.wait(), 10)
        assert len(fake.calls) == 1
        seen = await asyncio.wait_for(_seed_events(events), 30)
        assert seen[-1] == {"type": "seed", "state": "done", "count": 42}


async def _seed_events(events: aiohttp.ClientResponse) -> list[dict[str, Any]]:
    """The page's events until the seed run ends."""
    seen: list[dict[str, Any]] = []
    async for line in events.content:
        if line.startswith(b"data: "):
            event = json.loads(line[6:])
            seen.append(event)
            if event.get("type") == "seed" and event["state"] != "running":
                break
    return seen


async def test_a_refused_seed_is_reported_in_the_page_and_the_bot_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(services: Services, **_kw: Any) -> int:
        raise SeedRefused("the database already has cases: seed an empty one")

    monkeypatch.setattr(seed_module, "seed", refuse)
    citizen = personas.CITIZEN_1.user_id
    async with (
        started(tmp_path, fresh=True) as (demo, url),
        aiohttp.ClientSession() as session,
        session.get(url + "api/events") as events,
    ):
        status, _body = await _post(session, url + "api/seed", persona=citizen)
        assert status == 200
        seen = await asyncio.wait_for(_seed_events(events), 30)
        assert seen[-1] == {"type": "seed", "state": "refused"}
        await _post(session, url + "api/send", persona=citizen, chat=citizen, text="/start")
        await demo.server.users[citizen].expect_message("سلام")  # the bot runs again


async def test_the_seed_button_fills_an_empty_demo_while_the_bot_waits(tmp_path: Path) -> None:
    """The real seed data, through the page: the bot stops, the past is played through the
    services, the bot starts again and answers; the seeded citizens have chats to be told in."""
    citizen = personas.CITIZEN_1.user_id
    async with (
        started(tmp_path, fresh=True) as (demo, url),
        aiohttp.ClientSession() as session,
        session.get(url + "api/events") as events,
    ):
        status, _body = await _post(session, url + "api/seed", persona=citizen)
        assert status == 200
        status, body = await _post(session, url + "api/seed", persona=citizen)
        assert (status, body["reason"]) == (409, "busy")  # one run at a time
        seen = await asyncio.wait_for(_seed_events(events), 240)
        assert seen[-1]["state"] == "done" and seen[-1]["count"] >= 100, seen[-1]
        async with demo.services.rt.engine.connect() as conn:
            made = (await conn.execute(select(func.count()).select_from(cases))).scalar_one()
        assert made == seen[-1]["count"]
        assert len(demo.server.users) > len(personas.PERSONAS)
        await _post(session, url + "api/send", persona=citizen, chat=citizen, text="/start")
        await demo.server.users[citizen].expect_message("سلام", timeout=30)


async def test_the_page_refuses_what_a_chat_client_could_not_do(tmp_path: Path) -> None:
    citizen, other = personas.CITIZEN_1.user_id, personas.CITIZEN_2.user_id
    async with (
        started(tmp_path, fresh=True) as (demo, url),
        aiohttp.ClientSession() as session,
    ):
        # somebody else's chat, an unknown persona, the staff group for a citizen
        for persona, chat in (
            (citizen, other),
            (999, 999),
            (citizen, personas.STAFF_GROUP.chat_id),
        ):
            status, body = await _post(
                session, url + "api/send", persona=persona, chat=chat, text="x"
            )
            assert (status, body["reason"]) == (404, "not_your_chat"), (persona, chat)
        # a phone number never goes to a group
        staff = personas.STAFF.user_id
        status, body = await _post(
            session, url + "api/contact", persona=staff, chat=personas.STAFF_GROUP.chat_id
        )
        assert (status, body["reason"]) == (400, "private_only")
        # a button that is not on the message; a location out of range
        status, body = await _post(
            session, url + "api/send", persona=citizen, chat=citizen, text="/start"
        )
        assert status == 200
        server = demo.server
        await server.users[citizen].expect_message("سلام")
        welcome = server.messages(citizen)[-1]
        status, body = await _post(
            session,
            url + "api/press",
            persona=citizen,
            chat=citizen,
            message=welcome.message_id,
            row=5,
            col=0,
        )
        assert (status, body["reason"]) == (400, "no_button")
        status, body = await _post(
            session, url + "api/location", persona=citizen, chat=citizen, lat=95, lon=10
        )
        assert (status, body["reason"]) == (400, "bad_location")
        # a file is served only to someone in a chat where it is
        data = b"\x89PNG\r\n\x1a\n" + b"0" * 64
        form = aiohttp.FormData()
        form.add_field("persona", str(citizen))
        form.add_field("chat", str(citizen))
        form.add_field("file", data, filename="receipt.png", content_type="image/png")
        async with session.post(url + "api/upload", data=form) as r:
            assert r.status == 200
        sent = server.chats[citizen].messages[max(server.chats[citizen].messages)]
        file_id = sent["photo"][-1]["file_id"]
        async with session.get(url + f"file/{file_id}?persona={citizen}") as r:
            assert r.status == 200 and await r.read() == data
            assert r.content_type == "image/png"
        async with session.get(url + f"file/{file_id}?persona={other}") as r:
            assert r.status == 404
        # the page's own words come from the catalog
        async with session.get(url) as r:
            page = await r.text()
            assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert _("Try the complaints bot without Telegram") in page
        assert 'dir="rtl"' in page and 'lang="fa"' in page


async def test_a_call_the_bot_api_refuses_is_shown_in_the_page(tmp_path: Path) -> None:
    citizen = personas.CITIZEN_1.user_id
    async with (
        started(tmp_path, fresh=True) as (demo, url),
        aiohttp.ClientSession() as session,
        session.get(url + "api/events") as events,
    ):
        demo.server.fail_next("sendMessage", 429, retry_after=1)
        await _post(session, url + "api/send", persona=citizen, chat=citizen, text="/start")
        refused = None
        async for line in events.content:
            if line.startswith(b"data: "):
                event = json.loads(line[6:])
                if event["type"] == "api_error":
                    refused = event
                    break
        assert refused is not None
        assert (refused["method"], refused["code"], refused["retry_after"]) == (
            "sendMessage",
            429,
            1,
        )
        assert refused["description"] == "Too Many Requests: retry after 1"
        assert refused["chat"] == citizen
        await demo.server.users[citizen].expect_message("سلام")  # the bot waited and resent


async def test_the_page_answers_only_its_own_origin_and_bounded_requests(tmp_path: Path) -> None:
    """Another site open in the same browser cannot drive the demo (a cross-site form, a
    DNS-rebinding host name), and an action's body is small and JSON."""
    citizen = personas.CITIZEN_1.user_id
    start = {"persona": citizen, "chat": citizen, "text": "/start"}
    async with (
        started(tmp_path, fresh=True) as (demo, url),
        aiohttp.ClientSession() as session,
    ):
        # a form posted from another site, or a fetch that says it comes from one
        for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            async with session.post(url + "api/send", json=start, headers=headers) as r:
                assert r.status == 403, headers
        async with session.get(url + "api/state", headers={"Host": "evil.example"}) as r:
            assert r.status == 403
        # the page's own requests pass (its origin, same-origin fetches)
        own = {"Origin": url.rstrip("/"), "Sec-Fetch-Site": "same-origin"}
        async with session.post(url + "api/send", json=start, headers=own) as r:
            assert r.status == 200
        await demo.server.users[citizen].expect_message("سلام")
        # JSON only (a cross-site form can send text/plain without asking), and small
        async with session.post(url + "api/send", data=json.dumps(start)) as r:
            assert r.status == 415
        huge = {**start, "text": "x" * 100_000}
        status, body = await _post(session, url + "api/send", **huge)
        assert (status, body["reason"]) == (413, "too_long")
        status, body = await _post(session, url + "api/send", **{**start, "text": ["/start"]})
        assert (status, body["reason"]) == (400, "empty")
        # a caption longer than Telegram's 1024
        form = aiohttp.FormData()
        form.add_field("persona", str(citizen))
        form.add_field("chat", str(citizen))
        form.add_field("caption", "ب" * 1025)
        form.add_field("file", b"\x89PNG\r\n\x1a\n" + b"0" * 64, filename="a.png")
        async with session.post(url + "api/upload", data=form) as r:
            assert (r.status, (await r.json())["reason"]) == (400, "too_long")
        # a file that says it is a picture but is not one (an SVG with a script) is a download
        form = aiohttp.FormData()
        form.add_field("persona", str(citizen))
        form.add_field("chat", str(citizen))
        svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
        form.add_field("file", svg, filename="x.svg", content_type="image/svg+xml")
        async with session.post(url + "api/upload", data=form) as r:
            assert r.status == 200
        sent = demo.server.chats[citizen].messages[max(demo.server.chats[citizen].messages)]
        file_id = sent["document"]["file_id"]
        async with session.get(url + f"file/{file_id}?persona={citizen}") as r:
            assert r.status == 200
            assert r.headers["Content-Disposition"].startswith("attachment;")
        assert render.preview(sent) == "x.svg"  # the chat list names a file, as Telegram's
