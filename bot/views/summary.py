"""The manager's digest as Persian HTML messages, with drill-down buttons.

Lines are short so they read on a phone; every figure uses Persian digits; every name a citizen
or officer typed is escaped. Telegram refuses a message over 4096 UTF-16 code units, so every
renderer returns a list of texts cut by `bot.text.split_message`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta, tzinfo
from html import escape

from bot import jalali, text
from bot.callbacks import Drilldown, DrillView
from bot.domain import channels, tracking
from bot.domain.catalogue import PROVINCES, PROVINCES_BY_CODE, VIOLATIONS_BY_CODE, Choice
from bot.domain.lifecycle import Status
from bot.domain.periods import Period, PeriodKind
from bot.domain.summary import OverdueCase, Summary
from bot.i18n import _
from bot.services.reports import STAFF_STATUS_LABELS

OVERDUE_LINES = 30
SUMMARY_PROVINCES = 5
DASH = "—"


# ---------------------------------------------------------------------------------------------
# Small formatters
# ---------------------------------------------------------------------------------------------


def _n(value: int) -> str:
    return text.format_number(value)


def _age(value: timedelta | None) -> str:
    return jalali.format_age(value) if value is not None else DASH


def _label(table: dict[str, Choice], code: str) -> str:
    choice = table.get(code)
    return _(choice.label) if choice else escape(code)


def _status(code: str) -> str:
    try:
        return _(STAFF_STATUS_LABELS[Status(code)])
    except ValueError:
        return escape(code)


def _mean(value: float) -> str:
    """One decimal with the Persian decimal separator: 4.25 → «۴٫۳»."""
    return text.to_persian_digits(f"{value:.1f}".replace(".", text.DECIMAL_SEPARATOR))


def _bullet(label: str, value: str) -> str:
    return text.rtl_line(f"• {label}: {value}")


def _heading(label: str) -> str:
    return f"\n<b>{label}</b>"


def period_title(period: Period, tz: tzinfo) -> str:
    """«گزارش روزانهٔ شنبه ۷ آذر ۱۴۰۵», «گزارش هفتگی ۱ تا ۷ آذر ۱۴۰۵», «گزارش ماهانهٔ آذر ۱۴۰۵»."""
    if period.kind is PeriodKind.DAY:
        day = jalali.format_date_with_weekday(period.first_day)
        return _("Daily report for {date}").format(date=day)
    if period.kind is PeriodKind.WEEK:
        span = date_range(period, tz)
        return _("Weekly report for {range}").format(range=span)
    _day, month, year = jalali.format_date(period.first_day).split(" ", 2)
    return _("Monthly report for {month}").format(month=f"{month} {year}")


def date_range(period: Period, tz: tzinfo) -> str:
    """«۱ تا ۷ آذر ۱۴۰۵»; the month and year are repeated only when they change."""
    first = jalali.format_date(period.first_day).split(" ", 2)
    last = jalali.format_date(period.last_day(tz)).split(" ", 2)
    if first[2] != last[2]:
        start = " ".join(first)
    elif first[1] != last[1]:
        start = " ".join(first[:2])
    else:
        start = first[0]
    return _("{start} to {end}").format(start=start, end=" ".join(last))


def report_busy() -> str:
    """A /report while the asker's previous one is still being made."""
    return _("Your previous report is still being prepared; it will be here in a moment.")


def report_failed() -> str:
    return _("The report could not be prepared. Please try again later.")


# ---------------------------------------------------------------------------------------------
# The digest
# ---------------------------------------------------------------------------------------------


def render_summary(
    summary: Summary, period: Period | None, *, tz: tzinfo, title: str | None = None
) -> list[str]:
    """The digest for `period` (or a custom range with its own `title`), as one or more HTML
    messages (parse_mode HTML)."""
    heading = title if title is not None else period_title(period, tz) if period else ""
    lines = [f"📊 <b>{heading}</b>"]
    lines += _flow_lines(summary)
    lines += _backlog_lines(summary)
    lines += _timing_lines(summary)
    lines += _breakdown_lines(summary)
    lines += _business_lines(summary)
    lines += _workload_lines(summary)
    lines += _rating_lines(summary)
    return text.split_message("\n".join(lines))


