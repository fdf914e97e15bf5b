"""What staff see besides the card: alerts, prompts, lists, the full case, help."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from bot import jalali, text
from bot.domain import tracking
from bot.domain.catalogue import VIOLATIONS_BY_CODE
from bot.domain.lifecycle import STATUS_LABELS, Action, Status
from bot.domain.roles import ROLE_LABELS, Role
from bot.i18n import N_, _
from bot.services.desk import Refusal
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

PROMPTS = {
    "note": N_("{who}, write the internal note for complaint {code} in reply to this message."),
    "ask": N_("{who}, write your question to the citizen about {code} in reply to this message."),
    "release": N_("{who}, why are you releasing {code}? Reply to this message."),
    "reject": N_("{who}, why is {code} rejected? The reason is sent to the citizen. Reply here."),
    "merge": N_("{who}, reply with the tracking code of the case that {code} duplicates."),
    "reopen": N_("{who}, why is {code} reopened? Reply to this message."),
    "return": N_("{who}, why is the unit returning {code}? Reply to this message."),
    "resolve": N_(
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
}


def refusal(reason: Refusal, holder_name: str | None = None) -> str:
    return _(REFUSALS[reason]).format(name=holder_name or "—")


def done(action: Action) -> str:
    return _(DONE.get(action, N_("Done.")))


def mention(user_id: int, name: str) -> str:
    return f'<a href="tg://user?id={user_id}">{escape(name or str(user_id))}</a>'


def prompt(kind: str, *, user_id: int, name: str, code: str, outcome: str | None = None) -> str:
    return _(PROMPTS[kind]).format(
        who=mention(user_id, name),
        code=tracking.format_code(code),
        outcome=_(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else "",
    )


def outcome_choices(case_id: int) -> list[tuple[str, str]]:
    return [(_(label), f"s:ro:{case_id}:{key}") for key, label in OUTCOME_LABELS.items()]


def unit_choices(case_id: int, units: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(u["name"], f"s:ru:{case_id}:{u['id']}") for u in units]


def case_line(case: dict[str, Any], now: datetime) -> str:
    violation = VIOLATIONS_BY_CODE.get(case["violation"])
    return "• {urgent}{code} — {age} — {kind} — {business}".format(
        urgent="🔴 " if case["urgent"] else "",
        code=tracking.format_code(case["code"]),
        age=jalali.format_age(now - case["created_at"]),
        kind=_(violation.label) if violation else "",
        business=escape(text.excerpt(case["business"], 40)),
    )


def case_list(title: str, cases: list[dict[str, Any]], now: datetime, empty: str) -> str:
    if not cases:
        return empty
    return "\n".join([f"<b>{title}</b>", *(case_line(c, now) for c in cases)])


def queue(cases: list[dict[str, Any]], now: datetime) -> str:
    return case_list(
        _("Unclaimed complaints, oldest first ({n})").format(n=text.format_number(len(cases))),
        cases,
        now,
        _("The queue is empty."),
    )


def mine(cases: list[dict[str, Any]], now: datetime) -> str:
    return case_list(
        _("Complaints you hold ({n})").format(n=text.format_number(len(cases))),
        cases,
        now,
        _("You hold no open complaints."),
    )


def found(cases: list[dict[str, Any]], now: datetime) -> str:
    return case_list(_("Found"), cases, now, _("Nothing found."))


def timeline(
    case: dict[str, Any], events: list[dict[str, Any]], names: dict[int, str], tz: ZoneInfo
) -> str:
    lines = [
        _("<b>Timeline of {code}</b>").format(code=tracking.format_code(case["code"])),
        _("<b>Status:</b> {status}").format(status=_(STATUS_LABELS[Status(case["status"])])),
    ]
    for e in events:
        who = (
            _("citizen")
            if e["actor_id"] == case["citizen_id"]
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


def units(rows: list[dict[str, Any]]) -> str:
    lines = [_("<b>Units</b>")]
    for u in rows:
        chat = text.ltr(str(u["chat_id"])) if u["chat_id"] else _("no chat of its own")
        lines.append(f"• <code>{escape(u['code'])}</code> — {escape(u['name'])} — {chat}")
    lines.append(_("Set a unit's chat: /units CODE CHAT_ID"))
    return "\n".join(lines)


def staff_list(rows: list[dict[str, Any]]) -> str:
    lines = [_("<b>Staff</b>")]
    for r in rows:
        role = Role(r["role"]) if r["role"] in Role._value2member_map_ else None
        label = _(ROLE_LABELS[role]) if role else escape(str(r["role"]))
        lines.append(f"• {escape(r['first_name'] or '—')} — {text.ltr(str(r['id']))} — {label}")
    lines.append(_("Admins: /staff add USER_ID ROLE, /staff remove USER_ID"))
    return "\n".join(lines)


def phone_alert(phone: str | None) -> str:
    return phone if phone else _("The citizen filed anonymously.")


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
    ]
    if role in (Role.ADMIN, Role.SUPERVISOR):
        lines.append(_("/reassign CODE USER_ID — give a case to another staff member"))
    if role == Role.ADMIN:
        lines.append(_("/staff — staff members; /staff add USER_ID ROLE; /staff remove USER_ID"))
    return "\n".join(lines)
