"""Who may do what on a case. Checked on the server for every button and command."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.lifecycle import Action
from bot.i18n import N_


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    STAFF = "staff"
    MANAGER = "manager"


ROLE_LABELS = {
    Role.ADMIN: N_("administrator"),
    Role.SUPERVISOR: N_("supervisor"),
    Role.STAFF: N_("staff member"),
    Role.MANAGER: N_("manager"),
}

DESK_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.STAFF})
SUPERVISING = frozenset({Role.ADMIN, Role.SUPERVISOR})
# /report anywhere, and /export (personal data): the asker's own role, checked again when the
# export job runs (a role taken away meanwhile stops it). Phones only for the supervising roles.
REPORT_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.MANAGER})
PHONE_ROLES = SUPERVISING

# Actions any desk member may take whoever holds the case.
OPEN_TO_ALL = frozenset({Action.CLAIM, Action.NOTE, Action.MARK_URGENT, Action.REOPEN})
# Actions for the unit that received a referral (any desk member, as the unit's staff).
UNIT_ACTIONS = frozenset({Action.ACCEPT_REFERRAL, Action.RETURN_REFERRAL})
# What the unit's card also offers once a member has accepted the referral: they hold the case
# then, and its outcome is theirs to record. Still the holder's work (`may`), not the unit's.
UNIT_HOLDER_ACTIONS = frozenset({Action.RESOLVE})
# Only supervisors (and admins).
SUPERVISOR_ONLY = frozenset({Action.REASSIGN})


def may(role: Role | None, action: Action, *, is_holder: bool) -> bool:
    """Whether `role` may take `action` on a case (holding it or not)."""
    if role not in DESK_ROLES:
        return False
    if role in SUPERVISING:
        return True
    if action in SUPERVISOR_ONLY:
        return False
    if action in OPEN_TO_ALL or action in UNIT_ACTIONS:
        return True
    return is_holder  # release, refer, ask, resolve, reject, merge: the holder's work


def sees_phone(role: Role | None, *, is_holder: bool) -> bool:
    """The citizen's number is for the holder and supervisors only."""
    return role in SUPERVISING or (role in DESK_ROLES and is_holder)
