"""What a desk member sees while registering a phone call: the filing steps in an operator's
words (they ask the caller, and may type every answer), the review with «فوری», and the
tracking code grouped for reading aloud.

The steps' keyboards, the province pages and the duplicate question are the citizen's own
(`bot.views.citizen`), drawn for a call's buttons; only the words differ.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from bot import callbacks as cb
from bot import text
from bot.domain import tracking
from bot.domain.complaint import EDIT_GROUPS_OF, DraftData, DraftKind, Problem, Step
from bot.i18n import N_, _
from bot.storage.rows import UnitRow
from bot.views import citizen
from bot.views import labels as L
from bot.views.citizen import digits
from bot.views.screen import Screen, inline, reply_keyboard

if TYPE_CHECKING:
    from bot.services.filing import DraftView

CALL = DraftKind.CALL

# Which numbered step of the call each step is, for «مرحله ۳ از ۸».
STEP_NUMBERS: dict[Step, int] = {
    Step.VIOLATION: 1,
    Step.SECTOR: 2,
    Step.PROVINCE: 3,
    Step.CITY: 3,
    Step.BUSINESS: 4,
    Step.ADDRESS: 4,
    Step.DUPLICATE: 4,
    Step.DESCRIPTION: 5,
    Step.PRICE_PAID: 6,
    Step.PRICE_FAIR: 6,
    Step.CALLER: 7,
    Step.REVIEW: 8,
}
STEP_COUNT = 8

PROMPTS: dict[Step, str] = {
    Step.VIOLATION: N_(
        "What kind of violation is the caller reporting? Choose one, or type its number or name:"
    ),
    Step.SECTOR: N_("Which trade or sector is it? Choose, or type its number or name:"),
    Step.CITY: N_("Which city or town?"),
    Step.BUSINESS: N_(
        "What is the business called, as the caller gives it? The shop's name or sign, the "
        "brand, or the online page or website."
    ),
    Step.ADDRESS: N_("Its address? For an online shop, the page's or website's address."),
    Step.DESCRIPTION: N_(
        "What happened, as the caller tells it? What they bought or asked for, when, and what "
        "was wrong."
    ),
    Step.PRICE_PAID: N_(
        "(optional) How much did the caller pay? For example «۲۵۰ هزار تومان». An amount "
        "without a unit is read as toman. Press «{skip}» if no price is involved."
    ),
    Step.PRICE_FAIR: N_(
        "The official or fair price, if the caller knows it? Otherwise press «{skip}»."
    ),
    Step.CALLER: N_(
        "The caller's name and number (mobile or landline) in one message, for example "
        "«علی رضایی ۰۹۱۲۱۲۳۴۵۶۷»; the number alone is enough too. If the caller gives neither, "
        "press «{anon}». Only the officer holding the case and supervisors see the number."
    ),
}

EDIT_LABELS: dict[str, str] = {**citizen.EDIT_LABELS, "contact": N_("Caller")}


def _head(step: Step) -> str:
    return f"<b>{citizen._head(step, STEP_NUMBERS, STEP_COUNT)}</b>\n"


def _numbered(step: Step) -> list[list[tuple[str, str]]]:
    """A choice step's buttons with their numbers, which the operator may type instead."""
    buttons = [
        (f"{digits(str(n))}. {label}", cb.Choose(step, code, CALL).encode())
        for n, (code, label) in enumerate(citizen.choice_options(step), start=1)
    ]
    per_row = 1 if step == Step.VIOLATION else 2
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def step_screen(
    step: Step,
    data: DraftData,
    *,
    page: int = 0,
    codes: tuple[str, ...] = (),
    unit: str | None = None,
) -> Screen:
    """The prompt for `step` of a call (`codes`: the open cases of a duplicate step; `unit`:
    the unit an urgent call goes to, for the review)."""
    head = _head(step)
    if step in (Step.VIOLATION, Step.SECTOR):
        return Screen(
            head + _(PROMPTS[step]), inline([*_numbered(step), citizen._cancel_row(CALL)])
        )
    if step == Step.PROVINCE:
        hint = _(
            "Or type the province's name, with the city after a comma if you like: «اصفهان، کاشان»."
        )
        screen = citizen.province_screen(page, CALL, head=head)
        return Screen(screen.text + "\n" + hint, screen.markup)
    if step in (Step.CITY, Step.BUSINESS, Step.DESCRIPTION):
        return citizen._text_step(head + _(PROMPTS[step]), step)
    if step == Step.ADDRESS:
        return citizen._text_step(_(PROMPTS[step]), step)
    if step == Step.DUPLICATE:
        return citizen.duplicate_screen(data.duplicates, CALL, codes, head=head)
    if step in (Step.PRICE_PAID, Step.PRICE_FAIR):
        prompt = _(PROMPTS[step]).format(skip=_(L.SKIP))
        return Screen(
            (head if step == Step.PRICE_PAID else "") + prompt,
            reply_keyboard([[_(L.SKIP), _(L.CANCEL)]]),
        )
    if step == Step.CALLER:
        return Screen(
            head + _(PROMPTS[step]).format(anon=_(L.CALLER_ANONYMOUS)),
            reply_keyboard([[_(L.CALLER_ANONYMOUS)], [_(L.CANCEL)]]),
        )
    return review_screen(data, unit)


