"""Where a citizen's typed text or sent file goes when several things are open at once.

A citizen may owe an officer an answer on case A, have just rated case B (a comment is
welcome), be looking up a code, and be half-way through filing a new complaint — all at once.
None of them may swallow a message meant for another. The rule:

- what the citizen explicitly chose last (the «پاسخ به این پرسش» button, «پیگیری شکایت», a
  rating, «بازگشایی») is their *focus* (`bot.domain.pending`), but an open question is not a
  focus: it lives in the case (`awaiting_citizen`) and survives any menu, /start or rating;
- a message with exactly one place to go goes there (the common case: one question open, the
  citizen simply types the answer);
- a message with several is *held* in the database and the citizen is asked, with buttons,
  which it is for; nothing is dropped while they decide.

The focus chosen with «پاسخ به این پرسش» is the one exception: the citizen said which case,
so the message goes there without asking.

Desk members go through the same rule in their private chat: a prompt the bot asked there
(«یادداشت», ask, resolve, reject… pressed in the group) is one more open thing. The prompt just
pressed is the focus, so the next text answers it; a reply to a prompt's message answers that
prompt; an older prompt still open is an option like any other, so a member filing a complaint
of their own, or with two prompts open, is asked rather than guessed for. Files never answer
a prompt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot import text
from bot.callbacks import RouteTarget, ToCall, ToDraft
from bot.domain import pending as p
from bot.domain import tracking
from bot.domain.complaint import DraftKind, Step, acceptable_evidence
from bot.domain.lifecycle import Action, Status, citizen_may_reopen
from bot.domain.refusal import Refusal
from bot.services.desk import Desk, Done
from bot.services.filing import Attachment, Filing, Outcome
from bot.services.my_cases import CaseDetail, MyCases
from bot.services.runtime import Runtime
from bot.storage import cases as case_store
from bot.storage import desk as desk_store
from bot.storage import drafts as draft_store
from bot.storage import held as held_store
from bot.storage import users as user_store
from bot.storage.rows import CaseRow, HeldRow, UserRow

# -- what the citizen is told afterwards --------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    code: str


@dataclass(frozen=True)
class NotAwaited:
    """The case no longer waits for the citizen's answer."""


@dataclass(frozen=True)
class FileRefused:
    """The answer had a file officers should not open (not a picture, video, audio or PDF):
    nothing was sent, the question stays open."""


@dataclass(frozen=True)
class LookedUp:
    detail: CaseDetail | None  # None: no case of theirs has this code (or it is malformed)


@dataclass(frozen=True)
class BadCode:
    """What was typed for a lookup is not a tracking code at all."""


@dataclass(frozen=True)
class CommentSaved:
    pass


@dataclass(frozen=True)
class CommentSkipped:
    pass


@dataclass(frozen=True)
class Reopened:
    pass


@dataclass(frozen=True)
class ReopenRefused:
    pass


@dataclass(frozen=True)
class Filed:
    """The message went to the complaint being filed (or the call being registered): show
    what filing says."""

    outcome: Outcome
    before: Step | None
    kind: DraftKind = DraftKind.COMPLAINT


@dataclass(frozen=True)
class Linked:
    """A phone number shared after looking up a code: the case now followed here, or None
    (the same answer for a wrong code and a wrong number)."""

    detail: CaseDetail | None


@dataclass(frozen=True)
class Option:
    target: RouteTarget
    code: str | None  # the tracking code of the case it is about, if any
    step: Step | None = None  # for the draft: where the citizen stands


@dataclass(frozen=True)
class Ask:
    """Held: which of `options` is this message for? `again`: the citizen chose something that
    no longer applies (a case decided meanwhile, a forged button), so they are asked anew."""

    held_id: int
    options: tuple[Option, ...]
    excerpt: str
    message_id: int  # the citizen's held message, which the question replies to
    again: bool = False


@dataclass(frozen=True)
class HeldQuietly:
    """Another item of an album whose first item already asked."""


@dataclass(frozen=True)
class Collecting:
    """An album answering an officer: its items are held until the album is complete
    (`settle_album`), then go to the officer together as one answer."""

    media_group_id: str


@dataclass(frozen=True)
class TooManyHeld:
    """Not held: the citizen already has `MAX_HELD` messages waiting for their choice."""


