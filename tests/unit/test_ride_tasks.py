"""ride-request task Lambdas against moto: validate, find a unicorn, discount, price, record once."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasks.ride_request import (
    apply_discount,
    find_recorded_ride,
    find_unicorn,
    get_discount,
    record_ride,
    validate_request,
)
from tasks.ride_request.rides import NoUnicornAvailable
from tasks.shared.errors import InvalidInput, MalformedTaskInput
from tasks.shared.numbers import to_dynamo
from tests.unit.conftest import create_table, envelope, handler_environment, seed_items
from workflows.ride_request import WORKFLOW

RIDES, UNICORNS = "rides-test", "unicorns-test"
REQUEST: dict[str, Any] = {
    "request_id": "req-0000001",
    "rider": "ann",
    "pickup": {"latitude": 47.6062, "longitude": -122.3321},
}


@pytest.fixture
def tables(aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    handler_environment(monkeypatch, WORKFLOW.functions, {"rides": RIDES, "unicorns": UNICORNS})
    spec = {t.name: t for t in WORKFLOW.tables}
    unicorns = create_table(spec["unicorns"], UNICORNS)
    with unicorns.batch_writer() as batch:
        for item in seed_items(spec["unicorns"]):
            batch.put_item(Item=to_dynamo(item))
    return {"rides": create_table(spec["rides"], RIDES), "unicorns": unicorns}


def ride_of(request: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    checked = validate_request.handler(envelope(request), context)
    unicorn = find_unicorn.handler(envelope({"pickup": checked["pickup"]}), context)
    discount = get_discount.handler(
        envelope({"rider": checked["rider"], "pickup": checked["pickup"]}), context
    )
    priced = apply_discount.handler(
        envelope({"base_cents": unicorn["base_cents"], "discount": discount}), context
    )
    return {**checked, "unicorn": unicorn, "discount": discount, "fare": priced}


@pytest.mark.parametrize(
    ("rider", "code", "total_cents"),
    [("ann", None, 1200), ("dave", "HALFOFF", 600)],  # the promo tiers are a hash of rider and place
)
def test_a_request_is_validated_found_priced_and_recorded(
    tables: dict[str, Any], context: LambdaContext, rider: str, code: str | None, total_cents: int
) -> None:
    ride = ride_of({**REQUEST, "rider": rider}, context)
    assert ride["unicorn"]["name"] == "Rocinante" and ride["unicorn"]["base_cents"] == 1200
    assert ride["discount"]["code"] == code
    assert ride["fare"]["total_cents"] == total_cents

    recorded = record_ride.handler(envelope(ride), context)
    assert recorded["replayed"] is False and recorded["ride_id"] == ride["ride_id"]
    [item] = tables["rides"].scan()["Items"]
    assert item["request_id"] == "req-0000001" and item["rider"] == rider


def test_a_replay_returns_the_recorded_ride_and_another_body_conflicts(
    tables: dict[str, Any], context: LambdaContext
) -> None:
    ride = ride_of(REQUEST, context)
    first = record_ride.handler(envelope(ride), context)
    again = record_ride.handler(envelope(ride), context)
    assert again == {**first, "replayed": True}

    moved = ride_of({**REQUEST, "pickup": {"latitude": 47.62, "longitude": -122.349}}, context)
    with pytest.raises(record_ride.RequestIdConflict, match="req-0000001"):
        record_ride.handler(envelope(moved), context)
    assert len(tables["rides"].scan()["Items"]) == 1
    other_rider = ride_of({**REQUEST, "rider": "bob"}, context)
    assert record_ride.handler(envelope(other_rider), context)["replayed"] is False


def test_a_used_request_id_is_found_before_a_unicorn_is_looked_for(
    tables: dict[str, Any], context: LambdaContext
) -> None:
    def identity(request: dict[str, Any]) -> dict[str, Any]:
        checked = validate_request.handler(envelope(request), context)
        return {k: checked[k] for k in ("ride_id", "request_id", "rider", "fingerprint")}

    assert find_recorded_ride.handler(envelope(identity(REQUEST)), context) == {"ride": None}
    first = record_ride.handler(envelope(ride_of(REQUEST, context)), context)
    assert find_recorded_ride.handler(envelope(identity(REQUEST)), context) == {
        "ride": {**first, "replayed": True}
    }
    # no unicorn serves New York: a conflict is still a conflict, found without looking for one
    far = {**REQUEST, "pickup": {"latitude": 40.7128, "longitude": -74.006}}
    with pytest.raises(record_ride.RequestIdConflict, match="req-0000001"):
        find_recorded_ride.handler(envelope(identity(far)), context)
    assert find_recorded_ride.handler(envelope(identity({**REQUEST, "rider": "bob"})), context) == {
        "ride": None
    }
    # what Validate Request gives it lacks a field: not the rider's mistake, but the definition's
    with pytest.raises(MalformedTaskInput, match="fingerprint"):
        find_recorded_ride.handler(
            envelope({"ride_id": "x", "request_id": "req-0000001", "rider": "ann"}), context
        )


def test_bad_requests_and_remote_pickups_are_named_errors(
    tables: dict[str, Any], context: LambdaContext
) -> None:
    with pytest.raises(InvalidInput, match=r"pickup\.latitude"):
        validate_request.handler(envelope({**REQUEST, "pickup": {"latitude": 123, "longitude": 0}}), context)
    with pytest.raises(InvalidInput, match="rider"):
        validate_request.handler(envelope({k: v for k, v in REQUEST.items() if k != "rider"}), context)
    with pytest.raises(NoUnicornAvailable):
        find_unicorn.handler(envelope({"pickup": {"latitude": 40.7, "longitude": -74.0}}), context)
    assert boto3.resource("dynamodb").Table(RIDES).scan()["Count"] == 0
