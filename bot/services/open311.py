"""The web desk and other systems, over Open311 GeoReport v2: the logic, without HTTP.

The violation types are the services; a service's definition asks what the chat asks (the
sector, the province, the city, the business, the prices); a request is filed through the same
`Filing.record_case` as a complaint in chat or a phone call, with channel `web`, so it gets a
card in the staff group and a tracking code (its `service_request_id`). Reading requests back
shows no personal data: no phone, no name, no description; `status_notes` is what the citizen
was told (the outcome and its explanation, or the reason for a rejection). `media_url` is kept
as given and never fetched: this server fetches nothing.

A key reads back only the requests filed with it (its system's citizens'; the tracking code
is what a citizen follows a case with, and the notes were written for them); a key named in
OPEN311_TRUSTED_KEYS (the organisation's own web desk) reads every request filed over the API.
Which key filed a case is a column of the case (`cases.api_key`).

Every failure is an `ApiError` with the HTTP status and the spec's code/description pair.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import text
from bot.domain import tracking, typed
from bot.domain.catalogue import (
    PROVINCES_BY_CODE,
    SECTORS,
    SECTORS_BY_CODE,
    VIOLATION_TYPES,
    VIOLATIONS_BY_CODE,
)
from bot.domain.channels import Channel
from bot.domain.complaint import CALLER_NAME_LIMITS, TEXT_LIMITS, DraftData, Step
from bot.domain.lifecycle import OPEN_STATES, STATUS_LABELS, Action, Status
from bot.i18n import N_, _
from bot.services import duplicates
from bot.services.filing import Filing
from bot.services.runtime import Runtime
from bot.storage import desk as desk_store
from bot.storage import open311 as store
from bot.storage.rows import CaseRow, EventRow
from bot.views import notices
from bot.views.citizen import province_names

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-09T00:00:00Z"  # when this API's shape last changed
DEFAULT_DAYS = 90  # the spec's defaults for GET requests
MAX_ROWS = 1000
MAX_MEDIA_URL = 2048
MAX_PRICE = 10**15  # rials; more is not a price anyone paid
MAX_IDS = 100  # service_request_id=a,b,c… in one query
EARLIEST, LATEST = 2000, 2200  # years a start_date or end_date may name

ORGANISATION = N_("Government Ta'zirat Organisation")
GROUP = N_("Market violations")
ASK_PROVINCE = N_("Which province is the business in?")
ASK_PRICE_PAID = N_("(optional) How much was paid, in rials?")
ASK_PRICE_FAIR = N_("(optional) The official or fair price, in rials, as far as is known")


class ApiError(Exception):
    """An answer in the spec's error format: `status` is the HTTP status and the code."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after  # a 429's Retry-After, in seconds


@dataclass(frozen=True)
class Discovery:
    changeset: str
    contact: str
    key_service: str
    url: str
    formats: tuple[str, ...] = ("text/xml", "application/json")


@dataclass(frozen=True)
class Service:
    service_code: str
    service_name: str
    description: str
    group: str
    metadata: bool = True
    type: str = "realtime"
    keywords: str = ""


@dataclass(frozen=True)
class Value:
    key: str
    name: str


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str  # string / number / singlevaluelist (the spec's names)
    required: bool
    description: str  # the question, as the chat asks it
    datatype_description: str
    order: int
    variable: bool = True
    values: tuple[Value, ...] = ()


@dataclass(frozen=True)
class Definition:
    service_code: str
    attributes: tuple[Attribute, ...]


@dataclass(frozen=True)
class Created:
    service_request_id: str
    service_notice: str
    account_id: str | None = None
    # Open cases about the same business: a hint for the caller (the request is filed anyway).
    duplicates: int = 0


@dataclass(frozen=True)
class Request:
    """A request as a key may read it: nothing in it says who complained."""

    service_request_id: str
    status: str  # open / closed
    status_notes: str
    service_name: str
    service_code: str
    agency_responsible: str
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str
    lat: float | None
    long: float | None
    media_url: str | None


