"""Managers' summary: figures checked against the seeded Python data, and the Persian digest.

The seed builds case histories in Python by walking the real lifecycle table, writes them with
SQLAlchemy Core, and the expected figures are computed here from those Python objects with
plain loops, never from SQL.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from bot import text
from bot.callbacks import DrillView, parse_report
from bot.domain import tracking
from bot.domain.catalogue import PROVINCES, VIOLATION_TYPES
from bot.domain.lifecycle import OPEN_STATES, Action, Status, transition
from bot.domain.periods import Period, PeriodKind
from bot.domain.summary import BusinessCount, HolderLoad, OverdueCase, Summary, UnitCount
from bot.i18n import _
from bot.services.reports import median, percentile, summarize
from bot.storage.db import create_engine
from bot.storage.migrate import upgrade
from bot.storage.tables import case_events, cases, ratings, units, users
from bot.views import summary as view
from tests.clock import START

TZ = ZoneInfo("Asia/Tehran")
NOW = START  # Saturday 7 Azar 1405, 10:00 Tehran
SLA = timedelta(days=3)
DAY = Period.last_complete(PeriodKind.DAY, NOW, TZ)  # Friday 6 Azar 1405
DAY_START, DAY_END = DAY.bounds(TZ)

A = Action
# Case histories: the actions after SUBMIT, each after a random gap (truncated at NOW).
SCRIPTS: tuple[tuple[Action, ...], ...] = (
    (),
    (A.CLAIM,),
    (A.CLAIM, A.RESOLVE),
    (A.CLAIM, A.RESOLVE, A.CLOSE),
    (A.REFER, A.ACCEPT_REFERRAL, A.RESOLVE),
    (A.CLAIM, A.ASK, A.CITIZEN_ANSWER, A.RESOLVE),
    (A.REJECT,),
    (A.CLAIM, A.RELEASE, A.CLAIM, A.RESOLVE),
    (A.CLAIM, A.RESOLVE, A.REOPEN, A.CLAIM, A.RESOLVE),
    (A.REFER, A.RETURN_REFERRAL),
    (A.CLAIM, A.NOTE, A.MARK_URGENT),
    (A.CLAIM, A.REFER),
)
GAPS_HOURS = (0.25, 1, 2, 5, 9, 14, 26, 40, 75, 100)
STAFF = {501: "مریم", 502: "Ali <admin>", 503: "", 504: "رضا"}
CITIZEN = 9001
# (spelling, key): two spellings share a key; user text with HTML and formula characters.
BUSINESSES = (
    ("نانوایی سنتی برکت", "نانوایی سنتی برکت"),
    ("نانوایی  سنتی  برکت", "نانوایی سنتی برکت"),
    ("سوپرمارکت <b>نور</b> & پسران", "سوپرمارکت <b>نور</b> & پسران"),
    ("Digikala", "digikala"),
    ('=HYPERLINK("x")', '=hyperlink("x")'),
    ("داروخانه شفا", "داروخانه شفا"),
    ("قصابی امین", "قصابی امین"),
    ("پمپ بنزین آزادی", "پمپ بنزین آزادی"),
)


@dataclass
class SeedEvent:
    action: Action
    at: datetime
    actor_id: int | None
    from_status: Status | None
    to_status: Status


@dataclass
class SeedCase:
    id: int
    code: str
    violation: str
    sector: str
    province: str
    city: str
    business: str
    business_key: str
    address: str
    urgent: bool
    created_at: datetime
    contact_phone: str | None
    channel: str = "chat"
    taken_by: int | None = None  # the operator who registered a call
    caller_name: str | None = None
    events: list[SeedEvent] = field(default_factory=list)
    status: Status = Status.NEW
    holder_id: int | None = None
    unit_id: int | None = None
    outcome: str | None = None


@dataclass
class SeedRating:
    case_id: int
    score: int
    created_at: datetime


@dataclass
class Seed:
    cases: list[SeedCase]
    ratings: list[SeedRating]
    units: dict[int, str]


def _play(case: SeedCase, script: tuple[Action, ...], rng: random.Random, unit_ids: list[int]):
    """Walk the lifecycle table from SUBMIT, stopping at NOW; sets status, holder, unit."""
    at = case.created_at
    case.events.append(SeedEvent(A.SUBMIT, at, None, None, transition(A.SUBMIT, None)))
    status = Status.NEW
    for action in script:
        at = at + timedelta(hours=rng.choice(GAPS_HOURS), seconds=rng.randrange(3600))
        if at > NOW:
            break
        actor = rng.choice(list(STAFF))
        new = transition(action, status)
        case.events.append(SeedEvent(action, at, actor, status, new))
        if action is A.CLAIM:
            case.holder_id = actor
        elif action in (A.RELEASE, A.RETURN_REFERRAL):
            case.holder_id = None
        elif action is A.REFER:
            case.unit_id = rng.choice(unit_ids)
        elif action in (A.RESOLVE, A.REJECT):
            case.outcome = "rejected" if action is A.REJECT else "branch"
        status = new
    case.status = status


def make_seed(unit_ids: list[int], unit_names: dict[int, str], n: int = 160) -> Seed:
    rng = random.Random(1405)
    codes: set[str] = set()
    made: list[SeedCase] = []
    provinces = [p.code for p in PROVINCES[:8]]
    for i in range(1, n + 1):
        code = tracking.generate(rng)
        while code in codes:
            code = tracking.generate(rng)
        codes.add(code)
        made.append(_random_case(i, code, rng, provinces))
    _pin_boundaries(made)
    for case in made:
        _play(case, rng.choice(SCRIPTS), rng, unit_ids)
    _force_reclaim_in_period(made[5])
    return Seed(made, _ratings(made, rng), unit_names)


def _random_case(i: int, code: str, rng: random.Random, provinces: list[str]) -> SeedCase:
    if rng.random() < 0.35:  # many cases inside the measured day
        created = DAY_START + timedelta(
            seconds=rng.randrange(int((DAY_END - DAY_START).total_seconds()))
        )
    else:
        created = NOW - timedelta(seconds=rng.randrange(12 * 86400))
    created = created.replace(microsecond=0)
    name, key = rng.choice(BUSINESSES[:4] * 3 + BUSINESSES[4:])
    return SeedCase(
        id=i,
        code=code,
        violation=rng.choice(VIOLATION_TYPES[:6]).code,
        sector=rng.choice(("food", "medicine", "fuel", "online")),
        province=rng.choice(provinces[:3] * 4 + provinces[3:]),
        city="تهران",
        business=name,
        business_key=key,
        address="-خیابان آزادی، کوچهٔ بهار" if i % 7 == 0 else "خیابان انقلاب",
        urgent=i % 11 == 0,
        created_at=created,
        contact_phone="+989121234567" if i % 3 else None,
        # Every fourth case came by phone, without a citizen in chat; a few by the web desk.
        channel="phone" if i % 4 == 1 else "web" if i % 13 == 0 else "chat",
        taken_by=list(STAFF)[i % len(STAFF)] if i % 4 == 1 else None,
        caller_name=("رضا احمدی" if i % 8 == 1 else None) if i % 4 == 1 else None,
    )


def _pin_boundaries(made: list[SeedCase]) -> None:
    """Cases exactly on the period's edges: the start is inside, the end is not."""
    made[0].created_at = DAY_START
    made[1].created_at = DAY_END
    made[2].created_at = DAY_END - timedelta(seconds=1)


