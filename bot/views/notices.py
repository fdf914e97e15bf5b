"""Messages to the citizen about their case, queued in the outbox by the staff desk."""

from __future__ import annotations

from html import escape
from typing import Any

from bot import callbacks as cb
from bot import text as t
from bot.domain import tracking
from bot.i18n import N_, _
from bot.storage.rows import CaseRow
from bot.text import count_in_words
from bot.views.screen import Screen, inline

OUTCOME_LABELS = {
    "branch": N_("Sent to a Ta'zirat branch for a ruling"),
    "no_violation": N_("No violation was found"),
    "not_jurisdiction": N_("Not within Ta'zirat's jurisdiction"),
    # Not the status «Resolved»: the citizen would read «… رسیدگی شد. نتیجه: رسیدگی شد».
    "resolved": N_("The problem was put right"),
}


ANSWER_BUTTON = N_("Answer this question")
REOPEN_BUTTON = N_("Reopen the complaint")


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


def resolved(case: CaseRow, outcome: str, explanation: str, reopen_days: int) -> dict[str, Any]:
    body = _(
        "Your complaint {code} has been dealt with.\n<b>Outcome:</b> {outcome}\n\n{explanation}"
        "\n\nHow well was your complaint handled? Rate it with the stars below, from one star "
        "(poor) to five stars (excellent)."
    ).format(code=_code(case), outcome=_(OUTCOME_LABELS[outcome]), explanation=_typed(explanation))
    stars = [("⭐" * n, cb.Rate(case["id"], n).encode()) for n in range(1, 6)]
    rows = [stars[:3], stars[3:]]
    if reopen_days > 0:
        body += "\n\n" + _(
            "If you think your complaint was not properly dealt with, you can ask for it to be "
            "looked at again with «{reopen}» within {days} days."
        ).format(reopen=_(REOPEN_BUTTON), days=count_in_words(reopen_days))
        rows.append([(_(REOPEN_BUTTON), cb.AskReopen(case["id"]).encode())])
    return Screen(body, inline(rows)).payload()


def rejected(case: CaseRow, reason: str) -> dict[str, Any]:
    return Screen(
        _(
            "Your complaint {code} could not be accepted.\n<b>Reason:</b> {reason}\n\n"
            "If you disagree, you can call the 135 line. If something was missing, you can file "
            "a new complaint with more detail: the business's exact name and address, what "
            "happened, and a receipt or photo if you have one."
        ).format(code=_code(case), reason=_typed(reason))
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
