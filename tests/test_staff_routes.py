"""STAFF_ROUTES: cases of a sector (or province, or violation) go to a desk group of their own,
which works like the staff group; everything else stays with the staff group."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import text
from bot.config import ConfigError
from bot.domain.routing import CaseKeys, Desk, RouteBy, parse_routes
from tests.flows import case_rows, file_complaint
from tests.harness import STAFF_CHAT_ID, make_settings, running_bot
from tests.test_chat_moves import _move_recorded
from tests.test_staff_actions import CLAIM, CLAIMED_NOTICE, NOT_STAFF, _claim, _short
from tests.test_staff_desk import ADMIN, STAFF1

FUEL_DESK = -1003000000003
TEHRAN_DESK = -1003000000023
FUEL, FOOD = "سوخت", "مواد غذایی و خواربار"


def test_routes_are_read_in_order_and_refused_when_wrong() -> None:
    from bot.localapi import FakeTelegram

    server = FakeTelegram(token="123456:TEST-TOKEN-abcdef")
    server.base_url = "http://127.0.0.1:1"
    settings = make_settings(
        server,
        "sqlite:///x.sqlite3",
        staff_routes=f"sector:fuel={FUEL_DESK}; province:23=-1004000000004/7, violation:fraud=-5",
    )
    assert [(r.by, r.code) for r in settings.staff_routes] == [
        (RouteBy.SECTOR, "fuel"),
        (RouteBy.PROVINCE, "23"),
        (RouteBy.VIOLATION, "fraud"),
    ]
    # The first match wins; no match: the staff group.
    assert settings.desk_for(CaseKeys("23", "fuel", "fraud")) == Desk(FUEL_DESK)
    assert settings.desk_for(CaseKeys("23", "food", "fraud")) == Desk(-1004000000004, 7)
    assert settings.desk_for(CaseKeys("07", "food", "overpricing")) == Desk(STAFF_CHAT_ID)
    assert settings.desk_chat_ids() == {STAFF_CHAT_ID, FUEL_DESK, -1004000000004, -5}
    assert settings.thread_in(-1004000000004) == 7 and settings.thread_in(FUEL_DESK) is None
    for wrong in (
        "sector:petrol=-1",  # no such sector
        "city:tehran=-1",  # nothing routes by city
        "province:23",  # no group
        "province:23=group",
        "province:23=-۱۰۰۱",  # Persian digits are not an id
        "province:23=-1/0",  # topics start at 1
        "province:23=-1/x",
    ):
        with pytest.raises(ConfigError, match="STAFF_ROUTES is invalid"):
            make_settings(server, "sqlite:///x.sqlite3", staff_routes=wrong)


async def test_a_routed_case_is_carded_and_worked_in_its_own_desk(db_url: str) -> None:
    async with running_bot(
        db_url, admin_ids=[ADMIN], staff_routes=f"sector:fuel={FUEL_DESK}"
    ) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        fuel = bot.server.group(FUEL_DESK, title="سوخت")
        admin = bot.server.user(ADMIN, first_name="مدیر")
        officer = bot.server.user(STAFF1, first_name="کارشناس‌سوخت")
        outsider = bot.server.user(9999, first_name="غریبه")
        await staff.send_text(from_user=admin, text=f"/staff add {STAFF1} staff")
        await staff.expect_message("کارکنان")

        driver = bot.server.user(1301, first_name="راننده")
        shopper = bot.server.user(1302, first_name="خریدار")
        await file_complaint(driver, sector=FUEL)
        await file_complaint(shopper, sector=FOOD)
        fuel_code = (await case_rows(bot, driver.id))[-1]["code"]
        food_code = (await case_rows(bot, shopper.id))[-1]["code"]

        card = await fuel.expect_message(_short(fuel_code))
        assert CLAIM in card.buttons()
        await staff.expect_message(_short(food_code))
        assert not [m for m in bot.server.messages(STAFF_CHAT_ID) if _short(fuel_code) in m.text]
        assert not [m for m in bot.server.messages(FUEL_DESK) if _short(food_code) in m.text]

        # The routed group is a desk: a staff member's press is taken there and the card there
        # is redrawn; someone who is not staff is refused as in the staff group.
        qid = await fuel.press(from_user=outsider, text=CLAIM, message=card)
        assert NOT_STAFF in (await fuel.expect_answer(qid))["text"]
        await _claim(fuel, officer, card)
        await driver.expect_message(CLAIMED_NOTICE)
        # Desk commands work there too.
        await fuel.send_text(from_user=officer, text="/mine")
        await fuel.expect_message(_short(fuel_code))


async def test_answers_go_to_the_desk_that_has_the_card_also_after_the_routes_changed(
    db_url: str,
) -> None:
    """The citizen's answer to a routed case goes to its desk; and when the operator changes
    STAFF_ROUTES later, an open case's answer still goes where its card is, not to the desk
    a new case of its kind would go to now (where nobody knows the case)."""
    from tests.test_several_open import ANSWER_POSTED, SENT

    async with running_bot(
        db_url, admin_ids=[ADMIN], staff_routes=f"sector:fuel={FUEL_DESK}"
    ) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        fuel = bot.server.group(FUEL_DESK, title="سوخت")
        bot.server.group(TEHRAN_DESK, title="تهران")
        admin = bot.server.user(ADMIN, first_name="مدیر")
        bot.server.user(STAFF1, first_name="کارشناس‌سوخت")
        await staff.send_text(from_user=admin, text=f"/staff add {STAFF1} staff")
        await staff.expect_message("کارکنان")
        driver = bot.server.user(1301, first_name="راننده")
        await file_complaint(driver, sector=FUEL, phone="+989121234567")
        case = (await case_rows(bot, driver.id))[-1]
        await fuel.expect_message(_short(case["code"]))
        desk = bot.services.desk
        officer = await desk.actor(STAFF1)
        for question in ("ساعت خرید؟", "فاکتور دارید؟"):
            assert type(await desk.claim(officer, case["id"])).__name__ in ("Done", "Refused")
            asked = await desk.ask(officer, case["id"], question)
            assert type(asked).__name__ == "Done", asked
            await driver.expect_message(question)
            if question == "ساعت خرید؟":
                await driver.send_text("ساعت ۶ عصر")
                await driver.expect_message(SENT)
                await fuel.expect_message(ANSWER_POSTED)
                # The operator adds a desk for Tehran, ahead of the fuel desk (a restart with
                # new settings): new Tehran cases go there, this one's card stays with fuel.
                rt = bot.services.rt
                routes = parse_routes(f"province:23={TEHRAN_DESK}, sector:fuel={FUEL_DESK}")
                rt.settings = rt.settings.model_copy(update={"staff_routes": routes})
                assert rt.settings.desk_for(CaseKeys("23", "fuel", "overpricing")).chat_id == (
                    TEHRAN_DESK
                )
        await driver.send_text("بله دارم")
        await driver.expect_message(SENT)
        await fuel.expect_message(ANSWER_POSTED)
        for elsewhere in (STAFF_CHAT_ID, TEHRAN_DESK):
            assert not [m for m in bot.server.messages(elsewhere) if ANSWER_POSTED in m.text]


async def test_a_deleted_card_comes_back_in_its_own_topic(db_url: str) -> None:
    """Routes to two topics of one forum group: a routed case's card that someone deleted is
    posted again in the case's topic, not in the first topic configured for the group."""
    forum_id = -1003000000031
    async with running_bot(
        db_url,
        admin_ids=[ADMIN],
        staff_chat_id=forum_id,
        staff_thread_id=1,
        staff_routes=f"sector:fuel={forum_id}/2",
    ) as bot:
        forum = bot.server.group(forum_id, title="Desk", is_forum=True)
        assert (forum.create_topic("سایر"), forum.create_topic("سوخت")) == (1, 2)
        bot.server.user(STAFF1, first_name="کارشناس‌سوخت")
        admin = bot.server.user(ADMIN, first_name="مدیر")
        await forum.send_text(from_user=admin, text=f"/staff add {STAFF1} staff")
        await forum.expect_message("کارکنان")
        driver = bot.server.user(1301, first_name="راننده")
        await file_complaint(driver, sector=FUEL)
        case = (await case_rows(bot, driver.id))[-1]
        card = await forum.expect_message(_short(case["code"]))
        assert card.thread_id == 2

        forum.delete_message(card)
        bot.server.expect_refusal("message to edit not found")
        desk = bot.services.desk
        assert type(await desk.claim(await desk.actor(STAFF1), case["id"])).__name__ == "Done"
        again = await forum.expect_message(_short(case["code"]))
        assert again.thread_id == 2


ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:SECRET-token-value"
ROUTED_DESK = "کارت پرونده‌های تازه به آن گروه فرستاده می‌شود"