def _attributes() -> tuple[Attribute, ...]:
    low_city, high_city = TEXT_LIMITS[Step.CITY]
    low_bus, high_bus = TEXT_LIMITS[Step.BUSINESS]

    def chars(low: int, high: int) -> str:
        return _("({low} to {high} characters)").format(
            low=text.to_persian_digits(low), high=text.to_persian_digits(high)
        )

    return (
        Attribute(
            "sector",
            "singlevaluelist",
            True,
            _("Which trade or sector is it?"),
            _("Sector"),
            1,
            values=tuple(Value(c.code, _(c.label)) for c in SECTORS),
        ),
        Attribute(
            "province",
            "singlevaluelist",
            True,
            _(ASK_PROVINCE),
            _("Province"),
            2,
            values=tuple(Value(code, name) for code, name in province_names()),
        ),
        Attribute(
            "city",
            "string",
            True,
            _("Which city or town? Type its name."),
            chars(low_city, high_city),
            3,
        ),
        Attribute(
            "business",
            "string",
            True,
            _(
                "What is the business called? The shop's name or sign, the brand, or the "
                "name of the online page or website."
            ),
            chars(low_bus, high_bus),
            4,
        ),
        Attribute("price_paid", "number", False, _(ASK_PRICE_PAID), _("Price paid"), 5),
        Attribute("price_fair", "number", False, _(ASK_PRICE_FAIR), _("Official or fair price"), 6),
    )


