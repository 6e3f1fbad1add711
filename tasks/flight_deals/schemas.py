"""Schemas of flight-deals: a flight-price record on the stream, the batch, and the task events.

A record is one day of an Aviasales month-matrix response (`cost` is the API's `value`, `gate`
the seller), plus `record_id`, a
content hash the producer computes so that the same price is the same DynamoDB item.
"""

from typing import Any

from tasks.shared.documents import DATE

IATA = {"type": "string", "pattern": "^[A-Z]{3}$", "x-pattern": "an IATA code of three capital letters"}

FLIGHT_RECORD: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Flight-price record",
    "type": "object",
    "properties": {
        "record_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "origin": IATA,
        "destination": IATA,
        "depart_date": DATE,
        "return_date": {"type": "string", "pattern": r"^(\d{4}-\d{2}-\d{2})?$"},
        "number_of_changes": {"type": "integer", "minimum": 0, "maximum": 10},
        "cost": {"type": "number", "exclusiveMinimum": 0, "maximum": 10_000_000},
        "currency": {"type": "string", "pattern": "^[a-z]{3}$"},
        "gate": {"type": "string", "minLength": 1, "maxLength": 100},
        "trip_class": {"type": "integer", "enum": [0, 1, 2]},
        "found_at": {"type": "string", "minLength": 10, "maxLength": 40},
        "duration": {"type": "integer", "minimum": 0},
        "distance": {"type": "integer", "minimum": 0},
        "actual": {"type": "boolean"},
        "show_to_affiliates": {"type": "boolean"},
    },
    "required": ["record_id", "origin", "destination", "depart_date", "cost", "currency", "gate", "found_at"],
    "additionalProperties": False,
}

# One Kinesis record as an EventBridge Pipe delivers it (only the fields the workflow reads).
PIPE_RECORD: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {"type": "string"},
        "partitionKey": {"type": "string"},
        "sequenceNumber": {"type": "string", "minLength": 1},
        "eventSourceARN": {"type": "string"},
        "eventID": {"type": "string"},
    },
    "required": ["sequenceNumber"],
}

# The workflow's input: the Pipe's batch, a JSON array of Kinesis records.
PIPE_BATCH: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Kinesis batch from an EventBridge Pipe",
    "type": "array",
    "items": PIPE_RECORD,
    "minItems": 1,
    "maxItems": 1000,
}

DECODE: dict[str, Any] = {"type": "object", "properties": {"records": PIPE_BATCH}, "required": ["records"]}

VALID_RECORDS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "batch_id": {"type": "string", "minLength": 1},
        "records": {"type": "array", "items": FLIGHT_RECORD},
    },
    "required": ["batch_id", "records"],
}

DEALS_ALERT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "batch_id": {"type": "string", "minLength": 1},
        "count": {"type": "integer", "minimum": 1},
        "subject": {"type": "string", "minLength": 1, "maxLength": 100},
        "message": {"type": "string", "minLength": 1},
    },
    "required": ["batch_id", "count", "subject", "message"],
}

PARK: dict[str, Any] = {
    "type": "object",
    "properties": {
        "batch": {},
        "error": {"type": "object"},
        "execution": {"type": "string"},
    },
    "required": ["batch", "execution"],
}
