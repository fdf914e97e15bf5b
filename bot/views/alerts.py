"""Spike alerts for managers and SLA reminders for staff, as Persian HTML.

A spike alert carries its own drill-down (who, how many, of what, and every tracking code) so
a manager can act on it from the phone without opening a report. SLA messages are one or two
short lines that name the case, and state its age in working time, which is what the
threshold counts.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta, tzinfo
from html import escape
from typing import Any

from bot import jalali, text
from bot.callbacks import AnswerQuestion
from bot.domain import tracking
from bot.domain.catalogue import PROVINCES_BY_CODE, VIOLATIONS_BY_CODE, Choice
from bot.i18n import _
from bot.storage.rows import CaseRow, SpikeCase
from bot.views.notices import ANSWER_BUTTON
from bot.views.screen import Screen, inline

CODES_SHOWN = 40
BUSINESSES_SHOWN = 5
NAME_LIMIT = 60


def _n(value: int) -> str:
    return text.format_number(value)


def _label(table: dict[str, Choice], code: str) -> str:
    choice = table.get(code)
    return _(choice.label) if choice else escape(code)


def _name(business: str) -> str:
    return escape(text.shown(text.excerpt(business, NAME_LIMIT)))


def window_phrase(window: timedelta) -> str:
    """«یک ساعت گذشته», «۳ ساعت گذشته», «۴۵ دقیقهٔ گذشته»."""
    minutes = int(window.total_seconds()) // 60
    if minutes == 60:
        return _("the last hour")
    if minutes % 60 == 0:
        return _("the last {hours} hours").format(hours=_n(minutes // 60))
    return _("the last {minutes} minutes").format(minutes=_n(minutes))


def work_age(age: timedelta) -> str:
    """Working time, in hours and minutes (a working day is not 24 hours, so no days)."""
    minutes = max(int(age.total_seconds()) // 60, 0)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return _("{hours} working hours and {minutes} minutes").format(
            hours=_n(hours), minutes=_n(minutes)
        )
    if hours:
        return _("{hours} working hours").format(hours=_n(hours))
    return _("{minutes} working minutes").format(minutes=_n(minutes))


# -- spikes --------------------------------------------------------------------------------------


def spike(kind: str, cases: list[SpikeCase], window: timedelta, *, tz: tzinfo) -> list[str]:
    """The alert for one spike; `cases` are the group's cases in the window, newest first."""
    newest = cases[0]
    count, span = _n(len(cases)), window_phrase(window)
    title = _("Complaint spike")  # outside the f-string, where the extractor sees it
    lines = [text.rtl_line(f"📈 <b>{title}</b>")]
    if kind == "business":
        lines.append(
            text.rtl_line(
                _("{count} complaints about {business} in {window}.").format(
                    count=count, business=f"<b>{_name(newest['business'])}</b>", window=span
                )
            )
        )
        place = (
            f"{escape(text.shown(newest['city']))}، {_label(PROVINCES_BY_CODE, newest['province'])}"
        )
        lines.append(text.rtl_line(_("Where: {place}").format(place=place)))
        lines += _counted(_("By violation type:"), [c["violation"] for c in cases], _violation)
    else:
        lines.append(
            text.rtl_line(
                _("{count} complaints of {violation} in {province} province in {window}.").format(
                    count=count,
                    violation=f"<b>{_label(VIOLATIONS_BY_CODE, newest['violation'])}</b>",
                    province=f"<b>{_label(PROVINCES_BY_CODE, newest['province'])}</b>",
                    window=span,
                )
            )
        )
        lines += _counted(_("Businesses named:"), [c["business"] for c in cases], _name)
    heading = _("Tracking codes:")
    lines += ["", f"<b>{heading}</b>"]
    long_window = window >= timedelta(hours=12)
    for case in cases[:CODES_SHOWN]:
        when = (jalali.format_datetime if long_window else jalali.format_time)(
            case["created_at"], tz
        )
        what = _violation(case["violation"]) if kind == "business" else _name(case["business"])
        lines.append(text.rtl_line(f"{tracking.format_code(case['code'])} · {when} · {what}"))
    rest = len(cases) - CODES_SHOWN
    if rest > 0:
        lines.append(_("and {n} more cases").format(n=_n(rest)))
    return text.split_message("\n".join(lines))