class Open311:
    """What the HTTP layer calls; each method is one transaction at most."""

    def __init__(self, rt: Runtime, filing: Filing) -> None:
        self.rt = rt
        self.filing = filing

    @property
    def jurisdiction(self) -> str:
        return self.rt.settings.open311_jurisdiction

    def check_jurisdiction(self, given: str | None) -> None:
        """The spec: only needed when an endpoint serves several; a wrong one is not found."""
        if given not in (None, "", self.jurisdiction):
            raise ApiError(404, "jurisdiction_id not found")

    # -- reading the catalogue ---------------------------------------------------------------

    def discovery(self, base_url: str) -> Discovery:
        return Discovery(
            changeset=CHANGESET,
            contact=_("The 135 line of the Government Ta'zirat Organisation"),
            key_service=_("API keys are issued by the desk's administrator."),
            url=base_url.rstrip("/") + "/open311/v2",
        )

    def services(self) -> list[Service]:
        return [Service(c.code, _(c.label), _(c.label), _(GROUP)) for c in VIOLATION_TYPES]

    def definition(self, service_code: str) -> Definition:
        if service_code not in VIOLATIONS_BY_CODE:
            raise ApiError(404, "service_code not found")
        return Definition(service_code, _attributes())

    # -- creating ----------------------------------------------------------------------------

    def reads_all(self, key_name: str) -> bool:
        return key_name in self.rt.settings.open311_trusted_keys

    async def create(self, form: Mapping[str, str], key_name: str) -> Created:
        """File a request: the same checks as the chat's answers, then `record_case`, and the
        key it was filed with on the case."""
        data, media_url = _draft_from(form)
        async with self.rt.engine.begin() as conn:
            assert data.business and data.city
            found = await duplicates.open_matches(
                conn,
                business=data.business,
                city=data.city,
                latitude=data.latitude,
                longitude=data.longitude,
            )
            recorded = await self.filing.record_case(
                conn,
                data,
                channel=Channel.WEB,
                citizen_id=None,
                taken_by=None,
                actor_id=None,
                now=self.rt.now(),
            )
            if media_url is not None:
                await store.set_media_url(conn, recorded.case_id, media_url)
            await store.set_filed_with(conn, recorded.case_id, key_name)
        self.rt.ring()
        notice = _(
            "The complaint was registered with tracking code {code} and is in the queue of "
            "Ta'zirat officers. Its progress can be followed with this code."
        ).format(code=text.to_persian_digits(tracking.format_code(recorded.code)))
        if found:
            notice += " " + _(
                "{n} other open complaints about the same business are already being handled; "
                "this one was registered as a case of its own."
            ).format(n=text.to_persian_digits(len(found)))
        account = form.get("account_id") or None
        return Created(recorded.code, notice, account[:64] if account else None, len(found))

    # -- reading requests --------------------------------------------------------------------

    async def requests(self, query: Mapping[str, str], key_name: str) -> list[Request]:
        """The requests `key_name` may read (see the module's docstring), as the query asks."""
        owner = None if self.reads_all(key_name) else key_name
        ids = query.get("service_request_id")
        if ids:
            codes = [c for part in ids.split(",")[:MAX_IDS] if (c := _code(part))]
            return await self._read(owner, codes=codes)
        service = query.get("service_code") or None
        if service is not None and service not in VIOLATIONS_BY_CODE:
            raise ApiError(404, "service_code not found")
        until = _when(query.get("end_date"), "end_date", self.rt) or self.rt.now()
        since = _when(query.get("start_date"), "start_date", self.rt)
        if since is None:
            since = until - timedelta(days=DEFAULT_DAYS)
        if since > until:
            raise ApiError(400, "start_date is after end_date")
        if until - since > timedelta(days=DEFAULT_DAYS):
            raise ApiError(400, "start_date and end_date may not span more than 90 days")
        statuses = None
        if query.get("status"):
            wanted = {s.strip().lower() for s in query["status"].split(",")}
            if not wanted <= {"open", "closed"}:
                raise ApiError(400, "status must be open or closed")
            statuses = {s.value for s in Status if _open_or_closed(s.value) in wanted}
        return await self._read(
            owner, violation=service, since=since, until=until, statuses=statuses
        )

    async def request(self, service_request_id: str, key_name: str) -> Request:
        """One request; another key's answers as one that does not exist."""
        owner = None if self.reads_all(key_name) else key_name
        code = _code(service_request_id)
        found = await self._read(owner, codes=[code]) if code else []
        if not found:
            raise ApiError(404, "service_request_id not found")
        return found[0]

    async def _read(
        self,
        owner: str | None,
        *,
        codes: list[str] | None = None,
        violation: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        statuses: set[str] | None = None,
    ) -> list[Request]:
        async with self.rt.engine.connect() as conn:
            rows = await store.web_cases(
                conn,
                filed_with=owner,
                codes=codes,
                violation=violation,
                since=since,
                until=until,
                statuses=statuses,
                limit=MAX_ROWS,
            )
            told = await store.last_public_events(
                conn,
                [r["id"] for r in rows],
                (Action.RESOLVE.value, Action.REJECT.value),
            )
            units = {u["id"]: u["name"] for u in await desk_store.all_units(conn)}
        return [self._request(r, told.get(r["id"]), units) for r in rows]

    def _request(self, case: CaseRow, told: EventRow | None, units: dict[int, str]) -> Request:
        unit = units.get(case["unit_id"]) if case["unit_id"] is not None else None
        sla = timedelta(hours=self.rt.settings.sla_hours)
        return Request(
            service_request_id=case["code"],
            status=_open_or_closed(case["status"]),
            status_notes=_status_notes(case, told),
            service_name=_(VIOLATIONS_BY_CODE[case["violation"]].label)
            if case["violation"] in VIOLATIONS_BY_CODE
            else case["violation"],
            service_code=case["violation"],
            agency_responsible=unit or _(ORGANISATION),
            requested_datetime=case["created_at"],
            updated_datetime=case["updated_at"],
            expected_datetime=case["created_at"] + sla,
            address=case["address"],
            lat=case["latitude"],
            long=case["longitude"],
            media_url=case["media_url"],
        )


_STATUSES = frozenset(s.value for s in Status)


def _open_or_closed(status: str) -> str:
    try:
        return "open" if Status(status) in OPEN_STATES else "closed"
    except ValueError:
        return "open"


def _status_notes(case: CaseRow, told: EventRow | None) -> str:
    """What the citizen was told: the outcome and its explanation, the reason for a
    rejection, else where the case stands."""
    status = Status(case["status"]) if case["status"] in _STATUSES else None
    if status in (Status.RESOLVED, Status.CLOSED) and told and told["action"] == "resolve":
        label = notices.OUTCOME_LABELS.get(case["outcome"] or "")
        head = _(label) if label else _(STATUS_LABELS[Status.RESOLVED])
        return f"{head}: {told['note']}" if told["note"] else head
    if status == Status.REJECTED and told and told["action"] == "reject":
        head = _(STATUS_LABELS[Status.REJECTED])
        return f"{head}: {told['note']}" if told["note"] else head
    return _(STATUS_LABELS[status]) if status else case["status"]


