"""Why an action on a case was refused: the services decide it, the views word it.

A plain vocabulary with no behaviour, in the domain so that services, views and handlers can
all name a refusal without importing one another.
"""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    NOT_STAFF = "not_staff"
    ANONYMOUS_ADMIN = "anonymous_admin"
    NO_CASE = "no_case"
    NOT_ALLOWED = "not_allowed"
    WRONG_STATE = "wrong_state"
    HELD = "held"
    CHANGED = "changed"
    ANONYMOUS_CITIZEN = "anonymous_citizen"
    BAD_INPUT = "bad_input"
    WINDOW_CLOSED = "window_closed"
    NOT_DESK_CHAT = "not_desk_chat"
    NOT_LINKED = "not_linked"  # came by phone or web and nobody follows it in chat yet
    SHORT_QUERY = "short_query"  # a /find text too short for the search index
    ROUTED_DESK = "routed_desk"  # /units: that group gets new cases' cards (STAFF_ROUTES)
