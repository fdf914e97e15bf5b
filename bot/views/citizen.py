"""What the citizen sees in the private chat: menu, each filing step, review, cases."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape, unescape
from math import ceil
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram import KeyboardButton

from bot import callbacks as cb
from bot import jalali, text
from bot.domain import pending, tracking
from bot.domain.catalogue import (
    PROVINCES,
    PROVINCES_BY_CODE,
    SECTORS,
    SECTORS_BY_CODE,
    VIOLATION_TYPES,
    VIOLATIONS_BY_CODE,
)
from bot.domain.complaint import (
    EDIT_GROUPS,
    JOIN,
    MAX_ATTACHMENTS,
    SEPARATE,
    TEXT_LIMITS,
    DraftData,
    DraftKind,
    Problem,
    Step,
)
from bot.domain.lifecycle import STATUS_LABELS, Action, Status
from bot.i18n import N_, _
from bot.storage.rows import CaseRow, EventRow
from bot.views import labels as L
from bot.views.notices import ANSWER_BUTTON
from bot.views.screen import Screen, inline, reply_keyboard

if TYPE_CHECKING:
    from bot.services.citizen_input import Option
    from bot.services.my_cases import MergedInto

PROVINCES_PER_PAGE = 12
CASES_PER_PAGE = 5
STEP_COUNT = 9

# Which numbered step of STEP_COUNT each internal step belongs to, for «مرحله ۳ از ۹».
STEP_NUMBERS: dict[Step, int] = {
    Step.VIOLATION: 1,
    Step.SECTOR: 2,
    Step.PROVINCE: 3,
    Step.CITY: 3,
    Step.BUSINESS: 4,
    Step.ADDRESS: 4,
    Step.LOCATION: 4,
    Step.DUPLICATE: 4,
    Step.DESCRIPTION: 5,
    Step.PRICE_PAID: 6,
    Step.PRICE_FAIR: 6,
    Step.EVIDENCE: 7,
    Step.CONTACT: 8,
    Step.REVIEW: 9,
}

# Steps whose prompt carries its own reply keyboard (the others use inline buttons).
REPLY_KEYBOARD_STEPS = frozenset(
    {
        Step.CITY,
        Step.BUSINESS,
        Step.ADDRESS,
        Step.LOCATION,
        Step.DESCRIPTION,
        Step.PRICE_PAID,
        Step.PRICE_FAIR,
        Step.EVIDENCE,
        Step.CONTACT,
        Step.CALLER,
    }
)
SPECIAL_KEYBOARD_STEPS = REPLY_KEYBOARD_STEPS - {
    Step.CITY,
    Step.BUSINESS,
    Step.ADDRESS,
    Step.DESCRIPTION,
}

EDIT_LABELS: dict[str, str] = {
    "violation": N_("Violation type"),
    "sector": N_("Sector"),
    "place": N_("Province and city"),
    "business": N_("Business, address and location"),
    "description": N_("What happened"),
    "prices": N_("Prices"),
    "evidence": N_("Evidence"),
    "contact": N_("Contact"),
}

PUBLIC_EVENT_LABELS: dict[str, str] = {
    Action.SUBMIT: N_("Complaint registered"),
    Action.CLAIM: N_("An officer took up the case"),
    Action.REFER: N_("Referred to a specialised unit"),
    Action.ACCEPT_REFERRAL: N_("The specialised unit took up the case"),
    Action.ASK: N_("An officer asked you for more information"),
    Action.CITIZEN_ANSWER: N_("You answered"),
    Action.RESOLVE: N_("Resolved"),
    Action.REJECT: N_("Rejected"),
    Action.MERGE: N_("Merged into another case"),
    Action.REOPEN: N_("Reopened"),
    Action.CLOSE: N_("Closed"),
}

PERSIAN_ALPHABET = "آاأبپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"


def persian_sort_key(s: str) -> list[int]:
    """Order Persian names alphabetically (code points put پ چ ژ گ after ی)."""
    return [PERSIAN_ALPHABET.index(ch) if ch in PERSIAN_ALPHABET else 100 + ord(ch) for ch in s]


def digits(value: int | str) -> str:
    """Persian digits; counts get the Persian thousands separator (۲٬۰۰۰)."""
    return text.format_number(value) if isinstance(value, int) else text.to_persian_digits(value)


# -- menu and help ---------------------------------------------------------------------------


def main_menu(*, desk: bool = False) -> Any:
    """The private chat's menu; a desk member's also has «ثبت تماس تلفنی»."""
    rows: list[list[str | KeyboardButton]] = [[_(L.FILE), _(L.TRACK)], [_(L.MINE), _(L.HELP)]]
    return reply_keyboard([[_(L.CALL)], *rows] if desk else rows)


def welcome(first_name: str, first_answer_days: int) -> Screen:
    body = _(
        "Hello {name}, welcome to the public complaints bot of the Government Discretionary "
        "Punishments Organization (the 135 line).\n\n"
        "Here you can report violations by shops, online sellers and service providers, "
        "including {violations}.\n\n"
        "When you file a complaint you get a tracking code. An officer usually takes it up "
        "within {days} working days, and you are told here of every step.\n\n"
        "What you tell us is confidential: officers do not see your name; your phone number, "
        "if you choose to give it, is seen only by the officer handling your complaint and "
        "supervisors; and nothing that identifies you is given to the business you report.\n\n"
        "This is not an emergency line: for emergencies call 110 (police) or 115 (ambulance).\n\n"
        "Choose from the menu below."
    ).format(
        name=escape(first_name or ""),
        violations=violation_names(),
        days=text.count_in_words(first_answer_days),
    )
    return Screen(body, main_menu())


def violation_names() -> str:
    """The violation types as the buttons, cards and reports name them, for running text."""
    return "، ".join(_(c.label) for c in VIOLATION_TYPES if c.code != "other")


def help_screen() -> Screen:
    body = _(
        "<b>How it works</b>\n"
        "1. Press «{file}» and answer a few short questions: what happened, where, and, if you "
        "have them, prices and photos of the receipt or the goods.\n"
        "2. At the end you get a 10-digit tracking code. Keep it.\n"
        "3. An officer reviews the complaint and may refer it to a specialised unit. You are "
        "told here of every change, and may be asked for more information.\n"
        "4. Press «{track}» and type the code, or «{mine}», to see where your complaint stands.\n\n"
        "You can stop at any step with «{cancel}» or /cancel. What you have typed is kept for "
        "{hours} hours if you leave in the middle.\n"
        "Phone line: 135"
    )
    return Screen(
        body.format(
            file=_(L.FILE), track=_(L.TRACK), mine=_(L.MINE), cancel=_(L.CANCEL), hours=digits(24)
        ),
        main_menu(),
    )


def use_menu() -> Screen:
    return Screen(_("To file a complaint or follow one, use the menu below."), main_menu())


def cancelled() -> Screen:
    return Screen(_("Your unfinished complaint was cancelled. Nothing was sent."), main_menu())


def nothing_to_cancel() -> Screen:
    return Screen(_("There is nothing to cancel."), main_menu())


def draft_expired() -> Screen:
    return Screen(
        _(
            "Your unfinished complaint was dropped because it was left untouched for more than "
            "{hours} hours. You can start again with «{file}»."
        ).format(hours=digits(24), file=_(L.FILE)),
        main_menu(),
    )


def draft_expired_notice() -> dict[str, Any]:
    """The same notice, as an outbox payload (the idle sweep sends it on its own)."""
    return draft_expired().payload()


def daily_limit(limit: int) -> Screen:
    return Screen(
        _(
            "You have already filed {n} complaints today, the most allowed in one day. Please "
            "try again tomorrow. If the matter is urgent, call 135."
        ).format(n=digits(limit)),
        main_menu(),
    )


def resumed() -> Screen:
    return Screen(_("You have an unfinished complaint. Let us continue where you left off."))


def filing_started() -> Screen:
    return Screen(
        _(
            "Filing a new complaint. You can stop at any time with «{cancel}».\n"
            "Your answers are saved as you go."
        ).format(cancel=_(L.CANCEL)),
        reply_keyboard([[_(L.CANCEL)]]),
    )


def noted() -> Screen:
    """A short acknowledgement that also puts back the plain keyboard."""
    return Screen(_("Noted."), reply_keyboard([[_(L.CANCEL)]]))


# -- steps -----------------------------------------------------------------------------------


def _head(step: Step, numbers: dict[Step, int] = STEP_NUMBERS, total: int = STEP_COUNT) -> str:
    return _("Step {n} of {total}").format(n=digits(numbers[step]), total=digits(total))


def _cancel_row(kind: DraftKind = DraftKind.COMPLAINT) -> list[tuple[str, str]]:
    return [(_(L.CANCEL), cb.CancelFiling(kind).encode())]


def choice_options(step: Step) -> list[tuple[str, str]]:
    """(code, label) of a button step's choices in the order shown: typed text is matched
    against exactly what the screen offers."""
    if step == Step.VIOLATION:
        return [(c.code, _(c.label)) for c in VIOLATION_TYPES]
    if step == Step.SECTOR:
        return [(c.code, _(c.label)) for c in SECTORS]
    if step == Step.PROVINCE:
        return province_names()
    if step == Step.DUPLICATE:
        return [(JOIN, _(L.JOIN)), (SEPARATE, _(L.SEPARATE))]
    return []


def duplicate_screen(
    count: int,
    kind: DraftKind = DraftKind.COMPLAINT,
    codes: tuple[str, ...] = (),
    *,
    head: str = "",
) -> Screen:
    """The same business has open cases: join the oldest as a supporting report, or not. The
    citizen learns how many, never whose or which; an operator sees their codes."""
    if kind == DraftKind.CALL:
        body = _(
            "This business already has {n} open cases ({codes}). Add this call to the oldest "
            "of them as a supporting report, or register it separately?"
        ).format(n=digits(count), codes="، ".join(tracking.format_code(c) for c in codes))
    else:
        body = _(
            "{n} other open complaints about this business are already being handled. You can "
            "add your report to that case: officers see it together with the others, and you "
            "follow that case. Or you can file it as a complaint of its own."
        ).format(n=digits(count))
    buttons = [
        [(_(L.JOIN), cb.Choose(Step.DUPLICATE, JOIN, kind).encode())],
        [(_(L.SEPARATE), cb.Choose(Step.DUPLICATE, SEPARATE, kind).encode())],
        _cancel_row(kind),
    ]
    return Screen(head + body, inline(buttons))


def step_screen(step: Step, data: DraftData, attachments: int, *, page: int = 0) -> Screen:
    """The prompt for `step`."""
    head = f"<b>{_head(step)}</b>\n"
    if step == Step.VIOLATION:
        rows = [[(_(c.label), cb.Choose(step, c.code).encode())] for c in VIOLATION_TYPES]
        return Screen(
            head + _("What kind of violation did you see? Choose one:"),
            inline([*rows, _cancel_row()]),
        )
    if step == Step.SECTOR:
        buttons = [(_(c.label), cb.Choose(step, c.code).encode()) for c in SECTORS]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        return Screen(head + _("Which trade or sector is it?"), inline([*rows, _cancel_row()]))
    if step == Step.PROVINCE:
        return province_screen(page)
    if step == Step.CITY:
        return _text_step(head + _("Which city or town? Type its name."), step)
    if step == Step.BUSINESS:
        return _text_step(
            head
            + _(
                "What is the business called? The shop's name or sign, the brand, or the "
                "name of the online page or website."
            ),
            step,
        )
    if step == Step.ADDRESS:
        return _text_step(
            _(
                "What is the business's address? For an online shop, write the address of the "
                "page or website."
            ),
            step,
        )
    if step == Step.DUPLICATE:
        return duplicate_screen(data.duplicates, head=head)
    if step == Step.LOCATION:
        return Screen(
            _(
                "If you are at the place, send its location with the «{send}» button below. "
                "Otherwise press «{skip}»."
            ).format(send=_(L.SEND_LOCATION), skip=_(L.SKIP)),
            reply_keyboard(
                [
                    [KeyboardButton(_(L.SEND_LOCATION), request_location=True)],
                    [_(L.SKIP), _(L.CANCEL)],
                ]
            ),
        )
    if step == Step.DESCRIPTION:
        return _text_step(
            head
            + _(
                "What happened? Describe it in your own words: what you bought or asked for, "
                "when, and what was wrong."
            ),
            step,
        )
    if step == Step.PRICE_PAID:
        return Screen(
            head
            + _(
                "(optional) How much did you pay? For example «۲۵۰ هزار تومان», «یک میلیون "
                "تومان» or «۱٬۲۰۰٬۰۰۰ ریال». An amount without a unit is read as toman. Press "
                "«{skip}» if no price is involved."
            ).format(skip=_(L.SKIP)),
            reply_keyboard([[_(L.SKIP), _(L.CANCEL)]]),
        )
    if step == Step.PRICE_FAIR:
        return Screen(
            _(
                "What is the official or fair price, as far as you know? Press «{skip}» if "
                "you do not know."
            ).format(skip=_(L.SKIP)),
            reply_keyboard([[_(L.SKIP), _(L.CANCEL)]]),
        )
    if step == Step.EVIDENCE:
        return evidence_screen(attachments, head=head)
    if step == Step.CONTACT:
        return Screen(
            head
            + _(
                "How can officers reach you?\n"
                "• «{share}»: the officer handling your complaint can call you for details and "
                "ask you follow-up questions here in the chat. Only that officer and supervisors "
                "see your number.\n"
                "• «{anon}»: no number is kept. Officers can then neither call you nor ask you "
                "follow-up questions here in the chat, which can make a complaint harder to look "
                "into if something in it is unclear.\n"
                "Either way, officers do not see your name, you are told here of every change "
                "in your complaint, and you can follow it with its tracking code."
            ).format(share=_(L.SHARE_PHONE), anon=_(L.ANONYMOUS)),
            reply_keyboard(
                [
                    [KeyboardButton(_(L.SHARE_PHONE), request_contact=True)],
                    [_(L.ANONYMOUS)],
                    [_(L.CANCEL)],
                ]
            ),
        )
    return review_screen(data, attachments)


def _text_step(prompt: str, step: Step) -> Screen:
    low, high = TEXT_LIMITS[step]
    limits = _("({low} to {high} characters)").format(low=digits(low), high=digits(high))
    return Screen(f"{prompt}\n<i>{limits}</i>", reply_keyboard([[_(L.CANCEL)]]))


def province_names() -> list[tuple[str, str]]:
    """(code, Persian name) with Tehran first, then alphabetical."""
    first = PROVINCES[0]
    rest = sorted(PROVINCES[1:], key=lambda c: persian_sort_key(_(c.label)))
    return [(c.code, _(c.label)) for c in (first, *rest)]


def province_screen(page: int, kind: DraftKind = DraftKind.COMPLAINT, head: str = "") -> Screen:
    names = province_names()
    pages = ceil(len(names) / PROVINCES_PER_PAGE)
    page = max(0, min(page, pages - 1))
    chunk = names[page * PROVINCES_PER_PAGE : (page + 1) * PROVINCES_PER_PAGE]
    buttons = [(name, cb.Choose(Step.PROVINCE, code, kind).encode()) for code, name in chunk]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    # Telegram lays a row of buttons out left to right: in a right-to-left list the next page
    # is on the left and the previous one on the right (docs/style-fa.md, paging).
    nav: list[tuple[str, str]] = []
    if page < pages - 1:
        nav.append((_("Next »"), cb.ProvincePage(page + 1, kind).encode()))
    if page > 0:
        nav.append((_("« Previous"), cb.ProvincePage(page - 1, kind).encode()))
    body = (head or f"<b>{_head(Step.PROVINCE)}</b>\n") + _(
        "In which province? (page {page} of {pages})"
    ).format(page=digits(page + 1), pages=digits(pages))
    return Screen(body, inline([*rows, *([nav] if nav else []), _cancel_row(kind)]))


def evidence_screen(attachments: int, *, head: str = "") -> Screen:
    body = head + _(
        "(optional) Send up to {max} photos, videos or documents: the receipt, the price tag, "
        "the goods. You can send several at once as an album. When you are done press "
        "«{done}»; if you have none press «{skip}»."
    ).format(max=digits(MAX_ATTACHMENTS), done=_(L.EVIDENCE_DONE), skip=_(L.SKIP))
    if attachments:
        body += "\n" + received_files(attachments)
    return Screen(body, reply_keyboard([[_(L.EVIDENCE_DONE)], [_(L.SKIP), _(L.CANCEL)]]))


def received_files(count: int) -> str:
    return _("Files received: {n} of {max}.").format(n=digits(count), max=digits(MAX_ATTACHMENTS))


def evidence_progress(count: int) -> Screen:
    more = (
        _("Send more, or press «{done}».").format(done=_(L.EVIDENCE_DONE))
        if count < MAX_ATTACHMENTS
        else _("That is the most allowed. Press «{done}» to go on.").format(done=_(L.EVIDENCE_DONE))
    )
    return Screen(received_files(count) + "\n" + more)


# -- review ----------------------------------------------------------------------------------


def _money(rials: int | None) -> str:
    if rials is None:
        return _("not given")
    return text.format_toman(rials) + " (" + text.format_rials(rials) + ")"


def review_text(
    data: DraftData,
    attachments: int,
    kind: DraftKind = DraftKind.COMPLAINT,
    unit: str | None = None,
) -> str:
    """The answers as the review lists them; a call's list has the caller and, marked «فوری»,
    the unit it goes to (`unit`) instead of the location, evidence and contact."""

    def row(label: str, value: str) -> str:
        return f"<b>{label}:</b> {value}"

    violation = VIOLATIONS_BY_CODE.get(data.violation or "")
    sector = SECTORS_BY_CODE.get(data.sector or "")
    province = PROVINCES_BY_CODE.get(data.province or "")
    location = _("sent") if data.latitude is not None else _("not sent")
    contact = (
        text.format_phone(data.contact_phone)
        if data.contact_phone
        else _("anonymous (no follow-up questions)")
    )
    files = _("{n} files").format(n=digits(attachments)) if attachments else _("none")
    lines = [
        row(_("Violation"), _(violation.label) if violation else "—"),
        row(_("Sector"), _(sector.label) if sector else "—"),
        row(_("Place"), f"{_(province.label) if province else '—'}، {_typed(data.city)}"),
        row(_("Business"), _typed(data.business)),
        row(_("Address"), _typed(data.address)),
        row(_("Location on map"), location),
        row(_("Price paid"), _money(data.price_paid)),
        row(_("Official or fair price"), _money(data.price_fair)),
        row(_("Evidence"), files),
        row(_("Contact"), contact),
        row(_("What happened"), "\n" + _typed(data.description, lines=True)),
    ]
    if kind == DraftKind.CALL:
        caller = text.fsi(_typed(data.caller_name)) if data.caller_name else _("no name given")
        if data.contact_phone:
            caller += " — " + text.format_phone(data.contact_phone)
        lines[5:10] = [
            row(_("Price paid"), _money(data.price_paid)),
            row(_("Official or fair price"), _money(data.price_fair)),
            row(_("Caller"), caller),
        ]
        if unit is not None:
            to = _("referred at once to «{unit}»").format(unit=escape(text.shown(unit)))
            lines.insert(0, row(_("Urgent"), to))
    if data.duplicate_of is not None:
        lines.insert(5, row(_("Filed as"), _("a supporting report to the open case about it")))
    return "\n".join(lines)


def fit_review(body_for: Callable[[DraftData], str], data: DraftData) -> str:
    """A review's text within one message: never refuse the whole screen, shorten the quoted
    description to fit, and say so."""
    body = body_for(data)
    over = visible_length(body) - text.MESSAGE_LIMIT
    if over > 0 and data.description:
        note = " " + _("(shortened here; the whole text is kept and sent)")
        room = text.utf16_len(data.description) - over - text.utf16_len(note) - 1
        short = _cut_utf16(data.description, max(room, 0)) + "…" + note
        body = body_for(data.model_copy(update={"description": short}))
    return body


def _typed(value: str | None, *, lines: bool = False) -> str:
    """What the citizen typed, for HTML: Persian digits, addresses isolated, or «—»; with
    `lines`, every line of it starts right-to-left."""
    if not value:
        return "—"
    shown = text.shown(value)
    return escape(text.rtl_lines(shown) if lines else shown)


def review_screen(data: DraftData, attachments: int) -> Screen:
    def body_for(shown: DraftData) -> str:
        return (
            f"<b>{_head(Step.REVIEW)}</b>\n"
            + _("Please check your complaint:")
            + "\n\n"
            + review_text(shown, attachments)
            + "\n\n"
            + _("If everything is right, press «{confirm}».").format(confirm=_("Confirm and send"))
        )

    body = fit_review(body_for, data)
    return Screen(
        body,
        inline(
            [
                [(_("Confirm and send"), cb.Confirm().encode())],
                [(_("Edit"), cb.EditMenu().encode()), (_(L.CANCEL), cb.CancelFiling().encode())],
            ]
        ),
    )


def visible_length(html: str) -> int:
    """What Telegram counts of an HTML message: the text without tags, entities unescaped."""
    return text.utf16_len(unescape(re.sub(r"<[^>]+>", "", html)))


def _cut_utf16(value: str, units: int) -> str:
    out, used = [], 0
    for ch in value:
        used += text.utf16_len(ch)
        if used > units:
            break
        out.append(ch)
    return "".join(out).rstrip()


def review_with_edit_menu(data: DraftData, attachments: int) -> Screen:
    """The review again, its buttons replaced by the parts that can be changed."""
    buttons = [(_(EDIT_LABELS[g]), cb.EditPart(g).encode()) for g in EDIT_GROUPS]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    body = (
        review_screen(data, attachments).text.rsplit("\n\n", 1)[0]
        + "\n\n"
        + _("Which part do you want to change?")
    )
    return Screen(body, inline([*rows, [(_("Back to the review"), cb.BackToReview().encode())]]))


def editing_note(group: str) -> str:
    label = EDIT_LABELS.get(group)
    return _("Editing: {part}").format(part=_(label) if label else "")


def choice_note(step: str, code: str) -> str:
    """What the citizen chose, written under the prompt once its buttons are taken away."""
    if step == Step.DUPLICATE:
        return _(L.JOIN) if code == JOIN else _(L.SEPARATE)
    table = {
        "violation": VIOLATIONS_BY_CODE,
        "sector": SECTORS_BY_CODE,
        "province": PROVINCES_BY_CODE,
    }
    choice = table.get(step, {}).get(code)
    return _(choice.label) if choice else ""


def sent_note() -> str:
    return _("Sent")


def cancelled_note() -> str:
    return _("Cancelled")


def edits_ignored() -> Screen:
    return Screen(
        _(
            "Changes to a message already sent are not read. Please send the corrected answer "
            "as a new message."
        )
    )


# -- problems --------------------------------------------------------------------------------

_WRONG_INPUT: dict[Step, str] = {
    Step.LOCATION: N_("Please send a location with the button below, or press «{skip}»."),
    Step.EVIDENCE: N_(
        "Please send a photo, video or document (no stickers or voice notes), or press «{done}»."
    ),
    Step.CONTACT: N_("Please use the «{share}» button, or press «{anon}»."),
}


def problem_text(problem: Problem, step: Step | None, *, limit: int = 0) -> str:
    """A one-line Persian hint of what was expected instead."""
    if problem == Problem.USE_BUTTONS:
        return _("Please choose one of the buttons above.")
    if problem == Problem.AMBIGUOUS:
        return _("That matches more than one choice. Please choose one of the buttons above.")
    if problem == Problem.WRONG_INPUT:
        if step in _WRONG_INPUT:
            return _(_WRONG_INPUT[step]).format(
                skip=_(L.SKIP),
                done=_(L.EVIDENCE_DONE),
                share=_(L.SHARE_PHONE),
                anon=_(L.ANONYMOUS),
            )
        if step in (Step.PRICE_PAID, Step.PRICE_FAIR):
            return _("Please type the price as a number, or press «{skip}».").format(skip=_(L.SKIP))
        if step in (Step.VIOLATION, Step.SECTOR, Step.PROVINCE, Step.REVIEW):
            return _("Please choose one of the buttons above.")
        return _("Please type your answer as text.")
    if problem == Problem.TOO_SHORT and step in TEXT_LIMITS:
        return _("That is too short: at least {n} characters, please.").format(
            n=digits(TEXT_LIMITS[step][0])
        )
    if problem == Problem.TOO_LONG and step in TEXT_LIMITS:
        return _("That is too long: at most {n} characters, please.").format(
            n=digits(TEXT_LIMITS[step][1])
        )
    if problem == Problem.BAD_AMOUNT:
        return _(
            "That amount could not be read. Please write it in digits, for example "
            "«۲۵۰٬۰۰۰ تومان», «۲ میلیون تومان» or «۱٫۵ میلیون تومان», or press «{skip}»."
        ).format(skip=_(L.SKIP))
    if problem == Problem.TOO_MANY_FILES:
        return _("You have sent {n} files, the most allowed. Press «{done}» to go on.").format(
            n=digits(MAX_ATTACHMENTS), done=_(L.EVIDENCE_DONE)
        )
    if problem == Problem.FILE_TOO_BIG:
        return _("That file is too large. Please send a smaller one.")
    if problem == Problem.FILE_TYPE:
        return _(
            "This kind of file cannot be accepted as evidence. Please send photos, videos, "
            "audio recordings or PDF files."
        )
    if problem == Problem.NOT_OWN_CONTACT:
        return _("Please share your own number with the «{share}» button.").format(
            share=_(L.SHARE_PHONE)
        )
    if problem == Problem.BAD_PHONE:
        return _("That phone number could not be read. Please try the button again.")
    if problem == Problem.STALE_BUTTON:
        return _("This button is no longer active.")
    if problem == Problem.DAILY_LIMIT:
        return _("You have reached today's limit of complaints. Please try again tomorrow.")
    if problem == Problem.INCOMPLETE:
        return _("Some answers are missing. Please complete them first.")
    return _("You have no complaint in progress. Press «{file}» to start.").format(file=_(L.FILE))


# -- after submitting, tracking and listing ---------------------------------------------------


def submitted(code: str, first_answer_days: int) -> Screen:
    return Screen(
        _(
            "✅ Thank you. Your complaint was received and registered.\n\n"
            "Tracking code: <b>{code}</b>\n\n"
            "Keep this code. An officer usually takes up a complaint within {days} working days, "
            "and you will be told here whenever its status changes. To see where it stands, "
            "press «{track}» and type the code, or press «{mine}»."
        ).format(
            code=tracking.format_code(code),
            days=text.count_in_words(first_answer_days),
            track=_(L.TRACK),
            mine=_(L.MINE),
        ),
        main_menu(),
    )


def joined_receipt(code: str) -> Screen:
    """The receipt of a report that joined the open case about the same business."""
    return Screen(
        _(
            "✅ Your report was received and added to the open case about the same business, "
            "so officers handle them together.\n\n"
            "Tracking code: <b>{code}</b>\n\n"
            "Keep this code. With it you follow that case: press «{track}» and type the code, "
            "or press «{mine}»."
        ).format(code=tracking.format_code(code), track=_(L.TRACK), mine=_(L.MINE)),
        main_menu(),
    )


def ask_code() -> Screen:
    return Screen(
        _("Type the 10-digit tracking code of your complaint:"),
        reply_keyboard([[_(L.CANCEL)]]),
    )


def bad_code_format() -> Screen:
    return Screen(
        _(
            "A tracking code has 10 digits, for example {example}. Please type it again, or "
            "press «{cancel}»."
        ).format(example=tracking.format_code("1234567890"), cancel=_(L.CANCEL))
    )


def code_not_found_or_link() -> Screen:
    """After looking up a code that is not among the citizen's cases. The same for every such
    code, whether it exists or not: a complaint registered by phone is linked only if the
    number shared next is the one given on the phone."""
    body = (
        code_not_found().text
        + "\n\n"
        + _(
            "If you reported it by phone to 135, press «{share}» below: if the number is the one "
            "you gave on the phone, the complaint is added to your complaints here and you are "
            "told of every change."
        ).format(share=_(L.SHARE_PHONE))
    )
    keyboard = reply_keyboard(
        [[KeyboardButton(_(L.SHARE_PHONE), request_contact=True)], [_(L.CANCEL)]]
    )
    return Screen(body, keyboard)


def linked() -> Screen:
    return Screen(
        _(
            "The complaint is now followed in this chat: you will be told here of every change "
            "in it."
        ),
        main_menu(),
    )


def code_not_found() -> Screen:
    return Screen(
        _(
            "No complaint of yours has this code. Check the digits and try again, or look in "
            "«{mine}»."
        ).format(mine=_(L.MINE)),
        main_menu(),
    )


def status_label(status: str) -> str:
    return _(STATUS_LABELS[Status(status)])


def case_screen(
    case: CaseRow,
    events: list[EventRow],
    evidence: int,
    tz: ZoneInfo,
    merged_into: MergedInto | None = None,
) -> Screen:
    violation = VIOLATIONS_BY_CODE.get(case["violation"])
    lines = [
        _("<b>Complaint {code}</b>").format(code=tracking.format_code(case["code"])),
        _("<b>Status:</b> {status}").format(status=status_label(case["status"])),
        _("<b>Filed:</b> {when}").format(when=jalali.format_datetime(case["created_at"], tz)),
        text.rtl_line(
            f"{_(violation.label) if violation else ''} — {escape(text.shown(case['business']))}"
        ),
        "",
        _("<b>Timeline</b>"),
    ]
    lines += _timeline(events, tz)
    if merged_into is not None:
        lines += [
            "",
            _("It is handled together with another complaint about the same matter:"),
            _("<b>Status:</b> {status}").format(status=status_label(merged_into.status)),
            *_timeline(merged_into.events, tz),
        ]
    return Screen("\n".join(lines), main_menu())


def _timeline(events: list[EventRow], tz: ZoneInfo) -> list[str]:
    lines = []
    for event in events:
        label = PUBLIC_EVENT_LABELS.get(event["action"])
        if label is not None:
            lines.append(f"• {jalali.format_datetime(event['at'], tz)} — {_(label)}")
    return lines


# -- answering the staff, rating, reopening -----------------------------------------------------


def answer_sent() -> Screen:
    return Screen(_("Thank you. Your answer was sent to the officer handling your complaint."))


def answer_not_expected() -> Screen:
    return Screen(_("This complaint is no longer waiting for an answer from you."), main_menu())


def rated() -> Screen:
    return Screen(
        _(
            "Thank you for your rating. If you like, write a short comment; or press «{skip}»."
        ).format(skip=_(L.SKIP)),
        reply_keyboard([[_(L.SKIP)]]),
    )


def comment_saved() -> Screen:
    return Screen(_("Thank you. Your comment was recorded."), main_menu())


def ask_reopen_reason() -> Screen:
    return Screen(
        _("Why should the complaint be reopened? Please write the reason."),
        reply_keyboard([[_(L.CANCEL)]]),
    )


def reopened() -> Screen:
    return Screen(_("Your complaint was reopened and will be reviewed again."), main_menu())


def reopen_refused() -> str:
    return _("This complaint can no longer be reopened here. You can file a new one, or call 135.")


def my_cases(rows: list[CaseRow], total: int, page: int, tz: ZoneInfo) -> Screen:
    if total == 0:
        return Screen(_("You have not filed any complaints yet."), main_menu())
    pages = ceil(total / CASES_PER_PAGE)
    header = _("Your complaints ({n}), newest first. Page {page} of {pages}:").format(
        n=digits(total), page=digits(page + 1), pages=digits(pages)
    )
    lines = [header, ""]
    buttons: list[list[tuple[str, str]]] = []
    for case in rows:
        lines.append(
            text.RLM
            + "• "
            + tracking.format_code(case["code"])
            + " — "
            + jalali.format_date(case["created_at"], tz)
            + " — "
            + status_label(case["status"])
        )
        buttons.append(
            [
                (
                    f"{text.to_persian_digits(case['code'])} · {status_label(case['status'])}",
                    cb.OpenCase(case["code"]).encode(),
                )
            ]
        )
    nav: list[tuple[str, str]] = []  # older (the next page) on the left, as in province_screen
    if page < pages - 1:
        nav.append((_("Older »"), cb.CasesPage(page + 1).encode()))
    if page > 0:
        nav.append((_("« Newer"), cb.CasesPage(page - 1).encode()))
    if nav:
        buttons.append(nav)
    return Screen("\n".join(lines), inline(buttons))


def stale_case_button() -> str:
    return _("This complaint could not be opened.")


# -- several things open at once ------------------------------------------------------------------


def questions_waiting(cases: list[CaseRow]) -> Screen:
    """After /start: officers' questions are still open, whatever was pressed since."""
    codes = "، ".join(tracking.format_code(c["code"]) for c in cases)
    body = _(
        "An officer is waiting for your answer about complaint {codes}. Press «{button}», or "
        "simply send your answer as a message."
    ).format(codes=codes, button=_(ANSWER_BUTTON))
    rows = [
        [
            (
                f"{_(ANSWER_BUTTON)} · {tracking.format_code(c['code'])}",
                cb.AnswerQuestion(c["id"]).encode(),
            )
        ]
        for c in cases[:5]
    ]
    return Screen(body, inline(rows))