def _code(raw: str) -> str | None:
    code = text.parse_tracking_input(raw)
    return code if code and tracking.is_valid(code) else None


def _when(raw: str | None, name: str, rt: Runtime) -> datetime | None:
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ApiError(400, f"{name} must be an ISO 8601 date and time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=rt.settings.tz)
    if not EARLIEST <= value.year <= LATEST:  # far dates overflow the arithmetic below
        raise ApiError(400, f"{name} is out of range")
    return value


def _text(
    form: Mapping[str, str], name: str, limits: tuple[int, int], *, label: str, lines: bool = False
) -> str:
    """A text field, normalised; on one line unless `lines` (only the description has lines)."""
    value = text.normalize(form.get(name) or "")
    if not lines:
        value = " ".join(value.split())
    low, high = limits
    if not value:
        raise ApiError(400, f"{label} is required")
    if not low <= text.length(value) <= high:
        raise ApiError(400, f"{label} must be {low} to {high} characters")
    return value


def _price(form: Mapping[str, str], name: str) -> int | None:
    raw = text.to_ascii_digits(text.normalize(form.get(name) or "")).replace(",", "")
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_PRICE:
        raise ApiError(400, f"{name} must be a whole number of rials")
    return int(raw)


def _coordinate(form: Mapping[str, str], name: str, bound: float) -> float | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a number") from None
    if not -bound <= value <= bound:  # NaN fails this too
        raise ApiError(400, f"{name} is out of range")
    return value


def _draft_from(form: Mapping[str, str]) -> tuple[DraftData, str | None]:
    """The answers of a POSTed request, each checked as the chat checks it."""
    violation = form.get("service_code") or ""
    if violation not in VIOLATIONS_BY_CODE:
        raise ApiError(404, "service_code not found")
    sector = form.get("attribute[sector]") or ""
    if sector not in SECTORS_BY_CODE:
        raise ApiError(400, "attribute[sector] must be one of the service definition's values")
    province = form.get("attribute[province]") or ""
    if province not in PROVINCES_BY_CODE:
        raise ApiError(400, "attribute[province] must be one of the service definition's values")
    lat = _coordinate(form, "lat", 90.0)
    lon = _coordinate(form, "long", 180.0)
    if (lat is None) != (lon is None):
        raise ApiError(400, "lat and long go together")
    city = _text(form, "attribute[city]", TEXT_LIMITS[Step.CITY], label="attribute[city]")
    business = _text(
        form, "attribute[business]", TEXT_LIMITS[Step.BUSINESS], label="attribute[business]"
    )
    address = _text(form, "address_string", TEXT_LIMITS[Step.ADDRESS], label="address_string")
    description = _text(
        form, "description", TEXT_LIMITS[Step.DESCRIPTION], label="description", lines=True
    )
    phone = None
    if form.get("phone"):
        phone = typed.iran_phone(form["phone"])
        if phone is None:
            raise ApiError(400, "phone must be an Iranian phone number")
    given = (form.get("first_name"), form.get("last_name"))
    name = " ".join(text.normalize(" ".join(filter(None, given))).split())
    low, high = CALLER_NAME_LIMITS
    caller = name[:high] if text.length(name) >= low else None
    media_url = (form.get("media_url") or "").strip() or None
    if media_url is not None and (
        len(media_url) > MAX_MEDIA_URL
        or not media_url.isascii()
        or not media_url.lower().startswith(("http://", "https://"))
    ):
        raise ApiError(400, "media_url must be an http(s) URL")
    data = DraftData(
        violation=violation,
        sector=sector,
        province=province,
        city=city,
        business=business,
        address=address,
        latitude=lat,
        longitude=lon,
        location_skipped=lat is None,
        description=description,
        price_paid=_price(form, "attribute[price_paid]"),
        price_fair=_price(form, "attribute[price_fair]"),
        prices_skipped=not form.get("attribute[price_paid]"),
        evidence_done=True,
        contact_phone=phone,
        anonymous=phone is None and caller is None,
        caller_name=caller,
    )
    return data, media_url
