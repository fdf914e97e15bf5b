"""The filing service without Telegram: rules checked straight against a real database."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import func, select

from bot.config import load_settings
from bot.domain import tracking
from bot.domain.complaint import (
    FILES_SHOWN_AT,
    MAX_ATTACHMENTS,
    ORDERS,
    DraftData,
    DraftKind,
    Problem,
    Step,
)
from bot.services.filing import Attachment, Filing, Submitted
from bot.services.people import touch_and_check
from bot.services.runtime import Runtime
from bot.storage.db import create_engine
from bot.storage.tables import cases, outbox
from bot.views import citizen as citizen_views
from bot.views.calls import draft_screen
from tests.clock import Clock


@asynccontextmanager
async def service_runtime(db_url: str) -> AsyncIterator[Runtime]:
    """The services' runtime on a test clock, with no bot around it."""
    settings = load_settings(
        bot_token="1:abcdef",
        database_url=db_url,
        staff_chat_id=-100123,
        _env_file=None,
        max_complaints_per_day=100,
    )
    engine = create_engine(db_url)
    try:
        yield Runtime(engine=engine, settings=settings, clock=Clock())
    finally:
        await engine.dispose()


@pytest.fixture
async def filing(db_url: str):  # type: ignore[no-untyped-def]
    async with service_runtime(db_url) as rt:
        yield Filing(rt, random.Random(7))


async def _ready_for_review(filing: Filing, user_id: int) -> None:
    await touch_and_check(filing.rt, user_id, "x", None, None)
    await filing.begin(user_id)
    await filing.choose(user_id, "violation", "no_invoice")
    await filing.choose(user_id, "sector", "online")
    await filing.choose(user_id, "province", "10")
    for answer in (
        "اصفهان",
        "دیجی نمونه",
        "instagram.com/shop",
    ):
        await filing.text(user_id, answer)
    await filing.skip(user_id)  # location
    await filing.text(user_id, "فاکتور ندادند و گفتند باید نقدی پرداخت کنید.")
    await filing.skip(user_id)  # prices
    await filing.skip(user_id)  # evidence
    outcome = await filing.stay_anonymous(user_id)
    assert outcome.draft and outcome.draft.step == Step.REVIEW


async def test_text_limits_are_checked_after_normalising(filing: Filing) -> None:
    await touch_and_check(filing.rt, 1, "x", None, None)
    await filing.begin(1)
    await filing.choose(1, "violation", "overpricing")
    await filing.choose(1, "sector", "food")
    await filing.choose(1, "province", "23")
    # Two letters padded with zero-width and bidi marks are still two letters: too short? No,
    # the city minimum is 2; one letter with padding is too short.
    outcome = await filing.text(1, "\u200f\u200bق\u200b\u202e ")
    assert outcome.problem == Problem.TOO_SHORT and outcome.draft.step == Step.CITY
    outcome = await filing.text(1, "ق" * 61)
    assert outcome.problem == Problem.TOO_LONG
    outcome = await filing.text(1, "  قم\u200c\u200c ")
    assert outcome.problem is None and outcome.draft.data.city == "قم"


async def test_names_and_places_are_one_line_the_description_keeps_its_lines(
    filing: Filing,
) -> None:
    await touch_and_check(filing.rt, 3, "x", None, None)
    await filing.begin(3)
    await filing.choose(3, "violation", "overpricing")
    await filing.choose(3, "sector", "food")
    await filing.choose(3, "province", "23")
    await filing.text(3, "قم\nPardisan")
    await filing.text(3, "فروشگاه\n\nUnited")
    outcome = await filing.text(3, "خیابان صفائیه\nUnit 5")
    assert outcome.draft is not None
    data = outcome.draft.data
    assert (data.city, data.business, data.address) == (
        "قم Pardisan",
        "فروشگاه United",
        "خیابان صفائیه Unit 5",
    )
    await filing.skip(3)  # location
    outcome = await filing.text(3, "جنس را گران فروخت.\nFactor 12 was missing.")
    assert outcome.draft is not None
    assert outcome.draft.data.description == "جنس را گران فروخت.\nFactor 12 was missing."


