"""Open311 GeoReport v2 answers as JSON and XML, with the spec's names and root elements.

Each answer is first a plain value (dicts, lists, text, numbers); JSON writes it as it is, XML
names a list's items after it (`<services><service>`, `<service_requests><request>`,
`<errors><error>`…). Times are ISO 8601 with the offset of the desk's time zone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Literal
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from bot.services.open311 import (
    SPECIFICATION,
    Created,
    Definition,
    Discovery,
    Request,
    Service,
)

Format = Literal["json", "xml"]
Plain = str | int | float | bool | None | list["Plain"] | dict[str, "Plain"]

CONTENT_TYPES: dict[Format, str] = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}
# In XML, the element each list's items are written as.
ITEMS = {
    "endpoints": "endpoint",
    "formats": "format",
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
}


def _time(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def discovery(d: Discovery) -> tuple[str, Plain]:
    endpoint: dict[str, Plain] = {
        "specification": SPECIFICATION,
        "url": d.url,
        "changeset": d.changeset,
        "type": "production",
        "formats": list(d.formats),
    }
    return "discovery", {
        "changeset": d.changeset,
        "contact": d.contact,
        "key_service": d.key_service,
        "endpoints": [endpoint],
    }


def services(found: Sequence[Service]) -> tuple[str, Plain]:
    return "services", [dict(asdict(s)) for s in found]


def definition(d: Definition) -> tuple[str, Plain]:
    attributes: list[Plain] = []
    for a in d.attributes:
        values: list[Plain] = [{"key": v.key, "name": v.name} for v in a.values]
        attributes.append(
            {
                "variable": a.variable,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": a.datatype_description,
                "order": a.order,
                "description": a.description,
                "values": values,
            }
        )
    return "service_definition", {"service_code": d.service_code, "attributes": attributes}


def created(c: Created) -> tuple[str, Plain]:
    return "service_requests", [
        {
            "service_request_id": c.service_request_id,
            "service_notice": c.service_notice,
            "account_id": c.account_id,
        }
    ]


def requests(found: Sequence[Request], tz: ZoneInfo) -> tuple[str, Plain]:
    """No personal data: the spec's `description`, and any phone or name, are left out."""
    return "service_requests", [
        {
            "service_request_id": r.service_request_id,
            "status": r.status,
            "status_notes": r.status_notes,
            "service_name": r.service_name,
            "service_code": r.service_code,
            "agency_responsible": r.agency_responsible,
            "service_notice": None,
            "requested_datetime": _time(r.requested_datetime, tz),
            "updated_datetime": _time(r.updated_datetime, tz),
            "expected_datetime": _time(r.expected_datetime, tz),
            "address": r.address,
            "address_id": None,
            "zipcode": None,
            "lat": r.lat,
            "long": r.long,
            "media_url": r.media_url,
        }
        for r in found
    ]


def errors(status: int, description: str) -> tuple[str, Plain]:
    return "errors", [{"code": status, "description": description}]


def encode(answer: tuple[str, Plain], fmt: Format) -> bytes:
    root, value = answer
    if fmt == "json":
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    element = ET.Element(root)
    _fill(element, root, value)
    written: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return written


def _fill(element: ET.Element, name: str, value: Plain) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(ET.SubElement(element, key), key, inner)
    elif isinstance(value, list):
        item = ITEMS.get(name, "item")
        for inner in value:
            _fill(ET.SubElement(element, item), item, inner)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _xml_safe(str(value))


def _xml_safe(s: str) -> str:
    """XML 1.0 cannot carry most control characters, even escaped: drop them."""
    return "".join(
        c
        for c in s
        if c in "\t\n\r"
        or ("\x20" <= c <= "\ud7ff")
        or ("\ue000" <= c <= "\ufffd")
        or c >= "\U00010000"
    )
