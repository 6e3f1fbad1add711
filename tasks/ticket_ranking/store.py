"""Where ticket-ranking data lives: S3 keys, DynamoDB item layout, and the reads the handlers share.

rankings table (every listing of each performance, ranked, per run):
    performance_id (PK), rank_key (SK):
        "<run_id>#<chunk>": the performance's ranking in one run, its listings best first in
            `listings` (rank, score, ...), with date, theatre_id, theatre_name once; one item, or
            numbered chunks of at most CHUNK_BYTES when it has very many listings
        "<run_id>#best": its best listing of the run alone, flat (performance_id, date, ..., score)
    index run-date:  run_id (PK), date_key = "<date>#<performance_id>#<chunk>": a date range;
        the chunks only (the best item has no date_key)
    index best-per-performance: best_of_run (PK), score: each performance's best ticket of a run,
        sparse: only the best items carry best_of_run (the run_id), so only those are written to it
    On-demand DynamoDB bills a write per started KB of the item, and again for each index holding
    it: a listing in a performance's item costs its bytes (about 150), not a unit of its own.
state table (key):
    "current#<show>" -> spans: for each date, the latest run that covered it (see coverage.py;
        a run is added only after it is stored whole, dropped once its rankings expire); run_id:
        the latest of them; version
    "told#<performance_id>" -> score, listing_id, run_id, told_at: the best deal subscribers were
        told for that performance; claim_score, claim_listing, claim_run, claimed_at: the deal a
        run claimed to announce (see told.py)
    "unmapped#<theatre_id>" -> expires_at: a theatre without seat data alerted this week (unmapped.py)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key

from tasks.shared import clients
from tasks.shared.numbers import from_dynamo

RUN_DATE_INDEX = "run-date-index"
BEST_PER_PERFORMANCE_INDEX = "best-per-performance-index"
BEST_OF_RUN = "best_of_run"  # set on a performance's best item only: the index above holds those alone
# a chunk's listings as compact JSON, more than DynamoDB counts them: far below its 400 KB an item
CHUNK_BYTES = 300_000
PERFORMANCE_FIELDS = ("performance_id", "date", "theatre_id", "theatre_name")
RANKING_TTL_SECONDS = 7 * 24 * 3600
TOLD_TTL_SECONDS = 3 * 24 * 3600  # a deal not seen for 3 days may be announced again
# where the inventory bucket keeps a run's listings as fetched, and as ranked
RAW_PREFIX = "raw/"
RANKED_PREFIX = "ranked/"


def bucket() -> str:
    return os.environ["INVENTORY_BUCKET"]


def raw_key(run_id: str, page: int) -> str:
    """A page of the run's performances with their listings as fetched."""
    return f"{RAW_PREFIX}{run_id}/page-{page:04d}.json"


def ranked_key(raw: str) -> str:
    """The same page ranked."""
    return RANKED_PREFIX + raw.removeprefix(RAW_PREFIX)


def put_json(key: str, value: Any) -> None:
    body = json.dumps(value, separators=(",", ":")).encode()
    clients.client("s3").put_object(Bucket=bucket(), Key=key, Body=body, ContentType="application/json")


def get_json(key: str) -> Any:
    return json.loads(clients.client("s3").get_object(Bucket=bucket(), Key=key)["Body"].read())


def rankings_table() -> Any:
    return clients.table(os.environ["RANKINGS_TABLE"])


def state_table() -> Any:
    return clients.table(os.environ["STATE_TABLE"])


def expires(seconds: int) -> int:
    return int(time.time()) + seconds


def expired_before() -> str:
    """Runs fetched before this are gone: their rankings expire RANKING_TTL_SECONDS after being
    stored, moments after the fetch."""
    return (datetime.now(UTC) - timedelta(seconds=RANKING_TTL_SECONDS)).isoformat()


def current_run(show: str) -> dict[str, Any] | None:
    item = state_table().get_item(Key={"key": f"current#{show}"}, ConsistentRead=True).get("Item")
    return from_dynamo(item) if item else None


def spans_of(current: dict[str, Any] | None) -> list[dict[str, Any]]:
    if current is None:
        return []
    # an item without spans stands for every date
    whole = {"run_id": current["run_id"], "fetched_at": current["fetched_at"], "from": "0001-01-01"}
    return list(current.get("spans") or [{**whole, "to": "9999-12-31"}])


def query_all(table: Any, **query: Any) -> Iterator[dict[str, Any]]:
    while True:
        page = table.query(**query)
        for item in page["Items"]:
            yield from_dynamo(item)
        if "LastEvaluatedKey" not in page:
            return
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def chunk_key(run_id: str, chunk: int) -> str:
    return f"{run_id}#{chunk:04d}"


def best_key(run_id: str) -> str:
    return f"{run_id}#best"


def listings_of(items: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each listing of the chunks, with its performance's fields."""
    for item in items:
        if "listings" not in item:  # stored one item a listing, before chunks: a week's runs at most
            yield item
            continue
        performance = {k: item[k] for k in PERFORMANCE_FIELDS}
        for listing in item["listings"]:
            yield performance | listing


def run_by_dates(run_id: str, date_from: str, date_to: str) -> Iterator[dict[str, Any]]:
    """Every listing the run ranked on the dates."""
    condition = Key("run_id").eq(run_id) & Key("date_key").between(date_from, f"{date_to}#~")
    return listings_of(
        query_all(rankings_table(), IndexName=RUN_DATE_INDEX, KeyConditionExpression=condition)
    )


def best_per_performance(run_id: str) -> Iterator[dict[str, Any]]:
    """Each performance's best ranking of the run, lowest score first."""
    condition = Key(BEST_OF_RUN).eq(run_id)
    return query_all(rankings_table(), IndexName=BEST_PER_PERFORMANCE_INDEX, KeyConditionExpression=condition)


def performance_ranking(run_id: str, performance_id: str) -> list[dict[str, Any]]:
    """Every listing of the performance the run ranked, best first."""
    chunks = Key("rank_key").between(chunk_key(run_id, 0), f"{run_id}#9999")  # not its best item
    condition = Key("performance_id").eq(performance_id) & chunks
    return list(listings_of(query_all(rankings_table(), KeyConditionExpression=condition)))
