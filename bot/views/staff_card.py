"""The case card posted to the staff group. Never shows the citizen's identity or phone."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from bot import jalali, text
from bot.domain import tracking
from bot.domain.catalogue import PROVINCES_BY_CODE, SECTORS_BY_CODE, VIOLATIONS_BY_CODE
from bot.domain.lifecycle import STATUS_LABELS, Status
from bot.i18n import _

DESCRIPTION_EXCERPT = 600


def _label(table: dict[str, Any], code: str) -> str:
    choice = table.get(code)
    return _(choice.label) if choice else escape(code)


def render(
    case: dict[str, Any], *, evidence_count: int, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    """sendMessage parameters (without chat_id) for the case's card."""
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
        "",
        escape(text.excerpt(case["description"], DESCRIPTION_EXCERPT)),
    ]
    return {"text": "\n".join(lines), "parse_mode": "HTML"}