@dataclass(frozen=True)
class Unplaced:
    """What the citizen chose for a held message no longer applies, and nothing else does:
    the message was not sent anywhere."""


@dataclass(frozen=True)
class Gone:
    """The held message was already routed, or expired."""


@dataclass(frozen=True)
class PromptAnswered:
    """A desk member's text carried out the action their prompt was for."""

    action: Action


@dataclass(frozen=True)
class PromptRefused:
    """…or the desk refused it (the case moved on, the member's role changed)."""

    reason: Refusal
    holder_name: str | None = None


Result = (
    Answered
    | NotAwaited
    | FileRefused
    | LookedUp
    | BadCode
    | CommentSaved
    | CommentSkipped
    | Reopened
    | ReopenRefused
    | Filed
    | Ask
    | HeldQuietly
    | Collecting
    | TooManyHeld
    | Unplaced
    | Gone
    | Linked
    | PromptAnswered
    | PromptRefused
)

# Messages held for one citizen at most (an album counts each item): a flood of ambiguous
# messages is refused, and said so, rather than stored without end.
MAX_HELD = 30


@dataclass(frozen=True)
class Message:
    """A citizen's message as the router sees it: text, or a file with its caption."""

    chat_id: int
    message_id: int
    text: str | None = None
    attachment: Attachment | None = None
    reply_to: int | None = None  # the bot's message this one replies to, if any

    @property
    def is_file(self) -> bool:
        return self.attachment is not None


