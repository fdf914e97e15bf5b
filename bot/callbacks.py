"""Callback data: one codec per namespace, the only code that writes or reads it.

Telegram gives a button at most 64 bytes of callback data and hands it back verbatim, so it is
a hint of what was pressed and nothing more: `parse_*` returns None for anything malformed or
forged (ids are read with `bot.domain.ids`, bounded to their columns), and every handler then
re-checks role, ownership and state. Views build buttons only with `encode()`; handlers `match`
on what `parse_*` returns, so a button without a handler is a type error, not a silent miss.

Namespaces: ``f`` the citizen's filing (``k`` the same buttons for a desk member's phone
call), ``c`` the citizen's cases, ``s`` the staff card, ``r`` the managers' reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.domain import ids
from bot.domain import pending as p
from bot.domain.complaint import CHOICE_STEPS, EDIT_GROUPS_OF, DraftKind, Step
from bot.domain.lifecycle import Action, Outcome
from bot.domain.periods import Period

MAX_BYTES = 64
_CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
# Periods outside these years are forged: nobody files complaints in 1900 or 9999.
FIRST_YEAR, LAST_YEAR = 2020, 2100


def _join(*parts: object) -> str:
    data = ":".join(str(part) for part in parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def _split(data: str, namespace: str) -> list[str] | None:
    if len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    return parts[1:] if parts[0] == namespace and len(parts) > 1 else None


def _catalogue_code(raw: str) -> str | None:
    return raw if 0 < len(raw) <= 32 and set(raw) <= _CODE_CHARS else None


# -- f: filing (k: the same for a desk member's phone call) -------------------------------------

COMPLAINT = DraftKind.COMPLAINT
_NAMESPACES = {DraftKind.COMPLAINT: "f", DraftKind.CALL: "k"}
_KINDS = {ns: kind for kind, ns in _NAMESPACES.items()}


@dataclass(frozen=True)
class Choose:
    """A choice at a button step (violation, sector, province, join a case or not); the code
    is checked against the catalogue by the filing service."""

    step: Step
    code: str
    kind: DraftKind = COMPLAINT

    def encode(self) -> str:
        return _join(_NAMESPACES[self.kind], self.step.value, self.code)


@dataclass(frozen=True)
class ProvincePage:
    page: int
    kind: DraftKind = COMPLAINT

    def encode(self) -> str:
        return _join(_NAMESPACES[self.kind], "pp", self.page)


@dataclass(frozen=True)
class CancelFiling:
    kind: DraftKind = COMPLAINT

    def encode(self) -> str:
        return _join(_NAMESPACES[self.kind], "cancel")


@dataclass(frozen=True)
class Confirm:
    kind: DraftKind = COMPLAINT

    def encode(self) -> str:
        return _join(_NAMESPACES[self.kind], "ok")


@dataclass(frozen=True)
class EditMenu:
    kind: DraftKind = COMPLAINT

    def encode(self) -> str:
        return _join(_NAMESPACES[self.kind], "edit")


@dataclass(frozen=True)
class BackToReview:
    kind: DraftKind = COMPLAINT

    def encode(self) -> str:
        return _join(_NAMESPACES[self.kind], "back")


@dataclass(frozen=True)
class EditPart:
    group: str
    kind: DraftKind = COMPLAINT

    def encode(self) -> str:
        return _join(_NAMESPACES[self.kind], "eg", self.group)


@dataclass(frozen=True)
class UrgentMenu:
    """«فوری» on a call's review: choose the unit it is referred to at once."""

    def encode(self) -> str:
        return "k:urg"


@dataclass(frozen=True)
class UrgentTo:
    """The unit an urgent call goes to; None: not urgent after all."""

    unit_id: int | None

    def encode(self) -> str:
        return _join("k", "urg", self.unit_id if self.unit_id is not None else "no")


FilingPress = (
    Choose
    | ProvincePage
    | CancelFiling
    | Confirm
    | EditMenu
    | BackToReview
    | EditPart
    | UrgentMenu
    | UrgentTo
)


