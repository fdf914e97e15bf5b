"""What staff see besides the card: alerts, prompts, lists, the full case, help."""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from bot import callbacks as cb
from bot import jalali, text
from bot.domain import tracking
from bot.domain.catalogue import VIOLATIONS_BY_CODE
from bot.domain.lifecycle import STATUS_LABELS, Action, Outcome, Status
from bot.domain.refusal import Refusal
from bot.domain.roles import ROLE_LABELS, Role
from bot.i18n import N_, _
from bot.storage.rows import CaseRow, EventRow, StaffMember, UnitRow
from bot.views import labels as L
from bot.views.notices import OUTCOME_LABELS

REFUSALS = {
    Refusal.NOT_STAFF: N_("Only Ta'zirat staff can do this."),
    Refusal.ANONYMOUS_ADMIN: N_(
        "You are posting as the group. Turn off «remain anonymous» so the action can be "
        "recorded under your name."
    ),
    Refusal.NO_CASE: N_("No such case."),
    Refusal.NOT_ALLOWED: N_("You may not do this on this case."),
    Refusal.WRONG_STATE: N_("This is not possible in the case's current state."),
    Refusal.HELD: N_("Already taken by {name}."),
    Refusal.CHANGED: N_("The case changed meanwhile. Please look at it again."),
    Refusal.ANONYMOUS_CITIZEN: N_(
        "The citizen filed anonymously and cannot be asked follow-up questions."
    ),
    Refusal.BAD_INPUT: N_("That input is not valid here."),
    Refusal.WINDOW_CLOSED: N_("The time to reopen this case has passed."),
    Refusal.NOT_DESK_CHAT: N_(
        "Desk commands work only in the staff group, a unit's group or your private chat "
        "with the bot."
    ),
    Refusal.NOT_LINKED: N_(
        "The reporter does not follow this case in the bot, so a question would not reach "
        "them. Call them instead (📞 shows the number)."
    ),
    Refusal.SHORT_QUERY: N_(
        "To search, type at least three letters of the business name or of the description, "
        "or the tracking code."
    ),
    Refusal.ROUTED_DESK: N_(
        "New cases' cards go to that group: it is a desk group. Give the unit a group of its own."
    ),
}

DONE = {
    Action.CLAIM: N_("The case is yours."),
    Action.RELEASE: N_("Released back to the queue."),
    Action.REASSIGN: N_("Reassigned."),
    Action.REFER: N_("Referred."),
    Action.ACCEPT_REFERRAL: N_("Accepted: the case is yours."),
    Action.RETURN_REFERRAL: N_("Returned to the queue."),
    Action.NOTE: N_("Note saved."),
    Action.MARK_URGENT: N_("Marked urgent."),
    Action.ASK: N_("Question sent to the citizen."),
    Action.RESOLVE: N_("Resolved; the citizen was told."),
    Action.REJECT: N_("Rejected; the citizen was told."),
    Action.MERGE: N_("Merged."),
    Action.REOPEN: N_("Reopened."),
}

PROMPTS: dict[Action, str] = {
    Action.NOTE: N_(
        "{who}, write the internal note for complaint {code} in reply to this message."
    ),
    Action.ASK: N_(
        "{who}, write your question to the citizen about {code} in reply to this message."
    ),
    Action.RELEASE: N_("{who}, why are you releasing {code}? Reply to this message."),
    Action.REJECT: N_(
        "{who}, why is {code} rejected? The reason is sent to the citizen. Reply here."
    ),
    Action.MERGE: N_("{who}, reply with the tracking code of the case that {code} duplicates."),
    Action.REOPEN: N_("{who}, why is {code} reopened? Reply to this message."),
    Action.RETURN_REFERRAL: N_("{who}, why is the unit returning {code}? Reply to this message."),
    Action.RESOLVE: N_(
        "{who}, write the explanation for the citizen about {code} ({outcome}) in reply to "
        "this message."
    ),
}

EVENT_LABELS = {
    Action.SUBMIT: N_("filed"),
    Action.CLAIM: N_("claimed"),
    Action.RELEASE: N_("released"),
    Action.REASSIGN: N_("reassigned"),
    Action.REFER: N_("referred"),
    Action.ACCEPT_REFERRAL: N_("referral accepted"),
    Action.RETURN_REFERRAL: N_("referral returned"),
    Action.ASK: N_("question to the citizen"),
    Action.CITIZEN_ANSWER: N_("citizen answered"),
    Action.NOTE: N_("note"),
    Action.MARK_URGENT: N_("marked urgent"),
    Action.RESOLVE: N_("resolved"),
    Action.REJECT: N_("rejected"),
    Action.MERGE: N_("merged"),
    Action.REOPEN: N_("reopened"),
    Action.CLOSE: N_("closed"),
    Action.LINK: N_("followed in the citizen's chat"),
}


DONE_OTHER = N_("Done.")


def refusal(reason: Refusal, holder_name: str | None = None) -> str:
    """As a button's answer takes it: plain text (a message takes `refusal_message`)."""
    return _(REFUSALS[reason]).format(name=text.fsi(holder_name or "—"))


