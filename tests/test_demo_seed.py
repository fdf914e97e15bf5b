"""The demo's seed data: a past of cases made through the services, quiet when the bot starts.

A seed of 50 cases (the fewest that still plants every cluster) on each backend: the cases are
there, spread over every state, outcome and violation type; the desk acted in working hours;
nothing is left pending in the outbox and no alert is due at the seed's `now`; the managers'
report for the last 30 days has figures; the same seed value on a fresh SQLite database gives
the same cases, codes, events and ratings. `bot.demo.seed_plan` is checked where the database
cannot tell (the citizens, the prices as typed).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import text
from bot.app import build_application
from bot.config import Settings
from bot.context import Services
from bot.demo import personas, seed_plan, seed_text
from bot.demo.seed import SeedRefused, seed
from bot.demo.seed_plan import CITIZEN_ID_BASE, CasePlan, Do, citizens, make_plan
from bot.domain.catalogue import VIOLATION_TYPES
from bot.domain.lifecycle import Action, Outcome, Status, after_answer, transition
from bot.domain.roles import Role, may
from bot.services import alerts, workcal
from bot.services.desk import Refused
from bot.services.reports import summarize
from bot.storage.migrate import upgrade
from bot.storage.tables import case_events, cases, outbox, ratings, sla_alerts, spike_alerts, units
from tests.clock import START, Clock

CASES = 50
SEED = 7
DESK = {p.user_id for p in personas.PERSONAS if p.part in (personas.Part.STAFF, personas.Part.UNIT)}


def settings(url: str) -> Settings:
    """The demo's wiring, as its start-up sets it: staff and managers' groups, an admin."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' own argument
        bot_token=personas.BOT_TOKEN,
        database_url=url,
        staff_chat_id=personas.STAFF_GROUP.chat_id,
        manager_chat_ids=[personas.MANAGERS_GROUP.chat_id],
        admin_ids=[personas.ADMIN.user_id],
    )


def services_for(url: str, clock: Clock) -> Services:
    services: Services = build_application(settings(url), clock=clock).bot_data["services"]
    return services


async def seeded(url: str) -> Services:
    """A seeded database with the demo unit's chat set, as the start-up does."""
    services = services_for(url, Clock())
    desk = services.desk
    admin = await desk.actor(personas.ADMIN.user_id)
    unit = await desk.set_unit_chat(admin, personas.UNIT_CODE, personas.UNIT_GROUP.chat_id, None)
    assert not isinstance(unit, Refused)
    assert await seed(services, seed_value=SEED, cases=CASES) == CASES
    return services


async def rows(services: Services, table: Any, *order: Any) -> list[dict[str, Any]]:
    async with services.rt.engine.connect() as conn:
        found = await conn.execute(select(table).order_by(*order))
        return [dict(r) for r in found.mappings()]


async def contents(services: Services) -> list[tuple[Any, ...]]:
    """Everything that makes the seeded past what it is, without database ids."""
    codes = {c["id"]: c["code"] for c in await rows(services, cases, cases.c.id)}
    unit_codes = {u["id"]: u["code"] for u in await rows(services, units, units.c.id)}
    skip = {"id", "merged_into", "unit_id"}
    found: list[tuple[Any, ...]] = []
    for c in await rows(services, cases, cases.c.created_at, cases.c.code):
        found.append(
            (
                *sorted((k, v) for k, v in c.items() if k not in skip),
                codes.get(c["merged_into"]),
                unit_codes.get(c["unit_id"]),
            )
        )
    for e in await rows(services, case_events, case_events.c.at, case_events.c.id):
        found.append((codes[e["case_id"]], e["at"], e["actor_id"], e["action"], e["note"]))
    for r in await rows(services, ratings, ratings.c.case_id):
        found.append((codes[r["case_id"]], r["score"], r["comment"], r["created_at"]))
    return found


