"""End to end: the web desk over Open311 GeoReport v2, against the real bot and its staff group.

A request POSTed with a valid key becomes a case (channel `web`) with a card in the staff
group; staff resolve it there; `GET requests/{id}` then shows it `closed`, with the outcome
written for the citizen as its notes, in JSON and in XML — and never a phone, a name or the
description. Keys are checked, revocable and every request made with one is audited.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from xml.etree import ElementTree as ET

import aiohttp
from sqlalchemy import select

from bot import text
from bot.services import apikeys
from bot.storage import apikeys as key_store
from bot.storage.tables import cases
from tests.harness import STAFF_CHAT_ID, Bot, running_bot

ADMIN, STAFF1 = 9001, 9101
SHOP = "نانوایی نمونهٔ شهر"
PHONE = "09121234567"
DESCRIPTION = "نان را گران‌تر از نرخ مصوب فروخت و برچسب قیمت هم نداشت."


@asynccontextmanager
async def web_bot(db_url: str, **overrides: Any) -> AsyncIterator[tuple[Bot, str]]:
    """The bot with the Open311 API on a free port, and its base URL."""
    async with running_bot(db_url, admin_ids=[ADMIN], open311_port=0, **overrides) as bot:
        server = bot.services.open311
        assert server is not None
        yield bot, f"http://127.0.0.1:{server.port}"


def form(**extra: str) -> dict[str, str]:
    values = {
        "service_code": "overpricing",
        "attribute[sector]": "food",
        "attribute[province]": "10",
        "attribute[city]": "کاشان",
        "attribute[business]": SHOP,
        "attribute[price_paid]": "150000",
        "address_string": "خیابان امیرکبیر، روبه‌روی بانک",
        "description": DESCRIPTION,
        "first_name": "مریم",
        "last_name": "احمدی",
        "phone": PHONE,
        "media_url": "https://web.example/receipt.jpg",
    }
    values.update(extra)
    return values


async def get(base: str, path: str, **params: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as http, http.get(base + path, params=params) as r:
        return r.status, r.headers["Content-Type"], await r.read()


async def post(base: str, path: str, data: dict[str, str]) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as http, http.post(base + path, data=data) as r:
        return r.status, await r.read()


async def test_discovery_services_and_a_definition_in_json_and_xml(db_url: str) -> None:
    async with web_bot(db_url) as (_bot, base):
        status, ctype, body = await get(base, "/open311/discovery.json")
        assert status == 200 and ctype.startswith("application/json")
        found = json.loads(body)
        [endpoint] = found["endpoints"]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == base + "/open311/v2"
        assert set(endpoint["formats"]) == {"text/xml", "application/json"}
        status, ctype, body = await get(base, "/open311/discovery.xml")
        assert status == 200 and ctype.startswith("text/xml")
        assert body.startswith(b"<?xml") and ET.fromstring(body).tag == "discovery"

        status, _, body = await get(base, "/open311/v2/services.json")
        services = {s["service_code"]: s for s in json.loads(body)}
        assert services["overpricing"]["service_name"] == "گران‌فروشی"
        assert services["overpricing"]["metadata"] is True
        assert services["overpricing"]["type"] == "realtime"
        root = ET.fromstring((await get(base, "/open311/v2/services.xml"))[2])
        assert root.tag == "services"
        codes = [s.findtext("service_code") for s in root.findall("service")]
        assert codes == list(services)

        status, _, body = await get(base, "/open311/v2/services/overpricing.json")
        definition = json.loads(body)
        attributes = {a["code"]: a for a in definition["attributes"]}
        assert list(attributes) == [
            "sector", "province", "city", "business", "price_paid", "price_fair"
        ]  # fmt: skip
        assert attributes["sector"]["datatype"] == "singlevaluelist"
        assert {"key": "food", "name": "مواد غذایی و خواربار"} in attributes["sector"]["values"]
        assert attributes["province"]["values"][0] == {"key": "23", "name": "تهران"}
        root = ET.fromstring((await get(base, "/open311/v2/services/overpricing.xml"))[2])
        assert root.tag == "service_definition"
        sector = root.find("attributes/attribute")
        assert sector is not None and sector.findtext("code") == "sector"
        assert sector.findtext("values/value/key") == "food"

        # Unknown things answer in the spec's error format.
        status, _, body = await get(base, "/open311/v2/services/nothing.json")
        assert status == 404
        assert json.loads(body) == [{"code": 404, "description": "service_code not found"}]
        status, _, body = await get(base, "/open311/v2/services.xml", jurisdiction_id="other")
        assert status == 404 and ET.fromstring(body).tag == "errors"
        assert ET.fromstring(body).findtext("error/code") == "404"
        status, _, _ = await get(
            base, "/open311/v2/services.json", jurisdiction_id="tazirat.gov.ir"
        )
        assert status == 200


async def _resolve_in_group(bot: Bot, code: str) -> None:
    """Staff claim the case from its card and announce the outcome, by the buttons."""
    staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
    admin = bot.server.user(ADMIN, first_name="مدیر")
    officer = bot.server.user(STAFF1, first_name="کارشناس‌یک")
    card = await staff.expect_message(text.to_persian_digits(code[:5]))
    assert "راه ثبت: سامانهٔ اینترنتی" in card.text  # the channel shows on the card
    assert PHONE[1:] not in text.to_ascii_digits(card.text) and "مریم" not in card.text
    await staff.send_text(from_user=admin, text=f"/staff add {STAFF1} staff")
    await staff.expect_message("کارکنان")
    await staff.press(from_user=officer, text="✋ رسیدگی می‌کنم", message=card)
    card = await staff.expect_edit(card)
    await staff.press(from_user=officer, text="اعلام نتیجه", message=card)
    menu = await staff.expect_edit(card)
    await staff.press(from_user=officer, text="به شعبهٔ تعزیرات ارسال شد", message=menu)
    prompt = await staff.expect_message("توضیح برای شهروند")
    await staff.send_text(from_user=officer, text="پرونده به شعبهٔ ۳ رفت.", reply_to=prompt)
    await staff.expect_message("نتیجه ثبت شد")


async def test_create_then_staff_resolve_then_get_shows_closed_with_notes(db_url: str) -> None:
    async with web_bot(db_url) as (bot, base):
        key = await apikeys.create(bot.services.rt, "webdesk")
        status, body = await post(base, "/open311/v2/requests.json", {**form(), "api_key": key})
        assert status == 200, body
        [created] = json.loads(body)
        code = created["service_request_id"]
        assert len(code) == 10 and code.isdigit()
        assert text.to_persian_digits(code[:5]) in created["service_notice"]
        assert "ثبت شد" in created["service_notice"]
        assert "شکایت باز دیگر" not in created["service_notice"]  # nothing to hint at yet

        async with bot.services.rt.engine.connect() as conn:
            row = (await conn.execute(select(cases).where(cases.c.code == code))).mappings().one()
        assert (row["channel"], row["citizen_id"], row["taken_by"]) == ("web", None, None)
        assert (row["contact_phone"], row["caller_name"]) == ("+989121234567", "مریم احمدی")
        assert row["media_url"] == "https://web.example/receipt.jpg"
        assert (row["status"], row["price_paid"], row["city"]) == ("new", 150000, "کاشان")

        # Open, before anyone acts: no personal data in the answer.
        status, _, body = await get(base, f"/open311/v2/requests/{code}.json", api_key=key)
        assert status == 200
        [shown] = json.loads(body)
        assert shown["status"] == "open" and shown["service_code"] == "overpricing"
        assert shown["agency_responsible"] == "سازمان تعزیرات حکومتی"
        raw = body.decode()
        for private in ("0912", "9121234567", "مریم", "احمدی", DESCRIPTION[:12]):
            assert private not in raw

        bot.clock.advance(hours=2)
        await _resolve_in_group(bot, code)

        status, ctype, body = await get(base, f"/open311/v2/requests/{code}.json", api_key=key)
        assert status == 200 and ctype.startswith("application/json")
        [shown] = json.loads(body)
        assert shown["status"] == "closed"
        assert shown["status_notes"] == "به شعبهٔ تعزیرات ارسال شد: پرونده به شعبهٔ 3 رفت."
        assert shown["requested_datetime"].endswith("+03:30")
        assert shown["updated_datetime"] > shown["requested_datetime"]
        assert shown["media_url"] == "https://web.example/receipt.jpg"
        assert "description" not in shown and "phone" not in shown

        status, ctype, body = await get(base, f"/open311/v2/requests/{code}.xml", api_key=key)
        assert status == 200 and ctype.startswith("text/xml")
        root = ET.fromstring(body)
        assert root.tag == "service_requests"
        request = root.find("request")
        assert request is not None
        assert request.findtext("service_request_id") == code
        assert request.findtext("status") == "closed"
        assert request.findtext("status_notes") == shown["status_notes"]
        assert "9121234567" not in body.decode() and "مریم" not in body.decode()

        # The list finds it by id, by service, and by status; the other status leaves it out.
        for params in (
            {"service_request_id": f"{code},0000000000"},
            {"service_code": "overpricing"},
            {"status": "closed"},
        ):
            status, _, body = await get(base, "/open311/v2/requests.json", api_key=key, **params)
            assert [r["service_request_id"] for r in json.loads(body)] == [code], params
        status, _, body = await get(base, "/open311/v2/requests.json", api_key=key, status="open")
        assert json.loads(body) == []
        root = ET.fromstring((await get(base, "/open311/v2/requests.xml", api_key=key))[2])
        assert [r.findtext("service_request_id") for r in root.findall("request")] == [code]


async def test_keys_are_required_checked_revocable_and_audited(db_url: str) -> None:
    async with web_bot(db_url) as (bot, base):
        rt = bot.services.rt
        key = await apikeys.create(rt, "webdesk")
        async with rt.engine.connect() as conn:
            [stored] = await key_store.all_keys(conn)
        assert stored["key_hash"] != key and key not in stored["key_hash"]

        status, body = await post(base, "/open311/v2/requests.json", form())
        assert status == 403
        assert json.loads(body)[0]["code"] == 403
        status, body = await post(base, "/open311/v2/requests.xml", {**form(), "api_key": "x"})
        assert status == 403 and ET.fromstring(body).findtext("error/code") == "403"
        status, _, _ = await get(base, "/open311/v2/requests.json")
        assert status == 403
        status, _, _ = await get(base, "/open311/v2/requests/1234567890.json", api_key=key[:-1])
        assert status == 403
        async with rt.engine.connect() as conn:
            assert (await conn.execute(select(cases))).first() is None  # nothing was filed

        status, _, _ = await get(base, "/open311/v2/requests.json", api_key=key)
        assert status == 200
        assert await apikeys.revoke(rt, "webdesk")
        status, _, _ = await get(base, "/open311/v2/requests.json", api_key=key)
        assert status == 403

        async with rt.engine.connect() as conn:
            rows = await key_store.audited(conn)
        # Only requests with a valid key: a flood of refused ones writes nothing.
        assert [(r["key_name"], r["method"], r["path"], r["status"]) for r in rows] == [
            ("webdesk", "GET", "/open311/v2/requests.json", 200),
        ]
        assert all(key not in r["path"] for r in rows)


async def test_the_api_is_off_unless_a_port_is_set(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        assert bot.services.open311 is None


async def _cli(db_url: str, *args: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "BOT_TOKEN": "123456:TEST-TOKEN-abcdef",
        "DATABASE_URL": db_url,
        "LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "apikey", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_apikey_command_creates_once_and_revokes(db_url: str) -> None:
    code, out = await _cli(db_url, "create", "webdesk")
    assert code == 0, out
    key = out.strip().splitlines()[-1]
    assert len(key) >= 43 and " " not in key
    code, out = await _cli(db_url, "create", "webdesk")
    assert code == 1 and key not in out
    async with web_bot(db_url) as (_bot, base):
        status, _, _ = await get(base, "/open311/v2/requests.json", api_key=key)
        assert status == 200
        code, out = await _cli(db_url, "revoke", "webdesk")
        assert code == 0, out
        status, _, _ = await get(base, "/open311/v2/requests.json", api_key=key)
        assert status == 403
    code, out = await _cli(db_url, "list")
    assert code == 0 and "webdesk\trevoked" in out and key not in out
    code, out = await _cli(db_url, "revoke", "webdesk")
    assert code == 1


async def test_the_same_business_open_elsewhere_is_a_hint_never_a_block(db_url: str) -> None:
    async with web_bot(db_url) as (bot, base):
        key = await apikeys.create(bot.services.rt, "webdesk")
        status, body = await post(base, "/open311/v2/requests.json", {**form(), "api_key": key})
        [first] = json.loads(body)
        # The same shop, its name typed a little differently, in the same city.
        again = form(**{"attribute[business]": "  نانوایی  نمونهٔ شهر ", "phone": ""})
        status, body = await post(base, "/open311/v2/requests.xml", {**again, "api_key": key})
        assert status == 200, body
        second = ET.fromstring(body).find("request")
        assert second is not None
        notice = second.findtext("service_notice") or ""
        assert "برای همین واحد صنفی ۱ شکایت باز دیگر هم در دست رسیدگی است" in notice
        code = second.findtext("service_request_id")
        assert code and code != first["service_request_id"]
        async with bot.services.rt.engine.connect() as conn:
            rows = (await conn.execute(select(cases).order_by(cases.c.id))).mappings().all()
        # Filed on its own: a case with its own card, merged into nothing.
        assert [(r["code"], r["status"], r["merged_into"]) for r in rows] == [
            (first["service_request_id"], "new", None),
            (code, "new", None),
        ]
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        await staff.expect_message(text.to_persian_digits(code[:5]))


async def test_bad_dates_unknown_paths_and_methods_answer_in_the_error_format(db_url: str) -> None:
    async with web_bot(db_url) as (bot, base):
        key = await apikeys.create(bot.services.rt, "webdesk")
        for params, description in (
            ({"end_date": "0001-01-01T00:00:00Z"}, "end_date is out of range"),
            ({"start_date": "yesterday"}, "start_date must be an ISO 8601 date and time"),
            (
                {"start_date": "2026-01-01T00:00:00+03:30", "end_date": "2026-06-01T00:00:00Z"},
                "start_date and end_date may not span more than 90 days",
            ),
            ({"status": "pending"}, "status must be open or closed"),
        ):
            status, _, body = await get(base, "/open311/v2/requests.json", api_key=key, **params)
            assert (status, json.loads(body)) == (400, [{"code": 400, "description": description}])
        status, _, body = await get(base, "/open311/v2/nothing.json")
        assert status == 404 and json.loads(body)[0]["code"] == 404
        async with aiohttp.ClientSession() as http:
            async with http.delete(base + "/open311/v2/services.json") as r:
                assert r.status == 405 and "GET" in r.headers["Allow"]
                assert json.loads(await r.read())[0]["code"] == 405
        status, body = await post(
            base,
            "/open311/v2/requests.json",
            {**form(), "api_key": key, "phone": "+44 20 7946 0000"},
        )
        assert (status, json.loads(body)[0]["description"]) == (
            400,
            "phone must be an Iranian phone number",
        )


async def test_one_line_fields_stay_on_one_line_on_the_card(db_url: str) -> None:
    """The city, business and address are one line each: a newline sent in them (the fuzzer
    found one) would start a card line with Latin text, read left to right."""
    async with web_bot(db_url) as (bot, base):
        key = await apikeys.create(bot.services.rt, "webdesk")
        lines = {
            "attribute[city]": "کاشان\nUptown",
            "attribute[business]": "نانوایی\nUnited Bakery",
            "address_string": "خیابان امیرکبیر\nUnit 5",
        }
        status, body = await post(
            base, "/open311/v2/requests.json", {**form(**lines), "api_key": key}
        )
        assert status == 200, body
        async with bot.services.rt.engine.connect() as conn:
            row = (await conn.execute(select(cases))).mappings().one()
        assert (row["city"], row["business"], row["address"]) == (
            "کاشان Uptown",
            "نانوایی United Bakery",
            "خیابان امیرکبیر Unit 5",
        )
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        await staff.expect_message("United Bakery")
