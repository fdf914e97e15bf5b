"""Messages to the citizen about their case, queued in the outbox by the staff desk."""

from __future__ import annotations

from html import escape
from typing import Any

from bot import callbacks as cb
from bot import text as t
from bot.domain import tracking
from bot.i18n import N_, _
from bot.storage.rows import CaseRow
from bot.views.screen import Screen, inline

OUTCOME_LABELS = {
    "branch": N_("Sent to a Ta'zirat branch for a ruling"),
    "no_violation": N_("No violation was found"),
    "not_jurisdiction": N_("Not within Ta'zirat's jurisdiction"),
    "resolved": N_("Resolved"),
}


ANSWER_BUTTON = N_("Answer this question")


def _typed(typed: str) -> str:
    """What a person typed, for HTML: Persian digits, every line right-to-left."""
    return escape(t.rtl_lines(t.shown(typed)))


def _code(case: CaseRow) -> str:
    return tracking.format_code(case["code"])


def claimed(case: CaseRow) -> dict[str, Any]:
    return Screen(
        _("An officer has taken up your complaint {code} and is reviewing it.").format(
            code=_code(case)
        )
    ).payload()


def referred(case: CaseRow) -> dict[str, Any]:
    return Screen(
        _("Your complaint {code} was referred to a specialised unit for action.").format(
            code=_code(case)
        )
    ).payload()


def unit_accepted(case: CaseRow) -> dict[str, Any]:
    return Screen(
        _("The specialised unit has taken up your complaint {code}.").format(code=_code(case))
    ).payload()


def question(case: CaseRow, text: str) -> dict[str, Any]:
    body = _(
        "The officer handling your complaint {code} asks:\n\n<i>{question}</i>\n\n"
        "Press «{button}» below, or simply send your answer here (text, photo or document)."
    ).format(code=_code(case), question=_typed(text), button=_(ANSWER_BUTTON))
    button = [(_(ANSWER_BUTTON), cb.AnswerQuestion(case["id"]).encode())]
    return Screen(body, inline([button])).payload()


def resolved(case: CaseRow, outcome: str, explanation: str) -> dict[str, Any]:
    body = _(
        "Your complaint {code} has been dealt with.\n<b>Outcome:</b> {outcome}\n\n{explanation}"
        "\n\nHow well was your complaint handled? Please rate it from 1 (poor) to 5 (excellent)."
    ).format(code=_code(case), outcome=_(OUTCOME_LABELS[outcome]), explanation=_typed(explanation))
    stars = [("⭐" * n, cb.Rate(case["id"], n).encode()) for n in range(1, 6)]
    rows = [stars[:3], stars[3:], [(_("Reopen the complaint"), cb.AskReopen(case["id"]).encode())]]
    return Screen(body, inline(rows)).payload()


def rejected(case: CaseRow, reason: str) -> dict[str, Any]:
    return Screen(
        _("Your complaint {code} could not be accepted.\n<b>Reason:</b> {reason}").format(
            code=_code(case), reason=_typed(reason)
        )
    ).payload()


def merged(case: CaseRow, target: CaseRow) -> dict[str, Any]:
    return Screen(
        _(
            "Your complaint {code} reports the same matter as another complaint, so the two are "
            "handled together. Its progress is now shown when you look up {code}."
        ).format(code=_code(case))
    ).payload()


def reopened(case: CaseRow) -> dict[str, Any]:
    return Screen(
        _("Your complaint {code} was reopened and will be reviewed again.").format(code=_code(case))
    ).payload()


def answer_posted(case: CaseRow, answer: str | None) -> dict[str, Any]:
    """For the staff group: the citizen's answer to the holder's question."""
    body = _("💬 The citizen answered about complaint {code}:").format(code=_code(case))
    if answer:
        body += "\n\n" + _typed(answer)
    return Screen(body).payload()
