"""The winners table: one item per employee who won, written only under a condition.

An employee belongs to at most one draw. Check Past Winners claims the drawn employees for its
draw in one transaction, so two draws running at once cannot both pick the same person; Record
Winners then confirms the claim. Either write is conditional on the employee not belonging to
another draw, and repeats for the same draw (retries, redrives) change nothing.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from typing import Any

from tasks.shared import clients

NOT_ANOTHER_DRAWS = "attribute_not_exists(employee_id) OR draw_id = :draw"


def _update(draw_id: str, winner: dict[str, Any], setting: str, stamp: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": os.environ["WINNERS_TABLE"],
            "Key": {"employee_id": {"S": winner["employee_id"]}},
            "UpdateExpression": f"SET draw_id = :draw, employee_name = :name, {stamp} = if_not_exists({stamp}, :now)",
            "ConditionExpression": NOT_ANOTHER_DRAWS,
            "ExpressionAttributeValues": {
                ":draw": {"S": draw_id},
                ":name": {"S": winner["employee_name"]},
                ":now": {"S": setting},
            },
        }
    }


def request_token(draw_id: str, winners: list[dict[str, Any]], stamp: str) -> str:
    """DynamoDB's idempotency token for one write: a retry of the same write repeats it, while
    the claim and the record, or another set of winners for the draw, never share one (a reused
    token with other items fails with IdempotentParameterMismatch). Tokens are at most 36 long."""
    ids = ",".join(sorted(w["employee_id"] for w in winners))
    return hashlib.sha256(f"{stamp}|{draw_id}|{ids}".encode()).hexdigest()[:36]


def write(draw_id: str, winners: list[dict[str, Any]], stamp: str) -> list[str]:
    """Write every winner for `draw_id` in one transaction, setting `stamp` once; return the ids
    that belong to another draw (then nothing at all is written)."""
    now = datetime.now(UTC).isoformat()
    dynamodb = clients.client("dynamodb")
    try:
        dynamodb.transact_write_items(
            TransactItems=[_update(draw_id, w, now, stamp) for w in winners],
            ClientRequestToken=request_token(draw_id, winners, stamp),
        )
    except dynamodb.exceptions.TransactionCanceledException as error:
        reasons = error.response.get("CancellationReasons", [])
        taken = [
            w["employee_id"]
            for w, r in zip(winners, reasons, strict=False)
            if r.get("Code") == "ConditionalCheckFailed"
        ]
        return sorted(taken) or ["unknown"]
    return []
