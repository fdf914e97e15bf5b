"""The case card posted to the staff group (and to a unit's chat on referral).

It never shows the citizen's identity or phone number; the phone is shown on request, in an
alert only the asker sees, and only to the holder and supervisors.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot import callbacks as cb
from bot import jalali, text
from bot.domain import channels, tracking
from bot.domain.catalogue import PROVINCES_BY_CODE, SECTORS_BY_CODE, VIOLATIONS_BY_CODE
from bot.domain.channels import Channel
from bot.domain.lifecycle import STATUS_LABELS, Action, Status, allowed_actions
from bot.domain.roles import UNIT_ACTIONS, UNIT_HOLDER_ACTIONS
from bot.i18n import N_, _
from bot.storage.rows import AttachmentRow, CaseRow
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


def file_size(size: int | None) -> str:
    if size is None:
        return "—"
    if size < 1024 * 1024:
        return _("{n} KB").format(n=text.format_number(max(1, round(size / 1024))))
    megabytes = f"{size / (1024 * 1024):.1f}".replace(".", "٫")  # the Persian decimal mark
    return _("{n} MB").format(n=text.to_persian_digits(megabytes))


def _file_line(f: AttachmentRow) -> str:
    """One evidence file on the card: its name, type and size (names are the citizen's)."""
    file_name = f["file_name"]
    if not file_name:
        label = _(FILE_KINDS.get(f["kind"], FILE_KINDS["document"]))
        return text.rtl_line(f"  • {label} — {file_size(f.get('file_size'))}")
    name = escape(text.excerpt(file_name, 40))
    kind = _(_file_type(f.get("mime_type") or "", f["kind"]))
    # A file name is an identifier, not prose: a code span, as typed, in its own direction;
    # its type in words. RLM after each: a size after a Latin word («PDF») would join it.
    rlm = text.RLM
    size = file_size(f.get("file_size"))
    return text.rtl_line(f"  • <code>{text.fsi(name)}</code>{rlm} — {kind}{rlm} — {size}")


FILE_KINDS = {"photo": N_("photo"), "video": N_("video"), "document": N_("file")}
FILE_TYPES = {"application/pdf": N_("PDF document"), "audio": N_("audio file")}


def _file_type(mime: str, kind: str) -> str:
    """A file's type as staff read it («سند PDF», «فایل صوتی»), never a raw MIME type."""
    major = mime.split("/", 1)[0]
    if mime in FILE_TYPES or major in FILE_TYPES:
        return FILE_TYPES.get(mime) or FILE_TYPES[major]
    if major == "image":
        return FILE_KINDS["photo"]
    if major == "video":
        return FILE_KINDS["video"]
    return FILE_KINDS.get(kind, FILE_KINDS["document"])


def card_text(
    case: CaseRow,
    *,
    evidence_count: int,
    files: Sequence[AttachmentRow] = (),
    now: datetime,
    tz: ZoneInfo,
    holder: str | None,
    unit: str | None,
    unreachable: bool = False,
    supporting: Sequence[tuple[CaseRow, int]] = (),
    supporting_total: int = 0,
    taken_by: str | None = None,
) -> str:
    """The card's text. `supporting`: reports merged into this case (their citizens joined it,
    or staff merged them) with their file counts, `supporting_total` how many in all;
    `taken_by`: the name of the operator who registered a call."""
    prices = []
    paid, fair = case["price_paid"], case["price_fair"]
    if paid is not None:
        prices.append(_("paid {amount}").format(amount=text.format_toman(paid)))
    if fair is not None:
        prices.append(_("fair {amount}").format(amount=text.format_toman(fair)))
    lines = [
        # 🆕 is a letter-like symbol (bidi class L): without the RLM the line reads LTR.
        text.rtl_line("🔴 " if case.get("urgent") else "🆕 ")
        + _("<b>Complaint {code}</b>").format(code=tracking.format_code(case["code"])),
        _("<b>Type:</b> {value}").format(value=_label(VIOLATIONS_BY_CODE, case["violation"])),
        _("<b>Sector:</b> {value}").format(value=_label(SECTORS_BY_CODE, case["sector"])),
        _("<b>Place:</b> {province}، {city}").format(
            province=_label(PROVINCES_BY_CODE, case["province"]),
            city=escape(text.shown(case["city"])),
        ),
        _("<b>Business:</b> {value}").format(value=escape(text.shown(case["business"]))),
        _("<b>Address:</b> {value}").format(value=escape(text.shown(case["address"]))),
    ]
    latitude, longitude = case["latitude"], case["longitude"]
    if latitude is not None and longitude is not None:
        lat, lon = float(latitude), float(longitude)
        url = f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=17/{lat:.6f}/{lon:.6f}"
        link = '<a href="{url}">{label}</a>'.format(url=url, label=_("open on the map"))
        lines.append(_("<b>Map:</b> {link}").format(link=link))
    if prices:
        lines.append(_("<b>Prices:</b> {value}").format(value="، ".join(prices)))
    lines += [
        _("<b>Evidence:</b> {n} files").format(n=text.to_persian_digits(evidence_count)),
        *(_file_line(f) for f in files),
        _("<b>Contact:</b> {value}").format(
            value=_("number given (visible to the holder)")
            if case.get("contact_phone")
            else _("anonymous")
        ),
        *_channel_lines(case, taken_by),
        _("<b>Filed:</b> {when} ({age} ago)").format(
            when=jalali.format_datetime(case["created_at"], tz),
            age=jalali.format_age(now - case["created_at"]),
        ),
        _("<b>Status:</b> {value}").format(value=_(STATUS_LABELS[Status(case["status"])])),
    ]
    if holder is not None:
        lines.append(
            _("<b>Holder:</b> {name}").format(name=text.fsi(escape(holder)) if holder else "—")
        )
    if unit is not None:
        lines.append(_("<b>Unit:</b> {name}").format(name=escape(text.shown(unit))))
    if unreachable:
        lines.append(_("⚠️ The citizen has blocked the bot: they cannot be told or asked."))
    lines += _supporting_lines(supporting, supporting_total)
    outcome = case["outcome"]
    if outcome is not None and outcome in OUTCOME_LABELS:
        lines.append(_("<b>Outcome:</b> {value}").format(value=_(OUTCOME_LABELS[outcome])))
    description = text.excerpt(case["description"], DESCRIPTION_EXCERPT)
    lines += ["", escape(text.rtl_line(text.shown(description)))]
    return "\n".join(lines)


def _channel_lines(case: CaseRow, taken_by: str | None) -> list[str]:
    """How a case that did not come from the chat came in, and whether anyone follows it in
    chat (if not, nobody is told there: the caller hears by phone)."""
    channel = case.get("channel") or Channel.CHAT
    if channel == Channel.CHAT:
        return []
    came = _(channels.label(channel))
    if taken_by is not None:
        came = _("{channel}, registered by {name}").format(
            channel=came, name=text.fsi(escape(taken_by)) if taken_by else "—"
        )
    lines = [_("<b>Came by:</b> {value}").format(value=came)]
    if case.get("citizen_id") is None:
        lines.append(_("ℹ️ Not followed in the bot: the reporter is told nothing here."))
    return lines


def _supporting_lines(supporting: Sequence[tuple[CaseRow, int]], total: int) -> list[str]:
    if not total:
        return []
    lines = [_("<b>Supporting reports:</b> {n}").format(n=text.format_number(total))]
    for report, files in supporting:
        line = "  • {code} — {files} — {what}".format(
            code=tracking.format_code(report["code"]),
            files=_("{n} files").format(n=text.format_number(files)),
            what=escape(text.shown(text.excerpt(report["description"], 80))),
        )
        lines.append(text.rtl_line(line))
    return lines


# A card shows, in this order, the buttons of the actions the lifecycle table allows from the
# case's status (`allowed_actions`); whether the presser may take them is checked on the press.
CARD_ACTIONS: tuple[tuple[Action, str], ...] = (
    (Action.RESOLVE, B_RESOLVE),
    (Action.ASK, B_ASK),
    (Action.CLAIM, B_CLAIM),
    (Action.ACCEPT_REFERRAL, B_ACCEPT),
    (Action.RETURN_REFERRAL, B_RETURN),
    (Action.REFER, B_REFER),
    (Action.REJECT, B_REJECT),
    (Action.RELEASE, B_RELEASE),
    (Action.MERGE, B_MERGE),
    (Action.MARK_URGENT, B_URGENT),
    (Action.REOPEN, B_REOPEN),
    (Action.NOTE, B_NOTE),
)


def _accepted(case: CaseRow) -> bool:
    """A member of the case's unit took the referral up and holds it (a supervisor may since
    have handed it to someone else, who holds it now): no longer waiting for the unit."""
    return (
        case["unit_id"] is not None
        and case["holder_id"] is not None
        and case["status"] != Status.REFERRED
    )


def card_buttons(
    case: CaseRow, evidence_count: int, *, unit_chat: bool = False, elsewhere: bool = False
) -> InlineKeyboardMarkup:
    """The buttons that fit the case's state (the server re-checks every press anyway). A unit's
    chat gets only the unit's own actions, and the holder's outcome once a member accepted;
    none at all once the case is with another unit (`elsewhere`): it is no longer theirs."""
    if elsewhere:
        return inline([])
    allowed = allowed_actions(Status(case["status"]))
    if unit_chat:
        allowed &= UNIT_ACTIONS | (UNIT_HOLDER_ACTIONS if _accepted(case) else frozenset())
    if case.get("urgent"):
        allowed -= {Action.MARK_URGENT}
    if case.get("citizen_id") is None:
        allowed -= {Action.ASK}  # nobody in chat to ask: the holder calls the caller
    buttons = [
        (_(label), cb.CardAction(action, case["id"]).encode())
        for action, label in CARD_ACTIONS
        if action in allowed
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    files = (
        _(B_FILES).format(n=text.to_persian_digits(evidence_count)),
        cb.CardShow(cb.Show.FILES, case["id"]).encode(),
    )
    tail = [files]
    if case.get("contact_phone") and not unit_chat:
        tail.append((_(B_PHONE), cb.CardShow(cb.Show.PHONE, case["id"]).encode()))
    return inline([*rows, tail])


DIGEST_MAX = 20  # cases in one digest: a short message, ten rows of buttons


def digest(cases: Sequence[CaseRow], *, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """New cases gathered into one message while the group is at Telegram's limit (20 messages
    a minute): one line and one button each; the button posts that case's own card here."""
    lines = [
        text.rtl_line("🆕 ") + _("<b>{n} new cases</b>").format(n=text.format_number(len(cases))),
        _(
            "Many complaints came in at once, and the messenger takes only a few messages a "
            "minute from a bot in one group, so they are listed together. Press a case to post "
            "its card here; {queue} lists every case waiting."
        ).format(queue=text.ltr("/queue")),
        "",
    ]
    for case in cases:
        lines.append(
            text.rtl_line("🔴 " if case.get("urgent") else "• ")
            + _("{violation}, {business} ({city}): {code}").format(
                code=tracking.format_code(case["code"]),
                violation=_label(VIOLATIONS_BY_CODE, case["violation"]),
                business=escape(text.shown(text.excerpt(case["business"], 40))),
                city=escape(text.shown(case["city"])),
            )
        )
    lines += ["", _("Listed at {time}.").format(time=jalali.format_time(now, tz))]
    buttons = [
        (tracking.format_code(case["code"]), cb.CardShow(cb.Show.POST, case["id"]).encode())
        for case in cases
    ]
    markup = inline([buttons[i : i + 2] for i in range(0, len(buttons), 2)])
    return {"text": "\n".join(lines), "parse_mode": "HTML", "reply_markup": markup.to_dict()}


def submenu(case_id: int, options: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """A card's buttons replaced by choices (units, outcomes), with a way back."""
    rows = [[opt] for opt in options]
    return inline([*rows, [(_(B_BACK), cb.CardShow(cb.Show.CARD, case_id).encode())]])
