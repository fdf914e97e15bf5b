"""The seed's plan: who files what and when, and what the desk does with it afterwards.

Pure and deterministic: one seed value and one `now` give the same plan. Each case gets a fate
(the state it is in at `now`: new, claimed, waiting for the citizen, with a unit, resolved with
one of the outcomes, closed, rejected, merged, reopened) and a script of timed steps that leads
there. Officers act in working hours (`WorkCalendar.add`), citizens at waking hours, complaints
arrive at the hours people file them, busier on working days and lately. A few clusters are
planted so that spike alerts fire, and a few cases are left stuck so that SLA alerts and overdue
figures have something to show. `bot.demo.seed` plays the plan through the services.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.demo import seed_text as words
from bot.demo.personas import ADMIN, STAFF, SUPERVISOR, UNIT_CODE, UNIT_MEMBER
from bot.domain.catalogue import VIOLATION_TYPES
from bot.domain.worktime import WorkCalendar

T = TypeVar("T")

# Generated citizens' Telegram ids start here: far from the personas' (bot.demo.personas).
CITIZEN_ID_BASE = 6_100_000_000
SPAN = timedelta(days=60)  # how far back the seeded past reaches


class Do(StrEnum):
    FILE = "file"
    CLAIM = "claim"
    NOTE = "note"
    URGENT = "urgent"
    ASK = "ask"
    ANSWER = "answer"
    REFER = "refer"
    ACCEPT = "accept"
    RETURN = "return"
    REASSIGN = "reassign"
    RESOLVE = "resolve"
    REJECT = "reject"
    MERGE = "merge"
    RATE = "rate"
    REOPEN = "reopen"


@dataclass(frozen=True)
class Citizen:
    user_id: int
    first_name: str
    last_name: str
    phone: str | None  # 09…: shares it when filing; None: files anonymously


@dataclass(frozen=True)
class Complaint:
    """The answers to the filing steps, as the citizen types or picks them."""

    violation: str
    sector: str
    province: str
    city: str
    business: str
    address: str
    location: tuple[float, float] | None
    description: str
    paid: str | None  # the price step's answer as typed; None: skipped
    fair: str | None
    shares_phone: bool


@dataclass(frozen=True)
class Step:
    at: datetime
    do: Do
    who: int  # the user acting: the citizen, or a desk persona
    text: str | None = None
    outcome: str | None = None  # RESOLVE
    unit: str | None = None  # REFER: the unit's code
    score: int | None = None  # RATE
    target: int | None = None  # MERGE: the plan index merged into; REASSIGN: the user id


@dataclass(frozen=True)
class CasePlan:
    fate: str
    citizen: Citizen
    complaint: Complaint
    steps: tuple[Step, ...]  # the first is FILE

    @property
    def filed_at(self) -> datetime:
        return self.steps[0].at


def citizens(seed_value: int, cases: int) -> tuple[Citizen, ...]:
    """The generated citizens a seed of `cases` cases draws from (ids never a persona's)."""
    rng = random.Random(f"citizens:{seed_value}")
    found = []
    for i in range(max(8, cases * 4 // 5)):
        first, last = words.person(rng)
        phone = words.mobile(rng) if rng.random() < 0.65 else None
        found.append(Citizen(CITIZEN_ID_BASE + i, first, last, phone))
    return tuple(found)


# -- what is complained about ------------------------------------------------------------------

# The 135 line's mix, roughly: overpricing far ahead, then missing labels and fraud.
VIOLATION_WEIGHTS = {
    **{"overpricing": 34, "fraud": 10, "short_weight": 6, "no_price_label": 12},
    **{"forced_sale": 5, "off_network": 4, "withholding": 6, "health_rules": 5, "hoarding": 3},
    **{"no_invoice": 6, "smuggling": 2, "medicine": 5, "other": 2},
}
SECTORS_FOR: dict[str, dict[str, int]] = {
    "overpricing": {
        **{"food": 40, "appliances": 10, "vehicles": 10, "clothing": 8, "construction": 6},
        **{"services": 12, "medicine": 5, "online": 6, "other": 3},
    },
    "fraud": {"food": 30, "online": 25, "vehicles": 10, "appliances": 10, "clothing": 10},
    "short_weight": {"food": 60, "fuel": 25, "construction": 15},
    "no_price_label": {"food": 45, "clothing": 25, "appliances": 10, "services": 15, "other": 5},
    "forced_sale": {"food": 30, "vehicles": 30, "appliances": 20, "online": 10, "medicine": 10},
    "off_network": {"fuel": 35, "food": 40, "medicine": 15, "construction": 10},
    "withholding": {"food": 50, "medicine": 25, "fuel": 15, "appliances": 10},
    "health_rules": {"food": 60, "services": 40},
    "hoarding": {"food": 60, "construction": 20, "appliances": 10, "medicine": 10},
    "no_invoice": {"appliances": 25, "vehicles": 20, "construction": 20, "online": 20},
    "smuggling": {"appliances": 30, "clothing": 30, "online": 20, "other": 20},
    "medicine": {"medicine": 100},
    "other": {"services": 30, "online": 30, "other": 40},
}
OUTCOME_WEIGHTS = {"resolved": 40, "branch": 27, "no_violation": 20, "not_jurisdiction": 13}
# Ratings by outcome: a citizen who got their money back is kinder than one sent elsewhere.
SCORES = {
    "resolved": (1, 1, 3, 8, 12),
    "branch": (1, 1, 3, 6, 6),
    "no_violation": (4, 5, 5, 3, 1),
    "not_jurisdiction": (5, 5, 4, 2, 1),
}
# Complaints by hour of the day, on the Tehran clock: late morning and evening.
HOUR_WEIGHTS = (
    *(0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 4.0, 4.5),
    *(4.0, 3.5, 3.0, 3.0, 3.5, 4.0, 4.5, 5.0, 5.0, 4.0, 2.5, 1.0),
)
# By weekday (Python's numbers, Monday = 0): Thursday quieter, Friday the weekend.
DAY_WEIGHTS = (1.05, 1.0, 1.0, 0.8, 0.55, 1.1, 1.1)

# -- fates -------------------------------------------------------------------------------------

# Fates that must appear at least once, with their share of the cases. What is left over is
# resolved (or closed, when resolved long enough ago), at any age.
SHARES: tuple[tuple[str, float], ...] = (
    ("new", 0.025),
    ("new_stuck", 0.005),
    ("claimed", 0.035),
    ("claimed_stuck", 0.01),
    ("awaiting", 0.03),
    ("referred", 0.02),
    ("referred_stuck", 0.005),
    ("unit_working", 0.02),
    ("reopened", 0.012),
    ("reopened_resolved", 0.02),
    ("rejected", 0.07),
    ("merged", 0.025),
)
RECENT_RESOLVED_SHARE = 0.12  # still «resolved» at `now` (inside the reopening window)
# How long ago a fate's case was filed: (least, most).
AGES: dict[str, tuple[timedelta, timedelta]] = {
    "new_stuck": (timedelta(days=1), timedelta(days=4)),
    "claimed": (timedelta(hours=2), timedelta(days=3)),
    "claimed_stuck": (timedelta(days=4), timedelta(days=10)),
    "awaiting": (timedelta(hours=3), timedelta(days=5)),
    "referred": (timedelta(hours=3), timedelta(days=4)),
    "referred_stuck": (timedelta(days=6), timedelta(days=14)),
    "unit_working": (timedelta(days=1), timedelta(days=6)),
    "reopened": (timedelta(days=2), timedelta(days=8)),
    "reopened_resolved": (timedelta(days=8), timedelta(days=55)),
    "rejected": (timedelta(hours=6), SPAN),
    "resolved": (timedelta(days=1), SPAN),
    "resolved_recent": (timedelta(days=1), timedelta(days=6)),
    "resolved_old": (timedelta(days=9), SPAN),
}
ROUTES = {"direct": 45, "asked": 20, "referral": 22, "returned": 5, "reassigned": 8}


def _pick(rng: random.Random, weights: dict[str, int] | dict[str, float]) -> str:
    keys = sorted(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


def _one(rng: random.Random, items: Sequence[T]) -> T:
    return items[rng.randrange(len(items))]


@dataclass
class _Business:
    name: str
    sector: str
    province: str
    city: str
    address: str
    location: tuple[float, float] | None
    complaints: int = 0


@dataclass
class _Script:
    """A case's steps as they are written, one after another."""

    planner: _Planner
    steps: list[Step]

    @property
    def t(self) -> datetime:
        return self.steps[-1].at

    def staff(
        self,
        do: Do,
        who: int,
        hours: tuple[float, float],
        *,
        text: str | None = None,
        outcome: str | None = None,
        unit: str | None = None,
        target: int | None = None,
    ) -> None:
        """An officer acts after this many working hours."""
        at = self.planner.work(self.t, hours)
        self.steps.append(Step(at, do, who, text=text, outcome=outcome, unit=unit, target=target))

    def citizen(
        self,
        do: Do,
        hours: tuple[float, float],
        *,
        text: str | None = None,
        score: int | None = None,
    ) -> None:
        """The citizen acts after this many hours, awake."""
        at = self.planner.awake(self.t, hours)
        self.steps.append(Step(at, do, self.steps[0].who, text=text, score=score))


@dataclass
class _Planner:
    rng: random.Random
    now: datetime
    calendar: WorkCalendar
    tz: ZoneInfo
    reopen_window: timedelta
    unused: list[Citizen]
    used: list[Citizen] = field(default_factory=list)
    businesses: dict[str, list[_Business]] = field(default_factory=dict)
    used_names: set[str] = field(default_factory=set)
    citizen_days: dict[int, Counter[date]] = field(default_factory=dict)

    # -- time ------------------------------------------------------------------------------

    def work(self, t: datetime, hours: tuple[float, float]) -> datetime:
        spent = timedelta(hours=self.rng.uniform(*hours))
        return self.calendar.add(t, spent).replace(microsecond=0) + timedelta(seconds=1)

    def awake(self, t: datetime, hours: tuple[float, float]) -> datetime:
        at = (t + timedelta(hours=self.rng.uniform(*hours))).astimezone(self.tz)
        if at.hour < 7:  # asleep: first thing in the morning
            at = at.replace(hour=7, minute=self.rng.randint(10, 59))
        return at.astimezone(t.tzinfo).replace(microsecond=0)

    def filed(self, ages: tuple[timedelta, timedelta]) -> datetime:
        """A filing moment that long ago, at an hour and on a day people file."""
        least, most = ages
        today = self.now.astimezone(self.tz).date()
        first, last = least.days, min(most.days + 1, SPAN.days)
        days = list(range(first, last + 1))
        weights = [
            DAY_WEIGHTS[(today - timedelta(days=d)).weekday()] * (1.4 - d / 150) for d in days
        ]
        for _ in range(60):
            day = today - timedelta(days=self.rng.choices(days, weights)[0])
            hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
            local = datetime(
                day.year, day.month, day.day, hour, self.rng.randint(0, 59), self.rng.randint(0, 59)
            )
            at = local.replace(tzinfo=self.tz).astimezone(self.now.tzinfo)
            if self.now - most <= at <= self.now - least:
                return at
        return (self.now - least - timedelta(minutes=5)).replace(microsecond=0)

    def fresh(self) -> datetime:
        """Filed in the last hours, so recently that its SLA clock has not run out."""
        for _ in range(80):
            at = (self.now - timedelta(minutes=self.rng.uniform(10, 9 * 60))).replace(microsecond=0)
            if self.rng.random() * 5 > HOUR_WEIGHTS[at.astimezone(self.tz).hour]:
                continue
            if self.calendar.between(at, self.now) < timedelta(hours=3):
                return at
        return (self.now - timedelta(minutes=15)).replace(microsecond=0)

    # -- who -------------------------------------------------------------------------------

    def officer(self) -> int:
        return self.rng.choices((STAFF, SUPERVISOR, ADMIN), (6, 3, 1))[0].user_id

    def citizen(self, at: datetime, *, needs_phone: bool) -> Citizen:
        """A new citizen, or now and then one who filed before (never 3 a day: the limit)."""
        day = at.astimezone(self.tz).date()

        def free(c: Citizen) -> bool:
            if needs_phone and c.phone is None:
                return False
            return self.citizen_days.get(c.user_id, Counter())[day] < 2

        returning = [c for c in self.used if free(c)]
        fresh = next((c for c in self.unused if free(c)), None)
        if returning and (fresh is None or self.rng.random() < 0.25):
            chosen = _one(self.rng, returning)
        elif fresh is not None:
            chosen = fresh
            self.unused.remove(fresh)
            self.used.append(fresh)
        else:  # everyone filed twice today: cannot happen with the pool's size
            raise ValueError("no citizen left to file on " + day.isoformat())
        self.citizen_days.setdefault(chosen.user_id, Counter())[day] += 1
        return chosen

    # -- what --------------------------------------------------------------------------------

    def business(
        self, sector: str, province: str | None = None, *, repeat: bool = True, pooled: bool = True
    ) -> _Business:
        """A business of the sector already complained of (the more, the likelier), or a new one."""
        known = [b for b in self.businesses.get(sector, []) if province in (None, b.province)]
        if repeat and known and self.rng.random() < 0.4:
            found = self.rng.choices(known, [(b.complaints + 1) ** 1.5 for b in known])[0]
            found.complaints += 1
            return found
        place = (
            words.PROVINCE_BY_CODE[province]
            if province
            else self.rng.choices(words.PROVINCES, [p.weight for p in words.PROVINCES])[0]
        )
        city = place.cities[0] if self.rng.random() < 0.6 else _one(self.rng, place.cities)
        name = words.business_name(self.rng, sector)
        while name in self.used_names:
            name = words.business_name(self.rng, sector)
        self.used_names.add(name)
        location = None
        if city == place.cities[0]:
            lat, lon = place.centre
            location = (
                round(lat + self.rng.uniform(-0.04, 0.04), 5),
                round(lon + self.rng.uniform(-0.04, 0.04), 5),
            )
        made = _Business(
            name, sector, place.code, city, words.address(self.rng, sector, city), location, 1
        )
        if pooled:  # later complaints may be about it too
            self.businesses.setdefault(sector, []).append(made)
        return made

    def complaint(
        self, violation: str, business: _Business, citizen: Citizen, *, product: str | None = None
    ) -> Complaint:
        rng = self.rng
        sector = business.sector
        name, base = _one(rng, words.products(business.name, sector))
        if product is not None:
            name = product
        priced = violation == "overpricing" or rng.random() < (
            0.4 if violation in words.PRICED else 0.1
        )
        paid = fair = None
        if priced:
            fair = words.round_price(base * rng.uniform(0.9, 1.1))
            if violation in ("overpricing", "medicine", "no_price_label"):
                markup = (1.25, 2.2)
            elif violation == "forced_sale":  # the total, with what was forced on the buyer
                markup = (1.15, 1.5)
            else:
                markup = (1.0, 1.3)
            paid = max(fair, words.round_price(fair * rng.uniform(*markup)))
        text = words.description(
            rng,
            violation,
            sector=sector,
            business=business.name,
            product=name,
            city=business.city,
            paid=paid,
            fair=fair,
        )
        return Complaint(
            violation=violation,
            sector=sector,
            province=business.province,
            city=business.city,
            business=business.name,
            address=business.address,
            location=business.location if business.location and rng.random() < 0.4 else None,
            description=text,
            paid=words.typed_amount(rng, paid) if paid is not None else None,
            fair=words.typed_amount(rng, fair) if fair is not None else None,
            shares_phone=citizen.phone is not None and rng.random() < 0.8,
        )

    def unit_for(self, complaint: Complaint) -> str:
        if complaint.sector == "online":
            return "it_cyber"
        if complaint.violation in ("smuggling", "hoarding"):
            return "joint_patrols"
        if complaint.province == "23" and self.rng.random() < 0.3:
            return "tehran_office"
        return UNIT_CODE

    def unit_member(self, unit: str) -> int:
        """Who takes a referral up: the demo unit's member for its unit, else an officer."""
        if unit == UNIT_CODE:
            return UNIT_MEMBER.user_id
        return self.rng.choice((STAFF, SUPERVISOR)).user_id

    # -- scripts -----------------------------------------------------------------------------

    def claim(self, s: _Script) -> int:
        who = self.officer()
        s.staff(Do.CLAIM, who, (0.05, 2.5))
        return who

    def resolve(self, s: _Script, complaint: Complaint, route: str, outcome: str) -> None:
        """From filed to resolved by one of the usual routes."""
        rng = self.rng
        explanation = words.explanation(rng, outcome, complaint.violation, complaint.sector)
        if route == "reassigned":
            s.staff(Do.CLAIM, SUPERVISOR.user_id, (0.05, 2.0))
            s.staff(Do.REASSIGN, SUPERVISOR.user_id, (0.1, 2.0), target=STAFF.user_id)
            s.staff(Do.RESOLVE, STAFF.user_id, (1.0, 12.0), outcome=outcome, text=explanation)
            return
        holder = self.claim(s)
        if complaint.sector == "medicine" or complaint.violation == "health_rules":
            if rng.random() < 0.4:
                s.staff(Do.URGENT, holder, (0.02, 0.3))
        if route == "asked":
            question, answers = _one(rng, words.QUESTIONS)
            s.staff(Do.ASK, holder, (0.2, 3.0), text=question)
            s.citizen(Do.ANSWER, (0.3, 20.0), text=_one(rng, answers))
        elif route in ("referral", "returned"):
            unit = self.unit_for(complaint)
            s.staff(Do.REFER, holder, (0.2, 3.0), unit=unit)
            member = self.unit_member(unit)
            if route == "returned":
                s.staff(Do.RETURN, member, (0.5, 6.0), text=_one(rng, words.RETURN_REASONS))
                holder = self.claim(s)
            else:
                s.staff(Do.ACCEPT, member, (0.5, 10.0))
                holder = member
                if rng.random() < 0.5:
                    s.staff(Do.NOTE, holder, (1.0, 6.0), text=_one(rng, words.NOTES))
        elif rng.random() < 0.3:
            s.staff(Do.NOTE, holder, (0.5, 6.0), text=_one(rng, words.NOTES))
        s.staff(Do.RESOLVE, holder, (1.0, 16.0), outcome=outcome, text=explanation)

    def rate(self, s: _Script, outcome: str, *, chance: float = 0.8) -> None:
        if self.rng.random() >= chance:
            return
        score = self.rng.choices(range(1, 6), SCORES[outcome])[0]
        comment = _one(self.rng, words.COMMENTS[score]) if self.rng.random() < 0.35 else None
        s.citizen(Do.RATE, (0.1, 30.0), score=score, text=comment)

    def script(self, fate: str, outcome: str, s: _Script, complaint: Complaint) -> None:
        """The steps after filing that bring a case to its fate."""
        rng = self.rng
        if fate in ("new", "new_stuck"):
            return
        if fate in ("claimed", "claimed_stuck"):
            holder = self.claim(s)
            if fate == "claimed" and rng.random() < 0.4:
                s.staff(Do.NOTE, holder, (0.2, 4.0), text=_one(rng, words.NOTES))
        elif fate == "awaiting":
            holder = self.claim(s)
            s.staff(Do.ASK, holder, (0.2, 3.0), text=_one(rng, words.QUESTIONS)[0])
        elif fate in ("referred", "referred_stuck", "unit_working"):
            if rng.random() < 0.4:  # a supervisor sends it straight on
                referrer = SUPERVISOR.user_id
            else:
                referrer = self.claim(s)
            unit = self.unit_for(complaint)
            s.staff(Do.REFER, referrer, (0.2, 3.0), unit=unit)
            if fate == "unit_working":
                member = self.unit_member(unit)
                s.staff(Do.ACCEPT, member, (0.5, 8.0))
                if rng.random() < 0.5:
                    s.staff(Do.NOTE, member, (0.5, 4.0), text=_one(rng, words.NOTES))
        elif fate == "rejected":
            reason = _one(rng, words.REJECT_REASONS)
            if rng.random() < 0.5:
                s.staff(Do.REJECT, SUPERVISOR.user_id, (0.1, 3.0), text=reason)
            else:
                holder = self.claim(s)
                s.staff(Do.REJECT, holder, (0.1, 4.0), text=reason)
        elif fate in ("reopened", "reopened_resolved"):
            first = _one(rng, ("resolved", "no_violation"))
            self.resolve(s, complaint, "direct", first)
            if rng.random() < 0.5:
                s.citizen(Do.RATE, (0.1, 10.0), score=rng.randint(1, 2))
            s.citizen(Do.REOPEN, (0.5, 72.0), text=_one(rng, words.REOPEN_REASONS))
            if fate == "reopened_resolved":
                holder = self.claim(s)
                again = _one(rng, ("resolved", "branch"))
                explanation = words.explanation(rng, again, complaint.violation, complaint.sector)
                s.staff(Do.RESOLVE, holder, (2.0, 12.0), outcome=again, text=explanation)
                self.rate(s, again)
        else:  # resolved, resolved_recent, resolved_old
            route = _pick(rng, ROUTES)
            if route == "asked" and not complaint.shares_phone:
                route = "direct"
            self.resolve(s, complaint, route, outcome)
            self.rate(s, outcome)

    def fits(self, fate: str, steps: list[Step]) -> bool:
        """Whether the script ends before `now` in the state its fate names."""
        if steps[-1].at > self.now - timedelta(minutes=2):
            return False
        resolved = [st.at for st in steps if st.do == Do.RESOLVE]
        if fate == "resolved_recent":
            return resolved[-1] > self.now - self.reopen_window + timedelta(hours=6)
        if fate == "resolved_old":
            return resolved[-1] < self.now - self.reopen_window - timedelta(hours=2)
        if fate == "reopened":
            reopen = next(st.at for st in steps if st.do == Do.REOPEN)
            return reopen - resolved[0] < self.reopen_window - timedelta(hours=1)
        return True


def _needs_phone(fate: str) -> bool:
    return fate == "awaiting"


def _deck(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(fate, outcome) for `count` cases: each fate at least once, then by share."""
    deck: list[tuple[str, str]] = []
    for fate, share in SHARES:
        deck += [(fate, "")] * max(1, round(share * count))
    outcomes = sorted(OUTCOME_WEIGHTS)
    recent = max(len(outcomes), round(RECENT_RESOLVED_SHARE * count))
    deck += [("resolved_recent", outcomes[i % len(outcomes)]) for i in range(recent)]
    deck += [("resolved_old", o) for o in outcomes]
    while len(deck) < count:
        deck.append(("resolved", _pick(rng, OUTCOME_WEIGHTS)))
    deck = deck[:count]
    for i, (fate, outcome) in enumerate(deck):
        if fate.startswith("resolved") and not outcome:
            deck[i] = (fate, _pick(rng, OUTCOME_WEIGHTS))
    rng.shuffle(deck)
    return deck


def _violations(rng: random.Random, count: int) -> list[str]:
    """Every type at least once (when there are enough cases), then by weight."""
    every = [v.code for v in VIOLATION_TYPES]
    found = every[:count] + [_pick(rng, VIOLATION_WEIGHTS) for _ in range(count - len(every))]
    rng.shuffle(found)
    return found


def make_plan(
    seed_value: int,
    cases: int,
    now: datetime,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    *,
    reopen_window: timedelta,
    business_spike: int,
    province_spike: int,
) -> list[CasePlan]:
    """`cases` plans, in the order they are filed. Full coverage of the states needs about 40
    cases; the planted clusters come with 50 (the province spike) or 15 (the businesses)."""
    rng = random.Random(f"plan:{seed_value}")
    planner = _Planner(rng, now, calendar, tz, reopen_window, list(citizens(seed_value, cases)))
    made: list[tuple[CasePlan, int | None]] = []  # with the index of the case merged into
    made += _clusters(planner, cases, business_spike, province_spike)
    rest = cases - len(made)
    deck = _deck(rng, rest)
    own = [d for d in deck if d[0] != "merged"]  # a merged one repeats an earlier one's type
    for (fate, outcome), violation in zip(own, _violations(rng, len(own)), strict=True):
        made.append((_plan_one(planner, fate, outcome, violation), None))
    for _ in range(len(deck) - len(own)):
        made.append(_duplicate(planner, made))
    order = sorted(range(len(made)), key=lambda i: (made[i][0].filed_at, i))
    position = {old: new for new, old in enumerate(order)}
    plans = []
    for old in order:
        plan, target = made[old]
        if target is not None:
            steps = tuple(
                replace(st, target=position[target]) if st.do == Do.MERGE else st
                for st in plan.steps
            )
            plan = replace(plan, steps=steps)
        plans.append(plan)
    return plans


def _plan_one(planner: _Planner, fate: str, outcome: str, violation: str) -> CasePlan:
    rng = planner.rng
    sector = _pick(rng, SECTORS_FOR[violation])
    business = planner.business(sector)
    for attempt in range(60):
        # Holidays (Nowruz is two weeks) can keep a fate from fitting its ages: stretch them.
        least, most = AGES.get(fate, (timedelta(0), timedelta(0)))
        most = min(SPAN, most * (1 + attempt // 15))
        filed = planner.fresh() if fate == "new" else planner.filed((least, most))
        if attempt == 0:
            citizen = planner.citizen(filed, needs_phone=_needs_phone(fate))
            complaint = planner.complaint(violation, business, citizen)
            if _needs_phone(fate) and not complaint.shares_phone:
                complaint = replace(complaint, shares_phone=citizen.phone is not None)
        s = _Script(planner, [Step(filed, Do.FILE, citizen.user_id)])
        planner.script(fate, outcome, s, complaint)
        steps = s.steps
        if steps[-1].do == Do.RATE and steps[-1].at > planner.now - timedelta(minutes=2):
            steps = steps[:-1]  # not rated yet
        if planner.fits(fate, steps):
            break
    else:  # the calendar would not fit it: keep what happened before now
        steps = [st for st in steps if st.at <= planner.now - timedelta(minutes=2)] or steps[:1]
    return CasePlan(fate, citizen, complaint, tuple(steps))


def _duplicate(planner: _Planner, made: list[tuple[CasePlan, int | None]]) -> tuple[CasePlan, int]:
    """A second complaint about what an earlier case is about, merged into it."""
    rng = planner.rng
    limit = planner.now - timedelta(days=2)
    targets = [i for i, (p, t) in enumerate(made) if t is None and p.filed_at < limit]
    target = _one(rng, targets) if targets else 0
    first = made[target][0]
    filed = planner.awake(first.filed_at, (2.0, 40.0))
    filed = min(filed, planner.now - timedelta(hours=6))
    citizen = first.citizen if rng.random() < 0.4 else planner.citizen(filed, needs_phone=False)
    source = first.complaint
    business = _Business(
        source.business, source.sector, source.province, source.city, source.address, None
    )
    complaint = planner.complaint(source.violation, business, citizen)
    s = _Script(planner, [Step(filed, Do.FILE, citizen.user_id)])
    if rng.random() < 0.5:
        s.staff(Do.MERGE, SUPERVISOR.user_id, (0.3, 4.0), target=target)
    else:
        holder = planner.claim(s)
        s.staff(Do.MERGE, holder, (0.1, 2.0), target=target)
    steps = [st for st in s.steps if st.at <= planner.now - timedelta(minutes=2)]
    return CasePlan("merged", citizen, complaint, tuple(steps)), target


def _clusters(
    planner: _Planner, cases: int, business_spike: int, province_spike: int
) -> list[tuple[CasePlan, int | None]]:
    """Planted spikes: a bakery and a fuel station many complain of within the hour (one case
    worked, the rest merged into it), and a run on cooking oil in Khuzestan."""
    rng = planner.rng
    made: list[tuple[CasePlan, int | None]] = []
    spikes = [("food", "23", "overpricing", 10, 17, business_spike + 1)]
    spikes.append(("fuel", "09", "short_weight", 24, 10, business_spike))
    for sector, province, violation, days_ago, hour, size in spikes:
        if size * 5 > cases:
            continue
        business = planner.business(sector, province, repeat=False)
        start = _local(planner, days_ago, hour)
        times = sorted(start + timedelta(minutes=rng.uniform(0, 45)) for _ in range(size))
        first_index = len(made)
        for n, at in enumerate(times):
            citizen = planner.citizen(at, needs_phone=False)
            complaint = planner.complaint(violation, business, citizen)
            s = _Script(planner, [Step(at.replace(microsecond=0), Do.FILE, citizen.user_id)])
            if n == 0:
                planner.resolve(s, complaint, "referral", "branch")
                planner.rate(s, "branch")
                made.append((CasePlan("cluster", citizen, complaint, tuple(s.steps)), None))
            else:
                s.staff(Do.MERGE, SUPERVISOR.user_id, (0.5, 3.0), target=first_index)
                made.append((CasePlan("cluster", citizen, complaint, tuple(s.steps)), first_index))
    if province_spike * 5 <= cases:
        start = _local(planner, 18, 11)
        for _ in range(province_spike):
            at = (start + timedelta(minutes=rng.uniform(0, 50))).replace(microsecond=0)
            citizen = planner.citizen(at, needs_phone=False)
            business = planner.business("food", "06", repeat=False, pooled=False)
            complaint = planner.complaint(
                "withholding", business, citizen, product="روغن مایع ۱/۵ لیتری"
            )
            outcome = rng.choices(("branch", "resolved", "no_violation"), (5, 3, 2))[0]
            s = _Script(planner, [Step(at, Do.FILE, citizen.user_id)])
            planner.resolve(s, complaint, "referral", outcome)
            planner.rate(s, outcome)
            made.append((CasePlan("cluster", citizen, complaint, tuple(s.steps)), None))
    return made


def _local(planner: _Planner, days_ago: int, hour: int) -> datetime:
    day = planner.now.astimezone(planner.tz).date() - timedelta(days=days_ago)
    local = datetime(day.year, day.month, day.day, hour, planner.rng.randint(0, 10))
    return local.replace(tzinfo=planner.tz).astimezone(planner.now.tzinfo)
