"""The OpenAPI 3 description of the Open311 API as served (`/open311/v2/openapi.json`).

It is what tests/test_open311_fuzz.py gives schemathesis, so it must describe exactly what the
server answers, errors included.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from bot.domain.catalogue import PROVINCES, SECTORS, VIOLATION_TYPES
from bot.domain.complaint import TEXT_LIMITS, Step

_TYPES = {"application/json": "json", "text/xml": "xml"}


def _text(low: int, high: int, description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": low, "maxLength": high, "description": description}


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": kind, "nullable": True}


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "application/json": {"schema": schema},
        "text/xml": {"schema": {"type": "string"}},
    }


def _responses(ok: str, schema: dict[str, Any], *errors: int) -> dict[str, Any]:
    """Every operation may also answer 429: its caller's window is full (see E429)."""
    out: dict[str, Any] = {"200": {"description": ok, "content": _content(schema)}}
    for code in (*errors, 429):
        out[str(code)] = {"$ref": f"#/components/responses/E{code}"}
    return out


FORMAT = {"$ref": "#/components/parameters/format"}
JURISDICTION = {"$ref": "#/components/parameters/jurisdiction_id"}
KEY: list[dict[str, list[str]]] = [{"api_key": []}]

_ERROR = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
_SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": {"type": "string"},
        "service_name": {"type": "string"},
        "description": {"type": "string"},
        "metadata": {"type": "boolean"},
        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
        "keywords": {"type": "string"},
        "group": {"type": "string"},
    },
}
_DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["variable", "code", "datatype", "required", "order"],
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": {"type": "string"},
                    "datatype": {
                        "type": "string",
                        "enum": [
                            "string",
                            "number",
                            "datetime",
                            "text",
                            "singlevaluelist",
                            "multivaluelist",
                        ],
                    },
                    "required": {"type": "boolean"},
                    "datatype_description": {"type": "string"},
                    "order": {"type": "integer"},
                    "description": {"type": "string"},
                    "values": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "key": {"type": "string"},
                                "name": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
}
_CREATED = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_request_id", "service_notice"],
        "properties": {
            "service_request_id": {"type": "string"},
            "service_notice": {"type": "string"},
            "account_id": _nullable("string"),
        },
    },
}
_REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "properties": {
        "service_request_id": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": {
            "type": "string",
            "description": "What the citizen was told: the outcome and the officer's "
            "explanation written for the citizen, or the reason for a rejection; else where "
            "the case stands.",
        },
        "service_name": {"type": "string"},
        "service_code": {"type": "string"},
        "agency_responsible": {"type": "string"},
        "service_notice": _nullable("string"),
        "requested_datetime": {"type": "string", "format": "date-time"},
        "updated_datetime": {"type": "string", "format": "date-time"},
        "expected_datetime": {"type": "string", "format": "date-time", "nullable": True},
        "address": {"type": "string"},
        "address_id": _nullable("string"),
        "zipcode": _nullable("string"),
        "lat": _nullable("number"),
        "long": _nullable("number"),
        "media_url": _nullable("string"),
    },
}
_DISCOVERY = {
    "type": "object",
    "required": ["changeset", "endpoints"],
    "properties": {
        "changeset": {"type": "string"},
        "contact": {"type": "string"},
        "key_service": {"type": "string"},
        "endpoints": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "specification": {"type": "string"},
                    "url": {"type": "string"},
                    "changeset": {"type": "string"},
                    "type": {"type": "string"},
                    "formats": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


@cache
def document(jurisdiction: str) -> dict[str, Any]:
    city, business = TEXT_LIMITS[Step.CITY], TEXT_LIMITS[Step.BUSINESS]
    address, description = TEXT_LIMITS[Step.ADDRESS], TEXT_LIMITS[Step.DESCRIPTION]
    create_form = {
        "type": "object",
        "required": [
            "service_code",
            "address_string",
            "description",
            "attribute[sector]",
            "attribute[province]",
            "attribute[city]",
            "attribute[business]",
        ],
        "properties": {
            "jurisdiction_id": {"type": "string", "enum": [jurisdiction]},
            "service_code": {"type": "string", "enum": [c.code for c in VIOLATION_TYPES]},
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "long": {"type": "number", "minimum": -180, "maximum": 180},
            "address_string": _text(*address, "The business's address."),
            "description": _text(*description, "What happened. Never shown by any GET."),
            "attribute[sector]": {"type": "string", "enum": [c.code for c in SECTORS]},
            "attribute[province]": {"type": "string", "enum": [c.code for c in PROVINCES]},
            "attribute[city]": _text(*city, "The city or town."),
            "attribute[business]": _text(*business, "The business's name."),
            "attribute[price_paid]": {"type": "integer", "minimum": 0, "description": "rials"},
            "attribute[price_fair]": {"type": "integer", "minimum": 0, "description": "rials"},
            "first_name": {"type": "string", "maxLength": 40},
            "last_name": {"type": "string", "maxLength": 40},
            "phone": {
                "type": "string",
                "pattern": "^(\\+98|0)?9[0-9]{9}$",
                "description": "An Iranian number; shown to the officer handling the case only.",
            },
            "email": {"type": "string", "description": "Accepted and not kept."},
            "device_id": {"type": "string", "description": "Accepted and not kept."},
            "account_id": {"type": "string", "maxLength": 64},
            "media_url": {
                "type": "string",
                "maxLength": 2048,
                "description": "Kept as given and never fetched.",
            },
        },
    }
    list_params = [
        FORMAT,
        JURISDICTION,
        {
            "name": "service_request_id",
            "in": "query",
            "schema": {"type": "string"},
            "description": "Comma-separated ids; overrides every other filter.",
        },
        {"name": "service_code", "in": "query", "schema": {"type": "string"}},
        {"name": "start_date", "in": "query", "schema": {"type": "string", "format": "date-time"}},
        {"name": "end_date", "in": "query", "schema": {"type": "string", "format": "date-time"}},
        {"name": "status", "in": "query", "schema": {"type": "string"}},
    ]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Ta'zirat complaints desk — Open311 GeoReport v2",
            "version": "2",
            "description": "GeoReport v2 (http://wiki.open311.org/GeoReport_v2). The "
            "violation types are the services. No GET returns personal data: no phone, no "
            "name, no description. A key reads the requests filed with it. Each key (each "
            "address, without a valid key) has a limit of writes and of reads a minute.",
        },
        "paths": {
            "/open311/discovery.{format}": {
                "get": {
                    "operationId": "discovery",
                    "parameters": [FORMAT],
                    "responses": _responses("The discovery document", _DISCOVERY),
                }
            },
            "/open311/v2/services.{format}": {
                "get": {
                    "operationId": "services",
                    "parameters": [FORMAT, JURISDICTION],
                    "responses": _responses(
                        "The services", {"type": "array", "items": _SERVICE}, 404
                    ),
                }
            },
            "/open311/v2/services/{service_code}.{format}": {
                "get": {
                    "operationId": "service_definition",
                    "parameters": [
                        {
                            "name": "service_code",
                            "in": "path",
                            "required": True,
                            "schema": {
                                "type": "string",
                                "enum": [c.code for c in VIOLATION_TYPES],
                            },
                        },
                        FORMAT,
                        JURISDICTION,
                    ],
                    "responses": _responses("The service definition", _DEFINITION, 404),
                }
            },
            "/open311/v2/requests.{format}": {
                "post": {
                    "operationId": "create_request",
                    "security": KEY,
                    "parameters": [FORMAT],
                    "requestBody": {
                        "required": True,
                        "content": {"application/x-www-form-urlencoded": {"schema": create_form}},
                    },
                    "responses": _responses("The new request", _CREATED, 400, 403, 404, 413),
                },
                "get": {
                    "operationId": "requests",
                    "security": KEY,
                    "parameters": list_params,
                    "responses": _responses(
                        "Requests filed over this API, newest first (at most 1000; by "
                        "default the last 90 days)",
                        {"type": "array", "items": _REQUEST},
                        400,
                        403,
                        404,
                    ),
                },
            },
            "/open311/v2/requests/{service_request_id}.{format}": {
                "get": {
                    "operationId": "request",
                    "security": KEY,
                    "parameters": [
                        {
                            "name": "service_request_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9]{10}$"},
                        },
                        FORMAT,
                        JURISDICTION,
                    ],
                    "responses": _responses(
                        "The request", {"type": "array", "items": _REQUEST}, 403, 404
                    ),
                }
            },
        },
        "components": {
            "securitySchemes": {"api_key": {"type": "apiKey", "in": "query", "name": "api_key"}},
            "parameters": {
                "format": {
                    "name": "format",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": list(_TYPES.values())},
                },
                "jurisdiction_id": {
                    "name": "jurisdiction_id",
                    "in": "query",
                    "description": "Optional: this endpoint serves one jurisdiction.",
                    "schema": {"type": "string", "enum": [jurisdiction]},
                },
            },
            "responses": {
                f"E{code}": {"description": description, "content": _content(_ERROR)}
                for code, description in (
                    (400, "A parameter is missing or not valid"),
                    (403, "api_key is missing or not valid"),
                    (404, "Not found (service_code, service_request_id or jurisdiction_id)"),
                    (413, "The request is too large"),
                )
            }
            | {
                "E429": {
                    "description": "Too many requests from this key (or, without a valid key, "
                    "this address) within a minute: writes and reads are counted apart",
                    "headers": {
                        "Retry-After": {
                            "description": "Seconds until the request may be made again",
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    },
                    "content": _content(_ERROR),
                }
            },
        },
    }