def _force_reclaim_in_period(case: SeedCase) -> None:
    """A case claimed before the day, released, claimed again in it: counted as claimed,
    but its claim time is not a first response."""
    case.created_at = DAY_START - timedelta(days=2)
    case.events.clear()
    case.holder_id = case.unit_id = case.outcome = None
    steps = [
        (A.SUBMIT, case.created_at, None),
        (A.CLAIM, DAY_START - timedelta(days=1), 501),
        (A.RELEASE, DAY_START - timedelta(hours=3), 501),
        (A.CLAIM, DAY_START + timedelta(hours=2), 502),
    ]
    status: Status | None = None
    for action, at, actor in steps:
        new = transition(action, status)
        case.events.append(SeedEvent(action, at, actor, status, new))
        status = new
    case.status, case.holder_id = Status.CLAIMED, 502


def _ratings(made: list[SeedCase], rng: random.Random) -> list[SeedRating]:
    out = []
    for case in made:
        resolves = [e.at for e in case.events if e.action is A.RESOLVE]
        if resolves and rng.random() < 0.8:
            at = (resolves[-1] + timedelta(hours=rng.choice((1, 5, 20)))).replace(microsecond=0)
            if at <= NOW:
                score = rng.randint(1, 5)
                if case.channel == "chat":  # nobody in chat rates a call nobody linked
                    out.append(SeedRating(case.id, score, at))
    if out:
        out[0].created_at = DAY_END  # excluded: the period is half-open
    return out


