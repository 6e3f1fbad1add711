"""Store Records: every valid record in DynamoDB, keyed by record_id, with BatchWriteItem.

A put of the same record_id overwrites the same item, so a redelivered batch stores nothing
twice. Unprocessed items (throttling) are retried here with backoff; if DynamoDB still refuses
them the handler raises RecordsNotStored and the workflow retries the whole, idempotent, write.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from tasks.flight_deals.schemas import VALID_RECORDS
from tasks.shared import clients
from tasks.shared.handler import task
from tasks.shared.numbers import to_dynamo
from tasks.shared.powertools import logger, metrics

BATCH_LIMIT = 25  # BatchWriteItem's maximum
MAX_ROUNDS = 8
THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
_serializer = TypeSerializer()


class RecordsNotStored(Exception):
    """DynamoDB kept refusing some items; retryable (not a TaskError): the write is idempotent."""


def backoff(attempt: int) -> float:
    return random.uniform(0, min(1.0, 0.02 * 2**attempt))


def write_chunk(table: str, items: list[dict[str, Any]]) -> int:
    """Write up to 25 items; returns how many rounds it took."""
    dynamodb = clients.client("dynamodb")
    pending: dict[str, Any] = {
        table: [{"PutRequest": {"Item": {k: _serializer.serialize(v) for k, v in i.items()}}} for i in items]
    }
    for attempt in range(MAX_ROUNDS):
        try:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        except ClientError as error:
            if error.response["Error"]["Code"] not in THROTTLED:
                raise
        if not pending:
            return attempt + 1
        time.sleep(backoff(attempt))
    left = len(pending.get(table, []))
    raise RecordsNotStored(f"{left} of {len(items)} items still unprocessed after {MAX_ROUNDS} rounds")


@task(VALID_RECORDS)
def handler(batch: dict[str, Any]) -> dict[str, Any]:
    table = os.environ["PRICES_TABLE"]
    items = [to_dynamo({**r, "batch_id": batch["batch_id"]}) for r in batch["records"]]
    rounds = [write_chunk(table, items[i : i + BATCH_LIMIT]) for i in range(0, len(items), BATCH_LIMIT)]
    retried = sum(r - 1 for r in rounds)
    if retried:
        logger.info("unprocessed items retried", extra={"rounds": retried})
    metrics.add_metric(name="RecordsStored", unit=MetricUnit.Count, value=len(items))
    return {"stored": len(items), "retried_rounds": retried}
