"""The case card posted to the staff group (and to a unit's chat on referral).

It never shows the citizen's identity or phone number; the phone is shown on request, in an
alert only the asker sees, and only to the holder and supervisors.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from bot import jalali, text
from bot.domain import tracking
from bot.domain.catalogue import PROVINCES_BY_CODE, SECTORS_BY_CODE, VIOLATIONS_BY_CODE
from bot.domain.lifecycle import STATUS_LABELS, Status
from bot.i18n import N_, _
from bot.views.notices import OUTCOME_LABELS
from bot.views.screen import inline

DESCRIPTION_EXCERPT = 600

B_CLAIM = N_("✋ I'll take it")
B_RELEASE = N_("Release")
B_URGENT = N_("🔴 Urgent")
B_REFER = N_("Refer")
B_REJECT = N_("Reject")
B_MERGE = N_("Merge")
B_NOTE = N_("Note")
B_ASK = N_("Ask the citizen")
B_RESOLVE = N_("Resolve")
B_ACCEPT = N_("Accept")
B_RETURN = N_("Return")
B_REOPEN = N_("Reopen")
B_FILES = N_("📎 Evidence ({n})")
B_PHONE = N_("📞 Phone")
B_BACK = N_("« Back")


def _label(table: dict[str, Any], code: str) -> str:
    choice = table.get(code)
    return _(choice.label) if choice else escape(code)


def card_text(
    case: dict[str, Any],
    *,
    evidence_count: int,
    now: datetime,
    tz: ZoneInfo,
    holder: str | None,
    unit: str | None,
    unreachable: bool = False,
) -> str:
    prices = []
    if case.get("price_paid") is not None:
        prices.append(_("paid {amount}").format(amount=text.format_toman(case["price_paid"])))
    if case.get("price_fair") is not None:
        prices.append(_("fair {amount}").format(amount=text.format_toman(case["price_fair"])))
    lines = [
        ("🔴 " if case.get("urgent") else "🆕 ")
        + _("<b>Complaint {code}</b>").format(code=tracking.format_code(case["code"])),
        _("<b>Type:</b> {value}").format(value=_label(VIOLATIONS_BY_CODE, case["violation"])),
        _("<b>Sector:</b> {value}").format(value=_label(SECTORS_BY_CODE, case["sector"])),
        _("<b>Place:</b> {province}، {city}").format(
            province=_label(PROVINCES_BY_CODE, case["province"]), city=escape(case["city"])
        ),
        _("<b>Business:</b> {value}").format(value=escape(case["business"])),
        _("<b>Address:</b> {value}").format(value=escape(case["address"])),
    ]
    if case.get("latitude") is not None and case.get("longitude") is not None:
        lat, lon = float(case["latitude"]), float(case["longitude"])
        url = f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=17/{lat:.6f}/{lon:.6f}"
        link = '<a href="{url}">{label}</a>'.format(url=url, label=_("open on the map"))
        lines.append(_("<b>Map:</b> {link}").format(link=link))
    if prices:
        lines.append(_("<b>Prices:</b> {value}").format(value="، ".join(prices)))
    lines += [
        _("<b>Evidence:</b> {n} files").format(n=text.to_persian_digits(evidence_count)),
        _("<b>Contact:</b> {value}").format(
            value=_("number given (visible to the holder)")
            if case.get("contact_phone")
            else _("anonymous")
        ),
        _("<b>Filed:</b> {when} ({age} ago)").format(
            when=jalali.format_datetime(case["created_at"], tz),
            age=jalali.format_age(now - case["created_at"]),
        ),
        _("<b>Status:</b> {value}").format(value=_(STATUS_LABELS[Status(case["status"])])),
    ]
    if holder is not None:
        lines.append(_("<b>Holder:</b> {name}").format(name=escape(holder or "—")))
    if unit is not None:
        lines.append(_("<b>Unit:</b> {name}").format(name=escape(unit)))
    if unreachable:
        lines.append(_("⚠️ The citizen has blocked the bot: they cannot be told or asked."))
    if case.get("outcome") in OUTCOME_LABELS:
        lines.append(_("<b>Outcome:</b> {value}").format(value=_(OUTCOME_LABELS[case["outcome"]])))
    lines += ["", escape(text.excerpt(case["description"], DESCRIPTION_EXCERPT))]
    return "\n".join(lines)


def card_buttons(case: dict[str, Any], evidence_count: int, *, unit_chat: bool = False):  # type: ignore[no-untyped-def]
    """The buttons that fit the case's state (the server re-checks every press anyway)."""
    cid = case["id"]
    status = Status(case["status"])

    def b(label: str, act: str) -> tuple[str, str]:
        return (_(label), f"s:{act}:{cid}")

    files = (_(B_FILES).format(n=text.to_persian_digits(evidence_count)), f"s:files:{cid}")
    if unit_chat:
        rows = [[b(B_ACCEPT, "accept"), b(B_RETURN, "return")]] if status == Status.REFERRED else []
        return inline([*rows, [files]])
    rows: list[list[tuple[str, str]]]
    if status in (Status.NEW, Status.REOPENED):
        rows = [
            [b(B_CLAIM, "claim"), b(B_URGENT, "urgent")],
            [b(B_REFER, "refer"), b(B_REJECT, "reject")],
            [b(B_MERGE, "merge"), b(B_NOTE, "note")],
        ]
    elif status == Status.CLAIMED:
        rows = [
            [b(B_RESOLVE, "resolve"), b(B_ASK, "ask")],
            [b(B_REFER, "refer"), b(B_NOTE, "note")],
            [b(B_RELEASE, "release"), b(B_REJECT, "reject")],
            [b(B_MERGE, "merge"), b(B_URGENT, "urgent")],
        ]
    elif status == Status.REFERRED:
        rows = [[b(B_ACCEPT, "accept"), b(B_RETURN, "return")], [b(B_NOTE, "note")]]
    elif status == Status.AWAITING_CITIZEN:
        rows = [[b(B_RESOLVE, "resolve"), b(B_NOTE, "note")]]
    elif status in (Status.RESOLVED, Status.CLOSED, Status.REJECTED):
        rows = [[b(B_REOPEN, "reopen"), b(B_NOTE, "note")]]
    else:
        rows = []
    if case.get("urgent"):
        rows = [[btn for btn in row if not btn[1].startswith("s:urgent")] for row in rows]
    tail = [files, b(B_PHONE, "phone")] if case.get("contact_phone") else [files]
    return inline([*[r for r in rows if r], tail])


def submenu(case_id: int, options: list[tuple[str, str]]):  # type: ignore[no-untyped-def]
    """A card's buttons replaced by choices (units, outcomes), with a way back."""
    rows = [[opt] for opt in options]
    return inline([*rows, [(_(B_BACK), f"s:back:{case_id}")]])