async def test_seed_fills_the_past_through_the_services_and_starts_quiet(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    services = await seeded(db_url)
    try:
        assert not [
            r for r in caplog.records if r.name.startswith("bot.demo") and r.levelname == "WARNING"
        ], "a step of the plan was refused"
        now = START
        made = await rows(services, cases, cases.c.id)
        assert len(made) == CASES
        # Every state, and among resolved cases (still in the reopening window) every outcome.
        assert {c["status"] for c in made} == {s.value for s in Status}
        resolved = {c["outcome"] for c in made if c["status"] == Status.RESOLVED}
        assert resolved == {o.value for o in Outcome}
        assert {c["violation"] for c in made} == {v.code for v in VIOLATION_TYPES}
        assert len({c["sector"] for c in made}) >= 6
        assert len({c["province"] for c in made}) >= 8
        assert len({c["unit_id"] for c in made if c["unit_id"]}) >= 2
        assert any(c["contact_phone"] for c in made) and any(not c["contact_phone"] for c in made)
        assert sum(c["price_paid"] is not None for c in made) >= CASES // 5
        # Citizens are generated, never a persona; filed over the last two months.
        persona_ids = {p.user_id for p in personas.PERSONAS}
        assert all(c["citizen_id"] >= CITIZEN_ID_BASE for c in made)
        assert not persona_ids & {c["citizen_id"] for c in made}
        times = sorted(c["created_at"] for c in made)
        assert now - timedelta(days=61) < times[0] < now - timedelta(days=40)
        assert times[-1] < now

        # The desk acted in working hours, and every case went through its filing.
        events = await rows(services, case_events, case_events.c.id)
        calendar = workcal.calendar(services.rt.settings)
        desk_events = [e for e in events if e["actor_id"] in DESK]
        assert len(desk_events) > CASES
        for e in desk_events:
            shift = calendar.shift_on(e["at"].astimezone(calendar.tz).date())
            assert shift is not None and shift[0] <= e["at"] <= shift[1], e
        assert Counter(e["action"] for e in events)["submit"] == CASES
        assert {"claim", "refer", "accept_referral", "ask", "citizen_answer", "resolve"} <= {
            e["action"] for e in events
        }
        assert {"reject", "merge", "reopen", "close"} <= {e["action"] for e in events}
        assert all(e["at"] <= now for e in events)

        # Most resolved cases are rated.
        decided = [c for c in made if c["status"] in (Status.RESOLVED, Status.CLOSED)]
        rated = await rows(services, ratings, ratings.c.id)
        assert len(rated) >= len(decided) * 0.6

        # The past's alerts were made then: spikes (two businesses, oil in Khuzestan) and SLA.
        spikes = await rows(services, spike_alerts, spike_alerts.c.id)
        assert Counter(s["kind"] for s in spikes) == {"business": 2, "province": 1}
        assert await rows(services, sla_alerts, sla_alerts.c.id)

        # Quiet: nothing pending, and no alert or closing due now or a minute later.
        queued = await rows(services, outbox, outbox.c.id)
        assert queued and {r["status"] for r in queued} == {"sent"}
        assert all(r["sent_at"] == r["created_at"] <= now for r in queued)
        assert {"receipt", "case_card", "unit_card", "citizen_notice", "spike_alert"} <= {
            r["purpose"] for r in queued
        }
        for later in (now, now + timedelta(minutes=1)):
            services.rt.clock = Clock(later)
            assert await alerts.check_sla(services.rt) == []
            assert await alerts.check_spikes(services.rt) == []
            assert await services.desk.close_expired() == 0

        # The managers' report over the last 30 days has something to say.
        summary = await summarize(services.rt.engine, now - timedelta(days=30), now, now=now)
        assert summary.new > 0 and summary.claimed > 0 and summary.resolved > 0
        assert summary.referred > 0
        assert summary.ratings_count > 0 and summary.ratings_mean is not None
        assert summary.backlog > 0 and summary.claim_median is not None
        assert summary.by_province and summary.top_businesses

        # Seeding again refuses: it does not add to a database that has cases.
        with pytest.raises(SeedRefused):
            await seed(services, seed_value=SEED, cases=CASES)

        # The same seed value on a fresh database (SQLite, whichever backend this one is) gives
        # the same past, codes included.
        other = f"sqlite+aiosqlite:///{tmp_path / 'again.sqlite3'}"
        await upgrade(other)
        again = await seeded(other)
        try:
            assert await contents(again) == await contents(services)
        finally:
            await again.rt.engine.dispose()
    finally:
        await services.rt.engine.dispose()


async def test_seed_refuses_while_the_bot_is_running(db_url: str) -> None:
    services = services_for(db_url, Clock())
    services.worker.start()
    try:
        with pytest.raises(SeedRefused):
            await seed(services, seed_value=SEED, cases=CASES)
    finally:
        await services.worker.stop()
        await services.rt.engine.dispose()
    async with services.rt.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(cases))).scalar_one() == 0


