"""Schemas of the lottery's events: the workflow's input schema is DRAW_REQUEST too."""

from typing import Any

MAX_WINNERS = 100

DRAW_REQUEST: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Lottery draw",
    "type": "object",
    "properties": {
        "winners": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_WINNERS,
            "description": "How many winners to draw",
        },
        "seed": {
            "type": "integer",
            "minimum": 0,
            "maximum": 2**53,
            "description": "Makes the draw reproducible (for audits); random when absent",
        },
    },
    "required": ["winners"],
    "additionalProperties": False,
    # the original's draw started with {"input": N}: refused still, saying what to send instead
    "x-renamed": {"input": "winners"},
}

EMPLOYEE = {
    "type": "object",
    "properties": {
        "employee_id": {"type": "string", "minLength": 1},
        "employee_name": {"type": "string"},
        "lottery_serial": {"type": "integer"},
    },
    "required": ["employee_id", "employee_name"],
}

DRAW: dict[str, Any] = {
    "type": "object",
    "properties": {
        "winners": {"type": "integer", "minimum": 1, "maximum": MAX_WINNERS},
        "employees": {"type": "integer", "minimum": 1},
        "seed": {"type": ["integer", "null"]},
        "attempt": {"type": "integer", "minimum": 0},
    },
    "required": ["winners", "employees", "attempt"],
}

WINNERS: dict[str, Any] = {
    "type": "object",
    "properties": {"winners": {"type": "array", "items": EMPLOYEE, "minItems": 1, "maxItems": MAX_WINNERS}},
    "required": ["winners"],
}

CLAIM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "draw_id": {"type": "string", "minLength": 1, "maxLength": 256},
        "winners": WINNERS["properties"]["winners"],
    },
    "required": ["draw_id", "winners"],
}
