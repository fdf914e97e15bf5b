"""A complaint while it is being filed: the steps, their order, and what each answer must be."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from bot.domain.catalogue import PROVINCES_BY_CODE, SECTORS_BY_CODE, VIOLATIONS_BY_CODE


class DraftKind(StrEnum):
    """Whose words a draft holds: a citizen's own complaint, or a call a desk member is
    registering. One draft of each kind per user, so an operator's call never touches the
    complaint they may be filing for themselves."""

    COMPLAINT = "complaint"
    CALL = "call"


class Step(StrEnum):
    VIOLATION = "violation"
    SECTOR = "sector"
    PROVINCE = "province"
    CITY = "city"
    BUSINESS = "business"
    ADDRESS = "address"
    LOCATION = "location"
    DUPLICATE = "duplicate"  # only when the same business has open cases: join one, or not
    DESCRIPTION = "description"
    PRICE_PAID = "price_paid"
    PRICE_FAIR = "price_fair"
    EVIDENCE = "evidence"
    CONTACT = "contact"
    CALLER = "caller"  # a call: the caller's name and number, typed by the operator
    REVIEW = "review"


# The steps whose screens say how many files the draft holds (the evidence step's progress,
# the review): elsewhere the count is not read, a statement saved on every other answer.
FILES_SHOWN_AT = frozenset({Step.EVIDENCE, Step.REVIEW})

# The steps of each kind of draft, in order. An operator on the phone can neither send the
# caller's location nor their photos, and types the caller's number instead of sharing one.
ORDERS: dict[DraftKind, tuple[Step, ...]] = {
    DraftKind.COMPLAINT: (
        Step.VIOLATION,
        Step.SECTOR,
        Step.PROVINCE,
        Step.CITY,
        Step.BUSINESS,
        Step.ADDRESS,
        Step.LOCATION,
        Step.DUPLICATE,
        Step.DESCRIPTION,
        Step.PRICE_PAID,
        Step.PRICE_FAIR,
        Step.EVIDENCE,
        Step.CONTACT,
        Step.REVIEW,
    ),
    DraftKind.CALL: (
        Step.VIOLATION,
        Step.SECTOR,
        Step.PROVINCE,
        Step.CITY,
        Step.BUSINESS,
        Step.ADDRESS,
        Step.DUPLICATE,
        Step.DESCRIPTION,
        Step.PRICE_PAID,
        Step.PRICE_FAIR,
        Step.CALLER,
        Step.REVIEW,
    ),
}
ORDER: tuple[Step, ...] = ORDERS[DraftKind.COMPLAINT]

# Parts of the complaint that can be changed from the review, each a run of steps. A changed
# business or place is checked for open cases again (the duplicate step ends its part).
EDIT_GROUPS_OF: dict[DraftKind, dict[str, tuple[Step, ...]]] = {
    DraftKind.COMPLAINT: {
        "violation": (Step.VIOLATION,),
        "sector": (Step.SECTOR,),
        "place": (Step.PROVINCE, Step.CITY, Step.DUPLICATE),
        "business": (Step.BUSINESS, Step.ADDRESS, Step.LOCATION, Step.DUPLICATE),
        "description": (Step.DESCRIPTION,),
        "prices": (Step.PRICE_PAID, Step.PRICE_FAIR),
        "evidence": (Step.EVIDENCE,),
        "contact": (Step.CONTACT,),
    },
    DraftKind.CALL: {
        "violation": (Step.VIOLATION,),
        "sector": (Step.SECTOR,),
        "place": (Step.PROVINCE, Step.CITY, Step.DUPLICATE),
        "business": (Step.BUSINESS, Step.ADDRESS, Step.DUPLICATE),
        "description": (Step.DESCRIPTION,),
        "prices": (Step.PRICE_PAID, Step.PRICE_FAIR),
        "contact": (Step.CALLER,),
    },
}
# Every part's name (what a button may carry); which exist depends on the kind.
EDIT_GROUPS: dict[str, tuple[Step, ...]] = EDIT_GROUPS_OF[DraftKind.COMPLAINT]

CHOICE_STEPS = {Step.VIOLATION, Step.SECTOR, Step.PROVINCE, Step.DUPLICATE}
PRICE_STEPS = {Step.PRICE_PAID, Step.PRICE_FAIR}
SKIPPABLE_STEPS = {Step.LOCATION, Step.PRICE_PAID, Step.PRICE_FAIR, Step.EVIDENCE}

# At the duplicate step: the report joins the oldest open case about the business as a
# supporting report, or is filed as a case of its own.
JOIN, SEPARATE = "join", "separate"
DUPLICATE_CHOICES = (JOIN, SEPARATE)

# (min, max) length of each free-text answer after normalising, in characters.
TEXT_LIMITS: dict[Step, tuple[int, int]] = {
    Step.CITY: (2, 60),
    Step.BUSINESS: (2, 120),
    Step.ADDRESS: (5, 300),
    Step.DESCRIPTION: (20, 2000),
}
# The caller's name, as the operator types it with the number.
CALLER_NAME_LIMITS = (2, 80)

# The free-text steps are exactly those with a length limit.
TEXT_STEPS = frozenset(TEXT_LIMITS)
# Names and places are one line each (a newline in them would start a card's line with
# whatever follows it); only the description keeps its lines.
ONE_LINE_STEPS = TEXT_STEPS - {Step.DESCRIPTION}

# Evidence a desk can open safely: pictures, video, audio and PDF, judged by both the MIME type
# the client reports and the file name's extension (either can be forged, so both must pass).
EVIDENCE_MIME_PREFIXES = ("image/", "video/", "audio/")
EVIDENCE_MIME_TYPES = frozenset({"application/pdf"})
EVIDENCE_EXTENSIONS = frozenset(
    {
        *("jpg", "jpeg", "png", "webp", "heic", "heif", "gif", "bmp", "tif", "tiff"),
        *("mp4", "mov", "m4v", "3gp", "mkv", "webm", "avi"),
        *("mp3", "m4a", "aac", "ogg", "oga", "opus", "wav", "amr", "flac"),
        "pdf",
    }
)


def acceptable_evidence(mime_type: str | None, file_name: str | None) -> bool:
    """Whether a sent file may be kept as evidence and forwarded to officers."""
    mime = (mime_type or "").lower().strip()
    if not (mime.startswith(EVIDENCE_MIME_PREFIXES) or mime in EVIDENCE_MIME_TYPES):
        return False
    if mime in ("image/svg+xml",):  # a picture that is really a script
        return False
    if file_name:
        _stem, dot, ext = file_name.rpartition(".")
        if not dot or ext.lower() not in EVIDENCE_EXTENSIONS:
            return False
    return True


MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024  # what a bot may download through the Bot API is less,
# but the file stays on Telegram's side; this only refuses absurd sizes reported by clients.


class DraftData(BaseModel):
    """The answers so far. Every field is optional until the review."""

    violation: str | None = None
    sector: str | None = None
    province: str | None = None
    city: str | None = None
    business: str | None = None
    address: str | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    location_skipped: bool = False
    description: str | None = None
    price_paid: int | None = None
    price_fair: int | None = None
    prices_skipped: bool = False
    evidence_done: bool = False
    contact_phone: str | None = None
    anonymous: bool | None = None  # a call: True when the caller gives neither name nor number
    caller_name: str | None = None
    # The duplicate check after the business: how many open cases matched, the one a join
    # would go to, and whether the citizen (or operator) chose to join it.
    duplicates: int = 0
    duplicate_target: int | None = None
    duplicate_of: int | None = None
    # A call marked «فوری»: the unit it is referred to at once, the operator holding it.
    urgent_unit: int | None = None

    def missing(self, kind: DraftKind = DraftKind.COMPLAINT) -> list[Step]:
        """Steps still without an answer (a skip counts as an answer)."""
        out: list[Step] = []
        contact = Step.CALLER if kind == DraftKind.CALL else Step.CONTACT
        checks = {
            Step.VIOLATION: self.violation in VIOLATIONS_BY_CODE,
            Step.SECTOR: self.sector in SECTORS_BY_CODE,
            Step.PROVINCE: self.province in PROVINCES_BY_CODE,
            Step.CITY: bool(self.city),
            Step.BUSINESS: bool(self.business),
            Step.ADDRESS: bool(self.address),
            Step.DESCRIPTION: bool(self.description),
            contact: self.anonymous is not None,
        }
        for step, ok in checks.items():
            if not ok:
                out.append(step)
        return out


def next_step(step: Step, edit_group: str | None, kind: DraftKind = DraftKind.COMPLAINT) -> Step:
    """The step after `step`; while editing, the end of the edited part returns to the review."""
    if edit_group is not None:
        group = EDIT_GROUPS_OF[kind].get(edit_group, ())
        if step not in group or step == group[-1]:
            return Step.REVIEW
        return group[group.index(step) + 1]
    order = ORDERS[kind]
    return order[order.index(step) + 1]


class Problem(StrEnum):
    """Why an input was not taken; each has a Persian hint in the views."""

    NO_DRAFT = "no_draft"
    STALE_BUTTON = "stale_button"
    USE_BUTTONS = "use_buttons"
    WRONG_INPUT = "wrong_input"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    BAD_AMOUNT = "bad_amount"
    TOO_MANY_FILES = "too_many_files"
    FILE_TOO_BIG = "file_too_big"
    FILE_TYPE = "file_type"
    NOT_OWN_CONTACT = "not_own_contact"
    BAD_PHONE = "bad_phone"
    DAILY_LIMIT = "daily_limit"
    INCOMPLETE = "incomplete"
    AMBIGUOUS = "ambiguous"  # typed text names more than one of the choices
    NOT_DESK = "not_desk"  # calls are registered by desk members only
