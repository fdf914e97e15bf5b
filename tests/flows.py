"""Reusable citizen journeys for end-to-end tests, written as a citizen would act.

Expectations are Persian substrings on purpose: they check that the citizen really reads
Persian, not a message id that slipped past the catalog.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.localapi import BotMessage, FakeGroup, FakeUser
from bot.storage.tables import cases
from tests.harness import Bot

DESCRIPTION = (
    "قیمت برنج طارم را کیلویی ۱۸۰ هزار تومان حساب کردند در حالی که قیمت روی بسته ۱۲۰ هزار تومان بود"
)


async def start_filing(u: FakeUser) -> None:
    await u.send_text("ثبت شکایت")
    await u.expect_message("چه نوع تخلفی دیدید")


async def answer_until_evidence(
    u: FakeUser,
    *,
    location: bool = True,
    description: bool = True,
    sector: str = "مواد غذایی و خواربار",
) -> None:
    """From the violation step to the evidence step, with ordinary answers (or only up to the
    description's prompt, with ``description=False``)."""
    await u.press("گران‌فروشی")
    await u.expect_message("کدام صنف")
    await u.press(sector)
    await u.expect_message("در کدام استان")
    await u.press("تهران")
    await u.expect_message("در کدام شهر")
    await u.send_text("تهران")
    await u.expect_message("نام واحد صنفی چیست")
    await u.send_text("فروشگاه زنجیره‌ای نمونه")
    await u.expect_message("نشانی واحد صنفی چیست")
    await u.send_text("خیابان انقلاب، پلاک ۱۲")
    await u.expect_message("موقعیت آن را")
    if location:
        await u.send_location(35.7, 51.4)
    else:
        await u.send_text("بعدی")
    await past_duplicates(u)
    if not description:
        return
    await u.send_text(DESCRIPTION)
    await u.expect_message("چه مبلغی پرداخت کردید")
    await u.send_text("۱۸۰ هزار تومان")
    await u.expect_message("قیمت مصوب یا متعارف")
    await u.send_text("120,000")
    await u.expect_message("عکس، ویدیو یا فایل بفرستید")


DUPLICATE_OFFER = "شکایت باز دیگر در دست رسیدگی است"


async def past_duplicates(u: FakeUser, *, join: bool = False) -> None:
    """After the business: when others' open complaints about it exist, the citizen is offered
    to join them; file separately (or join), then the description is asked."""
    prompt = await u.expect_message(
        predicate=lambda m: "چه اتفاقی افتاد" in (m.text or "") or DUPLICATE_OFFER in (m.text or "")
    )
    if DUPLICATE_OFFER in (prompt.text or ""):
        await u.press("به همان پرونده اضافه شود" if join else "جداگانه ثبت شود")
        await u.expect_message("چه اتفاقی افتاد")


async def finish_after_evidence(u: FakeUser, *, phone: str | None = "+989121234567") -> None:
    await u.send_text("پایان ارسال مدارک")
    await u.expect_message("کارشناسان چگونه با شما تماس بگیرند")
    if phone:
        await u.send_contact(phone=phone, own=True)
    else:
        await u.send_text("ادامه بدون نام")
    await u.expect_message("لطفاً شکایت خود را بازبینی کنید")


async def confirm(u: FakeUser) -> str:
    """Press «تأیید و ارسال»; returns the confirmation text (with the tracking code)."""
    await u.press("تأیید و ارسال")
    done = await u.expect_message("شکایت شما دریافت و ثبت شد")
    return done.text


async def file_complaint(
    u: FakeUser, *, photos: int = 0, phone: str | None = None, sector: str | None = None
) -> str:
    """A whole filing; returns the confirmation text."""
    await start_filing(u)
    await answer_until_evidence(u, **({"sector": sector} if sector else {}))
    if photos:
        await u.send_album(kinds=["photo"] * photos)
        await u.expect_message("فایل‌های دریافت‌شده")
    await finish_after_evidence(u, phone=phone)
    return await confirm(u)


async def case_rows(bot: Bot, citizen_id: int) -> list[dict[str, Any]]:
    async with bot.services.rt.engine.connect() as conn:
        rows = await conn.execute(
            select(cases).where(cases.c.citizen_id == citizen_id).order_by(cases.c.id)
        )
        return [dict(r) for r in rows.mappings()]


async def answer_prompt(
    group: FakeGroup,
    user: FakeUser,
    prompt: BotMessage,
    reply: str,
    done: str,
    *,
    private: bool,
) -> None:
    """Answer the bot's prompt for a text. Where the platform has ForceReply the group prompt
    carries it; either way the same prompt waits in the member's private chat. `private`:
    answer there with a plain message (what works on Bale), else reply in the group."""
    force = bool((prompt.reply_markup or {}).get("force_reply"))
    assert force == (group._server.profile.name == "telegram"), prompt.reply_markup
    asked = await user.expect_message("✍️")
    assert "بنویسید" in (asked.text or "")
    if private:
        await user.send_text(reply)
        await user.expect_message(done)
    else:
        await group.send_text(from_user=user, text=reply, reply_to=prompt)
        await group.expect_message(done)
