"""Record Deals Told: remember the score announced for each performance (after the publish).

Rewriting the same items is harmless, so a retry or a redrive changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tasks.shared.handler import task
from tasks.shared.numbers import to_dynamo
from tasks.ticket_ranking import store
from tasks.ticket_ranking.schemas import RECORD_DEALS


@task(RECORD_DEALS)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    now, expires_at = datetime.now(UTC).isoformat(), store.expires(store.TOLD_TTL_SECONDS)
    with store.state_table().batch_writer(overwrite_by_pkeys=["key"]) as batch:
        for deal in event["deals"]:
            item = {
                "key": f"told#{deal['performance_id']}",
                "listing_id": deal["listing_id"],
                "score": deal["score"],
                "run_id": event["run_id"],
                "told_at": now,
                "expires_at": expires_at,
            }
            batch.put_item(Item=to_dynamo(item))
    return {"recorded": len(event["deals"])}
