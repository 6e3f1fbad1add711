"""Record Winners: store a draw's winners in one transaction, exactly once.

Each winner's item carries the draw id; the write is conditional on the employee not having
won another draw. A retry or redrive of the same draw rewrites the same items (idempotent);
a conflict with another draw records nobody (no partial draw) and raises WinnerAlreadyRecorded.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from tasks.lottery.schemas import RECORD
from tasks.shared import clients
from tasks.shared.errors import TaskError
from tasks.shared.handler import task
from tasks.shared.powertools import metrics


class WinnerAlreadyRecorded(TaskError):
    """An employee of this draw was recorded as the winner of another draw."""


def record_update(table: str, draw_id: str, winner: dict[str, Any], now: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": {"employee_id": {"S": winner["employee_id"]}},
            "UpdateExpression": (
                "SET draw_id = :draw, employee_name = :name, won_at = if_not_exists(won_at, :now)"
            ),
            "ConditionExpression": "attribute_not_exists(employee_id) OR draw_id = :draw",
            "ExpressionAttributeValues": {
                ":draw": {"S": draw_id},
                ":name": {"S": winner["employee_name"]},
                ":now": {"S": now},
            },
        }
    }


@task(RECORD)
def handler(record: dict[str, Any]) -> dict[str, Any]:
    table, winners = os.environ["WINNERS_TABLE"], record["winners"]
    now = datetime.now(UTC).isoformat()
    dynamodb = clients.client("dynamodb")
    try:
        dynamodb.transact_write_items(
            TransactItems=[record_update(table, record["draw_id"], w, now) for w in winners],
            ClientRequestToken=record["draw_id"][-36:],
        )
    except dynamodb.exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons", [])
        taken = [
            w["employee_id"]
            for w, r in zip(winners, reasons, strict=False)
            if r.get("Code") == "ConditionalCheckFailed"
        ]
        raise WinnerAlreadyRecorded(f"recorded by another draw: {', '.join(taken) or 'unknown'}") from None
    metrics.add_metric(name="WinnersRecorded", unit=MetricUnit.Count, value=len(winners))
    return {"recorded": [w["employee_id"] for w in winners]}