def _violation(code: str) -> str:
    return _label(VIOLATIONS_BY_CODE, code)


def _counted(heading: str, values: list[str], show: Any) -> list[str]:
    """A heading and the most frequent values with their counts."""
    lines = ["", f"<b>{heading}</b>"]
    common = Counter(values).most_common()
    for value, n in common[:BUSINESSES_SHOWN]:
        lines.append(text.rtl_line(f"• {show(value)}: {_n(n)}"))
    if len(common) > BUSINESSES_SHOWN:
        lines.append(_("and {n} more").format(n=_n(len(common) - BUSINESSES_SHOWN)))
    return lines


# -- SLA -----------------------------------------------------------------------------------------


def _about(case: CaseRow, tz: tzinfo) -> str:
    """The business and when the complaint was filed, to recognise the case at a glance."""
    return text.rtl_line(
        _("{business} · filed {when}").format(
            business=_name(case["business"]), when=jalali.format_datetime(case["created_at"], tz)
        )
    )


def unclaimed(case: CaseRow, age: timedelta, *, tz: tzinfo) -> str:
    """For the staff group: the case is still waiting for someone to take it up."""
    head = _("Case {code} has been waiting {age} and nobody has taken it up yet.").format(
        code=tracking.format_code(case["code"]), age=work_age(age)
    )
    return f"{text.rtl_line('⏰ ' + head)}\n{_about(case, tz)}"


def referral_reminder(case: CaseRow, age: timedelta, *, unit: str | None, tz: tzinfo) -> str:
    """For the holder, or the unit's chat: the referred case has had no update."""
    head = _("Reminder: case {code}, referred to {unit}, has had no update for {age}.").format(
        code=tracking.format_code(case["code"]),
        unit=escape(text.shown(unit or "—")),
        age=work_age(age),
    )
    ask = _("Please record what has been done, or return the case if it is not yours.")
    return f"{text.rtl_line('⏰ ' + head)}\n{_about(case, tz)}\n{ask}"


def referral_escalation(
    case: CaseRow,
    age: timedelta,
    *,
    unit: str | None,
    holder: tuple[int, str] | None,
    tz: tzinfo,
) -> str:
    """For the supervisors and the staff group: the reminder went unanswered."""
    head = _(
        "Case {code}, referred to {unit}, has had no update for {age}, even after a reminder."
    ).format(
        code=tracking.format_code(case["code"]),
        unit=escape(text.shown(unit or "—")),
        age=work_age(age),
    )
    if holder is None:
        who = _("Nobody in the unit has accepted it yet.")
    else:
        holder_id, name = holder
        shown = text.fsi(escape(name)) if name.strip() else text.format_id(holder_id)
        who = _("Held by: {name}").format(name=shown)
    return f"{text.rtl_line('🔺 ' + head)}\n{_about(case, tz)}\n{text.rtl_line(who)}"


def answer_reminder(case: CaseRow) -> dict[str, Any]:
    """For the citizen: the officer's question is still waiting (sent once)."""
    body = _(
        "Reminder: an officer is still waiting for your answer about complaint {code}. Press "
        "«{button}» below, or simply send your answer here."
    ).format(code=tracking.format_code(case["code"]), button=_(ANSWER_BUTTON))
    button = [(_(ANSWER_BUTTON), AnswerQuestion(case["id"]).encode())]
    return Screen(body, inline([button])).payload()


def answer_overdue(case: CaseRow, age: timedelta, *, tz: tzinfo) -> str:
    """For the holder (or the unit): the citizen has not answered the question."""
    head = _(
        "The citizen has not answered the question about case {code} for {age}. Decide "
        "without the answer, or call them."
    ).format(code=tracking.format_code(case["code"]), age=work_age(age))
    return f"{text.rtl_line('⏰ ' + head)}\n{_about(case, tz)}"
