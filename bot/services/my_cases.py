"""The citizen's view of their own cases: look up by code, list, open, and link a case that
came by phone (or web) to their chat.

A code that does not exist and a code that belongs to someone else get the same answer
(None), so tracking codes cannot be probed. Linking needs the code and then the number the
caller gave, shared with Telegram's own contact button (the citizen's verified number): a
wrong code and a wrong number get the same answer too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from bot import text
from bot.domain import pending, tracking
from bot.domain.lifecycle import Action, Status, transition
from bot.services import cards
from bot.services.runtime import Runtime
from bot.storage import cases as case_store
from bot.storage import users as user_store
from bot.storage.rows import CaseRow, EventRow


@dataclass(frozen=True)
class MergedInto:
    """What the citizen sees of the case theirs was merged into: its status and public
    timeline, never its reporter."""

    status: str
    events: list[EventRow]


@dataclass(frozen=True)
class CaseDetail:
    case: CaseRow
    events: list[EventRow]
    evidence: int
    merged_into: MergedInto | None = None


class MyCases:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def start_lookup(self, user_id: int) -> None:
        """The next text from this citizen is a tracking code."""
        async with self.rt.engine.begin() as conn:
            await user_store.set_pending_input(
                conn, user_id, pending.TrackingCode().encode(), self.rt.now()
            )

    async def lookup(self, user_id: int, code: str) -> CaseDetail | None:
        """The case with `code` if it is this citizen's; ends the lookup either way. When it
        is not theirs, a shared phone number may link it next (`link`), whatever the code."""
        async with self.rt.engine.begin() as conn:
            await user_store.clear_pending_input(conn, user_id, pending.TrackingCode().encode())
            case = await case_store.by_code(conn, code) if tracking.is_valid(code) else None
            if case is None or case["citizen_id"] != user_id:
                await user_store.set_pending_input(
                    conn, user_id, pending.LinkCase(code).encode(), self.rt.now()
                )
                return None
            return await self._detail(conn, case)

    async def link(self, user_id: int, code: str, phone: str) -> CaseDetail | None:
        """Link the case with `code` to this citizen's chat, if it came without one (a call,
        the web desk) and `phone` (their own, shared with the contact button) is the number
        given for it. None for any other case: no such code, someone else's, another number."""
        number = text.normalize_phone(phone if phone.startswith("+") else "+" + phone)
        now = self.rt.now()
        async with self.rt.engine.begin() as conn:
            await user_store.clear_pending_input(conn, user_id, pending.LinkCase(code).encode())
            case = await case_store.by_code(conn, code) if tracking.is_valid(code) else None
            if case is None or number is None:
                return None
            if case["citizen_id"] == user_id:
                return await self._detail(conn, case)
            if case["citizen_id"] is not None or case["contact_phone"] != number:
                return None
            if not await case_store.link_citizen(conn, case["id"], user_id, now):
                return None
            status = transition(Action.LINK, Status(case["status"])).value  # changes nothing
            await case_store.add_event(
                conn,
                case["id"],
                action=Action.LINK,
                at=now,
                actor_id=user_id,
                from_status=case["status"],
                to_status=status,
            )
            await cards.queue_refresh(
                conn, case["id"], staff_chat_id=self.rt.settings.staff_chat_id, now=now
            )
            linked = await case_store.by_id(conn, case["id"])
            assert linked is not None
            detail = await self._detail(conn, linked)
        self.rt.ring()
        return detail

    async def open(self, user_id: int, code: str) -> CaseDetail | None:
        async with self.rt.engine.connect() as conn:
            case = await case_store.by_code(conn, code)
            if case is None or case["citizen_id"] != user_id:
                return None
            return await self._detail(conn, case)

    async def page(self, user_id: int, page: int, page_size: int) -> tuple[list[CaseRow], int, int]:
        """(cases on the page, total, the page actually shown)."""
        page = max(0, page)
        async with self.rt.engine.connect() as conn:
            rows, total = await case_store.of_citizen(
                conn, user_id, offset=page * page_size, limit=page_size
            )
            if not rows and total and page:
                page = (total - 1) // page_size
                rows, total = await case_store.of_citizen(
                    conn, user_id, offset=page * page_size, limit=page_size
                )
            return rows, total, page

    async def _detail(self, conn: AsyncConnection, case: CaseRow) -> CaseDetail:
        events = await case_store.events(conn, case["id"], public_only=True)
        evidence = len(await case_store.case_attachments(conn, case["id"]))
        merged_into = None
        if case["merged_into"] is not None:
            # The case it was merged into is now the one to follow: its status and public
            # timeline, never its reporter.
            target = await case_store.by_id(conn, case["merged_into"])
            if target is not None:
                events = await case_store.events(conn, target["id"], public_only=True)
                merged_into = MergedInto(target["status"], events)
        return CaseDetail(case, events, evidence, merged_into)

    # -- after the staff acted: answers, ratings, reopening ------------------------------------

    async def rate(self, user_id: int, case_id: int, score: int) -> bool:
        """Record the citizen's 1–5 rating of a resolved case of theirs (once; later presses
        change it). False when the case is not theirs or not resolved."""
        if not 1 <= score <= 5:
            return False
        async with self.rt.engine.begin() as conn:
            case = await case_store.by_id(conn, case_id)
            if (
                case is None
                or case["citizen_id"] != user_id
                or case["status"] not in (Status.RESOLVED, Status.CLOSED)
            ):
                return False
            await case_store.save_rating(conn, case_id, user_id, score, self.rt.now())
            await user_store.set_pending_input(
                conn, user_id, pending.Comment(case_id).encode(), self.rt.now()
            )
        return True

    async def comment(self, user_id: int, case_id: int, comment: str) -> bool:
        async with self.rt.engine.begin() as conn:
            await user_store.clear_pending_input(conn, user_id, pending.Comment(case_id).encode())
            return await case_store.save_rating_comment(
                conn, case_id, user_id, text.normalize(comment)[:1000]
            )
