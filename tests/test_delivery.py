"""The outbox worker against the fake Bot API: long texts split, long captions moved to a
follow-up, 429 obeyed, undeliverable messages failed for good and reported to admins."""

from __future__ import annotations

import base64
import io
import time

from sqlalchemy import select

from bot.storage import outbox as outbox_store
from bot.storage.tables import outbox
from bot.text import to_persian_digits
from tests.harness import STAFF_CHAT_ID, Bot, running_bot

ADMIN = 9001


async def _queue(bot: Bot, chat_id: int, method: str, payload: dict, purpose: str = "test") -> int:  # type: ignore[type-arg]
    rt = bot.services.rt
    async with rt.engine.begin() as conn:
        row = await outbox_store.enqueue(
            conn, chat_id=chat_id, method=method, payload=payload, purpose=purpose, now=rt.now()
        )
    rt.ring()
    return row


async def _row(bot: Bot, row_id: int) -> dict:  # type: ignore[type-arg]
    async with bot.services.rt.engine.connect() as conn:
        return dict(
            (await conn.execute(select(outbox).where(outbox.c.id == row_id))).mappings().one()
        )


async def test_long_text_is_split_on_lines_with_buttons_on_the_last_part(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        lines = [f"<b>سطر {to_persian_digits(i)}</b> " + "متن " * 40 for i in range(60)]
        markup = {"inline_keyboard": [[{"text": "دکمه", "callback_data": "x"}]]}
        await _queue(
            bot,
            STAFF_CHAT_ID,
            "sendMessage",
            {"text": "\n".join(lines), "parse_mode": "HTML", "reply_markup": markup},
        )
        await bot.server.wait_until(lambda: any(m.buttons() for m in staff.inbox))
        parts = staff.inbox
        assert len(parts) >= 3
        assert all(len(p.text.encode("utf-16-le")) // 2 <= 4096 for p in parts)
        assert [bool(p.buttons()) for p in parts] == [False] * (len(parts) - 1) + [True]
        assert "\n".join(p.text for p in parts).count("سطر") == 60


async def test_long_caption_moves_to_a_follow_up_message(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        png = _tiny_png()
        caption = "شرح " * 400  # 1,600 characters
        await _queue(
            bot,
            STAFF_CHAT_ID,
            "sendPhoto",
            {"photo_b64": base64.b64encode(png).decode(), "caption": caption},
        )
        photo = await staff.expect_message(predicate=lambda m: m.kind == "photo")
        assert not photo.text
        follow = await staff.expect_message("شرح")
        assert follow.text.strip() == caption.strip()


async def test_retry_after_is_obeyed(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        staff = bot.server.group(STAFF_CHAT_ID, title="Staff")
        bot.server.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=STAFF_CHAT_ID)
        started = time.monotonic()
        row = await _queue(bot, STAFF_CHAT_ID, "sendMessage", {"text": "پس از مکث"})
        await staff.expect_message("پس از مکث")
        assert time.monotonic() - started >= 1.0
        await bot.server.wait_until(lambda: True)
        assert bot.app.bot.rate_limiter.retries_seen == 1  # type: ignore[union-attr]
        for _ in range(100):
            if (await _row(bot, row))["status"] == "sent":
                break
            await bot.server.wait_until(lambda: True, timeout=0.05)
        assert (await _row(bot, row))["status"] == "sent"


async def test_undeliverable_message_fails_for_good_and_admins_are_told(db_url: str) -> None:
    async with running_bot(db_url, admin_ids=[ADMIN]) as bot:
        admin = bot.server.user(ADMIN, first_name="مدیر")
        bot.server.expect_refusal("chat not found")
        row = await _queue(bot, -100999999, "sendMessage", {"text": "به هیچ‌جا"}, "citizen_notice")
        alert = await admin.expect_message("تحویل داده نشد")
        assert "Chat not found" in alert.text and "citizen_notice" in alert.text
        failed = await _row(bot, row)
        assert failed["status"] == "failed" and failed["last_error"] == "Chat not found"
        assert failed["attempts"] == 1


def _tiny_png() -> bytes:
    from matplotlib.figure import Figure

    buf = io.BytesIO()
    Figure(figsize=(1, 1)).savefig(buf, format="png")
    return buf.getvalue()
