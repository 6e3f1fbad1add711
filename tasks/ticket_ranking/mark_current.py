"""Mark Current: make this run's rankings the ones readers see, once every performance is stored.

The run becomes current for the dates it covered, and for none a newer run covered already, so
neither a narrower run nor a slow one finishing after a later one hides or brings back rankings.
The pointer is rewritten only if no other run changed it since it was read (a version number).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr

from tasks.shared.handler import task
from tasks.shared.powertools import logger
from tasks.ticket_ranking import coverage, store
from tasks.ticket_ranking.schemas import MARK_CURRENT

ATTEMPTS = 5  # runs finishing at the same moment: each rereads the pointer and tries again


class CurrentContended(Exception):
    """Other runs kept changing the pointer while this one tried to join it."""


@task(MARK_CURRENT)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    run = {"run_id": event["run_id"], "fetched_at": event["fetched_at"], **event["dates"]}
    table = store.state_table()
    for _ in range(ATTEMPTS):
        current = store.current_run(event["show"])
        spans, won = coverage.merge(store.spans_of(current), run)
        if not won:
            logger.warning("newer runs cover every date of this one", extra={"run_id": event["run_id"]})
            return {"current": False}
        latest = max(spans, key=lambda s: s["fetched_at"])
        version = (current or {}).get("version")
        item = {
            "key": f"current#{event['show']}",
            "spans": spans,
            "run_id": latest["run_id"],
            "fetched_at": latest["fetched_at"],
            "version": (version or 0) + 1,
            "marked_at": datetime.now(UTC).isoformat(),
        }
        unchanged = Attr("version").eq(version) if version else Attr("version").not_exists()
        try:
            table.put_item(Item=item, ConditionExpression=unchanged)
        except table.meta.client.exceptions.ConditionalCheckFailedException:
            continue
        return {"current": True}
    raise CurrentContended(f"the current rankings of {event['show']} changed {ATTEMPTS} times meanwhile")