def draft_screen(
    step: Step,
    data: DraftData,
    attachments: int,
    *,
    kind: DraftKind,
    page: int = 0,
    codes: tuple[str, ...] = (),
    unit: str | None = None,
) -> Screen:
    """The prompt of a draft of either kind: a call's in the operator's words."""
    if kind == CALL:
        return step_screen(step, data, page=page, codes=codes, unit=unit)
    return citizen.step_screen(step, data, attachments, page=page)


def edit_menu_for(draft: DraftView) -> Screen:
    """The review with the parts that can be changed, for a draft of either kind."""
    if draft.kind == CALL:
        return review_with_edit_menu(draft.data, draft.unit)
    return citizen.review_with_edit_menu(draft.data, draft.attachments)


def problem_for(problem: Problem, step: Step | None, kind: DraftKind) -> str:
    return problem_text(problem, step) if kind == CALL else citizen.problem_text(problem, step)


def review_screen(data: DraftData, unit: str | None) -> Screen:
    def body_for(shown: DraftData) -> str:
        return (
            _head(Step.REVIEW)
            + _("Please check the call before it is registered:")
            + "\n\n"
            + citizen.review_text(shown, 0, CALL, unit)
            + "\n\n"
            + _(
                "If everything is right, press «{confirm}». If it is urgent, press «{urgent}» "
                "and choose the unit: the case is referred to it at once, with you as its holder."
            ).format(confirm=_(L.CALL_CONFIRM), urgent=_(L.URGENT))
        )

    rows = [[(_(L.CALL_CONFIRM), cb.Confirm(CALL).encode())]]
    if data.duplicate_of is None:
        urgency = (_(L.NOT_URGENT), cb.UrgentTo(None).encode()) if unit else None
        rows.append([urgency or (_(L.URGENT), cb.UrgentMenu().encode())])
    rows.append(
        [(_("Edit"), cb.EditMenu(CALL).encode()), (_(L.CANCEL), cb.CancelFiling(CALL).encode())]
    )
    return Screen(citizen.fit_review(body_for, data), inline(rows))


def review_with_edit_menu(data: DraftData, unit: str | None) -> Screen:
    """The review again, its buttons replaced by the parts of a call that can be changed."""
    groups = EDIT_GROUPS_OF[CALL]
    buttons = [(_(EDIT_LABELS[g]), cb.EditPart(g, CALL).encode()) for g in groups]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    body = (
        review_screen(data, unit).text.rsplit("\n\n", 1)[0]
        + "\n\n"
        + _("Which part do you want to change?")
    )
    back = [(_("Back to the review"), cb.BackToReview(CALL).encode())]
    return Screen(body, inline([*rows, back]))


def urgent_menu(data: DraftData, unit: str | None, units: list[UnitRow]) -> Screen:
    """«فوری»: the review with the units to refer the call to at once."""
    rows = [[(u["name"], cb.UrgentTo(u["id"]).encode())] for u in units]
    rows.append([(_(L.NOT_URGENT), cb.UrgentTo(None).encode())])
    body = (
        review_screen(data, unit).text.rsplit("\n\n", 1)[0]
        + "\n\n"
        + _("Which unit should it be referred to at once? You can also type the unit's name.")
    )
    return Screen(body, inline(rows))


