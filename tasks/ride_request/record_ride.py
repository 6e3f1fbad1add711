"""Record Ride: store the ride once per request id (per rider), whatever retries happen.

A conditional put: the first request records the ride; a replay of the same request (same
fingerprint) gets the recorded ride back; the same id with another body is RequestIdConflict.
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


@task(RECORD)
def handler(ride: dict[str, Any]) -> dict[str, Any]:
    table = clients.table(os.environ["RIDES_TABLE"])
    item = {**ride, "recorded_at": datetime.now(UTC).isoformat()}
    try:
        table.put_item(Item=to_dynamo(item), ConditionExpression="attribute_not_exists(ride_id)")
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        existing = from_dynamo(table.get_item(Key={"ride_id": ride["ride_id"]}, ConsistentRead=True)["Item"])
        if existing["fingerprint"] != ride["fingerprint"]:
            raise RequestIdConflict(
                f"request_id {ride['request_id']!r} was already used for a different ride request"
            ) from None
        return {**existing, "replayed": True}
    metrics.add_metric(name="RidesRecorded", unit=MetricUnit.Count, value=1)
    return {**item, "replayed": False}