def card_already_here() -> str:
    """A digest's case pressed whose card is in this group already."""
    return _(
        "This case's card is already in this group, further up; {case} with its code shows it."
    ).format(case=command("case"))


def refusal_message(reason: Refusal, holder_name: str | None = None) -> str:
    """The refusal as a message (HTML): the holder's name is whatever they typed, so escaped."""
    return escape(refusal(reason, holder_name))


def done(action: Action) -> str:
    return _(DONE.get(action, DONE_OTHER))


def mention(user_id: int, name: str) -> str:
    """A link to the person, isolated: a Latin name must not turn the line left-to-right."""
    shown = escape(name) if name else text.format_id(user_id)
    return text.fsi(f'<a href="tg://user?id={user_id}">{shown}</a>')


def command(name: str) -> str:
    """A /command inside a Persian line, isolated so the line keeps its direction."""
    return text.ltr(f"/{name}")


def prompt(
    action: Action, *, user_id: int, name: str, code: str, outcome: Outcome | None = None
) -> str:
    return _(PROMPTS[action]).format(
        who=mention(user_id, name),
        code=tracking.format_code(code),
        outcome=_(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else "",
    )


# What a prompt asks for, as the object of «… را همین‌جا بنویسید» in the private chat.
ASKED_FOR: dict[Action, str] = {
    Action.NOTE: N_("the internal note"),
    Action.ASK: N_("your question to the citizen"),
    Action.RELEASE: N_("why you are releasing the case"),
    Action.REJECT: N_("the reason for rejecting the case (it is sent to the citizen)"),
    Action.MERGE: N_("the tracking code of the case it duplicates"),
    Action.REOPEN: N_("why the case is reopened"),
    Action.RETURN_REFERRAL: N_("why the unit is returning the case"),
    Action.RESOLVE: N_("the explanation for the citizen ({outcome})"),
}


def private_prompt(action: Action, *, code: str, outcome: Outcome | None = None) -> str:
    """The same prompt in the member's private chat, where their next text is the answer (no
    reply, no ForceReply needed)."""
    what = _(ASKED_FOR[action]).format(
        outcome=_(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else ""
    )
    return _(
        "✍️ Complaint {code}: write {what} here, in one message.\n"
        "Your next text message in this chat is taken as it; «{cancel}» drops the request."
    ).format(code=tracking.format_code(code), what=what, cancel=_(L.CANCEL))


def asked_privately_too(asked: bool) -> str:
    """The line under a group prompt: where else the member may answer."""
    if asked:
        return _("I have asked you in your private chat with the bot too: you can answer there.")
    return _("To answer in your private chat with the bot instead, open it once and press Start.")


def prompt_dropped() -> str:
    return _("Dropped: the desk no longer waits for that text.")


def outcome_choices(case_id: int) -> list[tuple[str, str]]:
    return [
        (_(label), cb.ResolveAs(case_id, Outcome(key)).encode())
        for key, label in OUTCOME_LABELS.items()
    ]


def unit_choices(case_id: int, units: list[UnitRow]) -> list[tuple[str, str]]:
    return [(u["name"], cb.ReferTo(case_id, u["id"]).encode()) for u in units]


def case_line(case: CaseRow, now: datetime) -> str:
    violation = VIOLATIONS_BY_CODE.get(case["violation"])
    return text.RLM + "• {urgent}{code} — {age} — {kind} — {business}".format(
        urgent="🔴 " if case["urgent"] else "",
        code=tracking.format_code(case["code"]),
        age=jalali.format_age(now - case["created_at"]),
        kind=_(violation.label) if violation else "",
        business=escape(text.shown(text.excerpt(case["business"], 40))),
    )


def case_list(title: str, cases: list[CaseRow], now: datetime, empty: str) -> str:
    if not cases:
        return empty
    return "\n".join([f"<b>{title}</b>", *(case_line(c, now) for c in cases)])


def queue(cases: list[CaseRow], total: int, now: datetime) -> str:
    """The oldest unclaimed cases; the title counts the whole backlog, not the lines shown."""
    title = _("Unclaimed complaints, oldest first ({n})").format(n=text.format_number(total))
    if total > len(cases):
        title += " — " + _("the {n} oldest shown").format(n=text.format_number(len(cases)))
    return case_list(
        title,
        cases,
        now,
        _("The queue is empty."),
    )


def mine(cases: list[CaseRow], now: datetime) -> str:
    return case_list(
        _("Complaints you hold ({n})").format(n=text.format_number(len(cases))),
        cases,
        now,
        _("You hold no open complaints."),
    )


def found(cases: list[CaseRow], now: datetime) -> str:
    return case_list(_("Found"), cases, now, _("Nothing found."))


def timeline(case: CaseRow, events: list[EventRow], names: dict[int, str], tz: ZoneInfo) -> str:
    lines = [
        _("<b>Timeline of {code}</b>").format(code=tracking.format_code(case["code"])),
        _("<b>Status:</b> {status}").format(status=_(STATUS_LABELS[Status(case["status"])])),
    ]
    for e in events:
        citizen = case["citizen_id"]
        who = (
            _("citizen")
            if citizen is not None and e["actor_id"] == citizen
            else names.get(e["actor_id"] or 0, _("system"))
        )
        line = text.RLM + "• {when} — {what} — {who}".format(
            when=jalali.format_datetime(e["at"], tz),
            what=_(EVENT_LABELS.get(Action(e["action"]), EVENT_LABELS[Action.NOTE])),
            who=text.fsi(escape(who or "—")),
        )
        if e["note"]:
            note = escape(text.shown(text.excerpt(e["note"], 300)))
            line += f"\n{text.RLM}   <i>{note}</i>"
        lines.append(line)
    return "\n".join(lines)


def units(rows: list[UnitRow]) -> str:
    """The units, name first (the code is what older commands typed), and their chats."""
    lines = [_("<b>Units</b>")]
    for u in rows:
        chat = text.format_id(u["chat_id"]) if u["chat_id"] else _("no chat of its own")
        name = escape(text.shown(u["name"]))
        lines.append(text.rtl_line(f"• {name} — <code>{escape(u['code'])}</code> — {chat}"))
    lines.append(_("Set a unit's chat: {cmd} UNIT CHAT_ID").format(cmd=command("units")))
    return "\n".join(lines)


def staff_list(rows: list[StaffMember]) -> str:
    lines = [_("<b>Staff</b>")]
    for r in rows:
        raw = r["role"]
        role = Role(raw) if raw is not None and raw in Role._value2member_map_ else None
        label = _(ROLE_LABELS[role]) if role else f"<code>{escape(str(r['role']))}</code>"
        name = text.fsi(escape(r["first_name"] or "—"))
        lines.append(text.rtl_line(f"• {name} — {text.format_id(r['id'])} — {label}"))
    lines.append(
        _("Administrators: {cmd} add USER_ID ROLE, {cmd} remove USER_ID").format(
            cmd=command("staff")
        )
    )
    return "\n".join(lines)


def phone_alert(phone: str | None, name: str | None = None) -> str:
    if not phone:
        return _("The citizen filed anonymously.")
    shown = text.format_phone(phone)
    return _("The citizen's phone: {phone}").format(
        phone=f"{text.shown(name)} — {shown}" if name else shown
    )


def supporting_files_header(code: str, count: int) -> str:
    """Before a supporting report's evidence, in the asker's private chat."""
    return _("Evidence of the supporting report {code} ({n} files):").format(
        code=tracking.format_code(code), n=text.format_number(count)
    )


def call_in_private() -> str:
    return _(
        "Phone calls are registered in your private chat with the bot: open it and send /call "
        "there."
    )


def files_sent() -> str:
    return _("The evidence was sent to your private chat with the bot.")


def files_none() -> str:
    return _("This case has no evidence files.")


def start_private_first() -> str:
    return _("Open a private chat with the bot and press Start first, then try again.")


def help_text(role: Role | None) -> str:
    """What each desk command does, then how to type it: a line that began with «/ask» would
    be laid out left-to-right, so the isolated command comes after the description."""
    lines = [
        _("<b>Staff desk</b>"),
        _("Press the buttons on a case card, or use these commands:"),
        _("• Unclaimed complaints, oldest first: {cmd}").format(cmd=command("queue")),
        _("• Complaints you hold: {cmd}").format(cmd=command("mine")),
        _("• The whole history of a case: {cmd} CODE").format(cmd=command("case")),
        _("• Search by business name, description or tracking code: {cmd} TEXT").format(
            cmd=command("find")
        ),
        _("• Internal note: {cmd} CODE TEXT").format(cmd=command("note")),
        _("• Ask the citizen: {cmd} CODE QUESTION").format(cmd=command("ask")),
        _(
            "• Refer to a unit: {cmd} CODE UNIT; the unit by a word of its name (list: {units})"
        ).format(cmd=command("refer"), units=command("units")),
        resolve_usage(),
        _("• Reject an empty or abusive complaint: {cmd} CODE REASON").format(
            cmd=command("reject")
        ),
        _("• The units and their chats: {cmd}").format(cmd=command("units")),
        _("• Register a phone call (in your private chat with the bot): {cmd}").format(
            cmd=command("call")
        ),
    ]
    if role in (Role.ADMIN, Role.SUPERVISOR):
        lines.append(
            _("• Give a case to another staff member: {cmd} CODE USER_ID").format(
                cmd=command("reassign")
            )
        )
    if role == Role.ADMIN:
        lines.append(
            _(
                "• Staff members: {cmd}; add: {cmd} add USER_ID ROLE; remove: {cmd} remove USER_ID"
            ).format(cmd=command("staff"))
        )
        lines.append(roles_usage())
    return "\n".join(lines)


def resolve_usage() -> str:
    """The outcome words are those `bot.domain.staff_words` reads (tests check they agree)."""
    return _(
        "• Record the outcome: {cmd} CODE OUTCOME EXPLANATION; the outcome is «fixed», "
        "«branch», «no violation» or «outside»"
    ).format(cmd=command("resolve"))


def roles_usage() -> str:
    """The role words `bot.domain.staff_words.read_role` reads."""
    return _("  The role is «administrator», «supervisor», «staff member» or «manager»")