def started() -> Screen:
    return Screen(
        _(
            "Registering a phone call. Ask the caller and answer each step; you can type every "
            "answer instead of pressing buttons. «{cancel}» stops without registering anything. "
            "This call is kept apart from any complaint of your own."
        ).format(cancel=_(L.CANCEL)),
        reply_keyboard([[_(L.CANCEL)]]),
    )


def resumed() -> Screen:
    return Screen(
        _("You have a call that is not registered yet. Let us continue where you left off."),
        reply_keyboard([[_(L.CANCEL)]]),
    )


def cancelled() -> Screen:
    return Screen(
        _("The call was cancelled. Nothing was registered."), citizen.main_menu(desk=True)
    )


def call_expired() -> Screen:
    return Screen(
        _(
            "The unfinished call was dropped because it was left untouched for more than "
            "{hours} hours. Nothing was registered."
        ).format(hours=digits(24)),
        citizen.main_menu(desk=True),
    )


def not_desk() -> Screen:
    return Screen(_("Only desk staff register phone calls."), citizen.main_menu())


def registered(
    code: str, *, unit: str | None = None, joined: str | None = None, mobile: bool = True
) -> Screen:
    """The operator's receipt: the code to read out, and what became of the case. `mobile`:
    the caller gave a mobile number, so they can follow the case in the bot (a shared contact
    is a mobile; a landline or no number can never link it)."""
    follow = (
        _(
            "Read the code to the caller. To follow the case in this bot they press «{track}», "
            "type the code and share the same mobile number."
        ).format(track=_(L.TRACK))
        if mobile
        else _(
            "Read the code to the caller. Without a mobile number the case cannot be followed "
            "in the bot: they can ask about it by calling 135 with this code."
        )
    )
    lines = [
        _("✅ The call was registered."),
        "",
        _("Tracking code: <b>{code}</b>").format(code=tracking.format_code(code)),
        _("Read aloud: <b>{spoken}</b>").format(spoken=tracking.format_spoken(code)),
        "",
        follow,
    ]
    if unit is not None:
        lines += [
            "",
            _("🔴 Urgent: referred at once to «{unit}». You hold the case.").format(
                unit=escape(text.shown(unit))
            ),
        ]
    if joined is not None:
        lines += [
            "",
            _("It was added to case {code} as a supporting report.").format(
                code=tracking.format_code(joined)
            ),
        ]
    return Screen("\n".join(lines), citizen.main_menu(desk=True))


def problem_text(problem: Problem, step: Step | None) -> str:
    """A hint for the operator; the citizen's hints where they fit a call as well."""
    if problem == Problem.USE_BUTTONS and step == Step.REVIEW:
        return _(
            "Press a button above, or type «{confirm}», «{urgent}» with the unit's name, or "
            "«{not_urgent}»."
        ).format(confirm=_(L.CALL_CONFIRM), urgent=_(L.URGENT), not_urgent=_(L.NOT_URGENT))
    if problem == Problem.USE_BUTTONS:
        return _(
            "That matches none of the choices. Press a button, or type a number or name from "
            "the list."
        )
    if problem == Problem.AMBIGUOUS:
        return _(
            "That matches more than one choice. Please type more of the name, or press a button."
        )
    if problem == Problem.BAD_PHONE:
        return _(
            "The number could not be read as an Iranian mobile or landline number. Type the "
            "name and number, for example «علی رضایی ۰۹۱۲۱۲۳۴۵۶۷» or «۰۲۱-۸۸۷۷۶۶۵۵», or press "
            "«{anon}»."
        ).format(anon=_(L.CALLER_ANONYMOUS))
    if problem == Problem.TOO_LONG and step == Step.CALLER:
        return _("The name is too long. Please type a shorter form of it with the number.")
    if problem == Problem.NOT_DESK:
        return not_desk().text
    if problem == Problem.NO_DRAFT:
        return _("You have no call being registered. Press «{call}» to start.").format(
            call=_(L.CALL)
        )
    return citizen.problem_text(problem, step)
