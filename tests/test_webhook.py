"""Webhook mode: an update is answered 200 once it is committed to the inbox (a failed commit
answers 500 and Telegram sends it again), a request without the secret is refused and never
handled, every process sets the webhook at start and none deletes it at stop, and two
processes behind one address keep one citizen's quick answers in order."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from bot.localapi import FakeUser
from bot.services.inbox import Arrival
from bot.storage import inbox as inbox_store
from tests.flows import start_filing
from tests.harness import WEBHOOK_SECRET, WEBHOOK_URL, Bot, webhook_bots
from tests.test_update_order import HELP, WELCOME, replies_held

PATH = "/telegram/hook"


def forged_update(u: FakeUser, update_id: int, text: str) -> dict[str, Any]:
    """What someone who found the URL could post: a well-formed update, as if from `u`."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_790_000_000,
            "chat": {"id": u.id, "type": "private", "first_name": u.first_name},
            "from": u.as_dict(),
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def post(bot: Bot, path: str, body: object, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(bot.webhook_address + path, data=json.dumps(body), headers=headers) as r,
    ):
        return r.status


async def stored(bot: Bot, update_id: int) -> bool:
    async with bot.services.rt.engine.connect() as conn:
        rows = await inbox_store.unhandled(conn)
    return any(r["update_id"] == update_id for r in rows)


async def test_a_citizen_is_answered_and_the_webhook_is_set_at_start_and_kept(
    db_url: str,
) -> None:
    async with webhook_bots(db_url) as (bots, hooks):
        server = bots[0].server
        (set_call,) = [c for c in server.calls if c.method == "setWebhook"]
        assert set_call.params["url"] == WEBHOOK_URL
        assert set_call.params["secret_token"] == WEBHOOK_SECRET
        u = server.user(6001, first_name="وب‌هوک")
        await u.send_text("/start")
        await u.expect_message(WELCOME)
        assert hooks.delivered == [server.updates.last_injected]
        assert [a.status for a in hooks.attempts] == [200]
    assert not [c for c in server.calls if c.method in ("deleteWebhook", "getUpdates")]
    assert server.webhook is not None and server.webhook["url"] == WEBHOOK_URL


async def test_a_request_without_the_right_secret_is_refused_and_never_handled(
    db_url: str,
) -> None:
    async with webhook_bots(db_url) as (bots, _hooks):
        bot = bots[0]
        u = bot.server.user(6002, first_name="جعلی")
        forged = forged_update(u, 7_000_001, "/start")
        secret = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        assert await post(bot, PATH, forged, {}) == 403
        assert await post(bot, PATH, forged, {"X-Telegram-Bot-Api-Secret-Token": "guess"}) == 403
        assert await post(bot, "/other", forged, secret) == 404
        assert await post(bot, PATH, {"no": "update"}, secret) == 400
        # Nothing a retry could fix answers 400, not 500 (which Telegram retries for ever).
        assert await post(bot, PATH, forged_update(u, 2**64, "/start"), secret) == 400
        async with (
            aiohttp.ClientSession() as session,
            session.post(bot.webhook_address + PATH, data="[" * 100_000, headers=secret) as r,
        ):
            assert r.status == 400
        assert not await stored(bot, 7_000_001)
        # The bot goes on with real updates, and never answered the forged ones.
        await u.send_text("/help")
        await u.expect_message(HELP)
        assert not [m for m in u.inbox if WELCOME in (m.text or "")]