ACTIONS = {
    Do.FILE: Action.SUBMIT,
    Do.CLAIM: Action.CLAIM,
    Do.NOTE: Action.NOTE,
    Do.URGENT: Action.MARK_URGENT,
    Do.ASK: Action.ASK,
    Do.ANSWER: Action.CITIZEN_ANSWER,
    Do.REFER: Action.REFER,
    Do.ACCEPT: Action.ACCEPT_REFERRAL,
    Do.RETURN: Action.RETURN_REFERRAL,
    Do.REASSIGN: Action.REASSIGN,
    Do.RESOLVE: Action.RESOLVE,
    Do.REJECT: Action.REJECT,
    Do.MERGE: Action.MERGE,
    Do.REOPEN: Action.REOPEN,
}
ROLES = {p.user_id: p.role for p in personas.PERSONAS}
ROLES[personas.UNIT_MEMBER.user_id] = Role.STAFF  # as the seed lets an officer stand in


def replay(plan: CasePlan, now: datetime, window: timedelta) -> str:
    """The state a plan's steps lead to by the lifecycle table, checking each is allowed to
    whoever takes it; a resolved case past the reopening window is closed by the system."""
    status: Status | None = None
    holder: int | None = None
    asked_from: Status | None = None
    resolved_at = None
    for step in plan.steps:
        if step.do == Do.RATE:
            assert status in (Status.RESOLVED, Status.CLOSED), plan
            continue
        if status == Status.RESOLVED and resolved_at and step.at - resolved_at > window:
            status = Status.CLOSED
        action = ACTIONS[step.do]
        if step.who in ROLES and step.do != Do.FILE:
            assert may(ROLES[step.who], action, is_holder=holder == step.who), (step, plan.fate)
        new = transition(action, status)
        if action == Action.CITIZEN_ANSWER:
            new = after_answer(asked_from)
        if action == Action.ASK:
            asked_from = status
        if action in (Action.CLAIM, Action.ACCEPT_REFERRAL):
            holder = step.who
        elif action == Action.REASSIGN:
            holder = step.target
        elif action in (Action.REFER, Action.RETURN_REFERRAL, Action.REOPEN, Action.MERGE):
            holder = None
        if action == Action.RESOLVE:
            resolved_at = step.at
        status = new
    if status == Status.RESOLVED and resolved_at and now - resolved_at > window:
        status = Status.CLOSED
    assert status is not None
    return status.value


@pytest.mark.parametrize(
    "now",
    [
        START,  # Saturday 10:00 in Tehran
        datetime(2026, 11, 27, 19, 30, tzinfo=UTC),  # Friday 23:00: the weekend's end
        datetime(2026, 3, 24, 7, 0, tzinfo=UTC),  # 4 Farvardin 1405: the Nowruz holidays
        datetime(2026, 12, 2, 12, 25, tzinfo=UTC),  # Wednesday 15:55, near the close
    ],
)
def test_the_plan_is_legal_and_covers_every_state_at_any_moment(now: datetime) -> None:
    config = settings("sqlite+aiosqlite:///:memory:")
    window = timedelta(days=config.reopen_window_days)
    calendar = workcal.calendar(config)
    plans = make_plan(
        1405,
        300,
        now,
        calendar,
        config.tz,
        reopen_window=window,
        business_spike=config.spike_business_threshold,
        province_spike=config.spike_province_threshold,
    )
    assert len(plans) == 300
    assert [p.filed_at for p in plans] == sorted(p.filed_at for p in plans)
    states = Counter()
    for plan in plans:
        times = [st.at for st in plan.steps]
        assert plan.steps[0].do == Do.FILE and times == sorted(times), plan
        assert len(set(times)) == len(times) and times[-1] <= now - timedelta(minutes=1)
        for st in plan.steps[1:]:
            if st.who in ROLES:  # the desk works in working hours
                shift = calendar.shift_on(st.at.astimezone(calendar.tz).date())
                assert shift is not None and shift[0] <= st.at <= shift[1], st
        states[replay(plan, now, window)] += 1
    assert set(states) == {s.value for s in Status}, states
    assert states[Status.CLOSED] > max(states[Status.RESOLVED], states[Status.NEW])
    # Tehran files the most, as it has the most people.
    provinces = Counter(p.complaint.province for p in plans)
    assert provinces.most_common(1)[0][0] == "23"


