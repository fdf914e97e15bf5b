"""What the citizen's next typed text is for, when the bot asked for it: one type per purpose.

Kept in `users.pending_input` as a short string; `encode`/`parse` here are the only code that
reads or writes that string. A pending input is only the citizen's *current focus* (the last
thing they chose to do). What the citizen owes the desk — an answer to an officer's question —
is not kept here but in the case itself (`awaiting_citizen`), so nothing the citizen does next
(a lookup, a rating, /start) can make the desk's question disappear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain import ids

_TEN_DIGITS = re.compile(r"[0-9]{10}", re.ASCII)


@dataclass(frozen=True)
class TrackingCode:
    """The citizen pressed «پیگیری شکایت»: the next text is a tracking code."""

    def encode(self) -> str:
        return "track"


@dataclass(frozen=True)
class Answer:
    """The citizen pressed «پاسخ به این پرسش» under an officer's question on this case."""

    case_id: int

    def encode(self) -> str:
        return f"answer:{self.case_id}"


@dataclass(frozen=True)
class Comment:
    """The citizen rated this case and may add a comment."""

    case_id: int

    def encode(self) -> str:
        return f"comment:{self.case_id}"


@dataclass(frozen=True)
class ReopenReason:
    """The citizen asked to reopen this case: the next text is the reason."""

    case_id: int

    def encode(self) -> str:
        return f"reopen:{self.case_id}"


@dataclass(frozen=True)
class Filing:
    """Asked which open thing a message was for, the citizen chose the complaint they are
    filing: their next messages go there without asking again, until a new question comes."""

    def encode(self) -> str:
        return "filing"


@dataclass(frozen=True)
class Call:
    """A desk member chose the phone call they are registering: their typed answers go to the
    call's draft, not to any complaint of their own, until a new question comes."""

    def encode(self) -> str:
        return "call"


@dataclass(frozen=True)
class LinkCase:
    """After a lookup of `code`, which is not (yet) among the citizen's cases: a shared phone
    number links it to their chat if it is the number the caller gave on the phone."""

    # Ten ASCII digits as typed, check digit or not: every code that is not the citizen's gets
    # the same offer, so the offer tells nothing about which codes exist.
    code: str

    def encode(self) -> str:
        return f"link:{self.code}"


Pending = TrackingCode | Answer | Comment | ReopenReason | Filing | Call | LinkCase

_WITH_CASE: dict[str, type[Answer] | type[Comment] | type[ReopenReason]] = {
    "answer": Answer,
    "comment": Comment,
    "reopen": ReopenReason,
}


def parse(stored: str | None) -> Pending | None:
    """Inverse of `encode`; None for nothing, or for anything this version cannot read."""
    if not stored:
        return None
    if stored == "track":
        return TrackingCode()
    if stored == "filing":
        return Filing()
    if stored == "call":
        return Call()
    kind, _sep, ref = stored.partition(":")
    if kind == "link":
        return LinkCase(ref) if _TEN_DIGITS.fullmatch(ref) else None
    cls = _WITH_CASE.get(kind)
    case_id = ids.row_id(ref)
    if cls is None or case_id is None:
        return None
    return cls(case_id)
