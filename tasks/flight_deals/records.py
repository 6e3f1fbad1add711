"""Flight-price records: from Aviasales data to stream records, and from a Pipe batch back to records.

Pure functions. Every record is either valid or rejected with its reason: a bad one (not JSON,
a missing price) never costs the rest of its batch.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

from tasks.flight_deals.schemas import FLIGHT_RECORD
from tasks.shared.alerts import EMAILED_ONCE_A_FUNCTION
from tasks.shared.documents import field_of, message_of

_VALIDATOR = Draft7Validator(FLIGHT_RECORD)
# Fields that identify a price: the same price found twice is the same record (and item).
IDENTITY = ("origin", "destination", "depart_date", "return_date", "gate", "found_at", "cost", "trip_class")


@dataclass(frozen=True)
class Rejected:
    """A record that could not be used, kept whole (base64 data as received) with the reason."""

    sequence_number: str
    partition_key: str
    data: str
    reason: str


def record_id(fields: dict[str, Any]) -> str:
    canonical = json.dumps([fields.get(k) for k in IDENTITY], separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def from_month_matrix(entry: dict[str, Any], currency: str) -> dict[str, Any]:
    """One month-matrix `data` entry as a stream record (see schemas.py for its field names)."""
    record = {
        "origin": entry["origin"],
        "destination": entry["destination"],
        "depart_date": entry["depart_date"],
        "return_date": entry.get("return_date") or "",
        "number_of_changes": entry.get("number_of_changes", 0),
        "cost": entry["value"],
        "currency": currency.lower(),
        "gate": entry.get("gate") or "unknown",
        "trip_class": entry.get("trip_class", 0),
        "found_at": entry["found_at"],
        "duration": entry.get("duration", 0),
        "distance": entry.get("distance", 0),
        "actual": entry.get("actual", True),
        "show_to_affiliates": entry.get("show_to_affiliates", True),
    }
    return {"record_id": record_id(record), **record}


def batch_id(pipe_records: list[dict[str, Any]]) -> str:
    """Stable id of a delivered batch: the same records redelivered give the same id.

    Each record's data is hashed with its stream position: a batch started by hand (the CLI, the
    console) has no stream ARN or event id and numbers its records from "1", so only the content
    tells two such batches apart, and with it their alerts and rejected records.
    """
    digest = hashlib.sha256()
    for r in pipe_records:
        position = f"{r.get('eventSourceARN', '')}|{r.get('eventID', '')}|{r['sequenceNumber']}"
        digest.update(json.dumps([position, r.get("partitionKey", ""), r.get("data", "")]).encode() + b"\n")
    return digest.hexdigest()[:32]


def decode(pipe_record: dict[str, Any]) -> dict[str, Any]:
    """The flight record inside one Pipe record; ValueError names what is wrong."""
    try:
        raw = base64.b64decode(pipe_record.get("data") or "", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("data: not base64") from None
    try:
        record = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"data: not JSON ({error})") from None
    problem = best_match(_VALIDATOR.iter_errors(record))
    if problem is not None:
        field = field_of(problem)
        raise ValueError(f"{'record' if field == '$' else field}: {message_of(problem)}")
    return dict(record)


def split(pipe_records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Rejected]]:
    """Valid records (one per record_id, the latest wins) and rejected ones, in stream order."""
    valid: dict[str, dict[str, Any]] = {}
    rejected: list[Rejected] = []
    for r in pipe_records:
        try:
            record = decode(r)
        except ValueError as error:
            rejected.append(
                Rejected(r["sequenceNumber"], r.get("partitionKey", ""), r.get("data", ""), str(error))
            )
            continue
        # BatchWriteItem refuses two puts of one key in a request; the later record is the newer price.
        valid.pop(record["record_id"], None)
        valid[record["record_id"]] = record
    return list(valid.values()), rejected


def rejected_document(batch: str, source: str, rejected: list[Rejected]) -> dict[str, Any]:
    return {"batch_id": batch, "source": source, "rejected": [asdict(r) for r in rejected]}


def rejected_alert(batch: str, received: int, rejected: int, where: str) -> tuple[str, str]:
    """Subject and message of the alert a batch with rejected records raises."""
    records = f"record{'s' if rejected != 1 else ''}"
    subject = f"[flight-deals] {rejected} {records} rejected"
    message = (
        f"Workflow flight-deals rejected {rejected} of the {received} records of batch {batch}: the "
        f"schema refused them, so they are not stored. They are kept whole, each with its reason, at "
        f"{where} (aws s3 cp {where} -); the batch's other records are stored. {EMAILED_ONCE_A_FUNCTION}"
    )
    return subject, message
