"""Flight-price records: from month-matrix data to stream records and back, bad ones rejected."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tasks.flight_deals.records import batch_id, decode, from_month_matrix, record_id, split

ENTRY = {
    "show_to_affiliates": True,
    "trip_class": 0,
    "origin": "LED",
    "destination": "KZN",
    "depart_date": "2026-12-03",
    "return_date": "",
    "number_of_changes": 0,
    "value": 4590,
    "gate": "Aeroflot",
    "found_at": "2026-12-01T10:00:00+03:00",
    "duration": 110,
    "distance": 1200,
    "actual": True,
}


def pipe_record(data: bytes | str, seq: int, shard: str = "shardId-000000000000") -> dict[str, Any]:
    raw = data if isinstance(data, bytes) else data.encode()
    return {
        "data": base64.b64encode(raw).decode(),
        "partitionKey": f"k{seq}",
        "sequenceNumber": f"{seq:056d}",
        "eventID": f"{shard}:{seq:056d}",
        "eventSource": "aws:kinesis",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/prices",
    }


def test_a_month_matrix_entry_becomes_a_record_named_like_the_seed_agent_columns() -> None:
    record = from_month_matrix(ENTRY, "RUB")
    assert record["cost"] == 4590 and record["gate"] == "Aeroflot" and record["currency"] == "rub"
    assert len(record["record_id"]) == 32
    # The same price found again is the same record; another price is another record.
    assert from_month_matrix(dict(ENTRY), "rub")["record_id"] == record["record_id"]
    assert from_month_matrix({**ENTRY, "value": 4591}, "rub")["record_id"] != record["record_id"]
    assert record["record_id"] == record_id({k: v for k, v in record.items() if k != "record_id"})


def test_decode_returns_the_record_or_names_what_is_wrong() -> None:
    record = from_month_matrix(ENTRY, "rub")
    assert decode(pipe_record(json.dumps(record), 1)) == record
    cases = {
        b"\xff\xfe not json": "data: not JSON",
        b"[1, 2]": 'record: [1, 2] is not of type "object"',
        json.dumps({**record, "cost": -5}).encode(): "cost:",
        json.dumps({**record, "origin": "Leningrad"}).encode(): "origin:",
        json.dumps(
            {k: v for k, v in record.items() if k != "gate"}
        ).encode(): 'gate: "gate" is a required property',
    }
    for data, reason in cases.items():
        try:
            decode(pipe_record(data, 2))
        except ValueError as error:
            assert reason in str(error)
        else:
            raise AssertionError(f"{data!r} was accepted")
    bad_base64 = {**pipe_record("{}", 3), "data": "not*base64"}
    with pytest.raises(ValueError) as refused:
        decode(bad_base64)
    assert str(refused.value) == "data: not base64"


def test_split_keeps_every_record_valid_or_rejected_and_one_per_record_id() -> None:
    record = from_month_matrix(ENTRY, "rub")
    newer = {**record, "duration": 120}  # same id (not an identity field), later in the stream
    other = from_month_matrix({**ENTRY, "depart_date": "2026-12-04"}, "rub")
    batch = [
        pipe_record(json.dumps(record), 1),
        pipe_record("garbage", 2),
        pipe_record(json.dumps(other), 3),
        pipe_record(json.dumps(newer), 4),
    ]
    valid, rejected = split(batch)
    assert valid == [other, newer]
    assert [(r.sequence_number, r.data) for r in rejected] == [(batch[1]["sequenceNumber"], batch[1]["data"])]
    assert rejected[0].reason.startswith("data: not JSON")


def test_batch_id_is_stable_for_a_redelivered_batch_and_differs_otherwise() -> None:
    batch = [pipe_record("a", 1), pipe_record("b", 2)]
    assert batch_id(batch) == batch_id([dict(r) for r in batch])
    assert batch_id(batch) != batch_id(batch[:1])
    assert batch_id(batch) != batch_id([pipe_record("a", 1, "shardId-000000000001"), pipe_record("b", 2)])


def test_hand_made_batches_numbered_alike_get_their_own_ids_and_keep_them() -> None:
    """Started from the CLI or the console: no stream ARN, no event id, every record numbered "1"."""

    def by_hand(data: str) -> list[dict[str, Any]]:
        return [{"data": base64.b64encode(data.encode()).decode(), "sequenceNumber": "1"}]

    assert batch_id(by_hand("a")) == batch_id(by_hand("a"))
    assert batch_id(by_hand("a")) != batch_id(by_hand("b"))
    assert batch_id([pipe_record("a", 1)]) != batch_id([pipe_record("b", 1)])


def test_prices_that_differ_in_any_identity_field_are_distinct_records() -> None:
    """The record id keys the stored item: two prices sharing one would keep only the later."""
    others: list[dict[str, Any]] = [
        {"origin": "MOW"},
        {"destination": "AER"},
        {"depart_date": "2026-12-04"},
        {"return_date": "2026-12-10"},
        {"gate": "S7"},
        {"found_at": "2026-12-01T11:00:00+03:00"},
        {"value": 4591},
        {"trip_class": 1},
    ]
    ids = {from_month_matrix({**ENTRY, **change}, "rub")["record_id"] for change in others}
    assert len(ids | {from_month_matrix(ENTRY, "rub")["record_id"]}) == len(others) + 1