async def seed_database(url: str, n: int = 160) -> Seed:
    """Write the seed into the migrated database at `url` and return it."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            rows = (await conn.execute(select(units.c.id, units.c.name))).all()
            unit_names = {uid: name for uid, name in rows}
            seed = make_seed(sorted(unit_names), unit_names, n)
            await conn.execute(insert(users), _user_rows())
            await conn.execute(insert(cases), [_case_row(c) for c in seed.cases])
            await conn.execute(
                insert(case_events), [_event_row(c, e) for c in seed.cases for e in c.events]
            )
            if seed.ratings:
                await conn.execute(insert(ratings), [_rating_row(r) for r in seed.ratings])
    finally:
        await engine.dispose()
    return seed


def _user_rows() -> list[dict[str, Any]]:
    at = NOW - timedelta(days=400)
    people = {CITIZEN: ("شهروند", None), **{k: (v, "staff") for k, v in STAFF.items()}}
    return [
        {"id": uid, "first_name": name, "role": role, "created_at": at, "updated_at": at}
        for uid, (name, role) in people.items()
    ]


def _case_row(c: SeedCase) -> dict[str, Any]:
    last = c.events[-1].at
    return {
        "id": c.id,
        "code": c.code,
        "citizen_id": CITIZEN if c.channel == "chat" else None,
        "channel": c.channel,
        "taken_by": c.taken_by,
        "caller_name": c.caller_name,
        "status": c.status.value,
        "violation": c.violation,
        "sector": c.sector,
        "province": c.province,
        "city": c.city,
        "business": c.business,
        "business_key": c.business_key,
        "address": c.address,
        "description": "شرح شکایت",
        "contact_phone": c.contact_phone,
        "urgent": c.urgent,
        "holder_id": c.holder_id,
        "unit_id": c.unit_id,
        "outcome": c.outcome,
        "created_at": c.created_at,
        "updated_at": last,
    }


def _event_row(c: SeedCase, e: SeedEvent) -> dict[str, Any]:
    return {
        "case_id": c.id,
        "at": e.at,
        "actor_id": e.actor_id,
        "action": e.action.value,
        "from_status": e.from_status.value if e.from_status else None,
        "to_status": e.to_status.value,
    }


def _rating_row(r: SeedRating) -> dict[str, Any]:
    return {
        "case_id": r.case_id,
        "citizen_id": CITIZEN,
        "score": r.score,
        "created_at": r.created_at,
    }


# ---------------------------------------------------------------------------------------------
# Expected figures, computed from the Python seed with plain loops
# ---------------------------------------------------------------------------------------------


def _middle(values: list[timedelta]) -> timedelta | None:
    s = sorted(values)
    if not s:
        return None
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def _p90(values: list[timedelta]) -> timedelta | None:
    """Nearest rank: the smallest value with at least 90% of the values at or below it."""
    s = sorted(values)
    for v in s:
        if sum(1 for w in s if w <= v) >= 0.9 * len(s):
            return v
    return None


def _ranked(counter: Counter[Any]) -> tuple[tuple[Any, int], ...]:
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0]))))


def expected(seed: Seed, start: datetime, end: datetime) -> dict[str, Any]:
    def inside(at: datetime) -> bool:
        return start <= at < end

    new = [c for c in seed.cases if inside(c.created_at)]
    entered = {a: 0 for a in (A.CLAIM, A.REFER, A.RESOLVE, A.REJECT)}
    to_claim, to_resolve = [], []
    for c in seed.cases:
        for action in entered:
            entered[action] += any(e.action is action and inside(e.at) for e in c.events)
        claims = [e.at for e in c.events if e.action is A.CLAIM]
        if claims and inside(claims[0]):
            to_claim.append(claims[0] - c.created_at)
        resolves = [e.at for e in c.events if e.action is A.RESOLVE and inside(e.at)]
        if resolves:
            to_resolve.append(resolves[-1] - c.created_at)
    open_cases = [c for c in seed.cases if c.status in OPEN_STATES]
    ages = [NOW - c.created_at for c in open_cases]
    late = sorted(
        (c for c in open_cases if NOW - c.created_at > SLA), key=lambda c: (c.created_at, c.code)
    )
    rated = [r for r in seed.ratings if inside(r.created_at)]
    loads = Counter(c.holder_id for c in open_cases if c.holder_id is not None)
    units_count = Counter(c.unit_id for c in new)
    return {
        "new": len(new),
        "claimed": entered[A.CLAIM],
        "referred": entered[A.REFER],
        "resolved": entered[A.RESOLVE],
        "rejected": entered[A.REJECT],
        "backlog": len(open_cases),
        "backlog_by_status": _ranked(Counter(c.status.value for c in open_cases)),
        "oldest_open_age": max(ages) if ages else None,
        "median_open_age": _middle(ages),
        "claim_count": len(to_claim),
        "claim_median": _middle(to_claim),
        "claim_p90": _p90(to_claim),
        "resolve_median": _middle(to_resolve),
        "resolve_p90": _p90(to_resolve),
        "overdue_open": len(late),
        "overdue_resolved": sum(1 for d in to_resolve if d > SLA),
        "overdue": tuple(
            OverdueCase(c.code, c.status.value, c.created_at, NOW - c.created_at) for c in late
        ),
        "by_violation": _ranked(Counter(c.violation for c in new)),
        "by_province": _ranked(Counter(c.province for c in new)),
        "by_unit": tuple(
            UnitCount(uid, seed.units.get(uid) if uid else None, n)
            for uid, n in sorted(
                units_count.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or 0)
            )
        ),
        "top_businesses": _top(new),
        "workload": tuple(HolderLoad(h, STAFF[h], n) for h, n in _ranked(loads)),
        "ratings_count": len(rated),
        "ratings_mean": sum(r.score for r in rated) / len(rated) if rated else None,
        "by_channel": _ranked(Counter(c.channel for c in new)),
    }


def _top(new: list[SeedCase]) -> tuple[BusinessCount, ...]:
    groups: dict[str, list[SeedCase]] = {}
    for c in new:
        groups.setdefault(c.business_key, []).append(c)
    latest = {k: max(v, key=lambda c: (c.created_at, c.id)) for k, v in groups.items()}
    order = sorted(groups, key=lambda k: (-len(groups[k]), -latest[k].created_at.timestamp(), k))
    return tuple(BusinessCount(k, latest[k].business, len(groups[k])) for k in order[:5])


def _figures(summary: Summary) -> dict[str, Any]:
    skip = {"start", "end", "now", "sla"}
    return {f: getattr(summary, f) for f in Summary.__dataclass_fields__ if f not in skip}


# ---------------------------------------------------------------------------------------------
# summarize() against a real database
# ---------------------------------------------------------------------------------------------


async def test_summary_figures_match_the_seeded_data(db_url: str) -> None:
    seed = await seed_database(db_url)
    engine = create_engine(db_url)
    try:
        week = Period.containing(PeriodKind.WEEK, DAY.first_day, TZ)
        quiet = Period(PeriodKind.DAY, DAY.first_day - timedelta(days=30))
        for period in (DAY, week, quiet):
            start, end = period.bounds(TZ)
            got = await summarize(engine, start, end, now=NOW, sla=SLA)
            assert (got.start, got.end, got.now, got.sla) == (start, end, NOW, SLA)
            assert _figures(got) == expected(seed, start, end), period
    finally:
        await engine.dispose()
    day = expected(seed, DAY_START, DAY_END)
    # The seed really exercises what the figures claim to measure.
    assert day["new"] >= 30 and day["claimed"] > day["claim_count"] > 0
    assert day["resolved"] > 0 and day["overdue_open"] > 0 and day["ratings_count"] > 0
    assert any(b.count > 1 for b in day["top_businesses"]) and len(day["workload"]) > 1
    assert {channel for channel, _n in day["by_channel"]} == {"chat", "phone", "web"}


async def test_summary_of_an_empty_database(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        got = await summarize(engine, DAY_START, DAY_END, now=NOW)
    finally:
        await engine.dispose()
    assert got.new == got.backlog == got.ratings_count == 0
    assert got.claim_median is got.oldest_open_age is got.ratings_mean is None
    assert got.by_violation == got.top_businesses == got.workload == got.overdue == ()
    messages = view.render_summary(got, DAY, tz=TZ)
    assert messages and all(_checked(m) for m in messages)


def _daily(date: str) -> str:
    return _("Daily report for {date}").format(date=date)


def _weekly(first: str, last: str) -> str:
    span = _("{start} to {end}").format(start=first, end=last)
    return _("Weekly report for {range}").format(range=span)


def test_period_bounds_keys_and_titles() -> None:
    assert DAY.key == "d:20261127" and Period.parse(DAY.key) == DAY
    assert DAY_START == datetime(2026, 11, 26, 20, 30, tzinfo=UTC)
    week = Period.containing(PeriodKind.WEEK, datetime(2026, 11, 28, 6, 30, tzinfo=UTC), TZ)
    assert week.key == "w:20261128"  # Saturday 7 Azar starts the week
    assert view.period_title(week, TZ) == _weekly("۷", "۱۳ آذر ۱۴۰۵")
    day = Period.parse("d:20261128")
    assert day is not None and view.period_title(day, TZ) == _daily("شنبه ۷ آذر ۱۴۰۵")
    across = Period.containing(PeriodKind.WEEK, datetime(2026, 11, 21).date(), TZ)
    assert view.period_title(across, TZ) == _weekly("۳۰ آبان", "۶ آذر ۱۴۰۵")
    new_year = Period.containing(PeriodKind.WEEK, datetime(2025, 3, 18).date(), TZ)
    assert view.period_title(new_year, TZ) == _weekly("۲۵ اسفند ۱۴۰۳", "۱ فروردین ۱۴۰۴")
    month = Period.containing(PeriodKind.MONTH, NOW, TZ)
    assert month.key == "m:20261122"
    assert view.period_title(month, TZ) == _("Monthly report for {month}").format(month="آذر ۱۴۰۵")
    assert Period.last_complete(PeriodKind.MONTH, NOW, TZ).key == "m:20261023"
    for bad in ("x:20261128", "d:2026112", "d:2026-11-", "d:20261332", "", "d:２０２６１１２８"):
        assert Period.parse(bad) is None


# ---------------------------------------------------------------------------------------------
# The Persian digest
# ---------------------------------------------------------------------------------------------

ALLOWED_TAGS = {"b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler", "span"}


class _TagChecker(HTMLParser):
    """Fails on unknown or unbalanced tags, the way Telegram's HTML parser would."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        assert tag in ALLOWED_TAGS, tag
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack.pop() == tag, tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _checked(message: str, limit: int = 4096) -> str:
    """Assert Telegram would accept the message; return its visible text."""
    assert 0 < text.utf16_len(message) <= limit
    parser = _TagChecker()
    parser.feed(message)
    parser.close()
    assert parser.stack == []
    return "".join(parser.text)


