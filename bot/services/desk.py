"""The staff desk: every action on a case, checked and audited, in one transaction each.

Each action re-reads the case, checks the actor's role and whether they hold it, asks the
lifecycle table whether the move is legal, and writes with a compare-and-set on the status and
holder it read, so two people acting at once cannot both win. The event row, the citizen's
notice and the card refresh are written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import text
from bot.domain import pending, tracking
from bot.domain.lifecycle import (
    NEEDS_TEXT,
    Action,
    IllegalTransition,
    Outcome,
    Status,
    after_answer,
    citizen_may_reopen,
    transition,
)
from bot.domain.purposes import Purpose
from bot.domain.refusal import Refusal
from bot.domain.roles import DESK_ROLES, Role, may, sees_phone
from bot.services import cards
from bot.services.runtime import Runtime
from bot.storage import cases as case_store
from bot.storage import desk as desk_store
from bot.storage import outbox as outbox_store
from bot.storage import users as user_store
from bot.storage.rows import (
    AttachmentRow,
    CaseRow,
    EventRow,
    PromptRow,
    StaffMember,
    UnitRow,
)
from bot.views import notices

OUTCOMES = tuple(o.value for o in Outcome)
REJECT_REASONS = ("empty", "abusive", "other")


@dataclass(frozen=True)
class Actor:
    user_id: int
    role: Role | None

    @property
    def on_desk(self) -> bool:
        return self.role in DESK_ROLES


@dataclass(frozen=True)
class Citizen:
    """The citizen acting on their own case (answering, reopening): ownership is checked
    instead of a desk role."""

    user_id: int


@dataclass(frozen=True)
class PromptPlace:
    """A message that asked a desk member for a text: in a group, or in their private chat."""

    chat_id: int
    message_id: int
    private: bool


@dataclass(frozen=True)
class Done:
    case: CaseRow
    action: Action


@dataclass(frozen=True)
class Refused:
    reason: Refusal
    holder_name: str | None = None


Result = Done | Refused


@dataclass(frozen=True)
class Posted:
    """The case's card is in the chat already, as this message."""

    message_id: int


@dataclass(frozen=True)
class Contact:
    """What the phone button shows: the number (None: filed anonymously) and a caller's name."""

    phone: str | None
    name: str | None = None


def _unaskable(case: CaseRow) -> Refused | None:
    """Why the citizen cannot be asked a question in chat: they stayed anonymous, or the case
    came by phone or web and nobody has linked it to a chat yet."""
    if case["contact_phone"] is None:
        return Refused(Refusal.ANONYMOUS_CITIZEN)
    if case["citizen_id"] is None:
        return Refused(Refusal.NOT_LINKED)
    return None


@dataclass
class _Change:
    """What an action does beyond the status: columns, the event note, who is told what."""

    values: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    public: bool = True
    notice: dict[str, Any] | None = None  # sendMessage payload for the citizen
    extra: list[tuple[int, str, dict[str, Any], Purpose]] = field(default_factory=list)
    # The case must not be urgent yet for the action to make sense (marking it urgent);
    # checked against the row read and again in the compare-and-set.
    requires_not_urgent: bool = False
    # Where the case ends up when that is not the table's entry for the action itself (handing
    # over an unclaimed case claims it); still a status the table allows.
    status: Status | None = None


def _refusal(who: Actor | Citizen, case: CaseRow, action: Action) -> Refused | None:
    """Why `who` may not take `action` on `case` now, or None."""
    match who:
        case Citizen(user_id):
            if case["citizen_id"] != user_id:
                return Refused(Refusal.NO_CASE)  # as if it did not exist: codes are not probed
        case Actor():
            if not who.on_desk:
                return Refused(Refusal.NOT_STAFF)
            if not may(who.role, action, is_holder=case["holder_id"] == who.user_id):
                return Refused(Refusal.NOT_ALLOWED)
    try:
        transition(action, Status(case["status"]))
    except IllegalTransition:
        return Refused(Refusal.WRONG_STATE)
    return None


