"""Schemas of ride-request. RIDE_BODY is what a rider POSTs to /ride; the workflow's input
(RIDE_REQUEST) is that body plus the rider, taken from the verified token, never from the body."""

import copy
from typing import Any

PICKUP: dict[str, Any] = {
    "type": "object",
    "properties": {
        "latitude": {"type": "number", "minimum": -90, "maximum": 90},
        "longitude": {"type": "number", "minimum": -180, "maximum": 180},
    },
    "required": ["latitude", "longitude"],
    "additionalProperties": False,
}

RIDE_BODY: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Ride request",
    "type": "object",
    "properties": {
        "request_id": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{8,64}$",
            "x-pattern": '8 to 64 letters, digits, "_" or "-"',
            "description": "Chosen by the client; a retry with the same id never records a second ride",
        },
        "pickup": PICKUP,
    },
    "required": ["request_id", "pickup"],
    "additionalProperties": False,
}

RIDE_REQUEST: dict[str, Any] = copy.deepcopy(RIDE_BODY)
RIDE_REQUEST["properties"]["rider"] = {"type": "string", "minLength": 1, "maxLength": 128}
RIDE_REQUEST["required"].append("rider")

FIND_UNICORN: dict[str, Any] = {"type": "object", "properties": {"pickup": PICKUP}, "required": ["pickup"]}

DISCOUNT_REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": {"rider": RIDE_REQUEST["properties"]["rider"], "pickup": PICKUP},
    "required": ["rider", "pickup"],
}

DISCOUNT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "percent_off": {"type": "integer", "minimum": 0, "maximum": 100},
        "code": {"type": ["string", "null"]},
        "status": {"enum": ["applied", "none", "unavailable"]},
        "reason": {"type": "string"},
    },
    "required": ["percent_off", "status"],
}

APPLY: dict[str, Any] = {
    "type": "object",
    "properties": {"base_cents": {"type": "integer", "minimum": 0}, "discount": DISCOUNT},
    "required": ["base_cents", "discount"],
}

# the request's identity, as Validate Request gives it
REQUEST_IDENTITY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ride_id": {"type": "string", "minLength": 1},
        "request_id": RIDE_BODY["properties"]["request_id"],
        "rider": RIDE_REQUEST["properties"]["rider"],
        "fingerprint": {"type": "string", "minLength": 1},
    },
    "required": ["ride_id", "request_id", "rider", "fingerprint"],
}

RECORD: dict[str, Any] = {
    "type": "object",
    "properties": {
        **REQUEST_IDENTITY["properties"],
        "pickup": PICKUP,
        "unicorn": {"type": "object", "required": ["name"]},
        "discount": DISCOUNT,
        "fare": {"type": "object", "required": ["total_cents", "currency"]},
    },
    "required": [*REQUEST_IDENTITY["required"], "pickup", "unicorn", "discount", "fare"],
}
