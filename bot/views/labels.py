"""Button labels shared by the views that draw them and the handlers that recognise them."""

from __future__ import annotations

from bot import text
from bot.i18n import N_, _

FILE = N_("File a complaint")
TRACK = N_("Track a complaint")
MINE = N_("My complaints")
HELP = N_("Help")
CANCEL = N_("Cancel")
SKIP = N_("Skip")
SEND_LOCATION = N_("Send my location")
EVIDENCE_DONE = N_("Done with evidence")
SHARE_PHONE = N_("Share my phone number")
ANONYMOUS = N_("Continue without my name")
CONFIRM = N_("Confirm and send")
# A desk member registering a phone call.
CALL = N_("Register a phone call")
CALLER_ANONYMOUS = N_("The caller gives no name")
CALL_CONFIRM = N_("Register the call")
URGENT = N_("Urgent")
NOT_URGENT = N_("Not urgent")
# The duplicate step: the same business has open cases.
JOIN = N_("Add it to that case")
SEPARATE = N_("File it separately")


#: What Skip read before it became «بعدی»: a citizen's client may still show the old reply
#: keyboard, or they type it from memory, and it must still skip rather than become an answer.
FORMER_SKIP_LABELS = ("رد شدن",)


def matches(raw: str, label: str) -> bool:
    """Whether typed or tapped text is the (translated) label, after normalising both."""
    return text.normalize(raw) == text.normalize(_(label))


def strip_word(raw: str, label: str) -> str:
    """What is left of typed text after a leading label: «فوری تنظیم بازار» → «تنظیم بازار»."""
    said, word = text.normalize(raw), text.normalize(_(label))
    if said.startswith(word):
        return said[len(word) :].strip(" ،,:-")
    return said


def is_skip(raw: str) -> bool:
    """Whether the text is the Skip button, as it reads now or as it read before."""
    return matches(raw, SKIP) or text.normalize(raw) in FORMER_SKIP_LABELS