async def test_buttons_of_another_step_or_forged_codes_change_nothing(filing: Filing) -> None:
    await touch_and_check(filing.rt, 2, "x", None, None)
    await filing.begin(2)
    assert (await filing.choose(2, "sector", "food")).problem == Problem.STALE_BUTTON
    assert (await filing.choose(2, "violation", "bribery")).problem == Problem.STALE_BUTTON
    outcome = await filing.current(2)
    assert outcome.draft.step == Step.VIOLATION and outcome.draft.data.violation is None


async def test_at_most_five_files_and_duplicates_are_ignored(filing: Filing) -> None:
    await _ready_for_review(filing, 3)
    await filing.edit(3, "evidence")
    for i in range(5):
        item = Attachment("photo", f"file{i}", f"u{i}")
        assert (await filing.attach(3, item)).problem is None
    again = await filing.attach(3, Attachment("photo", "file0", "u0"))
    assert again.problem == Problem.TOO_MANY_FILES
    await filing.clear_evidence(3)
    first = await filing.attach(3, Attachment("photo", "file0", "u0"))
    dup = await filing.attach(3, Attachment("photo", "file0", "u0"))
    assert not first.duplicate and dup.duplicate and dup.draft.attachments == 1


async def test_someone_elses_contact_is_refused(filing: Filing) -> None:
    await _ready_for_review(filing, 4)
    await filing.edit(4, "contact")
    outcome = await filing.contact(4, "989121111111", contact_user_id=99)
    assert outcome.problem == Problem.NOT_OWN_CONTACT
    outcome = await filing.contact(4, "989121111111", contact_user_id=4)
    assert outcome.problem is None and outcome.draft.data.contact_phone == "+989121111111"


async def test_submit_commits_case_and_staff_card_together_once(filing: Filing) -> None:
    await _ready_for_review(filing, 5)
    first, second = await asyncio.gather(filing.submit(5), filing.submit(5))
    results = [r for r in (first, second) if isinstance(r, Submitted)]
    refused = [r for r in (first, second) if not isinstance(r, Submitted)]
    assert len(results) == 1 and refused[0].problem == Problem.NO_DRAFT
    assert tracking.is_valid(results[0].code)
    async with filing.rt.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(cases))).scalar() == 1
        rows = (await conn.execute(select(outbox.c.chat_id, outbox.c.purpose))).all()
        assert sorted(tuple(r) for r in rows) == [(-100123, "case_card"), (5, "receipt")]


async def test_many_citizens_submitting_at_once_get_distinct_codes(filing: Filing) -> None:
    users = list(range(100, 120))
    for u in users:
        await _ready_for_review(filing, u)
    results = await asyncio.gather(*(filing.submit(u) for u in users))
    codes = [r.code for r in results if isinstance(r, Submitted)]
    assert len(codes) == len(users) == len(set(codes))


async def test_code_clash_draws_another_code(filing: Filing) -> None:
    await _ready_for_review(filing, 6)
    await _ready_for_review(filing, 7)
    filing.rng = random.Random(1)
    a = await filing.submit(6)
    filing.rng = random.Random(1)  # the same draw again: the first code is taken
    b = await filing.submit(7)
    assert isinstance(a, Submitted) and isinstance(b, Submitted) and a.code != b.code


@pytest.mark.parametrize("kind", list(DraftKind))
def test_no_screen_but_the_evidence_and_the_review_shows_the_files_count(kind: DraftKind) -> None:
    """The filing counts a draft's files only where a screen shows the count
    (FILES_SHOWN_AT); at every other step the count must change nothing on screen."""
    data = DraftData(city="تهران", business="فروشگاه نمونه", description="قیمت بالا")
    for step in ORDERS[kind]:
        if step in FILES_SHOWN_AT:
            continue
        shown = [draft_screen(step, data, files, kind=kind) for files in (0, 3, MAX_ATTACHMENTS)]
        assert shown[0] == shown[1] == shown[2], step
    screens = [citizen_views.step_screen(Step.REVIEW, data, n) for n in (0, 3)]
    assert screens[0] != screens[1]  # the review does show it: the test can tell
