"""An update delivered twice (the same update_id, as after a crash before the offset was
confirmed) changes nothing the second time."""

from __future__ import annotations

from telegram import Update

from tests.flows import start_filing
from tests.harness import running_bot


async def test_a_redelivered_update_is_ignored(db_url: str) -> None:
    async with running_bot(db_url) as bot:
        u = bot.server.user(5001, first_name="تکرار")
        await start_filing(u)
        await u.press("گران‌فروشی")
        await u.expect_message("کدام صنف")
        await u.press("سوخت")
        await u.expect_message("در کدام استان")
        await u.press("تهران")
        await u.expect_message("در کدام شهر")
        message = await u.send_text("شیراز")
        update_id = bot.server.updates.last_injected
        await u.expect_message("نام واحد صنفی چیست")

        # The same update again: were it handled, «شیراز» would become the business name.
        raw = {"update_id": update_id, "message": message}
        await bot.app.update_queue.put(Update.de_json(raw, bot.app.bot))
        await u.send_text("نانوایی بربری")  # handled after the duplicate (same sender, in order)
        await u.expect_message("نشانی واحد صنفی چیست")
        assert not [m for m in u.skipped if "نشانی" in m.text]
        draft = (await bot.services.filing.current(5001)).draft
        assert draft is not None
        assert (draft.data.city, draft.data.business) == ("شیراز", "نانوایی بربری")