def _flow_lines(s: Summary) -> list[str]:
    return [
        _heading(_("In this period")),
        _bullet(_("New complaints"), _n(s.new)),
        _bullet(_("Taken up by an officer"), _n(s.claimed)),
        _bullet(_("Referred to a unit"), _n(s.referred)),
        _bullet(_("Cases resolved"), _n(s.resolved)),
        _bullet(_("Cases rejected"), _n(s.rejected)),
    ]


def _backlog_lines(s: Summary) -> list[str]:
    lines = [
        _heading(_("Open cases now")),
        _bullet(_("Open cases"), _n(s.backlog)),
        *(text.rtl_line(f"   ◦ {_status(code)}: {_n(n)}") for code, n in s.backlog_by_status),
        _bullet(_("Oldest open case"), _age(s.oldest_open_age)),
        _bullet(_("Median age of open cases"), _age(s.median_open_age)),
    ]
    sla = _age(s.sla)
    lines.append(_bullet(_("Open longer than {sla}").format(sla=sla), _n(s.overdue_open)))
    lines.append(_bullet(_("Resolved late (over {sla})").format(sla=sla), _n(s.overdue_resolved)))
    return lines


def _timing_lines(s: Summary) -> list[str]:
    claim = _("median {median}, 90% within {p90}").format(
        median=_age(s.claim_median), p90=_age(s.claim_p90)
    )
    resolve = _("median {median}, 90% within {p90}").format(
        median=_age(s.resolve_median), p90=_age(s.resolve_p90)
    )
    return [
        _heading(_("Response times")),
        _bullet(_("Filing to first officer"), text.to_persian_digits(claim)),
        _bullet(_("Filing to resolution"), text.to_persian_digits(resolve)),
    ]


def _channel_lines(s: Summary) -> list[str]:
    """Where the period's complaints came from: the chat, calls to 135, the web desk…"""
    lines = [_heading(_("New complaints by channel"))]
    lines += [_bullet(_(channels.label(code)), _n(n)) for code, n in s.by_channel]
    if not s.by_channel:
        lines.append(_("No new complaints."))
    return lines


def _breakdown_lines(s: Summary) -> list[str]:
    lines = [*_channel_lines(s), _heading(_("New complaints by type"))]
    lines += [_bullet(_label(VIOLATIONS_BY_CODE, code), _n(n)) for code, n in s.by_violation]
    if not s.by_violation:
        lines.append(_("No new complaints."))
    lines.append(_heading(_("Provinces with most complaints")))
    shown = s.by_province[:SUMMARY_PROVINCES]
    lines += [_bullet(_label(PROVINCES_BY_CODE, code), _n(n)) for code, n in shown]
    rest = len(s.by_province) - len(shown)
    if rest > 0:
        lines.append(_("and {n} more provinces").format(n=_n(rest)))
    return lines


def _business_lines(s: Summary) -> list[str]:
    if not s.top_businesses:
        return []
    lines = [_heading(_("Most complained-of businesses"))]
    for rank, biz in enumerate(s.top_businesses, start=1):
        name = escape(text.shown(text.excerpt(biz.name, 60)))
        lines.append(text.rtl_line(f"{_n(rank)}. {name}: {_n(biz.count)}"))
    return lines


def _workload_lines(s: Summary) -> list[str]:
    if not s.workload:
        return []
    lines = [_heading(_("Open cases per officer"))]
    for load in s.workload:
        lines.append(_bullet(_officer(load.holder_id, load.name), _n(load.open_cases)))
    return lines


