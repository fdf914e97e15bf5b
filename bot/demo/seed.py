"""Seed data for the demo: a few hundred realistic past cases, filed and worked through the
services, with their notifications recorded as delivered so the demo starts quiet.

How: `bot.demo.seed_plan` writes, from the seed value, who files what and when and what the desk
does with it. That plan is then played in time order through the very services the handlers
call (`Filing`, `Desk`, `MyCases`, `CitizenInput`, the people gate), built here around the
live engine and settings but with a clock that is moved to each step's moment. The system's own
jobs run in the simulated past too, as they would have: the reopening window closes resolved
cases, SLA and spike checks make their alerts (and their dedupe rows) when they were due, up to
the seed's `now`. So the history holds the alerts a real desk would have had, and none of them
is left due when the bot starts.

Everything those calls queued in the outbox belongs to the past: a notice about a case closed
six weeks ago must not reach its citizen today. After the run, in one transaction, the seed
records them as delivered at the moment they were queued (`_settle_outbox`): the rows queued at
one of the moments its clock told, and only those, so that a message another process queued
meanwhile, even with a clock a little behind, is still sent. The demo's page
shows no such messages: the local Bot API server was not there then. Cards were therefore never
posted, so later changes to a seeded case have no card to edit (its staff find it with /queue,
/find or /mine); no files are attached, since there would be nothing behind their ids.

The people: the desk personas of `bot.demo.personas` act (their roles are given if the start-up
has not yet; the unit's member takes up the demo unit's referrals when on the desk, else an
officer does), and generated citizens file, never a persona, so that the demo's own two citizens
start with empty histories. `citizens(seed_value, cases)` lists them (ids, names, phones): the
demo can open them chats in its local Bot API server, so that what the desk later sends them
about a seeded case is delivered rather than refused.

Deterministic: one seed value and one `now` give the same cases, the same timings and, since
tracking codes come from a generator seeded with the seed value, the same codes. 300 cases take
about 20 seconds on SQLite.

Refuses (`SeedRefused`) rather than adds: on a database that already holds cases (their codes,
citizens' daily limits and alerts would interleave with the seeded past, and the seed would no
longer be reproducible), and while the bot is running (its outbox worker and minute jobs would
act on a half-built past at today's time). Seed an empty database before the bot starts; to
seed again, start from an empty one (the demo's `--fresh`).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.context import Services
from bot.demo.personas import PERSONAS, STAFF, UNIT_MEMBER
from bot.demo.seed_plan import CasePlan, Citizen, Do, Step, citizens, make_plan
from bot.domain.complaint import SEPARATE
from bot.domain.complaint import Step as FilingStep
from bot.domain.worktime import WorkCalendar
from bot.services import alerts, people, workcal
from bot.services.citizen_input import CitizenInput
from bot.services.desk import Actor, Desk, Done
from bot.services.filing import Filing, Outcome, Submitted
from bot.services.my_cases import MyCases
from bot.services.runtime import Runtime
from bot.storage import desk as desk_store
from bot.storage.tables import cases as cases_table
from bot.storage.tables import outbox

__all__ = ["SeedRefused", "citizens", "seed"]

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(hours=2)
SETTLE_CHUNK = 500  # moments a statement (SQLite allows a few thousand parameters)


class SeedRefused(Exception):
    """The database cannot be seeded as it stands; the message says why."""


async def seed(services: Services, *, seed_value: int = 1405, cases: int = 300) -> int:
    """Fill the database with `cases` past cases over the last two months; return how many
    were made. Deterministic for one `seed_value` (and one `now`); refuses a database that
    already has cases, or a running bot, with `SeedRefused`."""
    if services.worker.running:
        raise SeedRefused("the bot is running: seed before it starts")
    rt = services.rt
    now = rt.now()
    async with rt.engine.connect() as conn:
        if (await conn.execute(select(cases_table.c.id).limit(1))).first() is not None:
            raise SeedRefused("the database already has cases: seed an empty one")
        last_queued = (await conn.execute(select(func.max(outbox.c.id)))).scalar() or 0
    started = time.monotonic()
    calendar = workcal.calendar(rt.settings)
    plans = make_plan(
        seed_value,
        cases,
        now,
        calendar,
        rt.settings.tz,
        reopen_window=timedelta(days=rt.settings.reopen_window_days),
        business_spike=rt.settings.spike_business_threshold,
        province_spike=rt.settings.spike_province_threshold,
    )
    simulation = _Simulation(rt, seed_value, plans[0].filed_at if plans else now)
    made = await simulation.run(plans, _sweeps(calendar, plans, now), now)
    settled = await _settle_outbox(rt.engine, after_id=last_queued, at=simulation.clock.told)
    log.info(
        "seeded %d cases (%d messages recorded as delivered) in %.1fs",
        made,
        settled,
        time.monotonic() - started,
    )
    return made


@dataclass
class _Clock:
    """The simulated clock; `told` keeps every moment it gave, so that what the seed queued
    (stamped with one of them) can be told from what anyone else did."""

    now: datetime
    told: set[datetime] = field(default_factory=set)

    def __call__(self) -> datetime:
        self.told.add(self.now)
        return self.now


class _Simulation:
    """The plan, played through the services with the clock at each step's moment."""

    def __init__(self, live: Runtime, seed_value: int, start: datetime) -> None:
        self.clock = _Clock(start)
        # Its own doorbell: nothing here should wake a delivery worker.
        self.rt = Runtime(engine=live.engine, settings=live.settings, clock=self.clock)
        self.filing = Filing(self.rt, random.Random(f"codes:{seed_value}"))
        self.desk = Desk(self.rt)
        self.my_cases = MyCases(self.rt)
        self.citizen_input = CitizenInput(self.rt, self.desk, self.filing, self.my_cases)
        self.case_ids: dict[int, int] = {}
        self.codes: dict[int, str] = {}
        self.actors: dict[int, Actor] = {}
        self.stand_in: dict[int, int] = {}
        self.units: dict[str, int] = {}

    async def run(self, plans: list[CasePlan], sweeps: list[datetime], now: datetime) -> int:
        await self._people()
        timeline: list[tuple[datetime, int, int, int]] = [
            (st.at, 0, i, j) for i, plan in enumerate(plans) for j, st in enumerate(plan.steps)
        ]
        timeline += [(at, 1, -1, -1) for at in sweeps]
        timeline.sort()
        dead: set[int] = set()
        for at, _kind, i, j in timeline:
            self.clock.now = at
            if i < 0:
                await self.desk.close_expired()
                await alerts.check_sla(self.rt)
                continue
            if i in dead:
                continue
            step = plans[i].steps[j]
            if not await self._step(i, plans[i], step):
                log.warning("seed: case %d: %s by %s was refused", i, step.do, step.who)
                dead.add(i)
        self.clock.now = now
        await self.desk.close_expired()
        await alerts.check_sla(self.rt)
        await alerts.check_spikes(self.rt)
        return len(self.case_ids)

    async def _people(self) -> None:
        """The desk as the demo has it: the personas with their names, and their roles where
        none is set yet; an officer stands in for the unit's member if they are not on the
        desk (only desk members may take up a referral)."""
        for p in PERSONAS:
            if p.role is None and p is not UNIT_MEMBER:
                continue
            await people.touch_and_check(self.rt, p.user_id, p.first_name, None, "fa")
            if p.role is not None:
                async with self.rt.engine.begin() as conn:
                    if await desk_store.role_of(conn, p.user_id) is None:
                        await desk_store.set_role(conn, p.user_id, p.role.value, self.rt.now())
        if not (await self.desk.actor(UNIT_MEMBER.user_id)).on_desk:
            self.stand_in[UNIT_MEMBER.user_id] = STAFF.user_id
        self.units = {u["code"]: u["id"] for u in await self.desk.units()}

    async def _actor(self, user_id: int) -> Actor:
        user_id = self.stand_in.get(user_id, user_id)
        if user_id not in self.actors:
            self.actors[user_id] = await self.desk.actor(user_id)
        return self.actors[user_id]

    async def _step(self, index: int, plan: CasePlan, step: Step) -> bool:
        if step.do == Do.FILE:
            return await self._file(index, plan)
        case_id = self.case_ids[index]
        if step.do in (Do.ANSWER, Do.RATE, Do.REOPEN):
            return await self._citizen_step(plan.citizen, case_id, step)
        desk, actor, text = self.desk, await self._actor(step.who), step.text or ""
        match step.do:
            case Do.CLAIM:
                result = await desk.claim(actor, case_id)
            case Do.NOTE:
                result = await desk.note(actor, case_id, text)
            case Do.URGENT:
                result = await desk.mark_urgent(actor, case_id)
            case Do.ASK:
                result = await desk.ask(actor, case_id, text)
            case Do.REFER:
                result = await desk.refer(actor, case_id, self.units[step.unit or ""])
            case Do.ACCEPT:
                result = await desk.accept_referral(actor, case_id)
            case Do.RETURN:
                result = await desk.return_referral(actor, case_id, text)
            case Do.REASSIGN:
                assert step.target is not None
                to_user = self.stand_in.get(step.target, step.target)
                result = await desk.reassign(actor, case_id, to_user)
            case Do.RESOLVE:
                result = await desk.resolve(actor, case_id, step.outcome or "", text)
            case Do.REJECT:
                result = await desk.reject(actor, case_id, text)
            case Do.MERGE:
                target = self.codes.get(step.target) if step.target is not None else None
                if target is None:  # its filing was refused
                    return False
                result = await desk.merge(actor, case_id, target)
            case _:
                return False
        return isinstance(result, Done)

    async def _citizen_step(self, citizen: Citizen, case_id: int, step: Step) -> bool:
        uid = citizen.user_id
        await people.touch_and_check(self.rt, uid, citizen.first_name, None, "fa")
        if step.do == Do.ANSWER:
            done = await self.desk.citizen_answer(uid, case_id, step.text, None)
            return isinstance(done, Done)
        if step.do == Do.REOPEN:
            done = await self.desk.citizen_reopen(uid, case_id, step.text or "")
            return isinstance(done, Done)
        assert step.score is not None
        if not await self.my_cases.rate(uid, case_id, step.score):
            return False
        if step.text:
            return await self.my_cases.comment(uid, case_id, step.text)
        await self.citizen_input.skip(uid)  # «بعدی»: no comment
        return True

    async def _file(self, index: int, plan: CasePlan) -> bool:
        """The filing conversation, answer by answer, then the submit; a spike check follows,
        as the minute job would have made it."""
        c, p, f = plan.citizen, plan.complaint, self.filing
        uid, where = c.user_id, p.location
        await people.touch_and_check(self.rt, uid, c.first_name, None, "fa")
        answers: list[Callable[[], Awaitable[Outcome]]] = [
            lambda: f.begin(uid),
            lambda: f.choose(uid, FilingStep.VIOLATION, p.violation),
            lambda: f.choose(uid, FilingStep.SECTOR, p.sector),
            lambda: f.choose(uid, FilingStep.PROVINCE, p.province),
            lambda: f.text(uid, p.city),
            lambda: f.text(uid, p.business),
            lambda: f.text(uid, p.address),
            (lambda: f.location(uid, *where)) if where else (lambda: f.skip(uid)),
            lambda: f.text(uid, p.description),
        ]
        if p.paid is None:
            answers.append(lambda: f.skip(uid))  # skips the fair price too
        else:
            answers.append(lambda: f.text(uid, p.paid or ""))
            answers.append((lambda: f.text(uid, p.fair or "")) if p.fair else (lambda: f.skip(uid)))
        answers.append(lambda: f.finish_evidence(uid))
        if p.shares_phone and c.phone:
            shared = "98" + c.phone[1:]  # as Telegram sends a shared contact
            answers.append(lambda: f.contact(uid, shared, uid))
        else:
            answers.append(lambda: f.stay_anonymous(uid))
        for answer in answers:
            outcome = await answer()
            if outcome.draft is not None and outcome.draft.step == FilingStep.DUPLICATE:
                # Others already reported the shop: the plan files each complaint on its own.
                outcome = await f.choose(uid, FilingStep.DUPLICATE, SEPARATE)
            if outcome.problem is not None or outcome.draft is None:
                log.warning("seed: case %d: filing refused: %s", index, outcome.problem)
                await f.cancel(uid)
                return False
        submitted = await f.submit(uid)
        if not isinstance(submitted, Submitted):
            await f.cancel(uid)
            return False
        self.case_ids[index] = submitted.case_id
        self.codes[index] = submitted.code
        await alerts.check_spikes(self.rt)
        return True