async def test_a_failed_commit_answers_500_and_the_update_sent_again_is_handled_once(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with webhook_bots(db_url) as (bots, hooks):
        bot = bots[0]
        worker = bot.services.inbox
        receive = worker.receive
        failures = [OSError("the database went away")]

        async def flaky(arrivals: list[Arrival]) -> None:
            if failures:
                raise failures.pop()
            await receive(arrivals)

        monkeypatch.setattr(worker, "receive", flaky)
        u = bot.server.user(6003, first_name="دوباره")
        await u.send_text("/start")
        update_id = bot.server.updates.last_injected
        await u.expect_message(WELCOME)
        await u.send_text("/help")  # one chat's updates go one at a time: /start was done
        await u.expect_message(HELP)
        assert [a.status for a in hooks.attempts if a.update_id == update_id] == [500, 200]
        assert sum(WELCOME in (m.text or "") for m in u.inbox) == 1


async def test_two_processes_keep_one_citizens_quick_answers_in_order(db_url: str) -> None:
    """The three answers go to the two processes in turn; the second process has the second
    answer committed while the first is still handling the first, and must wait for it."""
    async with webhook_bots(db_url, count=2) as (bots, hooks):
        bot = bots[0]
        u = bot.server.user(6004, first_name="دوپردازه")
        await start_filing(u)
        await u.press("گران‌فروشی")
        await u.expect_message("کدام صنف")
        await u.press("سوخت")
        await u.expect_message("در کدام استان")
        await u.press("تهران")
        await u.expect_message("در کدام شهر")

        with replies_held(bot, u.id) as hold:
            first = bot.server.updates.last_injected + 1
            await u.send_text("شیراز")
            await u.send_text("نانوایی بربری")
            await u.send_text("خیابان زند، کوچه سوم")
            await bot.server.wait_until(lambda: hold.held == 1, 10)
            # The second answer is committed (Telegram sent it after the first was), and
            # waits behind the first, whichever process holds it.
            await bot.server.wait_until(lambda: first + 1 in hooks.delivered, 10)
            assert await bot.inbox_waiting(u.id) >= 2
            draft = (await bot.services.filing.current(u.id)).draft
            assert draft is not None
            assert (draft.data.city, draft.data.business) == ("شیراز", None)
        await u.expect_message("نام واحد صنفی چیست")
        await u.expect_message("نشانی واحد صنفی چیست")
        await u.expect_message("موقعیت آن را")
        draft = (await bot.services.filing.current(u.id)).draft
        assert draft is not None
        assert (draft.data.city, draft.data.business, draft.data.address) == (
            "شیراز",
            "نانوایی بربری",
            "خیابان زند، کوچه سوم",
        )
        # Both processes received some of the three (which one handled them is theirs to
        # settle: a process that holds a lane keeps it while it has rows).
        ours = [a for a in hooks.attempts if a.update_id >= first and a.ok]
        assert {a.target for a in ours} == {b.webhook_address + PATH for b in bots}


async def test_on_bale_the_secret_is_in_the_path_and_every_other_path_is_404(
    db_url: str,
) -> None:
    """Bale's setWebhook takes no secret_token (its local server refuses one): the bot serves
    at WEBHOOK_URL's path plus `/` and the secret, and answers 404 anywhere else, header or no
    header."""
    if "postgres" in db_url:
        pytest.skip("Bale's second profile runs on one database (SQLite)")
    async with webhook_bots(db_url, platform="bale") as (bots, hooks):
        bot, server = bots[0], bots[0].server
        (set_call,) = [c for c in server.calls if c.method == "setWebhook"]
        assert set_call.params["url"] == f"{WEBHOOK_URL}/{WEBHOOK_SECRET}"
        assert "secret_token" not in set_call.params
        u = server.user(6101, first_name="بله")
        await u.send_text("/start")
        await u.expect_message(WELCOME)
        assert [a.status for a in hooks.attempts] == [200]
        header = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        for path, headers in (
            (PATH, header),  # Telegram's way: not Bale's
            (f"{PATH}/wrong-secret", {}),
            (f"{PATH}/{WEBHOOK_SECRET}x", {}),
            (f"{PATH}/{WEBHOOK_SECRET}/more", {}),
        ):
            assert await post(bot, path, forged_update(u, 990_001, "/start"), headers) == 404
        assert not await stored(bot, 990_001)