def _start(db_url: str, tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot` as an operator starts it; Telegram is out of reach, so a start that
    is not refused would retry until the timeout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "STAFF_"))}
    env.update({"BOT_TOKEN": TOKEN, "BOT_API_URL": "http://127.0.0.1:9", "DATABASE_URL": db_url})
    env.update({k.upper(): v for k, v in settings.items()})
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_a_units_chat_is_never_a_routed_desk(db_url: str, tmp_path: Path) -> None:
    """A routed desk gets every new case of its kind; a unit's chat only the cases referred to
    the unit. /units refuses a routed group, and a start with a route into a unit's chat
    (set earlier, also where the group lives now) is refused with one line naming both."""
    basic, upgraded = -4000003, -1004000003
    async with running_bot(
        db_url, admin_ids=[ADMIN], staff_routes=f"sector:fuel={FUEL_DESK}"
    ) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        admin = bot.server.user(ADMIN, first_name="مدیر")
        await staff.send_text(from_user=admin, text=f"/units market_regulation {FUEL_DESK}")
        await staff.expect_message(ROUTED_DESK)
        await staff.send_text(from_user=admin, text=f"/units market_regulation {basic}")
        await staff.expect_message(text.format_id(basic))
        bot.server.group(basic, title="Market regulation")
        bot.server.migrate(basic, upgraded, by=admin)
        await _move_recorded(bot, (basic, upgraded))

    for chat_id in (basic, upgraded):
        started = _start(
            db_url,
            tmp_path,
            staff_chat_id=str(STAFF_CHAT_ID),
            staff_routes=f"sector:fuel={chat_id}",
        )
        assert started.returncode == 2, started.stderr
        assert "Traceback" not in started.stderr
        assert started.stderr.strip().splitlines()[-1:] == [
            f"configuration error: STAFF_ROUTES is invalid: sector:fuel sends cards to {chat_id}, "
            "the chat of the unit market_regulation (set by /units): a unit's chat is for the "
            "cases referred to it, not for every new case's card"
        ]
    # The staff group in MANAGER_CHAT_IDS is refused too, by the settings alone.
    started = _start(
        db_url, tmp_path, staff_chat_id=str(STAFF_CHAT_ID), manager_chat_ids=str(STAFF_CHAT_ID)
    )
    assert started.returncode == 2
    assert "STAFF_CHAT_ID is invalid" in started.stderr and "MANAGER_CHAT_IDS" in started.stderr