class Desk:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    # -- who is asking ---------------------------------------------------------------------

    async def actor(self, user_id: int) -> Actor:
        return Actor(user_id, await role_now(self.rt, user_id))

    # -- actions on a case -----------------------------------------------------------------

    async def claim(self, actor: Actor, case_id: int) -> Result:
        def change(case: CaseRow, now: datetime) -> _Change:
            return _Change(
                values={"holder_id": actor.user_id, "claimed_at": case["claimed_at"] or now},
                notice=notices.claimed(case),
            )

        result = await self._act(actor, case_id, Action.CLAIM, change)
        if isinstance(result, Refused) and result.reason in (Refusal.CHANGED, Refusal.WRONG_STATE):
            async with self.rt.engine.connect() as conn:
                case = await case_store.by_id(conn, case_id)
                if case and case["holder_id"] is not None:
                    names = await desk_store.names(conn, {case["holder_id"]})
                    return Refused(Refusal.HELD, names.get(case["holder_id"]) or "")
        return result

    async def release(self, actor: Actor, case_id: int, reason: str) -> Result:
        return await self._act(
            actor,
            case_id,
            Action.RELEASE,
            lambda case, now: _Change(values={"holder_id": None}, note=reason, public=False),
            body=reason,
        )

    async def reassign(self, actor: Actor, case_id: int, to_user: int) -> Result:
        async with self.rt.engine.connect() as conn:
            target_role = await desk_store.role_of(conn, to_user)
        if target_role not in {r.value for r in DESK_ROLES} and to_user not in (
            self.rt.settings.admin_ids
        ):
            return Refused(Refusal.BAD_INPUT)
        if not actor.on_desk:
            return Refused(Refusal.NOT_STAFF)
        if not may(actor.role, Action.REASSIGN, is_holder=True):
            return Refused(Refusal.NOT_ALLOWED)
        try:  # the case refers to its holder's user row
            async with self.rt.engine.begin() as conn:
                await desk_store.ensure_user(conn, to_user, self.rt.now())
        except IntegrityError:
            pass  # created meanwhile by their first message

        def change(case: CaseRow, now: datetime) -> _Change:
            c = _Change(
                values={"holder_id": to_user, "claimed_at": case["claimed_at"] or now},
                note=str(to_user),
                public=False,
            )
            if case["status"] in (Status.NEW, Status.REOPENED):
                # Nobody held it: handing it over is taking it up on their behalf, or it would
                # sit as "new" with a holder, in neither the queue nor anyone's /mine.
                c.status = transition(Action.CLAIM, Status(case["status"]))
                c.notice = notices.claimed(case)
            return c

        return await self._act(actor, case_id, Action.REASSIGN, change)

    async def refer(self, actor: Actor, case_id: int, unit_id: int) -> Result:
        async with self.rt.engine.connect() as conn:
            unit = await desk_store.unit(conn, unit_id)
        if unit is None or not unit["active"]:
            return Refused(Refusal.BAD_INPUT)

        def change(case: CaseRow, now: datetime) -> _Change:
            c = _Change(
                values={"unit_id": unit_id, "holder_id": None, "referred_at": now},
                note=unit["name"],
                notice=notices.referred(case),
            )
            if unit["chat_id"] is not None:
                payload = cards.unit_card_payload(unit)
                c.extra.append((unit["chat_id"], "sendMessage", payload, Purpose.UNIT_CARD))
            return c

        return await self._act(actor, case_id, Action.REFER, change)

    async def accept_referral(self, actor: Actor, case_id: int) -> Result:
        return await self._act(
            actor,
            case_id,
            Action.ACCEPT_REFERRAL,
            lambda case, now: _Change(
                values={"holder_id": actor.user_id, "claimed_at": case["claimed_at"] or now},
                notice=notices.unit_accepted(case),
            ),
        )

    async def return_referral(self, actor: Actor, case_id: int, reason: str) -> Result:
        return await self._act(
            actor,
            case_id,
            Action.RETURN_REFERRAL,
            lambda case, now: _Change(
                values={"unit_id": None, "holder_id": None}, note=reason, public=False
            ),
            body=reason,
        )

    async def note(self, actor: Actor, case_id: int, note: str) -> Result:
        return await self._act(
            actor,
            case_id,
            Action.NOTE,
            lambda case, now: _Change(note=note, public=False),
            body=note,
            refresh=False,
        )

    async def mark_urgent(self, actor: Actor, case_id: int) -> Result:
        return await self._act(
            actor,
            case_id,
            Action.MARK_URGENT,
            lambda case, now: _Change(
                values={"urgent": True}, public=False, requires_not_urgent=True
            ),
        )

    async def ask(self, actor: Actor, case_id: int, question: str) -> Result:
        async with self.rt.engine.connect() as conn:
            case = await case_store.by_id(conn, case_id)
        if case is not None and (unaskable := _unaskable(case)) is not None:
            return unaskable
        return await self._act(
            actor,
            case_id,
            Action.ASK,
            lambda case, now: _Change(
                values={"asked_from": case["status"]},
                note=question,
                notice=notices.question(case, text.normalize(question)),
            ),
            body=question,
        )

    async def resolve(self, actor: Actor, case_id: int, outcome: str, explanation: str) -> Result:
        if outcome not in OUTCOMES:
            return Refused(Refusal.BAD_INPUT)
        return await self._act(
            actor,
            case_id,
            Action.RESOLVE,
            lambda case, now: _Change(
                values={"outcome": outcome, "resolved_at": now, "asked_from": None},
                note=explanation,
                notice=notices.resolved(
                    case,
                    outcome,
                    text.normalize(explanation),
                    self.rt.settings.reopen_window_days,
                ),
            ),
            body=explanation,
        )

    async def reject(self, actor: Actor, case_id: int, reason: str) -> Result:
        return await self._act(
            actor,
            case_id,
            Action.REJECT,
            lambda case, now: _Change(
                values={"outcome": "rejected", "resolved_at": now},
                note=reason,
                notice=notices.rejected(case, text.normalize(reason)),
            ),
            body=reason,
        )

    async def merge(self, actor: Actor, case_id: int, target_text: str) -> Result:
        code = text.parse_tracking_input(target_text)
        async with self.rt.engine.connect() as conn:
            target = await case_store.by_code(conn, code) if code else None
        if target is None or target["id"] == case_id or target["status"] == Status.MERGED:
            return Refused(Refusal.BAD_INPUT)
        return await self._act(
            actor,
            case_id,
            Action.MERGE,
            lambda case, now: _Change(
                values={"merged_into": target["id"], "holder_id": None},
                note=target["code"],
                notice=notices.merged(case, target),
            ),
            body=target_text,
        )

    async def reopen(self, actor: Actor, case_id: int, reason: str) -> Result:
        return await self._act(
            actor,
            case_id,
            Action.REOPEN,
            lambda case, now: _Change(
                values={"holder_id": None, "outcome": None, "resolved_at": None},
                note=reason,
                notice=notices.reopened(case),
            ),
            body=reason,
        )

    # -- the citizen's side of a case --------------------------------------------------------

    async def citizen_answer(
        self,
        citizen_id: int,
        case_id: int,
        answer: str | None,
        copies: Sequence[tuple[int, int]] | None,
    ) -> Result:
        """The citizen's answer to a question: text, and the messages to copy (chat, message
        id) — a file, or every item of an album, all in one answer."""
        async with self.rt.engine.connect() as conn:
            found = await case_store.by_id(conn, case_id)
            desk = await cards.card_desk(conn, self.rt.settings, found) if found else None

        def change(case: CaseRow, now: datetime) -> _Change:
            c = _Change(
                values={"asked_from": None},
                note=answer or "[media]",
                status=after_answer(case["asked_from"]),
            )
            if desk is not None:  # where the case's card is
                thread = {"message_thread_id": desk.thread_id} if desk.thread_id else {}
                c.extra.append(
                    (
                        desk.chat_id,
                        "sendMessage",
                        {**notices.answer_posted(case, answer), **thread},
                        Purpose.CITIZEN_ANSWER,
                    )
                )
                for from_chat, message_id in copies or ():
                    c.extra.append(
                        (
                            desk.chat_id,
                            "copyMessage",
                            {"from_chat_id": from_chat, "message_id": message_id, **thread},
                            Purpose.CITIZEN_ANSWER,
                        )
                    )
            return c

        return await self._act(
            Citizen(citizen_id), case_id, Action.CITIZEN_ANSWER, change, body=answer
        )

    async def citizen_reopen(self, citizen_id: int, case_id: int, reason: str) -> Result:
        window = timedelta(days=self.rt.settings.reopen_window_days)
        async with self.rt.engine.connect() as conn:
            case = await case_store.by_id(conn, case_id)
        if case is None or case["citizen_id"] != citizen_id:
            return Refused(Refusal.NO_CASE)
        if not citizen_may_reopen(
            Status(case["status"]), case["resolved_at"], self.rt.now(), window
        ):
            return Refused(Refusal.WINDOW_CLOSED)
        return await self._act(
            Citizen(citizen_id),
            case_id,
            Action.REOPEN,
            lambda case, now: _Change(
                values={"holder_id": None, "outcome": None, "resolved_at": None}, note=reason
            ),
            body=reason,
        )

    async def act(self, actor: Actor, action: Action, case_id: int) -> Result:
        """An action that needs nothing but the press (claim, urgent, accepting a referral)."""
        match action:
            case Action.CLAIM:
                return await self.claim(actor, case_id)
            case Action.MARK_URGENT:
                return await self.mark_urgent(actor, case_id)
            case Action.ACCEPT_REFERRAL:
                return await self.accept_referral(actor, case_id)
            case _:
                return Refused(Refusal.BAD_INPUT)

    async def act_with_text(
        self, actor: Actor, action: Action, case_id: int, body: str, outcome: Outcome | None
    ) -> Result:
        """An action that carries the staff member's text (`NEEDS_TEXT`), from a prompt's
        answer or a command."""
        match action:
            case Action.NOTE:
                return await self.note(actor, case_id, body)
            case Action.ASK:
                return await self.ask(actor, case_id, body)
            case Action.RELEASE:
                return await self.release(actor, case_id, body)
            case Action.REJECT:
                return await self.reject(actor, case_id, body)
            case Action.MERGE:
                return await self.merge(actor, case_id, body)
            case Action.REOPEN:
                return await self.reopen(actor, case_id, body)
            case Action.RETURN_REFERRAL:
                return await self.return_referral(actor, case_id, body)
            case Action.RESOLVE if outcome is not None:
                return await self.resolve(actor, case_id, outcome.value, body)
            case _:
                return Refused(Refusal.BAD_INPUT)

    async def check(self, actor: Actor, case_id: int, action: Action) -> Refused | None:
        """Would `action` be allowed now? Used before asking for its text with a prompt; the
        action itself checks everything again when the text arrives."""
        if not actor.on_desk:
            return Refused(Refusal.NOT_STAFF)
        async with self.rt.engine.connect() as conn:
            case = await case_store.by_id(conn, case_id)
        if case is None:
            return Refused(Refusal.NO_CASE)
        refused = _refusal(actor, case, action)
        if refused is None and action == Action.ASK:
            return _unaskable(case)
        return refused

    async def card(
        self, case_id: int, *, unit_chat: bool, chat_id: int | None = None
    ) -> dict[str, Any] | None:
        async with self.rt.engine.connect() as conn:
            return await cards.render(
                conn,
                case_id,
                now=self.rt.now(),
                tz=self.rt.settings.tz,
                unit_chat=unit_chat,
                chat_id=chat_id,
            )

    async def card_to_post(self, case_id: int, chat_id: int) -> dict[str, Any] | Posted | None:
        """A card asked for from a digest of new cases: its parameters, drawn now (a unit's
        card in a unit's chat); `Posted` when the case's card is in this chat already (it is
        kept up to date there, and a second copy would only crowd the group); None when the
        case does not exist."""
        purpose = await self._requested_card(chat_id)
        unit_chat = purpose == Purpose.UNIT_CARD
        async with self.rt.engine.connect() as conn:
            message_id = await case_store.card_message_id(conn, case_id, chat_id, purpose)
            if message_id is not None:
                return Posted(message_id)
            return await cards.render(
                conn, case_id, now=self.rt.now(), tz=self.rt.settings.tz, unit_chat=unit_chat
            )

    async def card_posted(
        self, case_id: int, chat_id: int, message_id: int, payload: dict[str, Any]
    ) -> bool:
        """Record a card posted on request, so that the case's changes redraw it too. False
        when another card of the case was recorded in the chat meanwhile (two colleagues
        pressed at once): this one is a copy nobody would redraw, to be deleted."""
        purpose = await self._requested_card(chat_id)
        async with self.rt.engine.begin() as conn:
            if not await case_store.remember_first_message(
                conn, case_id, chat_id, message_id, purpose
            ):
                return False
            for target in await cards.targets(conn, case_id):
                if (target["chat_id"], target["message_id"]) == (chat_id, message_id):
                    await desk_store.set_card_hash(conn, target["id"], cards.content_hash(payload))
        return True

    async def _requested_card(self, chat_id: int) -> Purpose:
        """The card a digest's press posts here: the staff card in the staff group or a routed
        desk (the digest stands for new cases' staff cards, also where that group is a unit's
        chat too), a unit's card in a unit's chat."""
        if await self._is_configured_desk(chat_id) or not await self.is_unit_chat(chat_id):
            return Purpose.CASE_CARD
        return Purpose.UNIT_CARD

    async def _is_configured_desk(self, chat_id: int) -> bool:
        """The staff group or a routed desk, where it lives now if it was upgraded."""
        if chat_id in self.rt.settings.desk_chat_ids():
            return True
        async with self.rt.engine.connect() as conn:
            return chat_id in await cards.configured_desks(conn, self.rt.settings)

    async def command_refusal(self, actor: Actor, chat_id: int, *, private: bool) -> Refused | None:
        """Why `actor` may not use desk commands in this chat, or None when they may.

        Desk commands show what only the desk may see (internal notes, the queue, who holds
        what), so they answer desk roles only (not managers: they get summaries), and only on
        the desk: the staff chat, a unit's chat, or the desk member's own private chat with
        the bot. Anywhere else (a managers' group, any group the bot was added to) they are
        refused, whoever asks.
        """
        if not actor.on_desk:
            return Refused(Refusal.NOT_STAFF)
        if private:  # a private chat's id is its user's: only their own chat gets here
            return None
        if await self.is_desk_group(chat_id):
            return None
        return Refused(Refusal.NOT_DESK_CHAT)

    async def is_desk_group(self, chat_id: int) -> bool:
        """The staff chat or a routed desk (where it lives now, if it was upgraded), or a
        unit's chat."""
        if await self._is_configured_desk(chat_id):
            return True
        async with self.rt.engine.connect() as conn:
            return await desk_store.unit_by_chat(conn, chat_id) is not None

    async def is_unit_chat(self, chat_id: int) -> bool:
        async with self.rt.engine.connect() as conn:
            return await desk_store.unit_by_chat(conn, chat_id) is not None

    async def close_expired(self) -> int:
        """Close resolved cases whose reopening window has passed (the system acts)."""
        now = self.rt.now()
        cutoff = now - timedelta(days=self.rt.settings.reopen_window_days)
        closed = 0
        async with self.rt.engine.begin() as conn:
            for case in await desk_store.resolved_before(conn, cutoff):
                ok = await desk_store.compare_and_set(
                    conn,
                    case["id"],
                    status=case["status"],
                    holder_id=False,
                    values={
                        "status": transition(Action.CLOSE, Status.RESOLVED).value,
                        "updated_at": now,
                    },
                )
                if ok:
                    await case_store.add_event(
                        conn,
                        case["id"],
                        action=Action.CLOSE,
                        at=now,
                        actor_id=None,
                        from_status=case["status"],
                        to_status=Status.CLOSED.value,
                    )
                    await self._queue_refresh(conn, case["id"], now)
                    closed += 1
        if closed:
            self.rt.ring()
        return closed

    # -- the machinery -----------------------------------------------------------------------

    async def _act(
        self,
        who: Actor | Citizen,
        case_id: int,
        action: Action,
        change: Callable[[CaseRow, datetime], _Change],
        *,
        body: str | None = None,
        refresh: bool = True,
    ) -> Result:
        """Check, then apply `action` with a compare-and-set; its audit row, the citizen's
        notice, other chats' messages and the card refresh go in the same transaction.
        `body` is the staff member's (or citizen's) text for actions that need one."""
        if action in NEEDS_TEXT and not text.normalize(body or ""):
            return Refused(Refusal.BAD_INPUT)
        async with self.rt.engine.begin() as conn:
            case = await case_store.by_id(conn, case_id)
            if case is None:
                return Refused(Refusal.NO_CASE)
            refused = _refusal(who, case, action)
            if refused is not None:
                return refused
            now = self.rt.now()
            c = change(case, now)
            if c.requires_not_urgent and case["urgent"]:
                return Refused(Refusal.WRONG_STATE)
            new_status = c.status or transition(action, Status(case["status"]))
            values = {"status": new_status.value, "updated_at": now, **c.values}
            ok = await desk_store.compare_and_set(
                conn,
                case_id,
                status=case["status"],
                holder_id=case["holder_id"],
                values=values,
                also={"urgent": False} if c.requires_not_urgent else None,
            )
            if not ok:
                return Refused(Refusal.CHANGED)
            await self._record(conn, case, action, who.user_id, new_status, c, now)
            await self._tell(conn, case, c, now)
            if refresh:
                await self._queue_refresh(conn, case_id, now)
            updated = await case_store.by_id(conn, case_id)
        self.rt.ring()
        assert updated is not None
        return Done(updated, action)

    async def _record(
        self,
        conn: AsyncConnection,
        case: CaseRow,
        action: Action,
        actor_id: int,
        new_status: Status,
        c: _Change,
        now: datetime,
    ) -> None:
        """The audit row (with the whole text: it holds what was sent), and the citizen's
        focus on a question that is no longer asked."""
        await case_store.add_event(
            conn,
            case["id"],
            action=action,
            at=now,
            actor_id=actor_id,
            from_status=case["status"],
            to_status=new_status.value,
            note=text.normalize(c.note) if c.note is not None else None,
            public=c.public,
        )
        citizen = case["citizen_id"]
        if (
            citizen is not None
            and case["status"] == Status.AWAITING_CITIZEN
            and new_status != Status.AWAITING_CITIZEN
        ):
            # Answered, or decided without the answer: the citizen is no longer asked.
            await user_store.clear_pending_input(conn, citizen, pending.Answer(case["id"]).encode())

    async def _tell(self, conn: AsyncConnection, case: CaseRow, c: _Change, now: datetime) -> None:
        """Queue the citizen's notice and the messages for other chats. A case that came by
        phone or web and is not linked to a chat tells nobody: the caller hears by phone."""
        citizen = case["citizen_id"]
        if c.notice is not None and citizen is not None:
            await outbox_store.enqueue(
                conn,
                chat_id=citizen,
                method="sendMessage",
                payload=c.notice,
                purpose=Purpose.CITIZEN_NOTICE,
                case_id=case["id"],
                now=now,
            )
        for chat_id, method, payload, purpose in c.extra:
            await outbox_store.enqueue(
                conn,
                chat_id=chat_id,
                method=method,
                payload=payload,
                purpose=purpose,
                case_id=case["id"],
                now=now,
            )

    async def _queue_refresh(self, conn: AsyncConnection, case_id: int, now: datetime) -> None:
        await cards.queue_refresh(
            conn, case_id, staff_chat_id=self.rt.settings.staff_chat_id, now=now
        )

    # -- reading -----------------------------------------------------------------------------

    async def case_by_code(self, raw: str) -> CaseRow | None:
        code = text.parse_tracking_input(raw)
        if code is None or not tracking.is_valid(code):
            return None
        async with self.rt.engine.connect() as conn:
            return await case_store.by_code(conn, code)

    async def files(self, case_id: int) -> list[AttachmentRow] | None:
        """The case's evidence, or None when there is no such case."""
        async with self.rt.engine.connect() as conn:
            if await case_store.by_id(conn, case_id) is None:
                return None
            return await case_store.case_attachments(conn, case_id)

    async def case_detail(
        self, case_id: int
    ) -> tuple[CaseRow, list[EventRow], list[AttachmentRow], dict[int, str]]:
        async with self.rt.engine.connect() as conn:
            case = await case_store.by_id(conn, case_id)
            assert case is not None
            events = await case_store.events(conn, case_id, public_only=False)
            files = await case_store.case_attachments(conn, case_id)
            people = {e["actor_id"] for e in events if e["actor_id"]} | (
                {case["holder_id"]} if case["holder_id"] else set()
            )
            names = await desk_store.names(conn, people)
        return case, events, files, names

    async def phone_for(self, actor: Actor, case_id: int) -> Contact | Refused:
        """The citizen's (or caller's) number, and a caller's name: personal data, for the
        holder and supervisors only."""
        async with self.rt.engine.connect() as conn:
            case = await case_store.by_id(conn, case_id)
        if case is None:
            return Refused(Refusal.NO_CASE)
        if not sees_phone(actor.role, is_holder=case["holder_id"] == actor.user_id):
            return Refused(Refusal.NOT_ALLOWED)
        return Contact(case["contact_phone"], case["caller_name"])

    async def supporting_files(self, case_id: int) -> list[tuple[CaseRow, list[AttachmentRow]]]:
        """Each supporting report merged into the case, with its evidence."""
        async with self.rt.engine.connect() as conn:
            return [
                (report, await case_store.case_attachments(conn, report["id"]))
                for report in await case_store.supporting(conn, case_id)
            ]

    async def queue(self) -> tuple[list[CaseRow], int]:
        async with self.rt.engine.connect() as conn:
            return await desk_store.queue(conn)

    async def mine(self, actor: Actor) -> list[CaseRow]:
        async with self.rt.engine.connect() as conn:
            return await desk_store.held_by(conn, actor.user_id)

    async def find(self, actor: Actor, query: str) -> list[CaseRow] | Refused:
        """By tracking code, by number (for those who may see numbers), else by a part of the
        business name or description: 3+ characters of it, which the trigram index needs
        (shorter text is refused: a scan of every case would answer it)."""
        normalized = text.normalize(query)
        code = text.parse_tracking_input(normalized)
        phone = (
            text.normalize_phone(normalized) if sees_phone(actor.role, is_holder=False) else None
        )
        key = None if (code or phone) else text.search_key(normalized)
        if key is not None and len(key) < text.SEARCH_MIN_LENGTH:
            return Refused(Refusal.SHORT_QUERY)
        async with self.rt.engine.connect() as conn:
            return await desk_store.find(conn, search_key=key, code=code, phone=phone)

    async def units(self) -> list[UnitRow]:
        async with self.rt.engine.connect() as conn:
            return await desk_store.all_units(conn)

    async def staff(self) -> list[StaffMember]:
        async with self.rt.engine.connect() as conn:
            return await desk_store.staff_members(conn)

    async def set_role(self, actor: Actor, user_id: int, role: Role | None) -> Refused | None:
        if actor.role != Role.ADMIN:
            return Refused(Refusal.NOT_ALLOWED)
        async with self.rt.engine.begin() as conn:
            await desk_store.set_role(conn, user_id, role.value if role else None, self.rt.now())
        return None

    async def set_unit_chat(
        self, actor: Actor, unit_code: str, chat_id: int | None, thread_id: int | None
    ) -> Refused | UnitRow:
        if actor.role not in (Role.ADMIN, Role.SUPERVISOR):
            return Refused(Refusal.NOT_ALLOWED)
        async with self.rt.engine.begin() as conn:
            unit = await desk_store.unit_by_code(conn, unit_code)
            if unit is None:
                return Refused(Refusal.BAD_INPUT)
            if chat_id is not None and chat_id in await cards.routed_chats(conn, self.rt.settings):
                return Refused(Refusal.ROUTED_DESK)  # the start would refuse it next time
            await desk_store.set_unit_chat(conn, unit["id"], chat_id, thread_id)
            return {**unit, "chat_id": chat_id, "thread_id": thread_id}

    # -- prompts: a desk member asked for a text ---------------------------------------------

    async def remember_prompt(
        self,
        actor: Actor,
        case_id: int,
        action: Action,
        places: Sequence[PromptPlace],
        outcome: Outcome | None = None,
    ) -> None:
        """Record where the member was asked. A reply to any of these messages answers; in the
        private chat the next text does too, so that prompt becomes their focus: the desk must
        not depend on ForceReply, nor on a platform delivering replies in groups."""
        now = self.rt.now()
        async with self.rt.engine.begin() as conn:
            for place in places:
                prompt_id = await desk_store.add_prompt(
                    conn,
                    {
                        "chat_id": place.chat_id,
                        "message_id": place.message_id,
                        "user_id": actor.user_id,
                        "case_id": case_id,
                        "action": action.value,
                        "extra": outcome.value if outcome else None,
                        "created_at": now,
                    },
                )
                if place.private:
                    focus = pending.StaffPrompt(prompt_id).encode()
                    await user_store.set_pending_input(conn, actor.user_id, focus, now)

    async def prompt(self, chat_id: int, message_id: int) -> PromptRow | None:
        async with self.rt.engine.connect() as conn:
            return await desk_store.take_prompt(conn, chat_id, message_id)

    async def prompt_of(self, user_id: int, prompt_id: int) -> PromptRow | None:
        """The prompt, if it is still open and was asked of this user."""
        async with self.rt.engine.connect() as conn:
            row = await desk_store.prompt_by_id(conn, prompt_id)
        return row if row is not None and row["user_id"] == user_id else None

    async def answer_prompt(self, actor: Actor, prompt: PromptRow, reply: str) -> Result:
        """Carry out the action a prompt was for; only its addressee may answer."""
        if prompt["user_id"] != actor.user_id:
            return Refused(Refusal.NOT_ALLOWED)
        if not actor.on_desk:
            return Refused(Refusal.NOT_STAFF)
        try:
            action = Action(prompt["action"])
            outcome = Outcome(prompt["extra"]) if prompt["extra"] else None
        except ValueError:
            return Refused(Refusal.BAD_INPUT)
        result = await self.act_with_text(actor, action, prompt["case_id"], reply, outcome)
        if isinstance(result, Done) or result.reason != Refusal.BAD_INPUT:
            await self.drop_prompt(prompt)
        return result

    async def drop_prompt(self, prompt: PromptRow) -> None:
        """The prompt is settled (answered, refused for good, or cancelled): it and its twins
        go, and so does the focus on them."""
        async with self.rt.engine.begin() as conn:
            for dropped in await desk_store.drop_prompt(conn, prompt):
                focus = pending.StaffPrompt(dropped).encode()
                await user_store.clear_pending_input(conn, prompt["user_id"], focus)


async def role_now(rt: Runtime, user_id: int) -> Role | None:
    """The person's role as it stands (an admin of the settings, else the stored one): what a
    check made again later (a job run after its asker queued it) reads."""
    if user_id in rt.settings.admin_ids:
        return Role.ADMIN
    async with rt.engine.connect() as conn:
        role = await desk_store.role_of(conn, user_id)
    return Role(role) if role is not None and role in Role._value2member_map_ else None
