"""Mark Current: make this run's rankings the ones readers see, once every performance is stored.

The run becomes current for the dates it covered, and for none a newer run covered already, so
neither a narrower run nor a slow one finishing after a later one hides or brings back rankings.
The pointer is rewritten only if no other run changed it since it was read (a version number);
if one did, the workflow's Retry reads and merges again. Find New Deals gets the dates the run
is current for, and announces deals on those only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr

from tasks.shared.handler import task
from tasks.shared.powertools import logger
from tasks.ticket_ranking import coverage, store
from tasks.ticket_ranking.schemas import MARK_CURRENT


class CurrentContended(Exception):
    """Another run changed the pointer between this one's read and write; retryable (not a
    TaskError): the workflow runs the task again, which reads the pointer and merges anew."""


def join(show: str, run: coverage.Span) -> list[coverage.Span]:
    """Adds `run` to the show's pointer, unless another run changed it since it was read; the
    spans `run` is current for."""
    current = store.current_run(show)
    spans, won = coverage.merge(store.spans_of(current), run, store.expired_before())
    if not won:
        return []
    latest = max(spans, key=lambda s: s["fetched_at"])
    version = (current or {}).get("version")
    item = {
        "key": f"current#{show}",
        "spans": spans,
        "run_id": latest["run_id"],
        "fetched_at": latest["fetched_at"],
        "version": (version or 0) + 1,
        "marked_at": datetime.now(UTC).isoformat(),
    }
    unchanged = Attr("version").eq(version) if version else Attr("version").not_exists()
    table = store.state_table()
    try:
        table.put_item(Item=item, ConditionExpression=unchanged)
    except table.meta.client.exceptions.ConditionalCheckFailedException as changed:
        raise CurrentContended(f"another run changed the current rankings of {show} meanwhile") from changed
    return won


@task(MARK_CURRENT)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    run = {"run_id": event["run_id"], "fetched_at": event["fetched_at"], **event["dates"]}
    won = join(event["show"], run)
    if not won:
        logger.warning("newer runs cover every date of this one", extra={"run_id": event["run_id"]})
    return {"current": bool(won), "dates": [{"from": s["from"], "to": s["to"]} for s in won]}
