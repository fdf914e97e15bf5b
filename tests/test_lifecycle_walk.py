"""Walk every (state, action) pair the lifecycle allows, through the real desk service on a real
database, and check after each step that a case that is not finished always has someone who
can act on it: its holder, its unit, or the open queue.

States are told apart by what decides who can act — the status, whether someone holds the case,
whether a unit has it, and where an open question returns it. Each state is rebuilt on a fresh
case by replaying the path that first reached it, so every step runs the desk's own checks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.config import load_settings
from bot.domain import tracking
from bot.domain.lifecycle import Action, Status
from bot.services.desk import Desk, Done
from bot.services.my_cases import MyCases
from bot.services.runtime import Runtime
from bot.storage import cases as case_store
from bot.storage import desk as desk_store
from bot.storage import users as user_store
from bot.storage.db import create_engine
from bot.storage.tables import cases, units

CITIZEN, S1, S2, SUP = 1001, 9101, 9102, 9201
TERMINAL = {Status.CLOSED, Status.REJECTED, Status.MERGED}
Signature = tuple[str, bool, bool, str | None]
Step = Callable[["World", int], Awaitable[Any]]


class World:
    def __init__(self, rt: Runtime, unit_id: int) -> None:
        self.rt, self.desk, self.unit_id = rt, Desk(rt), unit_id
        self.serial = 0

    async def new_case(self) -> int:
        self.serial += 1
        body = f"{self.serial:09d}"
        code = body + tracking.check_digit(body)
        now = self.rt.now()
        async with self.rt.engine.begin() as conn:
            case_id = await case_store.insert_case(
                conn,
                {
                    "code": code,
                    "citizen_id": CITIZEN,
                    "status": Status.NEW.value,
                    "violation": "overpricing",
                    "sector": "food",
                    "province": "23",
                    "city": "تهران",
                    "business": "نمونه",
                    "business_key": "نمونه",
                    "address": "خیابان یک",
                    "description": "شرح " * 10,
                    "contact_phone": "+989121234567",
                    "urgent": False,
                    "created_at": now,
                    "updated_at": now,
                },
            )
        return case_id

    async def row(self, case_id: int) -> dict[str, Any]:
        async with self.rt.engine.connect() as conn:
            return dict(
                (await conn.execute(select(cases).where(cases.c.id == case_id))).mappings().one()
            )

    async def holder_or_sup(self, case_id: int) -> Any:
        holder = (await self.row(case_id))["holder_id"]
        return await self.desk.actor(holder if holder is not None else SUP)


async def _merge(w: World, case_id: int) -> Any:
    other = await w.new_case()
    target = (await w.row(other))["code"]
    return await w.desk.merge(await w.holder_or_sup(case_id), case_id, target)


STEPS: dict[Action, Step] = {
    Action.CLAIM: lambda w, c: _as(w, S1, lambda a: w.desk.claim(a, c)),
    Action.RELEASE: lambda w, c: _as_holder(w, c, lambda a: w.desk.release(a, c, "مرخصی")),
    Action.REASSIGN: lambda w, c: _as(w, SUP, lambda a: w.desk.reassign(a, c, S2)),
    Action.REFER: lambda w, c: _as_holder(w, c, lambda a: w.desk.refer(a, c, w.unit_id)),
    Action.ACCEPT_REFERRAL: lambda w, c: _as(w, S2, lambda a: w.desk.accept_referral(a, c)),
    Action.RETURN_REFERRAL: lambda w, c: _as(w, S2, lambda a: w.desk.return_referral(a, c, "نه")),
    Action.ASK: lambda w, c: _as_holder(w, c, lambda a: w.desk.ask(a, c, "ساعت خرید؟")),
    Action.CITIZEN_ANSWER: lambda w, c: w.desk.citizen_answer(CITIZEN, c, "ساعت ۶", None),
    Action.NOTE: lambda w, c: _as(w, S1, lambda a: w.desk.note(a, c, "یادداشت")),
    Action.MARK_URGENT: lambda w, c: _as(w, S1, lambda a: w.desk.mark_urgent(a, c)),
    Action.RESOLVE: lambda w, c: _as_holder(
        w, c, lambda a: w.desk.resolve(a, c, "resolved", "تذکر داده شد")
    ),
    Action.REJECT: lambda w, c: _as_holder(w, c, lambda a: w.desk.reject(a, c, "تکراری")),
    Action.MERGE: _merge,
    Action.REOPEN: lambda w, c: _as(w, SUP, lambda a: w.desk.reopen(a, c, "مدرک تازه")),
    Action.CLOSE: lambda w, c: _close(w),
    # These cases have a citizen already: linking them to another chat changes nothing.
    Action.LINK: lambda w, c: _link(w, c),
}


async def _link(w: World, case_id: int) -> Any:
    code = (await w.row(case_id))["code"]
    return await MyCases(w.rt).link(S2, code, "+989121234567")


async def _as(w: World, user_id: int, act: Callable[[Any], Awaitable[Any]]) -> Any:
    return await act(await w.desk.actor(user_id))


async def _as_holder(w: World, case_id: int, act: Callable[[Any], Awaitable[Any]]) -> Any:
    return await act(await w.holder_or_sup(case_id))


async def _close(w: World) -> Any:
    """The system closes resolved cases after the reopening window."""
    w.rt.clock = lambda: datetime.now(UTC) + timedelta(days=30)
    try:
        return await w.desk.close_expired()
    finally:
        w.rt.clock = lambda: datetime.now(UTC)


def _signature(row: dict[str, Any]) -> Signature:
    return (
        row["status"],
        row["holder_id"] is not None,
        row["unit_id"] is not None,
        row["asked_from"],
    )


def _someone_can_act(row: dict[str, Any]) -> bool:
    status = Status(row["status"])
    if status in TERMINAL or status == Status.RESOLVED:  # resolved: the close sweep, the citizen
        return True
    if status in (Status.NEW, Status.REOPENED):
        return row["holder_id"] is None  # in the open queue, for anyone to claim
    if status == Status.CLAIMED:
        return row["holder_id"] is not None
    if status == Status.REFERRED:
        return row["unit_id"] is not None
    # awaiting the citizen: their answer goes back to someone who can act on it
    return row["holder_id"] is not None or row["unit_id"] is not None


async def test_every_reachable_state_has_someone_to_act(db_url: str) -> None:
    settings = load_settings(
        bot_token="123456:TEST-TOKEN-abcdef", database_url=db_url, _env_file=None
    )
    engine = create_engine(db_url)
    rt = Runtime(engine=engine, settings=settings)
    try:
        now = rt.now()
        async with engine.begin() as conn:
            for uid in (CITIZEN, S1, S2, SUP):
                await user_store.touch(
                    conn, uid, first_name=str(uid), username=None, language_code=None, now=now
                )
            for uid, role in ((S1, "staff"), (S2, "staff"), (SUP, "supervisor")):
                await desk_store.set_role(conn, uid, role, now)
            unit_id = (
                await conn.execute(select(units.c.id).where(units.c.code == "market_regulation"))
            ).scalar_one()
        world = World(rt, unit_id)

        async def replay(path: tuple[Action, ...]) -> int:
            case_id = await world.new_case()
            for action in path:
                await STEPS[action](world, case_id)
            return case_id

        start = await replay(())
        seen: dict[Signature, tuple[Action, ...]] = {_signature(await world.row(start)): ()}
        frontier = [()]
        tried = 0
        while frontier:
            path = frontier.pop(0)
            for action in Action:
                if action == Action.SUBMIT:
                    continue
                case_id = await replay(path)
                before = await world.row(case_id)
                result = await STEPS[action](world, case_id)
                after = await world.row(case_id)
                tried += 1
                moved = isinstance(result, Done) or (action == Action.CLOSE and result)
                if not moved:
                    assert _signature(after) == _signature(before), (path, action)
                    continue
                assert _someone_can_act(after), (path, action, _signature(after))
                sig = _signature(after)
                if sig not in seen and Status(after["status"]) not in TERMINAL:
                    seen[sig] = (*path, action)
                    frontier.append((*path, action))
        statuses = {sig[0] for sig in seen}
        assert {s.value for s in Status} - statuses <= {s.value for s in TERMINAL}
        assert ("referred", False, True, None) in seen
        assert ("awaiting_citizen", False, True, "referred") in seen  # asked while referred
        assert tried > 100
    finally:
        await engine.dispose()