class CitizenInput:
    def __init__(self, rt: Runtime, desk: Desk, filing: Filing, my_cases: MyCases) -> None:
        self.rt, self.desk, self.filing, self.my_cases = rt, desk, filing, my_cases

    # -- focus -------------------------------------------------------------------------------

    async def focus(self, user_id: int, what: p.Pending | None) -> None:
        """What the citizen chose to do now (None: nothing in particular)."""
        async with self.rt.engine.begin() as conn:
            value = what.encode() if what else None
            await user_store.set_pending_input(conn, user_id, value, self.rt.now())

    async def current_focus(self, user_id: int) -> p.Pending | None:
        async with self.rt.engine.connect() as conn:
            user = await user_store.get(conn, user_id)
        return p.parse(user["pending_input"]) if user else None

    async def drop_focus(self, user_id: int) -> bool:
        """Forget the focus (a menu choice, /start, «انصراف»); True if there was one the
        citizen knows of. Having chosen the complaint being filed for a message is not one:
        «انصراف» then cancels that complaint, as it does while filing. Open questions stay
        open: they belong to the case, not to the focus; so does a desk member's prompt (see
        `cancel_prompt`)."""
        async with self.rt.engine.begin() as conn:
            user = await user_store.get(conn, user_id)
            if not user or not user["pending_input"]:
                return False
            await user_store.set_pending_input(conn, user_id, None)
            return not isinstance(p.parse(user["pending_input"]), p.Filing | p.Call)

    async def active_kind(self, user_id: int) -> DraftKind:
        """Which draft a filing button typed or tapped on the reply keyboard («بعدی», «انصراف»,
        «تماس‌گیرنده نام نمی‌دهد»…) is for: the call when the desk member chose it, or when it
        is their only draft; else their own complaint."""
        async with self.rt.engine.connect() as conn:
            user = await user_store.get(conn, user_id)
            drafts = await draft_store.of_user(conn, user_id)
        call, own = drafts.get(DraftKind.CALL), drafts.get(DraftKind.COMPLAINT)
        focus = p.parse(user["pending_input"]) if user else None
        if call is not None and (isinstance(focus, p.Call) or own is None):
            return DraftKind.CALL
        return DraftKind.COMPLAINT

    async def cancel_prompt(self, user_id: int) -> bool:
        """«انصراف» while a desk prompt is the focus: the prompt (and its twin in the group)
        is dropped; True if there was one."""
        focus = await self.current_focus(user_id)
        if not isinstance(focus, p.StaffPrompt):
            return False
        prompt = await self.desk.prompt_of(user_id, focus.prompt_id)
        if prompt is not None:
            await self.desk.drop_prompt(prompt)
        await self._drop_focus_if(user_id, focus)
        return prompt is not None

    async def choose_answer(self, user_id: int, case_id: int) -> str | None:
        """«پاسخ به این پرسش»: the next message answers this case. Its code, or None when the
        case is not the citizen's or no longer waits for them."""
        async with self.rt.engine.begin() as conn:
            case = await case_store.by_id(conn, case_id)
            if not _awaits(case, user_id):
                return None
            assert case is not None
            await user_store.set_pending_input(
                conn, user_id, p.Answer(case_id).encode(), self.rt.now()
            )
            return str(case["code"])

    async def choose_reopen(self, user_id: int, case_id: int) -> bool:
        """«بازگشایی شکایت»: the next text is the reason, if the case may still be reopened."""
        window = timedelta(days=self.rt.settings.reopen_window_days)
        async with self.rt.engine.begin() as conn:
            case = await case_store.by_id(conn, case_id)
            if case is None or case["citizen_id"] != user_id:
                return False
            if not citizen_may_reopen(
                Status(case["status"]), case["resolved_at"], self.rt.now(), window
            ):
                return False
            await user_store.set_pending_input(
                conn, user_id, p.ReopenReason(case_id).encode(), self.rt.now()
            )
            return True

    async def open_questions(self, user_id: int) -> list[CaseRow]:
        async with self.rt.engine.connect() as conn:
            return await case_store.awaiting_answer(conn, user_id)

    # -- a message arrives -----------------------------------------------------------------

    async def skip(self, user_id: int) -> CommentSkipped | Filed:
        """«بعدی» (Skip): no comment on the rating, if one was invited; else the filing step."""
        if isinstance(await self.current_focus(user_id), p.Comment):
            await self.drop_focus(user_id)
            return CommentSkipped()
        return await self._filing_step(user_id, self.filing.skip)

    async def finish_evidence(self, user_id: int) -> Filed:
        return await self._filing_step(user_id, lambda uid, _kind: self.filing.finish_evidence(uid))

    async def stay_anonymous(self, user_id: int) -> Filed:
        return await self._filing_step(user_id, self.filing.stay_anonymous)

    async def _filing_step(
        self, user_id: int, step: Callable[[int, DraftKind], Awaitable[Outcome]]
    ) -> Filed:
        kind = await self.active_kind(user_id)
        current = await self.filing.current(user_id, kind)
        before = current.draft.step if current.draft else None
        return Filed(await step(user_id, kind), before, kind)

    async def contact(
        self, user_id: int, phone: str, contact_user_id: int | None, name: str | None = None
    ) -> Result:
        """A shared contact: after looking up a code that is not (yet) theirs, it may link that
        case; otherwise it answers the complaint's contact step — or, in a call, it is the
        caller's card from the operator's phone book."""
        focus = await self.current_focus(user_id)
        if isinstance(focus, p.LinkCase):
            if not await self._back_to_a_draft(user_id):
                if contact_user_id != user_id:  # only their own number proves anything
                    return Linked(None)
                return Linked(await self.my_cases.link(user_id, focus.code, phone))
            await self._drop_focus_if(user_id, focus)  # they went back to filing since

        async def answer(uid: int, kind: DraftKind) -> Outcome:
            if kind == DraftKind.CALL:
                return await self.filing.caller_card(uid, phone, name)
            return await self.filing.contact(uid, phone, contact_user_id)

        return await self._filing_step(user_id, answer)

    async def _back_to_a_draft(self, user_id: int) -> bool:
        """Whether the citizen (or operator) worked on a draft after choosing their focus: then
        a contact is the draft's answer, not for the lookup they left."""
        async with self.rt.engine.connect() as conn:
            user = await user_store.get(conn, user_id)
            drafts = [await draft_store.get(conn, user_id, kind=k) for k in DraftKind]
        chosen_at = user["pending_at"] if user else None
        return chosen_at is not None and any(
            d is not None and d["updated_at"] > chosen_at for d in drafts
        )

    async def receive(
        self, user_id: int, message: Message, sender: UserRow | None = None
    ) -> Result:
        """Send the message where it belongs, or hold it and ask. `sender`: the user's row as
        read at the start of this update (`bot.services.people.touch`), if it was; nothing
        but this update's own handling changes what it says of the user's focus."""
        options, chosen, live = await self._read_options(user_id, message, sender)
        target = _destination(options, chosen)
        group = message.attachment.media_group_id if message.attachment else None
        if group is not None and isinstance(target, p.Answer):
            # Telegram sends an album item by item: the answer waits for all of them.
            return await self._hold(user_id, message, options, collecting=True)
        if target is not None:
            return await self._deliver(user_id, target, message, live)
        return await self._hold(user_id, message, options)

    async def settle_album(self, user_id: int, media_group_id: str) -> Result | None:
        """The album being collected is complete: send it where its first item would go, or
        ask. None when nothing of it is held any more."""
        async with self.rt.engine.connect() as conn:
            rows = await held_store.album(conn, user_id, media_group_id)
        if not rows:
            return None
        first = _message(rows[0])
        options, chosen = await self._options(user_id, first)
        target = _destination(options, chosen)
        if target is None:
            return _ask(rows[0], options)
        return await self._route_rows(user_id, rows, target)

    async def route(self, user_id: int, held_id: int, target: RouteTarget) -> Result:
        """The citizen said which open thing a held message is for. A choice that is not
        open now (the case was decided meanwhile, the citizen moved on, or the callback data
        was forged) sends nothing: the message stays held and the citizen is asked again with
        what is open now — or, with nothing open, told that it went nowhere."""
        async with self.rt.engine.connect() as conn:
            row = await held_store.get(conn, held_id, user_id)
            if row is None:
                return Gone()
            rows = [row]
            if row["media_group_id"]:
                rows = await held_store.album(conn, user_id, row["media_group_id"])
        options, _chosen = await self._options(user_id, _message(rows[0]))
        if target not in {o.target for o in options}:
            if options:
                return _ask(rows[0], options, again=True)
            async with self.rt.engine.begin() as conn:
                await held_store.drop(conn, [r["id"] for r in rows])
            return Unplaced()
        return await self._route_rows(user_id, rows, target)

    async def _route_rows(self, user_id: int, rows: list[HeldRow], target: RouteTarget) -> Result:
        async with self.rt.engine.begin() as conn:
            if not await held_store.drop(conn, [r["id"] for r in rows]):
                return Gone()  # routed a moment ago (a second process, a double tap)
        if isinstance(target, ToDraft):
            await self.focus(user_id, p.Filing())
        if isinstance(target, ToCall):
            await self.focus(user_id, p.Call())
        messages = [_message(r) for r in rows]
        if isinstance(target, p.Answer):
            return await self._answer(user_id, target, messages)
        result: Result = Gone()
        for message in messages:
            result = await self._deliver(user_id, target, message)
        return result

    async def forget_old(self) -> int:
        """Held messages nobody routed within the draft idle time are dropped."""
        cutoff = self.rt.now() - self.filing.idle_limit
        async with self.rt.engine.begin() as conn:
            return await held_store.drop_older_than(conn, cutoff)

    # -- internals -----------------------------------------------------------------------------

    async def _options(
        self, user_id: int, message: Message
    ) -> tuple[list[Option], RouteTarget | None]:
        """Every open thing the message could be for, and the one the citizen chose, if any."""
        options, chosen, _live = await self._read_options(user_id, message)
        return options, chosen

    async def _read_options(
        self, user_id: int, message: Message, sender: UserRow | None = None
    ) -> tuple[list[Option], RouteTarget | None, dict[DraftKind, Step]]:
        """`_options`, and the step each live draft stood at when read (the message goes on
        to one of them in this update: the draft need not be read twice)."""
        async with self.rt.engine.connect() as conn:
            user = sender if sender is not None else await user_store.get(conn, user_id)
            focus = p.parse(user["pending_input"]) if user else None
            questions = await case_store.awaiting_answer(conn, user_id)
            open_drafts = await draft_store.of_user(conn, user_id)
            draft = open_drafts.get(DraftKind.COMPLAINT)
            call_row = open_drafts.get(DraftKind.CALL)
            focus_case = (
                await case_store.by_id(conn, focus.case_id)
                if isinstance(focus, p.Comment | p.ReopenReason)
                else None
            )
            since = self.rt.now() - self.filing.idle_limit
            # Only a desk member is ever asked to type something for the desk (a prompt); one
            # whose role is gone has nothing left to answer it with (the desk checks again).
            asked = user is not None and (
                user["role"] is not None or user_id in self.rt.settings.admin_ids
            )
            prompts = (
                await desk_store.open_prompts(conn, user_id, message.chat_id, since)
                if asked and not message.is_file
                else []
            )
        chosen: RouteTarget | None = None
        if isinstance(focus, p.Answer) and any(q["id"] == focus.case_id for q in questions):
            chosen = focus
        if draft is not None and draft["updated_at"] < since:
            draft = None  # filing drops it and says so when it is next touched
        chosen_at = user["pending_at"] if user else None
        call = Step(call_row["step"]) if call_row and call_row["updated_at"] >= since else None
        live = {DraftKind.CALL: call} if call is not None else {}
        if draft is not None:
            live[DraftKind.COMPLAINT] = Step(draft["step"])
        no_news = chosen_at is not None and all(q["updated_at"] <= chosen_at for q in questions)
        if (
            isinstance(focus, p.Filing)
            and draft is not None
            and no_news
            and (not message.is_file or draft["step"] == Step.EVIDENCE)
        ):
            chosen = ToDraft()  # chosen once already, and no question came since
        if isinstance(focus, p.Call) and call is not None and no_news and not message.is_file:
            chosen = ToCall()  # the desk member is registering a call: their typing is for it
        options = [Option(p.Answer(q["id"]), q["code"]) for q in questions]
        if prompts:
            codes = await self._codes([r["case_id"] for r in prompts])
            options += [Option(p.StaffPrompt(r["id"]), codes.get(r["case_id"])) for r in prompts]
            replied = [r for r in prompts if r["message_id"] == message.reply_to]
            if replied:  # a reply names its prompt, whichever was pressed last
                chosen = p.StaffPrompt(replied[0]["id"])
            elif (
                isinstance(focus, p.StaffPrompt)
                and no_news
                and any(r["id"] == focus.prompt_id for r in prompts)
            ):
                chosen = focus  # the prompt pressed last, and no question came since
        if not message.is_file:
            match focus:
                case p.TrackingCode():
                    options.append(Option(focus, None))
                    if text.parse_tracking_input(message.text or "") is not None:
                        chosen = focus  # a code typed after «پیگیری شکایت» is a lookup
                case p.Comment() | p.ReopenReason() if focus_case is not None:
                    options.append(Option(focus, focus_case["code"]))
                case _:
                    pass
        if draft is not None:
            step = Step(draft["step"])
            if not message.is_file or step == Step.EVIDENCE or not options:
                options.append(Option(ToDraft(), None, step))
        if call is not None and not message.is_file:  # a call takes no files
            options.append(Option(ToCall(), None, call))
        return options, chosen, live

    async def _hold(
        self, user_id: int, message: Message, options: list[Option], *, collecting: bool = False
    ) -> Result:
        attachment = message.attachment
        group = attachment.media_group_id if attachment else None
        async with self.rt.engine.begin() as conn:
            if await held_store.count(conn, user_id) >= MAX_HELD:
                return TooManyHeld()
            earlier = await held_store.album(conn, user_id, group) if group else []
            held_id = await held_store.hold(
                conn,
                {
                    "user_id": user_id,
                    "text": message.text,
                    "attachment": attachment.as_dict() if attachment else None,
                    "chat_id": message.chat_id,
                    "message_id": message.message_id,
                    "media_group_id": group,
                    "created_at": self.rt.now(),
                },
            )
        if collecting and group is not None:
            return Collecting(group)
        if earlier:
            return HeldQuietly()
        return Ask(held_id, tuple(options), _excerpt(message.text), message.message_id)

    async def _deliver(
        self,
        user_id: int,
        target: RouteTarget,
        message: Message,
        live: dict[DraftKind, Step] | None = None,
    ) -> Result:
        """`live`: the drafts' steps as this update read them, if it did."""
        live = live or {}
        raw = message.text or ""
        match target:
            case p.Answer():
                return await self._answer(user_id, target, [message])
            case p.TrackingCode():
                code = text.parse_tracking_input(raw)
                if code is None:
                    return BadCode()
                return LookedUp(await self.my_cases.lookup(user_id, code))
            case p.Comment(case_id):
                await self.my_cases.comment(user_id, case_id, raw)
                return CommentSaved()
            case p.ReopenReason(case_id):
                reopened = await self.desk.citizen_reopen(user_id, case_id, raw)
                await self._drop_focus_if(user_id, target)
                return Reopened() if isinstance(reopened, Done) else ReopenRefused()
            case p.StaffPrompt(prompt_id):
                return await self._answer_prompt(user_id, prompt_id, raw)
            case ToDraft():
                kind = DraftKind.COMPLAINT
                return await self._to_draft(user_id, message, kind, live.get(kind))
            case ToCall():
                kind = DraftKind.CALL
                return await self._to_draft(user_id, message, kind, live.get(kind))

    async def _answer_prompt(self, user_id: int, prompt_id: int, said: str) -> Result:
        prompt = await self.desk.prompt_of(user_id, prompt_id)
        if prompt is None:  # answered in the group a moment ago
            return Gone()
        result = await self.desk.answer_prompt(await self.desk.actor(user_id), prompt, said)
        if isinstance(result, Done):
            return PromptAnswered(result.action)
        return PromptRefused(result.reason, result.holder_name)

    async def _codes(self, case_ids: list[int]) -> dict[int, str]:
        async with self.rt.engine.connect() as conn:
            found = [await case_store.by_id(conn, case_id) for case_id in set(case_ids)]
        return {c["id"]: c["code"] for c in found if c is not None}

    async def _answer(self, user_id: int, target: p.Answer, messages: list[Message]) -> Result:
        """One answer from one message, or from every item of an album."""
        if any(
            m.attachment is not None
            and m.attachment.kind == "document"
            and not acceptable_evidence(m.attachment.mime_type, m.attachment.file_name)
            for m in messages
        ):
            return FileRefused()  # the staff chat gets no file the evidence rules refuse
        said = [text.normalize(m.text or "") for m in messages]
        answer = "\n\n".join(t for t in said if t) or None
        copies = [(m.chat_id, m.message_id) for m in messages if m.is_file]
        result = await self.desk.citizen_answer(user_id, target.case_id, answer, copies)
        if isinstance(result, Done):
            return Answered(str(result.case["code"]))
        await self._drop_focus_if(user_id, target)
        return NotAwaited()

    async def _to_draft(
        self, user_id: int, message: Message, kind: DraftKind, step: Step | None = None
    ) -> Filed:
        """`step`: where the live draft stood, if this update read it already; else read."""
        before = step
        if before is None:
            current = await self.filing.current(user_id, kind)
            before = current.draft.step if current.draft else None
            if current.expired:
                return Filed(current, before, kind)
        if message.attachment is not None and kind == DraftKind.COMPLAINT:
            return Filed(await self.filing.attach(user_id, message.attachment), before)
        if message.attachment is not None:
            return Filed(await self.filing.wrong_input(user_id, kind), before, kind)
        return Filed(await self.filing.text(user_id, message.text or "", kind), before, kind)

    async def _drop_focus_if(self, user_id: int, what: p.Pending) -> None:
        async with self.rt.engine.begin() as conn:
            await user_store.clear_pending_input(conn, user_id, what.encode())


def _awaits(case: CaseRow | None, user_id: int) -> bool:
    return (
        case is not None
        and case["citizen_id"] == user_id
        and case["status"] == Status.AWAITING_CITIZEN
        and tracking.is_valid(case["code"])
    )


def _destination(options: list[Option], chosen: RouteTarget | None) -> RouteTarget | None:
    """Where a message goes without asking: what the citizen chose, the one open thing, or
    (nothing open) the draft, which says what to do; None when the citizen must be asked."""
    if chosen is not None:
        return chosen
    if len(options) <= 1:
        return options[0].target if options else ToDraft()
    return None


def _message(held: HeldRow) -> Message:
    attachment = Attachment(**held["attachment"]) if held["attachment"] else None
    return Message(held["chat_id"], held["message_id"], held["text"], attachment)


def _excerpt(said: str | None) -> str:
    return text.excerpt(said or "", 80)


def _ask(held: HeldRow, options: list[Option], *, again: bool = False) -> Ask:
    return Ask(held["id"], tuple(options), _excerpt(held["text"]), held["message_id"], again)
