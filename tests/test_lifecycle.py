"""The case lifecycle table: every allowed move, and refusal of everything else."""

from __future__ import annotations

import pytest

from bot.domain.lifecycle import (
    OPEN_STATES,
    TRANSITIONS,
    Action,
    IllegalTransition,
    Status,
    allowed_actions,
    transition,
)


def test_submit_creates_a_new_case() -> None:
    assert transition(Action.SUBMIT, None) is Status.NEW


@pytest.mark.parametrize(
    ("action", "start", "end"),
    [
        (Action.CLAIM, Status.NEW, Status.CLAIMED),
        (Action.RELEASE, Status.CLAIMED, Status.NEW),
        (Action.REFER, Status.CLAIMED, Status.REFERRED),
        (Action.ACCEPT_REFERRAL, Status.REFERRED, Status.CLAIMED),
        (Action.ASK, Status.CLAIMED, Status.AWAITING_CITIZEN),
        (Action.CITIZEN_ANSWER, Status.AWAITING_CITIZEN, Status.CLAIMED),
        (Action.RESOLVE, Status.CLAIMED, Status.RESOLVED),
        (Action.REOPEN, Status.RESOLVED, Status.REOPENED),
        (Action.CLAIM, Status.REOPENED, Status.CLAIMED),
        (Action.CLOSE, Status.RESOLVED, Status.CLOSED),
        (Action.MERGE, Status.NEW, Status.MERGED),
        (Action.REJECT, Status.NEW, Status.REJECTED),
    ],
)
def test_allowed_moves(action: Action, start: Status, end: Status) -> None:
    assert transition(action, start) is end


@pytest.mark.parametrize(
    ("action", "start"),
    [
        (Action.CLAIM, Status.CLAIMED),  # a second claim loses
        (Action.RESOLVE, Status.NEW),  # nobody holds it yet
        (Action.NOTE, Status.MERGED),
        (Action.REOPEN, Status.MERGED),
        (Action.ASK, Status.NEW),
        (Action.SUBMIT, Status.NEW),
        (Action.CLOSE, Status.REJECTED),
    ],
)
def test_illegal_moves_are_refused(action: Action, start: Status) -> None:
    with pytest.raises(IllegalTransition):
        transition(action, start)


def test_no_action_leaves_a_merged_case() -> None:
    # Only linking (a merged call's caller following it in chat), which moves nothing.
    assert allowed_actions(Status.MERGED) == frozenset({Action.LINK})
    assert transition(Action.LINK, Status.MERGED) == Status.MERGED


def test_every_state_is_reachable_from_submit() -> None:
    seen = {Status.NEW}
    frontier = [Status.NEW]
    while frontier:
        state = frontier.pop()
        for (_action, start), end in TRANSITIONS.items():
            if start == state and end not in seen:
                seen.add(end)
                frontier.append(end)
    assert seen == set(Status)


def test_open_cases_can_always_be_noted_and_marked_urgent() -> None:
    for state in OPEN_STATES:
        assert {Action.NOTE, Action.MARK_URGENT} <= allowed_actions(state)
