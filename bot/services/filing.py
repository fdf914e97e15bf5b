"""Filing a complaint: the draft moves step by step, saved to the database after every answer.

Nothing here knows Telegram. Each public method takes the user's id, the kind of draft
(`DraftKind`: the citizen's own complaint, or a phone call a desk member is registering — the
same steps, one draft of each kind per user) and one input, runs in one transaction, and
returns an `Outcome`: the draft as it now stands and, when the input was refused, the `Problem`
to explain. `submit()` commits the case and queues the staff card in the same transaction, and
only then returns the tracking code. `record_case()` is that commit, for any channel.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Collection
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import jalali, text
from bot.domain import tracking, typed
from bot.domain.catalogue import PROVINCES_BY_CODE, SECTORS_BY_CODE, VIOLATIONS_BY_CODE
from bot.domain.channels import Channel
from bot.domain.complaint import (
    CALLER_NAME_LIMITS,
    CHOICE_STEPS,
    DUPLICATE_CHOICES,
    EDIT_GROUPS_OF,
    FILES_SHOWN_AT,
    JOIN,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    ONE_LINE_STEPS,
    PRICE_STEPS,
    SKIPPABLE_STEPS,
    TEXT_LIMITS,
    TEXT_STEPS,
    DraftData,
    DraftKind,
    Problem,
    Step,
    acceptable_evidence,
    next_step,
)
from bot.domain.lifecycle import OPEN_STATES, Action, Status, transition
from bot.domain.purposes import Purpose
from bot.domain.roles import DESK_ROLES
from bot.domain.routing import CaseKeys
from bot.services import cards, duplicates
from bot.services.runtime import Runtime
from bot.storage import cases as case_store
from bot.storage import desk as desk_store
from bot.storage import drafts as draft_store
from bot.storage import outbox as outbox_store
from bot.storage.rows import CaseRow, DraftRow, UnitRow
from bot.views import calls as call_views
from bot.views import citizen as citizen_views
from bot.views import labels as L

COMPLAINT, CALL = DraftKind.COMPLAINT, DraftKind.CALL
_CATALOGUES: dict[Step, Collection[str]] = {
    Step.VIOLATION: VIOLATIONS_BY_CODE,
    Step.SECTOR: SECTORS_BY_CODE,
    Step.PROVINCE: PROVINCES_BY_CODE,
    Step.DUPLICATE: DUPLICATE_CHOICES,
}


@dataclass(frozen=True)
class DraftView:
    step: Step
    data: DraftData
    attachments: int
    edit_group: str | None
    kind: DraftKind = COMPLAINT
    # For an operator's duplicate step: the codes of the open cases found (staff may see them).
    codes: tuple[str, ...] = ()
    unit: str | None = None  # a call marked «فوری»: the name of the unit it will go to


@dataclass(frozen=True)
class Outcome:
    draft: DraftView | None = None
    problem: Problem | None = None
    expired: bool = False  # an idle draft was dropped just before this input
    duplicate: bool = False  # the same file arrived twice (a redelivered update)


@dataclass(frozen=True)
class Attachment:
    kind: str  # photo / document / video
    file_id: str
    file_unique_id: str
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    media_group_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Submitted:
    code: str
    case_id: int
    created_at: datetime
    joined: str | None = None  # the code of the case it joined as a supporting report
    unit: str | None = None  # a call marked urgent: the unit it was referred to at once


@dataclass(frozen=True)
class Recorded:
    """A case written by `record_case`: its id, code and what became of it."""

    case_id: int
    code: str
    joined: CaseRow | None
    unit: UnitRow | None


@dataclass
class _Loaded:
    row: DraftRow
    data: DraftData
    step: Step
    edit_group: str | None
    kind: DraftKind = COMPLAINT
    count: int = field(default=0)


class Filing:
    """The citizen's side of creating a case, and the operator's for a call."""

    def __init__(self, rt: Runtime, rng: random.Random | None = None) -> None:
        self.rt = rt
        self.rng = rng

    # -- reading -----------------------------------------------------------------------------

    async def current(self, user_id: int, kind: DraftKind = COMPLAINT) -> Outcome:
        """The open draft, if any (dropping it first when it has been idle too long).

        Read first: it runs on nearly every update of a citizen filing, and only a draft idle
        too long needs a write (on SQLite a write transaction takes the one write lock)."""
        async with self.rt.engine.connect() as conn:
            row = await draft_store.get(conn, user_id, kind=kind)
            if row is None:
                return Outcome()
            if not self._idle(row):
                return Outcome(draft=await self._view(conn, self._loaded(row, kind)))
        async with self.rt.engine.begin() as conn:  # idle too long: dropped, if it still is
            loaded, expired = await self._load(conn, user_id, kind)
            if loaded is None:
                return Outcome(expired=expired)
            return Outcome(draft=await self._view(conn, loaded))

    # -- starting and stopping -----------------------------------------------------------------

    async def begin(self, user_id: int, kind: DraftKind = COMPLAINT) -> Outcome:
        """Start filing (or registering a call), or resume the open draft where it stands."""
        async with self.rt.engine.begin() as conn:
            if kind == CALL and not await self._on_desk(conn, user_id):
                return Outcome(problem=Problem.NOT_DESK)
            loaded, expired = await self._load(conn, user_id, kind)
            if loaded is not None:
                return Outcome(draft=await self._view(conn, loaded))
            if kind == COMPLAINT and await self._over_daily_limit(conn, user_id):
                return Outcome(problem=Problem.DAILY_LIMIT, expired=expired)
            row = await draft_store.create(
                conn, user_id, Step.VIOLATION, DraftData().model_dump(), self.rt.now(), kind=kind
            )
            loaded = _Loaded(row, DraftData(), Step.VIOLATION, None, kind)
            return Outcome(draft=await self._view(conn, loaded), expired=expired)

    async def cancel(self, user_id: int, kind: DraftKind = COMPLAINT) -> bool:
        """Drop the open draft; False when there was none."""
        async with self.rt.engine.begin() as conn:
            row = await draft_store.get(conn, user_id, kind=kind, lock=True)
            if row is None:
                return False
            await draft_store.delete_draft(conn, row["id"])
            return True

    # -- answers -----------------------------------------------------------------------------

    async def choose(
        self, user_id: int, step: str, code: str, kind: DraftKind = COMPLAINT
    ) -> Outcome:
        """An inline-button answer; the button must belong to the step the draft is on."""
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id, kind, lock=True)
            if loaded is None:
                return Outcome(problem=Problem.NO_DRAFT, expired=expired)
            if loaded.step.value != step or loaded.step not in CHOICE_STEPS:
                return await self._refuse(conn, loaded, Problem.STALE_BUTTON)
            if code not in _CATALOGUES[loaded.step]:
                return await self._refuse(conn, loaded, Problem.STALE_BUTTON)
            return await self._take_choice(conn, loaded, code)

    async def text(self, user_id: int, raw: str, kind: DraftKind = COMPLAINT) -> Outcome:
        """Free text typed at the current step; at a button step, a button's label (or, on an
        operator's numbered list, its number) typed instead of pressed."""
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id, kind, lock=True)
            if loaded is None:
                return Outcome(problem=Problem.NO_DRAFT, expired=expired)
            step = loaded.step
            if step in TEXT_STEPS:
                value = text.normalize(raw)
                if step in ONE_LINE_STEPS:
                    value = " ".join(value.split())
                low, high = TEXT_LIMITS[step]
                if text.length(value) < low:
                    return await self._refuse(conn, loaded, Problem.TOO_SHORT)
                if text.length(value) > high:
                    return await self._refuse(conn, loaded, Problem.TOO_LONG)
                setattr(loaded.data, step.value, value)
                return await self._advance(conn, loaded)
            if step in PRICE_STEPS:
                amount = text.parse_amount(raw)
                if amount is None:
                    return await self._refuse(conn, loaded, Problem.BAD_AMOUNT)
                setattr(loaded.data, step.value, amount)
                loaded.data.prices_skipped = False
                return await self._advance(conn, loaded)
            if step in CHOICE_STEPS:
                return await self._typed_choice(conn, loaded, raw)
            if step == Step.CALLER:
                return await self._caller(conn, loaded, raw)
            if step == Step.REVIEW and kind == CALL:
                return await self._typed_urgency(conn, loaded, raw)
            if step == Step.REVIEW:
                return await self._refuse(conn, loaded, Problem.USE_BUTTONS)
            return await self._refuse(conn, loaded, Problem.WRONG_INPUT)

    async def wrong_input(self, user_id: int, kind: DraftKind = COMPLAINT) -> Outcome:
        """Something the current step cannot take (a sticker, a voice note, a poll…)."""

        async def refuse(conn: AsyncConnection, loaded: _Loaded) -> Outcome:
            return await self._refuse(conn, loaded, Problem.WRONG_INPUT)

        return await self._on_draft(user_id, refuse, kind=kind)

    async def location(self, user_id: int, latitude: float, longitude: float) -> Outcome:
        async def take(conn: AsyncConnection, loaded: _Loaded) -> Outcome:
            loaded.data.latitude = max(-90.0, min(90.0, float(latitude)))
            loaded.data.longitude = max(-180.0, min(180.0, float(longitude)))
            loaded.data.location_skipped = False
            return await self._advance(conn, loaded)

        return await self._on_draft(user_id, take, steps={Step.LOCATION})

    async def skip(self, user_id: int, kind: DraftKind = COMPLAINT) -> Outcome:
        """«بعدی» (Skip) on an optional step (location, prices, evidence)."""

        async def take(conn: AsyncConnection, loaded: _Loaded) -> Outcome:
            step = loaded.step
            if step == Step.LOCATION:
                loaded.data.latitude = loaded.data.longitude = None
                loaded.data.location_skipped = True
            elif step == Step.PRICE_PAID:
                # No price paid means no comparison either: skip the pair.
                loaded.data.price_paid = loaded.data.price_fair = None
                loaded.data.prices_skipped = True
                loaded.step = Step.PRICE_FAIR
            elif step == Step.PRICE_FAIR:
                loaded.data.price_fair = None
            elif step == Step.EVIDENCE:
                loaded.data.evidence_done = True
            return await self._advance(conn, loaded)

        return await self._on_draft(user_id, take, steps=SKIPPABLE_STEPS, kind=kind)

    async def attach(self, user_id: int, item: Attachment) -> Outcome:
        """A photo, document or video at the evidence step (albums arrive one item at a time)."""

        async def take(conn: AsyncConnection, loaded: _Loaded) -> Outcome:
            if item.file_size is not None and item.file_size > MAX_ATTACHMENT_BYTES:
                return await self._refuse(conn, loaded, Problem.FILE_TOO_BIG)
            if item.kind == "document" and not acceptable_evidence(item.mime_type, item.file_name):
                return await self._refuse(conn, loaded, Problem.FILE_TYPE)
            count = await draft_store.attachment_count(conn, loaded.row["id"])
            if count >= MAX_ATTACHMENTS:
                return await self._refuse(conn, loaded, Problem.TOO_MANY_FILES)
            added = await draft_store.add_attachment(
                conn,
                loaded.row["id"],
                {
                    "kind": item.kind,
                    "file_id": item.file_id,
                    "file_unique_id": item.file_unique_id,
                    "file_name": item.file_name and item.file_name[:255],
                    "mime_type": item.mime_type and item.mime_type[:128],
                    "file_size": item.file_size,
                    "media_group_id": item.media_group_id,
                },
                self.rt.now(),
            )
            await self._save(conn, loaded)
            return Outcome(draft=await self._view(conn, loaded), duplicate=not added)

        return await self._on_draft(user_id, take, steps={Step.EVIDENCE})

    async def finish_evidence(self, user_id: int) -> Outcome:
        """«پایان ارسال مدارک»: move on with the files sent so far."""
        return await self.skip(user_id)

    async def clear_evidence(self, user_id: int) -> Outcome:
        async def take(conn: AsyncConnection, loaded: _Loaded) -> Outcome:
            await draft_store.clear_attachments(conn, loaded.row["id"])
            await self._save(conn, loaded)
            return Outcome(draft=await self._view(conn, loaded))

        return await self._on_draft(
            user_id, take, steps={Step.EVIDENCE}, otherwise=Problem.STALE_BUTTON
        )

    async def contact(self, user_id: int, phone: str, contact_user_id: int | None) -> Outcome:
        """A shared contact: only the citizen's own number is taken."""

        async def take(conn: AsyncConnection, loaded: _Loaded) -> Outcome:
            if contact_user_id != user_id:
                return await self._refuse(conn, loaded, Problem.NOT_OWN_CONTACT)
            # Telegram sends a shared contact's number in international form, often without +.
            raw = phone.strip()
            normalized = text.normalize_phone(raw if raw.startswith("+") else "+" + raw)
            if normalized is None:
                return await self._refuse(conn, loaded, Problem.BAD_PHONE)
            loaded.data.contact_phone = normalized
            loaded.data.anonymous = False
            return await self._advance(conn, loaded)

        return await self._on_draft(user_id, take, steps={Step.CONTACT})

    async def caller_card(self, user_id: int, phone: str, name: str | None) -> Outcome:
        """A call's caller sent as a contact card (from the operator's phone book)."""

        async def take(conn: AsyncConnection, loaded: _Loaded) -> Outcome:
            number = typed.iran_phone(phone)
            if number is None:
                return await self._refuse(conn, loaded, Problem.BAD_PHONE)
            given = text.normalize(name or "")[: CALLER_NAME_LIMITS[1]]
            loaded.data.caller_name = given if text.length(given) >= CALLER_NAME_LIMITS[0] else None
            loaded.data.contact_phone = number
            loaded.data.anonymous = False
            return await self._advance(conn, loaded)

        return await self._on_draft(user_id, take, steps={Step.CALLER}, kind=CALL)

    async def stay_anonymous(self, user_id: int, kind: DraftKind = COMPLAINT) -> Outcome:
        """«ادامه بدون نام» (a citizen), «تماس‌گیرنده نام نمی‌دهد» (a caller)."""

        async def take(conn: AsyncConnection, loaded: _Loaded) -> Outcome:
            loaded.data.contact_phone = loaded.data.caller_name = None
            loaded.data.anonymous = True
            return await self._advance(conn, loaded)

        return await self._on_draft(user_id, take, steps={Step.CONTACT, Step.CALLER}, kind=kind)

    async def edit(self, user_id: int, group: str | None, kind: DraftKind = COMPLAINT) -> Outcome:
        """From the review: start editing one part (`group`), or None to stay on the review."""
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id, kind, lock=True)
            if loaded is None:
                return Outcome(problem=Problem.NO_DRAFT, expired=expired)
            if loaded.step != Step.REVIEW and loaded.edit_group is None:
                return await self._refuse(conn, loaded, Problem.STALE_BUTTON)
            groups = EDIT_GROUPS_OF[kind]
            if group is None:
                loaded.step, loaded.edit_group = Step.REVIEW, None
            elif group in groups:
                loaded.step, loaded.edit_group = groups[group][0], group
                if group == "evidence":
                    loaded.data.evidence_done = False
            else:
                return await self._refuse(conn, loaded, Problem.STALE_BUTTON)
            await self._save(conn, loaded)
            return Outcome(draft=await self._view(conn, loaded))

    async def set_urgent(self, user_id: int, unit_id: int | None) -> Outcome:
        """«فوری» on a call's review: refer it at once to this unit when registered (None: not
        urgent after all). Only an active unit; a call joining a case is not referred."""
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id, CALL, lock=True)
            if loaded is None:
                return Outcome(problem=Problem.NO_DRAFT, expired=expired)
            if loaded.step != Step.REVIEW or loaded.data.duplicate_of is not None:
                return await self._refuse(conn, loaded, Problem.STALE_BUTTON)
            if unit_id is not None:
                unit = await desk_store.unit(conn, unit_id)
                if unit is None or not unit["active"]:
                    return await self._refuse(conn, loaded, Problem.STALE_BUTTON)
            loaded.data.urgent_unit = unit_id
            await self._save(conn, loaded)
            return Outcome(draft=await self._view(conn, loaded))

    async def units(self) -> list[UnitRow]:
        """The units a call can be referred to at once."""
        async with self.rt.engine.connect() as conn:
            return await desk_store.all_units(conn)

    # -- submitting --------------------------------------------------------------------------

    async def submit(self, user_id: int, kind: DraftKind = COMPLAINT) -> Submitted | Outcome:
        """Commit the case, its first events, its evidence, the receipt and the staff card,
        atomically; the outbox then delivers the receipt and the card."""
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id, kind, lock=True)
            if loaded is None:
                return Outcome(problem=Problem.NO_DRAFT, expired=expired)
            if loaded.step != Step.REVIEW:
                return await self._refuse(conn, loaded, Problem.STALE_BUTTON)
            if loaded.data.missing(kind):
                return await self._refuse(conn, loaded, Problem.INCOMPLETE)
            if kind == CALL and not await self._on_desk(conn, user_id):
                return await self._refuse(conn, loaded, Problem.NOT_DESK)
            if kind == COMPLAINT and await self._over_daily_limit(conn, user_id):
                return await self._refuse(conn, loaded, Problem.DAILY_LIMIT)
            now = self.rt.now()
            if kind == CALL:
                channel, citizen, taken_by = Channel.PHONE, None, user_id
            else:
                channel, citizen, taken_by = Channel.CHAT, user_id, None
            recorded = await self.record_case(
                conn,
                loaded.data,
                channel=channel,
                citizen_id=citizen,
                taken_by=taken_by,
                actor_id=user_id,
                now=now,
                join=loaded.data.duplicate_of is not None,
                urgent_unit=loaded.data.urgent_unit if kind == CALL else None,
                draft_id=loaded.row["id"],
            )
            await draft_store.delete_draft(conn, loaded.row["id"])
            joined = recorded.joined["code"] if recorded.joined else None
            unit = recorded.unit["name"] if recorded.unit else None
            # The receipt with the tracking code goes through the outbox too: committed with
            # the case, it reaches the citizen (or the operator) even if a first try fails.
            receipt = (
                call_views.registered(
                    recorded.code,
                    unit=unit,
                    joined=joined,
                    mobile=text.normalize_phone(loaded.data.contact_phone or "") is not None,
                )
                if kind == CALL
                else citizen_views.joined_receipt(recorded.code)
                if joined is not None
                else citizen_views.submitted(
                    recorded.code, self.rt.settings.expected_first_answer_work_days
                )
            )
            await outbox_store.enqueue(
                conn,
                chat_id=user_id,
                method="sendMessage",
                payload=receipt.payload(),
                purpose=Purpose.RECEIPT,
                case_id=recorded.case_id,
                now=now,
            )
        self.rt.ring()
        return Submitted(recorded.code, recorded.case_id, now, joined=joined, unit=unit)

    async def record_case(
        self,
        conn: AsyncConnection,
        data: DraftData,
        *,
        channel: Channel,
        citizen_id: int | None,
        taken_by: int | None,
        actor_id: int | None,
        now: datetime,
        join: bool = False,
        urgent_unit: int | None = None,
        draft_id: int | None = None,
    ) -> Recorded:
        """Write a case from complete answers, whatever channel brought them, in the caller's
        transaction: the case, its audit trail, its evidence (from `draft_id`) and the staff
        card; no receipt (that is the channel's own business).

        `join`: the report joins the oldest open case about the same business as a supporting
        report (merged into it at once; that case's card shows it), if one is still open —
        else it is filed on its own. `urgent_unit`: a call taken by `actor_id` is claimed by
        them, marked urgent and referred to that unit at once, and they stay its holder.
        """
        target = await self._join_target(conn, data, citizen_id) if join else None
        unit = None
        if urgent_unit is not None and target is None:
            row = await desk_store.unit(conn, urgent_unit)
            unit = row if row is not None and row["active"] else None
        path = [Action.SUBMIT]
        values = _case_values(data, citizen_id, channel, taken_by, now)
        if unit is not None:
            path += [Action.CLAIM, Action.MARK_URGENT, Action.REFER]
            values.update(
                holder_id=actor_id,
                claimed_at=now,
                urgent=True,
                unit_id=unit["id"],
                referred_at=now,
            )
        if target is not None:
            path.append(Action.MERGE)
            values["merged_into"] = target["id"]
        statuses: list[Status | None] = [None]
        for action in path:
            statuses.append(transition(action, statuses[-1]))
        values["status"] = statuses[-1].value if statuses[-1] else None
        while True:
            code = tracking.generate(self.rng)
            try:
                case_id = await case_store.insert_case(conn, {**values, "code": code})
                break
            except case_store.CodeTaken:
                continue
        notes = {
            Action.REFER: unit["name"] if unit else None,
            Action.MERGE: target["code"] if target else None,
        }
        for action, before, after in zip(path, statuses[:-1], statuses[1:], strict=True):
            await case_store.add_event(
                conn,
                case_id,
                action=action,
                at=now,
                actor_id=actor_id,
                from_status=before.value if before else None,
                to_status=after.value if after else None,
                note=notes.get(action),
                public=action != Action.MARK_URGENT,
            )
        if draft_id is not None:
            await case_store.move_attachments(conn, draft_id, case_id)
        if target is not None:
            # A supporting report gets no card of its own: the case it joined shows it.
            await cards.queue_refresh(
                conn, target["id"], staff_chat_id=self.rt.settings.staff_chat_id, now=now
            )
        else:
            keys = CaseKeys(values["province"], values["sector"], values["violation"])
            await self._queue_staff_card(conn, case_id, keys, now)
            if unit is not None:
                await cards.queue_unit_card(conn, case_id, unit, now)
        return Recorded(case_id, code, target, unit)

    # -- housekeeping ------------------------------------------------------------------------

    async def expire_idle(self) -> int:
        """Drop drafts idle past the limit and tell their owners (through the outbox)."""
        cutoff = self.rt.now() - self.idle_limit
        dropped = 0
        async with self.rt.engine.begin() as conn:
            for row in await draft_store.idle_since(conn, cutoff):
                await draft_store.delete_draft(conn, row["id"])
                notice = (
                    call_views.call_expired().payload()
                    if row["kind"] == CALL
                    else citizen_views.draft_expired_notice()
                )
                await outbox_store.enqueue(
                    conn,
                    chat_id=row["user_id"],
                    method="sendMessage",
                    payload=notice,
                    purpose=Purpose.DRAFT_EXPIRED,
                    now=self.rt.now(),
                )
                dropped += 1
        if dropped:
            self.rt.ring()
        return dropped

    @property
    def idle_limit(self) -> timedelta:
        return timedelta(hours=self.rt.settings.draft_idle_hours)

    # -- internals -----------------------------------------------------------------------------

    async def _on_draft(
        self,
        user_id: int,
        work: Callable[[AsyncConnection, _Loaded], Awaitable[Outcome]],
        *,
        steps: Collection[Step] | None = None,
        otherwise: Problem = Problem.WRONG_INPUT,
        kind: DraftKind = COMPLAINT,
    ) -> Outcome:
        """The preamble every input shares: lock the open draft (dropping it if idle), refuse
        with `otherwise` unless it stands at one of `steps`, then do `work` in the same
        transaction."""
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id, kind, lock=True)
            if loaded is None:
                return Outcome(problem=Problem.NO_DRAFT, expired=expired)
            if steps is not None and loaded.step not in steps:
                return await self._refuse(conn, loaded, otherwise)
            return await work(conn, loaded)

    async def _load(
        self, conn: AsyncConnection, user_id: int, kind: DraftKind, *, lock: bool = False
    ) -> tuple[_Loaded | None, bool]:
        row = await draft_store.get(conn, user_id, kind=kind, lock=lock)
        if row is None:
            return None, False
        if self._idle(row):
            await draft_store.delete_draft(conn, row["id"])
            return None, True
        return self._loaded(row, kind), False

    def _idle(self, row: DraftRow) -> bool:
        return row["updated_at"] < self.rt.now() - self.idle_limit

    @staticmethod
    def _loaded(row: DraftRow, kind: DraftKind) -> _Loaded:
        data = DraftData.model_validate(row["data"])
        return _Loaded(row, data, Step(row["step"]), row["edit_group"], kind)

    async def _view(self, conn: AsyncConnection, loaded: _Loaded) -> DraftView:
        count = (
            await draft_store.attachment_count(conn, loaded.row["id"])
            if loaded.step in FILES_SHOWN_AT
            else 0
        )
        codes: tuple[str, ...] = ()
        if loaded.step == Step.DUPLICATE and loaded.kind == CALL:
            codes = tuple(c["code"] for c in await self._matches(conn, loaded.data, None))
        unit = None
        if loaded.data.urgent_unit is not None:
            row = await desk_store.unit(conn, loaded.data.urgent_unit)
            unit = row["name"] if row else None
        return DraftView(
            loaded.step, loaded.data, count, loaded.edit_group, loaded.kind, codes, unit
        )

    async def _save(self, conn: AsyncConnection, loaded: _Loaded) -> None:
        await draft_store.save(
            conn,
            loaded.row["id"],
            step=loaded.step.value,
            data=loaded.data.model_dump(),
            edit_group=loaded.edit_group,
            now=self.rt.now(),
        )

    async def _advance(self, conn: AsyncConnection, loaded: _Loaded) -> Outcome:
        nxt = next_step(loaded.step, loaded.edit_group, loaded.kind)
        if nxt == Step.DUPLICATE and not await self._offer_join(conn, loaded):
            nxt = next_step(Step.DUPLICATE, loaded.edit_group, loaded.kind)
        if nxt == Step.REVIEW:
            # Anything still unanswered (a new draft's later steps) comes before the review.
            missing = loaded.data.missing(loaded.kind)
            if missing and loaded.edit_group is not None:
                nxt = missing[0]
                loaded.edit_group = None
            elif not missing:
                loaded.edit_group = None
        loaded.step = nxt
        await self._save(conn, loaded)
        return Outcome(draft=await self._view(conn, loaded))

    async def _refuse(self, conn: AsyncConnection, loaded: _Loaded, problem: Problem) -> Outcome:
        # Touch the draft: a citizen who is trying is not idle.
        await self._save(conn, loaded)
        return Outcome(draft=await self._view(conn, loaded), problem=problem)

    async def _take_choice(self, conn: AsyncConnection, loaded: _Loaded, code: str) -> Outcome:
        if loaded.step == Step.DUPLICATE:
            join = code == JOIN and loaded.data.duplicate_target is not None
            loaded.data.duplicate_of = loaded.data.duplicate_target if join else None
            if join:
                loaded.data.urgent_unit = None  # the case it joins is already being handled
        else:
            setattr(loaded.data, loaded.step.value, code)
        return await self._advance(conn, loaded)

    async def _typed_choice(self, conn: AsyncConnection, loaded: _Loaded, raw: str) -> Outcome:
        """A button's label typed at a button step. At the province, «اصفهان، کاشان» answers
        the city too."""
        step = loaded.step
        options = citizen_views.choice_options(step)
        numbered = loaded.kind == CALL and step in (Step.VIOLATION, Step.SECTOR)
        said, city = raw, None
        if step == Step.PROVINCE:
            said, _sep, rest = text.normalize(raw).replace(",", "،").partition("،")
            city = rest.strip() or None
        codes = typed.match_choice(said, options, numbered=numbered)
        if len(codes) > 1:
            return await self._refuse(conn, loaded, Problem.AMBIGUOUS)
        if not codes:
            return await self._refuse(conn, loaded, Problem.USE_BUTTONS)
        if city is not None:
            low, high = TEXT_LIMITS[Step.CITY]
            if low <= text.length(city) <= high:
                loaded.data.city = city
                loaded.data.province = codes[0]
                loaded.step = Step.CITY  # answered too: move on from there
                return await self._advance(conn, loaded)
        return await self._take_choice(conn, loaded, codes[0])

    async def _caller(self, conn: AsyncConnection, loaded: _Loaded, raw: str) -> Outcome:
        """The caller's name and number, typed by the operator: both, or the number alone."""
        said = typed.split_caller(raw)
        if said is None:
            return await self._refuse(conn, loaded, Problem.BAD_PHONE)
        name, phone = said
        if phone is None:
            return await self._refuse(conn, loaded, Problem.BAD_PHONE)
        low, high = CALLER_NAME_LIMITS
        if name and text.length(name) > high:
            return await self._refuse(conn, loaded, Problem.TOO_LONG)
        loaded.data.caller_name = name if text.length(name) >= low else None
        loaded.data.contact_phone = phone
        loaded.data.anonymous = False
        return await self._advance(conn, loaded)

    async def _typed_urgency(self, conn: AsyncConnection, loaded: _Loaded, raw: str) -> Outcome:
        """On a call's review, «فوری تنظیم بازار» (or just the unit's name) refers it at once to
        that unit; «عادی» takes the urgency back."""
        said = L.strip_word(raw, L.URGENT)
        if L.matches(said, L.NOT_URGENT):
            loaded.data.urgent_unit = None
            await self._save(conn, loaded)
            return Outcome(draft=await self._view(conn, loaded))
        if loaded.data.duplicate_of is not None:
            return await self._refuse(conn, loaded, Problem.USE_BUTTONS)
        units = await desk_store.all_units(conn)
        options = [(str(u["id"]), u["name"]) for u in units]
        codes = typed.match_choice(said, options)
        if len(codes) > 1:
            return await self._refuse(conn, loaded, Problem.AMBIGUOUS)
        if not codes:
            return await self._refuse(conn, loaded, Problem.USE_BUTTONS)
        loaded.data.urgent_unit = int(codes[0])
        await self._save(conn, loaded)
        return Outcome(draft=await self._view(conn, loaded))

    async def _matches(
        self, conn: AsyncConnection, data: DraftData, citizen_id: int | None
    ) -> list[CaseRow]:
        if not data.business or not data.city:
            return []
        return await duplicates.open_matches(
            conn,
            business=data.business,
            city=data.city,
            latitude=data.latitude,
            longitude=data.longitude,
            citizen_id=citizen_id,
        )

    async def _offer_join(self, conn: AsyncConnection, loaded: _Loaded) -> bool:
        """Before the duplicate step: True (and the count and target noted) when the business
        has open cases to offer; else the step is skipped and any earlier choice forgotten."""
        found = await self._matches(conn, loaded.data, _citizen_of(loaded))
        data = loaded.data
        data.duplicates = len(found)
        data.duplicate_target = found[0]["id"] if found else None
        if data.duplicate_of is not None and data.duplicate_of != data.duplicate_target:
            data.duplicate_of = None
        return bool(found)

    async def _join_target(
        self, conn: AsyncConnection, data: DraftData, citizen_id: int | None
    ) -> CaseRow | None:
        """The case a report joins at submit: the one chosen if it is still open, else the
        oldest other open case about the business, else none (filed on its own)."""
        if data.duplicate_of is not None:
            chosen = await case_store.by_id(conn, data.duplicate_of)
            if chosen and chosen["status"] in OPEN_STATES and chosen["merged_into"] is None:
                return chosen
        found = await self._matches(conn, data, citizen_id)
        return found[0] if found else None

    async def _on_desk(self, conn: AsyncConnection, user_id: int) -> bool:
        if user_id in self.rt.settings.admin_ids:
            return True
        return await desk_store.role_of(conn, user_id) in {r.value for r in DESK_ROLES}

    async def _over_daily_limit(self, conn: AsyncConnection, user_id: int) -> bool:
        start, _ = jalali.local_day_bounds(
            jalali.to_local(self.rt.now(), self.rt.settings.tz).date(), self.rt.settings.tz
        )
        count = await case_store.count_since(conn, user_id, start)
        return count >= self.rt.settings.max_complaints_per_day

    async def _queue_staff_card(
        self, conn: AsyncConnection, case_id: int, keys: CaseKeys, now: datetime
    ) -> None:
        desk = self.rt.settings.desk_for(keys)  # STAFF_ROUTES, else the staff group
        if desk is None:
            return
        payload: dict[str, Any] = {}  # the card itself is drawn when it is sent
        if desk.thread_id is not None:
            payload["message_thread_id"] = desk.thread_id
        await outbox_store.enqueue(
            conn,
            chat_id=desk.chat_id,
            method="sendMessage",
            payload=payload,
            purpose=Purpose.CASE_CARD,
            case_id=case_id,
            now=now,
        )


def _citizen_of(loaded: _Loaded) -> int | None:
    """Whose own cases a draft's duplicate check leaves out: the citizen filing (a call has
    nobody's)."""
    return loaded.row["user_id"] if loaded.kind == COMPLAINT else None


def _case_values(
    data: DraftData,
    citizen_id: int | None,
    channel: Channel,
    taken_by: int | None,
    now: datetime,
) -> dict[str, Any]:
    assert data.violation and data.sector and data.province
    assert data.city and data.business and data.address and data.description
    return {
        "citizen_id": citizen_id,
        "channel": channel.value,
        "taken_by": taken_by,
        "caller_name": data.caller_name if channel != Channel.CHAT else None,
        "violation": data.violation,
        "sector": data.sector,
        "province": data.province,
        "city": data.city,
        "business": data.business,
        "business_key": duplicates.business_key(data.business),
        "address": data.address,
        "latitude": data.latitude,
        "longitude": data.longitude,
        "description": data.description,
        "search_text": text.search_text(data.business, data.description),
        "price_paid": data.price_paid,
        "price_fair": data.price_fair,
        "contact_phone": data.contact_phone,
        "urgent": False,
        "created_at": now,
        "updated_at": now,
    }