async def test_digest_is_persian_valid_html_and_escaped(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"  # rendering needs one backend only
    await upgrade(url)
    await seed_database(url)
    engine = create_engine(url)
    try:
        summary = await summarize(engine, DAY_START, DAY_END, now=NOW, sla=SLA)
    finally:
        await engine.dispose()
    views = [view.render_summary(summary, DAY, tz=TZ)]
    views += [view.render_drilldown(v, summary, DAY, tz=TZ) for v in DrillView]
    for messages in views:
        for message in messages:
            visible = _checked(message)
            assert not re.search(r"[0-9]", visible), visible  # Persian digits only
    digest = "\n".join(views[0])
    assert digest.startswith(f"📊 <b>{_daily('جمعه ۶ آذر ۱۴۰۵')}</b>")
    assert f"{_('New complaints')}: {text.format_number(summary.new)}" in digest
    assert summary.top_businesses and "<b>نور" not in digest
    for biz in summary.top_businesses:
        assert escape(text.excerpt(biz.name, 60)) in digest
    assert "Ali &lt;admin&gt;" in digest
    provinces = _checked(views[1][0])
    assert provinces.count("•") == len(PROVINCES)
    overdue = "\n".join(views[3])
    assert overdue.count("·") == 2 * min(summary.overdue_open, view.OVERDUE_LINES)


def test_long_digest_is_split_and_capped() -> None:
    base = _bare_summary()
    officers = tuple(HolderLoad(10_000 + i, "کارشناس <x>", i + 1) for i in range(400))
    late = tuple(
        OverdueCase("1234567897", "claimed", NOW - timedelta(days=10 + i), timedelta(days=10 + i))
        for i in range(75)
    )
    summary = replace(base, workload=officers, overdue=late, overdue_open=len(late))
    messages = view.render_summary(summary, DAY, tz=TZ)
    assert len(messages) > 1
    visible = "".join(_checked(m) for m in messages)
    assert visible.count("<x>") == 400 and not re.search(r"[0-9]", visible)
    overdue = view.render_overdue(summary, DAY, tz=TZ)
    lines = "\n".join(_checked(m) for m in overdue)
    assert lines.count("·") == 2 * view.OVERDUE_LINES and "۴۵" in lines  # "and 45 more"


def test_drilldown_buttons_round_trip() -> None:
    rows = view.drilldown_keyboard(DAY)
    data = [d for row in rows for _label, d in row]
    assert data == ["r:prov:d:20261127", "r:unit:d:20261127", "r:over:d:20261127"]
    for d in data:
        assert d.isascii() and len(d.encode()) <= 64
        parsed = parse_report(d)
        assert parsed is not None and parsed.period == DAY and parsed.encode() == d
    for bad in (
        "r:evil:d:20261127",
        "x:prov:d:20261127",
        "r:prov:d:2026",
        "r:prov",
        "r:prov:d:99991231",  # a forged far-future day once overflowed the calendar
        "r:prov:d:2026112٧",
    ):
        assert parse_report(bad) is None


def _bare_summary() -> Summary:
    return Summary(
        start=DAY_START, end=DAY_END, now=NOW, sla=SLA, new=0, claimed=0, referred=0,
        resolved=0, rejected=0, backlog=0, backlog_by_status=(), oldest_open_age=None,
        median_open_age=None, claim_count=0, claim_median=None, claim_p90=None,
        resolve_median=None, resolve_p90=None, overdue_open=0, overdue_resolved=0, overdue=(),
        by_violation=(), by_province=(), by_unit=(), top_businesses=(), workload=(),
        ratings_count=0, ratings_mean=None,
    )  # fmt: skip


def test_median_and_percentile_of_durations() -> None:
    hours = [timedelta(hours=h) for h in (5, 1, 3, 2)]
    assert median(hours) == timedelta(hours=2.5)  # even count: mean of the middle two
    assert median(hours[:3]) == timedelta(hours=3)
    assert median([]) is None and percentile([], 0.9) is None
    assert percentile(hours, 0.9) == timedelta(hours=5)  # nearest rank: an observed value
    assert percentile(hours, 0.5) == timedelta(hours=2)


# ---------------------------------------------------------------------------------------------
# bot.text.split_message
# ---------------------------------------------------------------------------------------------


def test_split_message_keeps_short_text_whole() -> None:
    assert text.split_message("سلام\nدنیا") == ["سلام\nدنیا"]
    assert text.split_message("") == []


def test_split_message_cuts_between_lines() -> None:
    lines = [f"<b>خط {text.to_persian_digits(i)}</b> " + "ب" * 40 for i in range(300)]
    parts = text.split_message("\n".join(lines), limit=1000)
    assert len(parts) > 1
    assert [line for p in parts for line in p.split("\n")] == lines  # whole lines, in order
    for p in parts:
        _checked(p, 1000)


def test_split_message_cuts_a_long_line_at_words_and_reopens_tags() -> None:
    words = [f"واژه{text.to_persian_digits(i)}" for i in range(400)]
    line = (
        '<a href="https://example.org/?a=1&amp;b=2"><b>' + " ".join(words) + "</b> &amp; دنباله</a>"
    )
    parts = text.split_message(line, limit=500)
    assert len(parts) > 2
    visible = [_checked(p, 500) for p in parts]
    assert " ".join(visible).split() == (" ".join(words) + " & دنباله").split()
    assert all(p.startswith('<a href="https://example.org/?a=1&amp;b=2">') for p in parts)


def test_split_message_counts_utf16_and_cuts_an_endless_word() -> None:
    emoji = "📊" * 3000  # 6000 UTF-16 units, no space anywhere
    parts = text.split_message(emoji, limit=4096)
    assert [text.utf16_len(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == emoji
    entities = "&amp;" * 2000
    parts = text.split_message(entities, limit=4096)
    assert "".join(parts) == entities and all(p.endswith("&amp;") for p in parts)


@pytest.mark.parametrize("seed", range(20))
def test_split_message_random_html(seed: int) -> None:
    rng = random.Random(seed)
    pieces = []
    for _i in range(rng.randrange(50, 400)):
        word = rng.choice(("متن", "&lt;", "📊", "شکایت‌ها", "x" * rng.randrange(1, 90)))
        tag = rng.choice(("", "b", "i", "code"))
        pieces.append(f"<{tag}>{word}</{tag}>" if tag else word)
        pieces.append(rng.choice((" ", " ", "\n", "")))
    html = "".join(pieces)
    limit = rng.choice((64, 200, 1000))
    parts = text.split_message(html, limit=limit)
    visible = "".join(_checked(p, limit) for p in parts)
    squash = re.compile(r"\s+")
    assert squash.sub("", visible) == squash.sub("", "".join(_checked(html, 10**6)))