def _sweeps(calendar: WorkCalendar, plans: list[CasePlan], now: datetime) -> list[datetime]:
    """When the system's jobs look at the desk in the simulated past: every two working hours
    and at each day's close (SLA clocks move only in working time), from the first case to
    `now`. The bot looks every minute; an alert of the past may thus be up to two hours late,
    which nobody reading the history can tell, and costs a hundredth of the checks."""
    if not plans:
        return []
    found: list[datetime] = []
    day = plans[0].filed_at.astimezone(calendar.tz).date()
    while day <= now.astimezone(calendar.tz).date():
        shift = calendar.shift_on(day)
        if shift is not None:
            start, end = shift
            at = start + timedelta(minutes=30)
            while at < end:
                found.append(at)
                at += SWEEP_EVERY
            found.append(end - timedelta(minutes=1))
        day += timedelta(days=1)
    return [at for at in found if at <= now]


async def _settle_outbox(engine: AsyncEngine, *, after_id: int, at: set[datetime]) -> int:
    """Record every message the seeded past queued as delivered, when it was queued.

    In one transaction, only rows the seed made: pending, newer than the newest row before it
    began (`after_id`), and queued at one of the simulated moments `at` (a bound on "queued no
    later than now" would also take a message another process, its clock a little behind,
    queued meanwhile). They get `sent` with `sent_at = created_at` and one attempt, like a row
    the worker sent at once; no `result_message_id`, since no message exists. Returns how
    many."""
    moments = sorted(at)
    settled = 0
    async with engine.begin() as conn:
        for start in range(0, len(moments), SETTLE_CHUNK):
            result = await conn.execute(
                update(outbox)
                .where(
                    outbox.c.status == "pending",
                    outbox.c.id > after_id,
                    outbox.c.created_at.in_(moments[start : start + SETTLE_CHUNK]),
                )
                .values(status="sent", sent_at=outbox.c.created_at, attempts=outbox.c.attempts + 1)
            )
            settled += int(result.rowcount or 0)
    return settled
