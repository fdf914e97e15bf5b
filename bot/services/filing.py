"""Filing a complaint: the draft moves step by step, saved to the database after every answer.

Nothing here knows Telegram. Each public method takes the citizen's id and one input, runs in
one transaction, and returns an `Outcome`: the draft as it now stands and, when the input was
refused, the `Problem` to explain. `submit()` commits the case and queues the staff card in the
same transaction, and only then returns the tracking code.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Collection
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import jalali, text
from bot.domain import tracking
from bot.domain.catalogue import PROVINCES_BY_CODE, SECTORS_BY_CODE, VIOLATIONS_BY_CODE
from bot.domain.complaint import (
    CHOICE_STEPS,
    EDIT_GROUPS,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    PRICE_STEPS,
    SKIPPABLE_STEPS,
    TEXT_LIMITS,
    TEXT_STEPS,
    DraftData,
    Problem,
    Step,
    acceptable_evidence,
    next_step,
)
from bot.domain.lifecycle import Action, transition
from bot.domain.purposes import Purpose
from bot.services.runtime import Runtime
from bot.storage import cases as case_store
from bot.storage import drafts as draft_store
from bot.storage import outbox as outbox_store
from bot.storage.rows import DraftRow
from bot.views import citizen as citizen_views


@dataclass(frozen=True)
class DraftView:
    step: Step
    data: DraftData
    attachments: int
    edit_group: str | None


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


@dataclass
class _Loaded:
    row: DraftRow
    data: DraftData
    step: Step
    edit_group: str | None
    count: int = field(default=0)


class Filing:
    """The citizen's side of creating a case."""

    def __init__(self, rt: Runtime, rng: random.Random | None = None) -> None:
        self.rt = rt
        self.rng = rng

    # -- reading -----------------------------------------------------------------------------

    async def current(self, user_id: int) -> Outcome:
        """The open draft, if any (dropping it first when it has been idle too long)."""
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id)
            if loaded is None:
                return Outcome(expired=expired)
            return Outcome(draft=await self._view(conn, loaded))

    # -- starting and stopping -----------------------------------------------------------------

    async def begin(self, user_id: int) -> Outcome:
        """Start filing, or resume the open draft where it stands."""
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id)
            if loaded is not None:
                return Outcome(draft=await self._view(conn, loaded))
            if await self._over_daily_limit(conn, user_id):
                return Outcome(problem=Problem.DAILY_LIMIT, expired=expired)
            row = await draft_store.create(
                conn, user_id, Step.VIOLATION, DraftData().model_dump(), self.rt.now()
            )
            loaded = _Loaded(row, DraftData(), Step.VIOLATION, None)
            return Outcome(draft=await self._view(conn, loaded), expired=expired)

    async def cancel(self, user_id: int) -> bool:
        """Drop the open draft; False when there was none."""
        async with self.rt.engine.begin() as conn:
            row = await draft_store.get(conn, user_id, lock=True)
            if row is None:
                return False
            await draft_store.delete_draft(conn, row["id"])
            return True

    # -- answers -----------------------------------------------------------------------------

    async def choose(self, user_id: int, step: str, code: str) -> Outcome:
        """An inline-button answer; the button must belong to the step the draft is on."""
        catalogues = {
            Step.VIOLATION: VIOLATIONS_BY_CODE,
            Step.SECTOR: SECTORS_BY_CODE,
            Step.PROVINCE: PROVINCES_BY_CODE,
        }
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id, lock=True)
            if loaded is None:
                return Outcome(problem=Problem.NO_DRAFT, expired=expired)
            if loaded.step.value != step or loaded.step not in CHOICE_STEPS:
                return await self._refuse(conn, loaded, Problem.STALE_BUTTON)
            if code not in catalogues[loaded.step]:
                return await self._refuse(conn, loaded, Problem.STALE_BUTTON)
            setattr(loaded.data, loaded.step.value, code)
            return await self._advance(conn, loaded)

    async def text(self, user_id: int, raw: str) -> Outcome:
        """Free text typed at the current step."""
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id, lock=True)
            if loaded is None:
                return Outcome(problem=Problem.NO_DRAFT, expired=expired)
            step = loaded.step
            if step in TEXT_STEPS:
                value = text.normalize(raw)
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
            if step in CHOICE_STEPS or step == Step.REVIEW:
                return await self._refuse(conn, loaded, Problem.USE_BUTTONS)
            return await self._refuse(conn, loaded, Problem.WRONG_INPUT)

    async def wrong_input(self, user_id: int) -> Outcome:
        """Something the current step cannot take (a sticker, a voice note, a poll…)."""

        async def refuse(conn: AsyncConnection, loaded: _Loaded) -> Outcome:
            return await self._refuse(conn, loaded, Problem.WRONG_INPUT)

        return await self._on_draft(user_id, refuse)

    async def location(self, user_id: int, latitude: float, longitude: float) -> Outcome:
        async def take(conn: AsyncConnection, loaded: _Loaded) -> Outcome:
            loaded.data.latitude = max(-90.0, min(90.0, float(latitude)))
            loaded.data.longitude = max(-180.0, min(180.0, float(longitude)))
            loaded.data.location_skipped = False
            return await self._advance(conn, loaded)

        return await self._on_draft(user_id, take, steps={Step.LOCATION})

    async def skip(self, user_id: int) -> Outcome:
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

        return await self._on_draft(user_id, take, steps=SKIPPABLE_STEPS)

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

    async def stay_anonymous(self, user_id: int) -> Outcome:
        async def take(conn: AsyncConnection, loaded: _Loaded) -> Outcome:
            loaded.data.contact_phone = None
            loaded.data.anonymous = True
            return await self._advance(conn, loaded)

        return await self._on_draft(user_id, take, steps={Step.CONTACT})

    async def edit(self, user_id: int, group: str | None) -> Outcome:
        """From the review: start editing one part (`group`), or None to stay on the review."""
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id, lock=True)
            if loaded is None:
                return Outcome(problem=Problem.NO_DRAFT, expired=expired)
            if loaded.step != Step.REVIEW and loaded.edit_group is None:
                return await self._refuse(conn, loaded, Problem.STALE_BUTTON)
            if group is None:
                loaded.step, loaded.edit_group = Step.REVIEW, None
            elif group in EDIT_GROUPS:
                loaded.step, loaded.edit_group = EDIT_GROUPS[group][0], group
                if group == "evidence":
                    loaded.data.evidence_done = False
            else:
                return await self._refuse(conn, loaded, Problem.STALE_BUTTON)
            await self._save(conn, loaded)
            return Outcome(draft=await self._view(conn, loaded))

    # -- submitting --------------------------------------------------------------------------

    async def submit(self, user_id: int) -> Submitted | Outcome:
        """Commit the case, its first event, its evidence, the citizen's receipt and the staff
        card, atomically; the outbox then delivers the receipt and the card."""
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id, lock=True)
            if loaded is None:
                return Outcome(problem=Problem.NO_DRAFT, expired=expired)
            if loaded.step != Step.REVIEW:
                return await self._refuse(conn, loaded, Problem.STALE_BUTTON)
            if loaded.data.missing():
                return await self._refuse(conn, loaded, Problem.INCOMPLETE)
            if await self._over_daily_limit(conn, user_id):
                return await self._refuse(conn, loaded, Problem.DAILY_LIMIT)
            now = self.rt.now()
            values = _case_values(loaded.data, user_id, now)
            while True:
                code = tracking.generate(self.rng)
                try:
                    case_id = await case_store.insert_case(conn, {**values, "code": code})
                    break
                except case_store.CodeTaken:
                    continue
            await case_store.add_event(
                conn,
                case_id,
                action=Action.SUBMIT,
                at=now,
                actor_id=user_id,
                from_status=None,
                to_status=values["status"],
            )
            await case_store.move_attachments(conn, loaded.row["id"], case_id)
            await draft_store.delete_draft(conn, loaded.row["id"])
            # The receipt with the tracking code goes through the outbox too: committed with
            # the case, it reaches the citizen even if the first attempt to send it fails.
            await outbox_store.enqueue(
                conn,
                chat_id=user_id,
                method="sendMessage",
                payload=citizen_views.submitted(
                    code, self.rt.settings.expected_first_answer_work_days
                ).payload(),
                purpose=Purpose.RECEIPT,
                case_id=case_id,
                now=now,
            )
            await self._queue_staff_card(conn, case_id, now)
        self.rt.ring()
        return Submitted(code=code, case_id=case_id, created_at=now)

    # -- housekeeping ------------------------------------------------------------------------

    async def expire_idle(self) -> int:
        """Drop drafts idle past the limit and tell their citizens (through the outbox)."""
        cutoff = self.rt.now() - self.idle_limit
        dropped = 0
        async with self.rt.engine.begin() as conn:
            for row in await draft_store.idle_since(conn, cutoff):
                await draft_store.delete_draft(conn, row["id"])
                notice = citizen_views.draft_expired_notice()
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
    ) -> Outcome:
        """The preamble every input shares: lock the open draft (dropping it if idle), refuse
        with `otherwise` unless it stands at one of `steps`, then do `work` in the same
        transaction."""
        async with self.rt.engine.begin() as conn:
            loaded, expired = await self._load(conn, user_id, lock=True)
            if loaded is None:
                return Outcome(problem=Problem.NO_DRAFT, expired=expired)
            if steps is not None and loaded.step not in steps:
                return await self._refuse(conn, loaded, otherwise)
            return await work(conn, loaded)

    async def _load(
        self, conn: AsyncConnection, user_id: int, *, lock: bool = False
    ) -> tuple[_Loaded | None, bool]:
        row = await draft_store.get(conn, user_id, lock=lock)
        if row is None:
            return None, False
        if row["updated_at"] < self.rt.now() - self.idle_limit:
            await draft_store.delete_draft(conn, row["id"])
            return None, True
        data = DraftData.model_validate(row["data"])
        return _Loaded(row, data, Step(row["step"]), row["edit_group"]), False

    async def _view(self, conn: AsyncConnection, loaded: _Loaded) -> DraftView:
        count = await draft_store.attachment_count(conn, loaded.row["id"])
        return DraftView(loaded.step, loaded.data, count, loaded.edit_group)

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
        nxt = next_step(loaded.step, loaded.edit_group)
        if nxt == Step.REVIEW:
            # Anything still unanswered (a new draft's later steps) comes before the review.
            missing = loaded.data.missing()
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

    async def _over_daily_limit(self, conn: AsyncConnection, user_id: int) -> bool:
        start, _ = jalali.local_day_bounds(
            jalali.to_local(self.rt.now(), self.rt.settings.tz).date(), self.rt.settings.tz
        )
        count = await case_store.count_since(conn, user_id, start)
        return count >= self.rt.settings.max_complaints_per_day

    async def _queue_staff_card(self, conn: AsyncConnection, case_id: int, now: datetime) -> None:
        settings = self.rt.settings
        if settings.staff_chat_id is None:
            return
        payload: dict[str, Any] = {}  # the card itself is drawn when it is sent
        if settings.staff_thread_id is not None:
            payload["message_thread_id"] = settings.staff_thread_id
        await outbox_store.enqueue(
            conn,
            chat_id=settings.staff_chat_id,
            method="sendMessage",
            payload=payload,
            purpose=Purpose.CASE_CARD,
            case_id=case_id,
            now=now,
        )


def _case_values(data: DraftData, user_id: int, now: datetime) -> dict[str, Any]:
    assert data.violation and data.sector and data.province
    assert data.city and data.business and data.address and data.description
    return {
        "citizen_id": user_id,
        "status": transition(Action.SUBMIT, None).value,
        "violation": data.violation,
        "sector": data.sector,
        "province": data.province,
        "city": data.city,
        "business": data.business,
        "business_key": text.normalize(data.business).casefold(),
        "address": data.address,
        "latitude": data.latitude,
        "longitude": data.longitude,
        "description": data.description,
        "price_paid": data.price_paid,
        "price_fair": data.price_fair,
        "contact_phone": data.contact_phone,
        "urgent": False,
        "created_at": now,
        "updated_at": now,
    }