def test_generated_citizens_are_stable_and_never_personas() -> None:
    pool = citizens(SEED, 300)
    assert pool == citizens(SEED, 300)
    assert len({c.user_id for c in pool}) == len(pool) == 240
    assert not {p.user_id for p in personas.PERSONAS} & {c.user_id for c in pool}
    with_phone = [c for c in pool if c.phone]
    assert 0.5 < len(with_phone) / len(pool) < 0.8
    assert all(text.normalize_phone(c.phone or "") for c in with_phone)


@pytest.mark.parametrize("tomans", [12_000, 45_000, 285_000, 1_000_000, 2_300_000, 78_000_000])
def test_prices_as_citizens_type_them_read_back(tomans: int) -> None:
    rng = random.Random(tomans)
    for _ in range(20):
        assert text.parse_amount(seed_text.typed_amount(rng, tomans)) == tomans * 10
    assert text.parse_amount(seed_text.spoken_toman(tomans)) == tomans * 10


async def test_seeding_beside_a_live_process_leaves_its_messages_pending(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process of the bot, its clock a few seconds behind, queues a real message while
    the seed runs: that message is still to be sent afterwards, not recorded as delivered."""
    from bot.demo import seed as seed_module
    from bot.domain.purposes import Purpose
    from bot.storage import outbox as outbox_store

    services = services_for(db_url, Clock())
    live: list[int] = []
    check_spikes = seed_module.alerts.check_spikes

    async def check_spikes_then_live_traffic(rt: Any) -> Any:
        found = await check_spikes(rt)
        if not live:  # the seed is under way: the other process queues a notice
            async with services.rt.engine.begin() as conn:
                live.append(
                    await outbox_store.enqueue(
                        conn,
                        chat_id=personas.STAFF_GROUP.chat_id,
                        method="sendMessage",
                        payload={"text": "پیام واقعی"},
                        purpose=Purpose.CITIZEN_NOTICE,
                        now=START - timedelta(seconds=3),
                    )
                )
        return found

    monkeypatch.setattr(seed_module.alerts, "check_spikes", check_spikes_then_live_traffic)
    try:
        assert await seed(services, seed_value=SEED, cases=12) == 12
        queued = {r["id"]: r for r in await rows(services, outbox, outbox.c.id)}
        assert queued[live[0]]["status"] == "pending"
        assert {r["status"] for i, r in queued.items() if i != live[0]} == {"sent"}
    finally:
        await services.rt.engine.dispose()


# -- the seed's Persian, as a native reader reads it ----------------------------------------------

EATERIES = {"رستوران", "چلوکبابی", "کافه", "فست‌فود", "کبابی"}


def every_description() -> list[tuple[str, str, str, str, str]]:
    """(violation, sector, business, product, description) for every business and product a
    violation can meet, each composed several times, with prices and without."""
    found = []
    for violation, sectors in seed_plan.SECTORS_FOR.items():
        for sector in sectors:
            for pattern in seed_text.SHOP_NAMES[sector]:
                business = pattern.format(b="امید", s="احمدی", n="۱۲")
                for product, fair in seed_text.products(business, sector):
                    for n in range(12):
                        rng = random.Random(f"{business}:{product}:{n}")
                        paid = fair * 3 // 2 if n % 2 else None
                        text_ = seed_text.description(
                            rng,
                            violation,
                            sector=sector,
                            business=business,
                            product=product,
                            city="شیراز",
                            paid=paid,
                            fair=fair if paid else None,
                        )
                        found.append((violation, sector, business, product, text_))
    return found


def test_a_products_measure_is_never_its_name() -> None:
    """«هر کیلو مرغ» is how a price is said; bought, hoarded or withheld it is «مرغ»: not
    «چند کامیون هر کیلو گوشت», «از فروختن هر کیلو سیب‌زمینی خودداری می‌کنند»."""
    wrong = [d for *_, d in every_description() if re.search(r"هر (کیلو|کیسه|متر|شاخه) ", d)]
    assert not wrong, wrong[:5]


def test_what_was_bought_is_said_as_persian_says_it() -> None:
    """«مرغی که دیروز خریدم», not «مرغ که دیروز خریدم»: a noun before «که» needs its «ی»;
    the sentences say «دیروز مرغ خریدم که …» instead."""
    when = "|".join(seed_text.WHEN)
    wrong = [d for *_, d in every_description() if re.search(rf"[^ی] که ({when}) خریدم", d)]
    assert not wrong, wrong[:5]


def test_the_words_fit_the_place() -> None:
    """No kitchen in a supermarket, no dry cleaning sold by a restaurant, no price labels or
    packet price for a plate of kebab, no cartons of petrol; «کم‌فروش» only as the violation
    it names."""
    wrong = []
    for violation, _sector, business, product, d in every_description():
        kind = seed_text.kind_of(business, "food")
        if "آشپزخانه" in d and kind not in EATERIES:
            wrong.append(d)
        if "خشک‌شویی" in product and kind != "خشک‌شویی":
            wrong.append(d)
        if kind in EATERIES and ("روی بسته" in d or "برچسب" in d or "اجناس" in d):
            wrong.append(d)
        if kind in EATERIES and "معیوب" in d:
            wrong.append(d)
        if kind == "نانوایی" and "اجناس" in d:
            wrong.append(d)
        if ("بنزین" in product or "گاز" in product) and "کارتن" in d:
            wrong.append(d)
        if "کم‌فروش" in d and violation != "short_weight":
            wrong.append(d)
    assert not wrong, wrong[:5]


def test_a_complaint_says_nothing_twice_or_against_itself() -> None:
    """«فاکتور هم ندادند» closes only a purchase that did not speak of an invoice: not «فاکتوری
    که دادند دست‌نویس است … فاکتور هم ندادند», not «از فروختن مرغ خودداری می‌کنند … فاکتور هم
    ندادند»."""
    wrong = [
        d
        for *_, d in every_description()
        if d.endswith("فاکتور هم ندادند.") and (d.count("فاکتور") > 1 or "تومان" not in d)
    ]
    assert not wrong, wrong[:5]


def test_a_sale_tied_to_another_costs_more_than_the_thing_alone() -> None:
    """«در کل … دادم در حالی که خودش … است»: the total is more than the thing alone."""
    config = settings("sqlite+aiosqlite:///:memory:")
    calendar = workcal.calendar(config)
    planner = seed_plan._Planner(random.Random(3), START, calendar, config.tz, timedelta(7), [])
    citizen = seed_plan.Citizen(CITIZEN_ID_BASE, "علی", "احمدی", None)
    same = []
    for sector in seed_plan.SECTORS_FOR["forced_sale"]:
        business = planner.business(sector)
        for _ in range(300):
            made = planner.complaint("forced_sale", business, citizen)
            if made.paid and made.fair:
                if text.parse_amount(made.paid) == text.parse_amount(made.fair):
                    same.append(made.description)
    assert not same, same[:3]


def test_a_fraud_is_one_the_thing_could_suffer() -> None:
    """Bread and meat go stale rather than have their expiry date forged or a brand faked; a
    cooler has no expiry date; a loaf is never «نو … ولی کارکرده»."""
    wrong = []
    for violation, sector, _business, product, d in every_description():
        if violation != "fraud":
            continue
        fresh = product.startswith(("هر کیلو", "نان "))
        if fresh and ("انقضا" in d or "کارکرده" in d or "مارک" in d or "جنس اصل" in d):
            wrong.append(d)
        if "انقضا" in d and sector != "food":
            wrong.append(d)
    assert not wrong, wrong[:5]


def test_the_desks_answer_is_about_the_complaint() -> None:
    """«مابه‌التفاوت را بازگرداند و برچسب قیمت نصب شد» answers a price, not a dirty kitchen or
    a hoard; «پلیس فتا» an online shop, not the baker's."""
    config = settings("sqlite+aiosqlite:///:memory:")
    plans = make_plan(
        1405,
        300,
        START,
        workcal.calendar(config),
        config.tz,
        reopen_window=timedelta(days=config.reopen_window_days),
        business_spike=config.spike_business_threshold,
        province_spike=config.spike_province_threshold,
    )
    about_prices = ("قیمت", "مابه‌التفاوت", "مبلغ اضافه", "برچسب")
    wrong = []
    for plan in plans:
        complaint = plan.complaint
        for st in plan.steps:
            if st.do != Do.RESOLVE or not st.text:
                continue
            if any(w in st.text for w in about_prices) and complaint.violation not in (
                seed_text.PRICE_VIOLATIONS
            ):
                wrong.append((complaint.violation, st.text))
            if "پلیس فتا" in st.text and complaint.sector != "online":
                wrong.append((complaint.sector, st.text))
    assert not wrong, wrong[:5]
