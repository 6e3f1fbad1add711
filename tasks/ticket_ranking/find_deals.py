"""Find New Deals: the run's best ticket per performance, kept when better than what was told.

Only performances on the dates the run is current for: a newer run owns the others, and a
deal it no longer sees (sold) must not be announced by a slow run that saw it.
"""

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


def best_per_performance(run_id: str, dates: list[dict[str, str]]) -> list[dict[str, Any]]:
    query = {
        "IndexName": store.RUN_SCORE_INDEX,
        "KeyConditionExpression": Key("run_id").eq(run_id),
        "FilterExpression": Attr("rank").eq(1),
    }
    best = store.query_all(store.rankings_table(), **query)
    return [b for b in best if any(d["from"] <= b["date"] <= d["to"] for d in dates)]


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
    if not event["dates"]:
        return {"count": 0, "deals": [], "subject": "", "message": ""}
    deals = new_deals(best_per_performance(event["run_id"], event["dates"]), told_scores())[:MAX_DEALS]
    subject, message = deals_message(deals, event["show"])
    return {
        "count": len(deals),
        "deals": [{k: d[k] for k in SHOWN} | {"obstructed": d["obstructed"]} for d in deals],
        "subject": subject,
        "message": message,
    }
