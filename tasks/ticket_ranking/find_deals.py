"""Find New Deals: the run's best ticket per performance, kept when better than what was told."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from tasks.shared.handler import task
from tasks.shared.numbers import from_dynamo
from tasks.ticket_ranking import store
from tasks.ticket_ranking.ranking import deals_message, new_deals
from tasks.ticket_ranking.schemas import FIND_DEALS

MAX_DEALS = 20  # one message; the rest stay new and go out with the next run
SHOWN = (
    "performance_id",
    "listing_id",
    "date",
    "theatre_name",
    "section",
    "row",
    "quantity",
    "price",
    "score",
)


def best_per_performance(run_id: str) -> list[dict[str, Any]]:
    query = {
        "IndexName": store.RUN_SCORE_INDEX,
        "KeyConditionExpression": Key("run_id").eq(run_id),
        "FilterExpression": Attr("rank").eq(1),
    }
    return list(store.query_all(store.rankings_table(), **query))


def told_scores() -> dict[str, float]:
    table, scan = store.state_table(), {"FilterExpression": Attr("key").begins_with("told#")}
    told: dict[str, float] = {}
    while True:
        page = table.scan(**scan)
        told.update((i["key"].removeprefix("told#"), float(from_dynamo(i["score"]))) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            return told
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@task(FIND_DEALS)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    if not event["current"]:
        return {"count": 0, "deals": [], "subject": "", "message": ""}
    deals = new_deals(best_per_performance(event["run_id"]), told_scores())[:MAX_DEALS]
    subject, message = deals_message(deals, event["show"])
    return {
        "count": len(deals),
        "deals": [{k: d[k] for k in SHOWN} | {"obstructed": d["obstructed"]} for d in deals],
        "subject": subject,
        "message": message,
    }