def answer_kinds() -> Screen:
    return Screen(
        "⚠️ "
        + _(
            "A voice message, sticker and the like cannot be passed on to the officer. Please "
            "answer with text, a photo or a document."
        )
    )


def write_answer(code: str) -> Screen:
    return Screen(
        _("Write your answer about complaint {code} (text, photo or document):").format(
            code=tracking.format_code(code)
        ),
        reply_keyboard([[_(L.CANCEL)]]),
    )


def _option_label(option: Option) -> str:
    code = tracking.format_code(option.code) if option.code else ""
    match option.target:
        case pending.Answer():
            return _("Answer to the question about {code}").format(code=code)
        case pending.Comment():
            return _("Comment on my rating of {code}").format(code=code)
        case pending.ReopenReason():
            return _("Reason to reopen {code}").format(code=code)
        case pending.TrackingCode():
            return _("Look up a tracking code")
        case pending.StaffPrompt():
            return _("The text the desk asked me for on {code}").format(code=code)
        case cb.ToDraft():
            return _("The complaint I am filing now")
        case cb.ToCall():
            return _("The phone call I am registering")


def which_one(held_id: int, options: tuple[Option, ...], excerpt: str) -> Screen:
    """Several things are open: the message is kept until the citizen says which it is for."""
    body = _("You have more than one thing open. What is this message for?")
    if excerpt:
        body += "\n\n«" + escape(text.shown(excerpt)) + "»"
    rows = [[(_option_label(o), cb.Route(held_id, o.target).encode())] for o in options[:8]]
    return Screen(body, inline(rows))


def choice_no_longer_applies() -> Screen:
    return Screen(
        _(
            "The option you chose is no longer open (things changed in the meantime), so your "
            "message has not been sent anywhere yet. Please choose again:"
        )
    )


def unplaced() -> Screen:
    return Screen(
        _(
            "What you chose is no longer waiting for this message, and nothing else is open, "
            "so the message was not sent anywhere."
        ),
        main_menu(),
    )


def too_many_held() -> Screen:
    return Screen(
        _(
            "Several of your messages are still waiting for you to say what each is for. Please "
            "answer those questions first, then send this message again."
        )
    )
