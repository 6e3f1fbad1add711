"""Mark Current: make this run's rankings the ones readers see, once every performance is stored.

The write is conditional on no newer run being current already, so a slow run that finishes
after a later one cannot bring back older rankings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tasks.shared.handler import task
from tasks.shared.powertools import logger
from tasks.ticket_ranking import store
from tasks.ticket_ranking.schemas import MARK_CURRENT


@task(MARK_CURRENT)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    table = store.state_table()
    item = {
        "key": f"current#{event['show']}",
        "run_id": event["run_id"],
        "fetched_at": event["fetched_at"],
        "performances": event["performances"],
        "marked_at": datetime.now(UTC).isoformat(),
    }
    try:
        table.put_item(
            Item=item,
            ConditionExpression="attribute_not_exists(#k) OR fetched_at <= :fetched",
            ExpressionAttributeNames={"#k": "key"},
            ExpressionAttributeValues={":fetched": event["fetched_at"]},
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        logger.warning("a newer run is already current", extra={"run_id": event["run_id"]})
        return {"current": False}
    return {"current": True}
