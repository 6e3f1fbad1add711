"""Record Ride: store the ride once per request id (per rider), whatever retries happen.

A conditional put: the first request records the ride; a replay of the same request (same
fingerprint) gets the recorded ride back; the same id with another body is RequestIdConflict.
Find Recorded Ride answers replays and conflicts before a unicorn is looked for; the put still
decides between two requests that arrive together.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from tasks.ride_request.schemas import RECORD
from tasks.shared import clients
from tasks.shared.errors import TaskError
from tasks.shared.handler import task
from tasks.shared.numbers import from_dynamo, to_dynamo
from tasks.shared.powertools import metrics


class RequestIdConflict(TaskError):
    """The request id was already used by this rider for a different ride request."""


def recorded(table: Any, request: dict[str, Any]) -> dict[str, Any] | None:
    """The ride recorded for this request's id, as a replay; None when there is none yet."""
    item = table.get_item(Key={"ride_id": request["ride_id"]}, ConsistentRead=True).get("Item")
    if item is None:
        return None
    existing = from_dynamo(item)
    if existing["fingerprint"] != request["fingerprint"]:
        raise RequestIdConflict(
            f"request_id {request['request_id']!r} was already used for a different ride request"
        )
    return {**existing, "replayed": True}


@task(RECORD)
def handler(ride: dict[str, Any]) -> dict[str, Any]:
    table = clients.table(os.environ["RIDES_TABLE"])
    item = {**ride, "recorded_at": datetime.now(UTC).isoformat()}
    try:
        table.put_item(Item=to_dynamo(item), ConditionExpression="attribute_not_exists(ride_id)")
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        replay = recorded(table, ride)
        if replay is None:  # deleted between the put and the read: unexpected, so alerted
            raise RuntimeError(
                f"ride {ride['ride_id']} was there for the put and gone for the read"
            ) from None
        return replay
    metrics.add_metric(name="RidesRecorded", unit=MetricUnit.Count, value=1)
    return {**item, "replayed": False}
