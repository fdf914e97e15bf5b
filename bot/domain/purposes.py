"""Why a message is in the outbox: how the worker draws and delivers it, and what a failure
means. One enum, so a purpose written in one place and read in another cannot drift apart."""

from __future__ import annotations

from enum import StrEnum


class Purpose(StrEnum):
    CASE_CARD = "case_card"  # the card in the staff group, drawn when sent
    UNIT_CARD = "unit_card"  # the card in a unit's chat, drawn when sent
    CARD_REFRESH = "card_refresh"  # redraw every copy of a case's card (edits)
    RECEIPT = "receipt"  # the tracking code, to the citizen
    CITIZEN_NOTICE = "citizen_notice"  # a step of their case, to the citizen
    CITIZEN_ANSWER = "citizen_answer"  # the citizen's answer, to the staff group
    DRAFT_EXPIRED = "draft_expired"
    SUMMARY = "summary"  # daily and weekly digests for managers
    SPIKE_ALERT = "spike_alert"
    SLA_UNCLAIMED = "sla_unclaimed"
    SLA_REMINDER = "sla_reminder"
    SLA_ESCALATION = "sla_escalation"
    JOB_RESULT = "job_result"  # what a job (an export, a report) tells its asker at its end
    ADMIN_ALERT = "admin_alert"  # a message that could not be delivered


CARD_PURPOSES = frozenset({Purpose.CASE_CARD, Purpose.UNIT_CARD})