def _officer(holder_id: int, name: str) -> str:
    shown = text.fsi(escape(text.excerpt(name, 40))) if name.strip() else _("unnamed officer")
    return f"{shown} ({text.format_id(holder_id)})"


def _rating_lines(s: Summary) -> list[str]:
    if not s.ratings_count or s.ratings_mean is None:
        value = _("no ratings")
    else:
        value = _("{mean} out of {max} from {n} ratings").format(
            mean=_mean(s.ratings_mean), max=_n(5), n=_n(s.ratings_count)
        )
    return [_heading(_("Citizen satisfaction")), text.rtl_line(value)]


# ---------------------------------------------------------------------------------------------
# Drill-downs
# ---------------------------------------------------------------------------------------------


def drilldown_keyboard(period: Period) -> list[list[tuple[str, str]]]:
    """Inline buttons under the digest (see `bot.callbacks.Drilldown`)."""

    def button(label: str, view: DrillView) -> tuple[str, str]:
        return (label, Drilldown(view, period).encode())

    return [
        [button(_("By province"), DrillView.BY_PROVINCE), button(_("By unit"), DrillView.BY_UNIT)],
        [button(_("Overdue cases"), DrillView.OVERDUE)],
    ]


def render_drilldown(view: DrillView, summary: Summary, period: Period, *, tz: tzinfo) -> list[str]:
    """The drill-down a button under the digest asked for."""
    match view:
        case DrillView.BY_PROVINCE:
            return render_by_province(summary, period, tz=tz)
        case DrillView.BY_UNIT:
            return render_by_unit(summary, period, tz=tz)
        case DrillView.OVERDUE:
            return render_overdue(summary, period, tz=tz)


def render_by_province(summary: Summary, period: Period, *, tz: tzinfo) -> list[str]:
    """Every province with its count of new complaints, most first, then catalogue order."""
    counts = dict(summary.by_province)
    order = {c.code: i for i, c in enumerate(PROVINCES)}
    codes = sorted(
        {*order, *counts}, key=lambda c: (-counts.get(c, 0), order.get(c, len(order)), c)
    )
    lines = _drill_title(_("New complaints by province"), period, tz)
    lines += [_bullet(_label(PROVINCES_BY_CODE, c), _n(counts.get(c, 0))) for c in codes]
    return text.split_message("\n".join(lines))


def render_by_unit(summary: Summary, period: Period, *, tz: tzinfo) -> list[str]:
    """New complaints of the period by the unit now holding them."""
    lines = _drill_title(_("New complaints by unit"), period, tz)
    for unit in summary.by_unit:
        if unit.unit_id is None:
            name = _("not referred")
        else:
            name = escape(text.shown(unit.name or _("unit {id}").format(id=_n(unit.unit_id))))
        lines.append(_bullet(name, _n(unit.count)))
    if not summary.by_unit:
        lines.append(_("No new complaints."))
    return text.split_message("\n".join(lines))


def render_overdue(summary: Summary, period: Period, *, tz: tzinfo) -> list[str]:
    """Open cases past the SLA, oldest first: code, age, status; at most 30 lines."""
    title = _("Open longer than {sla}").format(sla=_age(summary.sla))
    lines = _drill_title(title, period, tz)
    lines += list(_overdue_lines(summary.overdue[:OVERDUE_LINES]))
    rest = len(summary.overdue) - OVERDUE_LINES
    if rest > 0:
        lines.append(_("and {n} more cases").format(n=_n(rest)))
    if not summary.overdue:
        lines.append(_("No overdue cases."))
    return text.split_message("\n".join(lines))


def _overdue_lines(items: Iterable[OverdueCase]) -> Iterable[str]:
    for case in items:
        code = tracking.format_code(case.code)
        age = jalali.format_age(case.age)
        yield text.rtl_line(f"{code} · {age} · {_status(case.status)}")


def _drill_title(title: str, period: Period, tz: tzinfo) -> list[str]:
    return [f"<b>{title}</b>", period_title(period, tz), ""]
