"""One typed definition per table row, as the storage modules return them.

The query modules build these from SQLAlchemy's mappings with `one`/`every` (a cast: the
database does not check it). `tests/test_rows.py` checks that each type's keys are exactly its
table's columns, so the cast cannot lie about what a row holds. JSON columns keep
`dict[str, Any]`: they are the raw Bot API payloads and draft answers, validated where read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypedDict, TypeVar, cast

from sqlalchemy import RowMapping


class UserRow(TypedDict):
    id: int
    first_name: str
    username: str | None
    language_code: str | None
    phone: str | None
    role: str | None
    pending_input: str | None
    pending_at: datetime | None
    blocked_bot: bool
    banned: bool
    ban_reason: str | None
    created_at: datetime
    updated_at: datetime


class UnitRow(TypedDict):
    id: int
    code: str
    name: str
    chat_id: int | None
    thread_id: int | None
    active: bool


class CaseRow(TypedDict):
    id: int
    code: str
    citizen_id: int | None  # None: came by phone or web, not linked to a chat yet
    channel: str  # bot.domain.channels.Channel
    taken_by: int | None  # the desk member who registered it (a call)
    status: str
    violation: str
    sector: str
    province: str
    city: str
    business: str
    business_key: str
    address: str
    latitude: float | None
    longitude: float | None
    description: str
    price_paid: int | None
    price_fair: int | None
    contact_phone: str | None
    caller_name: str | None
    urgent: bool
    holder_id: int | None
    unit_id: int | None
    merged_into: int | None
    asked_from: str | None
    outcome: str | None
    media_url: str | None  # a web request's picture, as given (never fetched)
    api_key: str | None  # a web request's: the name of the key that filed it
    search_text: str  # what /find matches: the business and description keyed (bot.text)
    created_at: datetime
    updated_at: datetime
    claimed_at: datetime | None
    referred_at: datetime | None
    resolved_at: datetime | None


class ClockedCase(CaseRow):
    """A case with the event its SLA clock runs from (alert queries)."""

    since_event_id: int
    since: datetime


class EventRow(TypedDict):
    id: int
    case_id: int
    at: datetime
    actor_id: int | None
    action: str
    from_status: str | None
    to_status: str | None
    note: str | None
    public: bool


class AttachmentRow(TypedDict):
    id: int
    draft_id: int | None
    case_id: int | None
    kind: str
    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    file_size: int | None
    media_group_id: str | None
    created_at: datetime


class DraftRow(TypedDict):
    id: int
    user_id: int
    kind: str  # bot.domain.complaint.DraftKind
    step: str
    edit_group: str | None
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class PromptRow(TypedDict):
    id: int
    chat_id: int
    message_id: int
    user_id: int
    case_id: int
    action: str
    extra: str | None
    created_at: datetime


class CardMessageRow(TypedDict):
    id: int
    case_id: int
    chat_id: int
    message_id: int
    purpose: str
    content_hash: str | None


class HeldRow(TypedDict):
    id: int
    user_id: int
    text: str | None
    attachment: dict[str, Any] | None
    chat_id: int
    message_id: int
    media_group_id: str | None
    created_at: datetime


class SpikeCase(TypedDict):
    """A case as a spike alert lists it (a projection of cases)."""

    id: int
    code: str
    business: str
    business_key: str
    violation: str
    province: str
    city: str
    created_at: datetime


class OutboxRow(TypedDict):
    id: int
    chat_id: int
    method: str
    payload: dict[str, Any]  # the raw Bot API parameters, chat_id aside
    purpose: str
    case_id: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    result_message_id: int | None
    parts_sent: int
    lease_holder: str | None
    lease_until: datetime | None


class InboxRow(TypedDict):
    update_id: int
    lane_key: int
    payload: dict[str, Any]  # the raw update, as Telegram sent it
    flood_warning: bool
    received_at: datetime
    lease_holder: str | None
    lease_until: datetime | None
    handled_at: datetime | None


class WorkJobRow(TypedDict):
    id: int
    kind: str  # bot.domain.jobs.JobKind
    requested_by: int
    chat_id: int
    origin_chat_id: int | None
    origin_message_id: int | None
    origin_thread_id: int | None
    params: dict[str, Any]  # read through bot.domain.jobs.read_params
    status: str  # bot.domain.jobs.JobStatus
    status_message_id: int | None
    attempts: int
    lease_holder: str | None
    lease_until: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


class JobLeaseRow(TypedDict):
    name: str
    holder: str
    until: datetime


class StaffMember(TypedDict):
    """A user with a desk or manager role, as /staff lists them (a projection of users)."""

    id: int
    first_name: str
    username: str | None
    role: str | None


class ApiKeyRow(TypedDict):
    id: int
    name: str
    key_hash: str  # SHA-256 hex of the key; the key itself is shown once and never kept
    created_at: datetime
    revoked_at: datetime | None


class ApiRequestRow(TypedDict):
    id: int
    key_name: str | None
    method: str
    path: str
    status: int
    at: datetime


# Which table each row type describes (checked by tests/test_rows.py).
TABLE_OF: dict[str, type] = {
    "users": UserRow,
    "units": UnitRow,
    "cases": CaseRow,
    "case_events": EventRow,
    "attachments": AttachmentRow,
    "drafts": DraftRow,
    "staff_prompts": PromptRow,
    "case_messages": CardMessageRow,
    "held_inputs": HeldRow,
    "outbox": OutboxRow,
    "inbox": InboxRow,
    "api_keys": ApiKeyRow,
    "api_requests": ApiRequestRow,
    "job_leases": JobLeaseRow,
    "work_jobs": WorkJobRow,
}

R = TypeVar("R")


def one(row: RowMapping | None, _kind: type[R]) -> R | None:
    """A mapping as the row type `_kind`, or None."""
    return cast(R, dict(row)) if row is not None else None


def every(rows: Iterable[RowMapping], _kind: type[R]) -> list[R]:
    return [cast(R, dict(r)) for r in rows]
