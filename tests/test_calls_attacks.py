"""End to end, attacking calls, linking and duplicates: a lookup that leads nowhere must not eat
the contact the citizen shares later for their complaint; and more of the same kind."""

from __future__ import annotations

import random

from bot.domain import tracking
from tests.flows import answer_until_evidence, start_filing
from tests.harness import running_bot

CITIZEN = 1001
PHONE = "+989121234567"


async def test_a_lookup_that_found_nothing_does_not_eat_the_complaints_contact(
    db_url: str,
) -> None:
    async with running_bot(db_url) as bot:
        citizen = bot.server.user(CITIZEN, first_name="شهروند", phone=PHONE)
        await start_filing(citizen)
        await answer_until_evidence(citizen)
        # Half-way, the citizen looks up a code that is not theirs (a typo): offered to link.
        await citizen.send_text("پیگیری شکایت")
        await citizen.expect_message("کد رهگیری")
        await citizen.send_text(tracking.generate(random.Random(3)))
        await citizen.expect_message("اگر این شکایت را تلفنی")
        bot.clock.advance(seconds=30)
        # They go back to their complaint; its contact step takes their number.
        await citizen.send_text("پایان ارسال مدارک")
        await citizen.expect_message("کارشناسان چگونه با شما تماس بگیرند")
        await citizen.send_contact(own=True)
        await citizen.expect_message("لطفاً شکایت خود را بازبینی کنید")
