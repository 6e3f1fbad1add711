"""Check Past Winners: which drawn employees already won, and the announcement to send."""

from __future__ import annotations

import os
from typing import Any

from tasks.lottery.draw import announcement
from tasks.lottery.schemas import WINNERS
from tasks.shared import clients
from tasks.shared.handler import task

MAX_BATCH_ROUNDS = 5


def already_won(employee_ids: list[str]) -> list[str]:
    """The ids among `employee_ids` present in the winners table (BatchGetItem, unprocessed keys retried)."""
    table = os.environ["WINNERS_TABLE"]
    request = {
        table: {
            "Keys": [{"employee_id": {"S": i}} for i in employee_ids],
            "ProjectionExpression": "employee_id",
        }
    }
    found: list[str] = []
    for _ in range(MAX_BATCH_ROUNDS):
        response = clients.client("dynamodb").batch_get_item(RequestItems=request)
        found += [item["employee_id"]["S"] for item in response["Responses"].get(table, [])]
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return sorted(found)
    raise RuntimeError("winners table kept returning unprocessed keys")


@task(WINNERS)
def handler(drawn: dict[str, Any]) -> dict[str, Any]:
    winners = drawn["winners"]
    past = already_won([w["employee_id"] for w in winners])
    return {
        "eligible": not past,
        "past_winners": past,
        "message": announcement(w["employee_name"] for w in winners),
    }