def parse_filing(data: str) -> FilingPress | None:
    if len(data.encode()) > MAX_BYTES:
        return None
    namespace, _sep, _rest = data.partition(":")
    kind = _KINDS.get(namespace)
    if kind is None:
        return None
    match _split(data, namespace):
        case ["cancel"]:
            return CancelFiling(kind)
        case ["ok"]:
            return Confirm(kind)
        case ["edit"]:
            return EditMenu(kind)
        case ["back"]:
            return BackToReview(kind)
        case ["pp", raw]:
            number = ids.page(raw)
            return ProvincePage(number, kind) if number is not None else None
        case ["eg", group] if group in EDIT_GROUPS_OF[kind]:
            return EditPart(group, kind)
        case ["urg"] if kind == DraftKind.CALL:
            return UrgentMenu()
        case ["urg", "no"] if kind == DraftKind.CALL:
            return UrgentTo(None)
        case ["urg", raw] if kind == DraftKind.CALL and (unit_id := ids.row_id(raw)) is not None:
            return UrgentTo(unit_id)
        case [step, raw] if step in {s.value for s in CHOICE_STEPS}:
            code = _catalogue_code(raw)
            return Choose(Step(step), code, kind) if code else None
        case _:
            return None


# -- c: the citizen's cases ---------------------------------------------------------------------


@dataclass(frozen=True)
class OpenCase:
    code: str  # ten ASCII digits; ownership is checked when it is opened

    def encode(self) -> str:
        return _join("c", "o", self.code)


@dataclass(frozen=True)
class CasesPage:
    page: int

    def encode(self) -> str:
        return _join("c", "l", self.page)


@dataclass(frozen=True)
class Rate:
    case_id: int
    score: int  # 1 … 5

    def encode(self) -> str:
        return _join("c", "rate", self.case_id, self.score)


@dataclass(frozen=True)
class AskReopen:
    case_id: int

    def encode(self) -> str:
        return _join("c", "reo", self.case_id)


@dataclass(frozen=True)
class AnswerQuestion:
    """«پاسخ به این پرسش» under an officer's question."""

    case_id: int

    def encode(self) -> str:
        return _join("c", "ans", self.case_id)


@dataclass(frozen=True)
class ToDraft:
    """Routing target: the complaint the citizen is filing."""


@dataclass(frozen=True)
class ToCall:
    """Routing target: the phone call a desk member is registering."""


RouteTarget = (
    p.Answer | p.Comment | p.ReopenReason | p.TrackingCode | p.StaffPrompt | ToDraft | ToCall
)
_TARGET_TAGS: dict[
    str, type[p.Answer] | type[p.Comment] | type[p.ReopenReason] | type[p.StaffPrompt]
] = {
    "a": p.Answer,
    "m": p.Comment,
    "r": p.ReopenReason,
    "s": p.StaffPrompt,
}


@dataclass(frozen=True)
class Route:
    """«Which is this for?» — the citizen's held message `held_id` goes to `target`."""

    held_id: int
    target: RouteTarget

    def encode(self) -> str:
        match self.target:
            case p.Answer(case_id):
                tail: tuple[object, ...] = ("a", case_id)
            case p.Comment(case_id):
                tail = ("m", case_id)
            case p.ReopenReason(case_id):
                tail = ("r", case_id)
            case p.StaffPrompt(prompt_id):
                tail = ("s", prompt_id)
            case p.TrackingCode():
                tail = ("t",)
            case ToDraft():
                tail = ("d",)
            case ToCall():
                tail = ("k",)
        return _join("c", "to", self.held_id, *tail)


CasesPress = OpenCase | CasesPage | Rate | AskReopen | AnswerQuestion | Route


def _route(held_raw: str, tail: list[str]) -> Route | None:
    held = ids.row_id(held_raw)
    if held is None:
        return None
    target: RouteTarget
    match tail:
        case ["t"]:
            target = p.TrackingCode()
        case ["d"]:
            target = ToDraft()
        case ["k"]:
            target = ToCall()
        case [tag, raw] if tag in _TARGET_TAGS and (case_id := ids.row_id(raw)) is not None:
            target = _TARGET_TAGS[tag](case_id)
        case _:
            return None
    return Route(held, target)


