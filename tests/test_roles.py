"""The permission table."""

from __future__ import annotations

from bot.domain.lifecycle import Action
from bot.domain.roles import Role, may, sees_phone


def test_staff_work_their_own_cases_only() -> None:
    assert may(Role.STAFF, Action.CLAIM, is_holder=False)
    assert may(Role.STAFF, Action.RESOLVE, is_holder=True)
    assert not may(Role.STAFF, Action.RESOLVE, is_holder=False)
    assert not may(Role.STAFF, Action.REASSIGN, is_holder=True)


def test_supervisors_may_do_anything_and_managers_nothing() -> None:
    for action in Action:
        assert may(Role.SUPERVISOR, action, is_holder=False)
        assert not may(Role.MANAGER, action, is_holder=True)
        assert not may(None, action, is_holder=True)


def test_phone_visibility() -> None:
    assert sees_phone(Role.STAFF, is_holder=True)
    assert not sees_phone(Role.STAFF, is_holder=False)
    assert sees_phone(Role.SUPERVISOR, is_holder=False)
    assert not sees_phone(Role.MANAGER, is_holder=False)
