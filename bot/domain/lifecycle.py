"""The case lifecycle as one explicit table of allowed transitions.

Every change of a case's status goes through `transition()`; an action that the table does not
allow raises `IllegalTransition` and the caller changes nothing. Actions that do not move the
status (a note, marking urgent) are listed with the same status on both sides so that they are
still refused on cases where they make no sense (a note on a merged case, say).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from bot.i18n import N_


class Status(StrEnum):
    NEW = "new"
    CLAIMED = "claimed"
    REFERRED = "referred"
    AWAITING_CITIZEN = "awaiting_citizen"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    MERGED = "merged"
    REOPENED = "reopened"


class Action(StrEnum):
    SUBMIT = "submit"
    CLAIM = "claim"
    RELEASE = "release"
    REASSIGN = "reassign"
    REFER = "refer"
    ACCEPT_REFERRAL = "accept_referral"
    RETURN_REFERRAL = "return_referral"
    ASK = "ask"
    CITIZEN_ANSWER = "citizen_answer"
    NOTE = "note"
    MARK_URGENT = "mark_urgent"
    RESOLVE = "resolve"
    REJECT = "reject"
    MERGE = "merge"
    REOPEN = "reopen"
    CLOSE = "close"
    LINK = "link"  # a case that came by phone or web now followed in a citizen's chat


S = Status
OPEN_STATES = frozenset({S.NEW, S.CLAIMED, S.REFERRED, S.AWAITING_CITIZEN, S.REOPENED})
WORKED_STATES = frozenset({S.CLAIMED, S.REFERRED, S.AWAITING_CITIZEN})

# (action, from) -> to. Read it as the whole rulebook of a case.
TRANSITIONS: dict[tuple[Action, Status | None], Status] = {
    (Action.SUBMIT, None): S.NEW,
    **{(Action.CLAIM, s): S.CLAIMED for s in (S.NEW, S.REOPENED)},
    (Action.RELEASE, S.CLAIMED): S.NEW,
    **{(Action.REASSIGN, s): s for s in (S.NEW, S.REOPENED, *WORKED_STATES)},
    **{(Action.REFER, s): S.REFERRED for s in (S.NEW, S.CLAIMED, S.REOPENED)},
    (Action.ACCEPT_REFERRAL, S.REFERRED): S.CLAIMED,
    (Action.RETURN_REFERRAL, S.REFERRED): S.NEW,
    **{(Action.ASK, s): S.AWAITING_CITIZEN for s in (S.CLAIMED, S.REFERRED)},
    # The answer returns the case to where it was asked from (`after_answer`); this is the default.
    (Action.CITIZEN_ANSWER, S.AWAITING_CITIZEN): S.CLAIMED,
    **{(Action.NOTE, s): s for s in (*OPEN_STATES, S.RESOLVED, S.CLOSED, S.REJECTED)},
    **{(Action.MARK_URGENT, s): s for s in OPEN_STATES},
    **{(Action.RESOLVE, s): S.RESOLVED for s in WORKED_STATES},
    **{(Action.REJECT, s): S.REJECTED for s in (S.NEW, S.CLAIMED, S.REOPENED)},
    **{(Action.MERGE, s): S.MERGED for s in (S.NEW, S.CLAIMED, S.REOPENED)},
    **{(Action.REOPEN, s): S.REOPENED for s in (S.RESOLVED, S.CLOSED, S.REJECTED)},
    (Action.CLOSE, S.RESOLVED): S.CLOSED,
    # Linking changes who is told, never where the case stands.
    **{(Action.LINK, s): s for s in S},
}

# Actions that carry a staff member's text (a note, a question, a reason, an explanation): the
# card asks for it with a prompt, and the action is refused without it.
NEEDS_TEXT = frozenset(
    {
        Action.NOTE,
        Action.ASK,
        Action.RELEASE,
        Action.REJECT,
        Action.MERGE,
        Action.REOPEN,
        Action.RETURN_REFERRAL,
        Action.RESOLVE,
    }
)

STATUS_LABELS: dict[Status, str] = {
    S.NEW: N_("Received, waiting for an officer"),
    S.CLAIMED: N_("Being handled by an officer"),
    S.REFERRED: N_("Referred to a specialised unit"),
    S.AWAITING_CITIZEN: N_("Waiting for your answer"),
    S.RESOLVED: N_("Resolved"),
    S.CLOSED: N_("Closed"),
    S.REJECTED: N_("Rejected"),
    S.MERGED: N_("Merged into another case"),
    S.REOPENED: N_("Reopened"),
}


class Outcome(StrEnum):
    """How a resolved case ended, for the citizen and for reports."""

    BRANCH = "branch"  # sent to a Ta'zirat branch for a ruling
    NO_VIOLATION = "no_violation"
    NOT_JURISDICTION = "not_jurisdiction"
    RESOLVED = "resolved"


class IllegalTransition(Exception):
    """The action is not allowed from the case's current status."""

    def __init__(self, action: Action, current: Status | None) -> None:
        super().__init__(f"{action} is not allowed from {current}")
        self.action = action
        self.current = current


def transition(action: Action, current: Status | None) -> Status:
    """Return the status after `action`, or raise `IllegalTransition`."""
    try:
        return TRANSITIONS[(action, current)]
    except KeyError:
        raise IllegalTransition(action, current) from None


def citizen_may_reopen(
    status: Status, resolved_at: datetime | None, now: datetime, window: timedelta
) -> bool:
    """The citizen may reopen a resolved case within the window after its resolution; staff
    may reopen a decided case (resolved, closed, rejected) at any time, as the table says."""
    return status == Status.RESOLVED and resolved_at is not None and now - resolved_at <= window


def after_answer(asked_from: str | None) -> Status:
    """Where the citizen's answer returns a case: to the status the question was asked from
    (the holder's desk, or the unit it was referred to, with its unit), so that someone can still
    act on it. A case asked before this was recorded goes where the table says."""
    if asked_from in (Status.CLAIMED, Status.REFERRED):
        return Status(asked_from)
    return transition(Action.CITIZEN_ANSWER, Status.AWAITING_CITIZEN)


def allowed_actions(current: Status) -> frozenset[Action]:
    """Actions the table allows from `current` (what buttons a card may show)."""
    return frozenset(a for (a, s) in TRANSITIONS if s == current)