def parse_cases(data: str) -> CasesPress | None:
    match _split(data, "c"):
        case ["o", code] if len(code) == 10 and code.isascii() and code.isdigit():
            return OpenCase(code)
        case ["l", raw] if (number := ids.page(raw)) is not None:
            return CasesPage(number)
        case ["rate", raw_id, raw_score]:
            case_id, score = ids.row_id(raw_id), ids.in_range(raw_score, 1, 5)
            return Rate(case_id, score) if case_id is not None and score is not None else None
        case ["reo", raw] if (case_id := ids.row_id(raw)) is not None:
            return AskReopen(case_id)
        case ["ans", raw] if (case_id := ids.row_id(raw)) is not None:
            return AnswerQuestion(case_id)
        case ["to", held_raw, *tail]:
            return _route(held_raw, tail)
        case _:
            return None


# -- s: the staff card --------------------------------------------------------------------------


# Cards already posted carry the short tags of earlier versions; they still parse.
_LEGACY_TAGS: dict[str, Action] = {
    "urgent": Action.MARK_URGENT,
    "accept": Action.ACCEPT_REFERRAL,
    "return": Action.RETURN_REFERRAL,
}
# Lifecycle actions that are never a staff member's press.
_NOT_PRESSED = frozenset({Action.SUBMIT, Action.CITIZEN_ANSWER, Action.CLOSE, Action.LINK})


@dataclass(frozen=True)
class CardAction:
    """A lifecycle action pressed on a card (one needing text opens a prompt first; resolve
    and refer open a choice of outcome or unit)."""

    action: Action
    case_id: int

    def encode(self) -> str:
        return _join("s", self.action.value, self.case_id)


class Show(StrEnum):
    """Card buttons that show something and change nothing."""

    PHONE = "phone"
    FILES = "files"
    CARD = "back"  # the card's own buttons again, after a submenu
    POST = "post"  # post the case's card here (from a digest of new cases)


@dataclass(frozen=True)
class CardShow:
    what: Show
    case_id: int

    def encode(self) -> str:
        return _join("s", self.what.value, self.case_id)


@dataclass(frozen=True)
class ReferTo:
    case_id: int
    unit_id: int

    def encode(self) -> str:
        return _join("s", "ru", self.case_id, self.unit_id)


@dataclass(frozen=True)
class ResolveAs:
    case_id: int
    outcome: Outcome

    def encode(self) -> str:
        return _join("s", "ro", self.case_id, self.outcome.value)


CardPress = CardAction | CardShow | ReferTo | ResolveAs
_ACTION_BY_TAG = {
    **{a.value: a for a in Action if a not in _NOT_PRESSED},
    **_LEGACY_TAGS,
}
_SHOW_BY_TAG = {s.value: s for s in Show}
_OUTCOME_BY_VALUE = {o.value: o for o in Outcome}


def parse_card(data: str) -> CardPress | None:
    parts = _split(data, "s")
    if not parts or len(parts) < 2:
        return None
    tag, raw_case, *rest = parts
    case_id = ids.row_id(raw_case)
    if case_id is None:
        return None
    match tag, rest:
        case ("ru", [raw_unit]) if (unit_id := ids.row_id(raw_unit)) is not None:
            return ReferTo(case_id, unit_id)
        case ("ro", [value]) if value in _OUTCOME_BY_VALUE:
            return ResolveAs(case_id, _OUTCOME_BY_VALUE[value])
        case (tag, []) if tag in _ACTION_BY_TAG:
            return CardAction(_ACTION_BY_TAG[tag], case_id)
        case (tag, []) if tag in _SHOW_BY_TAG:
            return CardShow(_SHOW_BY_TAG[tag], case_id)
        case _:
            return None


# -- r: reports ---------------------------------------------------------------------------------


class DrillView(StrEnum):
    BY_PROVINCE = "prov"
    BY_UNIT = "unit"
    OVERDUE = "over"


@dataclass(frozen=True)
class Drilldown:
    view: DrillView
    period: Period

    def encode(self) -> str:
        return _join("r", self.view.value, self.period.key)


_VIEW_BY_VALUE = {v.value: v for v in DrillView}


def parse_report(data: str) -> Drilldown | None:
    match _split(data, "r"):
        case [view, kind, day] if view in _VIEW_BY_VALUE:
            period = Period.parse(f"{kind}:{day}")
            if period is None or not _plausible(period.first_day):
                return None
            return Drilldown(_VIEW_BY_VALUE[view], period)
        case _:
            return None


def _plausible(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR
