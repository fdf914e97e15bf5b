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


def refusal(reason: Refusal, holder_name: str | None = None) -> str:
    return _(REFUSALS[reason]).format(name=holder_name or "—")


def done(action: Action) -> str:
    return _(DONE.get(action, N_("Done.")))


def mention(user_id: int, name: str) -> str:
    return f'<a href="tg://user?id={user_id}">{escape(name or str(user_id))}</a>'


def prompt(
    action: Action, *, user_id: int, name: str, code: str, outcome: Outcome | None = None
) -> str:
    return _(PROMPTS[action]).format(
        who=mention(user_id, name),
        code=tracking.format_code(code),
        outcome=_(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else "",
    )


def outcome_choices(case_id: int) -> list[tuple[str, str]]:
    return [
        (_(label), cb.ResolveAs(case_id, Outcome(key)).encode())
        for key, label in OUTCOME_LABELS.items()
    ]


def unit_choices(case_id: int, units: list[UnitRow]) -> list[tuple[str, str]]:
    return [(u["name"], cb.ReferTo(case_id, u["id"]).encode()) for u in units]


def case_line(case: CaseRow, now: datetime) -> str:
    violation = VIOLATIONS_BY_CODE.get(case["violation"])
    return "• {urgent}{code} — {age} — {kind} — {business}".format(
        urgent="🔴 " if case["urgent"] else "",
        code=tracking.format_code(case["code"]),
        age=jalali.format_age(now - case["created_at"]),
        kind=_(violation.label) if violation else "",
        business=escape(text.excerpt(case["business"], 40)),
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
        line = "• {when} — {what} — {who}".format(
            when=jalali.format_datetime(e["at"], tz),
            what=_(EVENT_LABELS.get(Action(e["action"]), N_("note"))),
            who=escape(who or "—"),
        )
        if e["note"]:
            line += "\n   <i>" + escape(text.excerpt(e["note"], 300)) + "</i>"
        lines.append(line)
    return "\n".join(lines)


def units(rows: list[UnitRow]) -> str:
    lines = [_("<b>Units</b>")]
    for u in rows:
        chat = text.ltr(str(u["chat_id"])) if u["chat_id"] else _("no chat of its own")
        lines.append(f"• <code>{escape(u['code'])}</code> — {escape(u['name'])} — {chat}")
    lines.append(_("Set a unit's chat: /units CODE CHAT_ID"))
    return "\n".join(lines)


def staff_list(rows: list[StaffMember]) -> str:
    lines = [_("<b>Staff</b>")]
    for r in rows:
        raw = r["role"]
        role = Role(raw) if raw is not None and raw in Role._value2member_map_ else None
        label = _(ROLE_LABELS[role]) if role else escape(str(r["role"]))
        lines.append(f"• {escape(r['first_name'] or '—')} — {text.ltr(str(r['id']))} — {label}")
    lines.append(_("Admins: /staff add USER_ID ROLE, /staff remove USER_ID"))
    return "\n".join(lines)


def phone_alert(phone: str | None, name: str | None = None) -> str:
    if not phone:
        return _("The citizen filed anonymously.")
    return f"{name} — {phone}" if name else phone


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
    lines = [
        _("<b>Staff desk</b>"),
        _("Press the buttons on a case card, or use these commands:"),
        _("/queue — unclaimed complaints, oldest first"),
        _("/mine — complaints you hold"),
        _("/case CODE — the full timeline of a complaint"),
        _("/find TEXT — search by business name or tracking code"),
        _("/note CODE TEXT — internal note"),
        _("/ask CODE QUESTION — ask the citizen"),
        _("/refer CODE UNIT — refer to a unit (see /units)"),
        _("/resolve CODE OUTCOME TEXT — outcome: branch, no_violation, not_jurisdiction, resolved"),
        _("/reject CODE REASON — reject an empty or abusive complaint"),
        _("/units — units and their chats"),
        _("/call — register a phone call (in your private chat with the bot)"),
    ]
    if role in (Role.ADMIN, Role.SUPERVISOR):
        lines.append(_("/reassign CODE USER_ID — give a case to another staff member"))
    if role == Role.ADMIN:
        lines.append(_("/staff — staff members; /staff add USER_ID ROLE; /staff remove USER_ID"))
    return "\n".join(lines)
