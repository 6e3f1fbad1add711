"""Decode Batch: the Pipe's Kinesis records -> valid flight records; rejected ones kept in S3.

Nothing is dropped: a record that is not base64, not JSON or not a flight record goes, whole and
with its reason, to `rejected/<batch id>.json` (the same batch redelivered rewrites the same key).
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from tasks.flight_deals.records import batch_id, rejected_document, split
from tasks.flight_deals.schemas import DECODE
from tasks.flight_deals.storage import REJECTED_PREFIX
from tasks.shared import clients
from tasks.shared.handler import task
from tasks.shared.powertools import metrics


@task(DECODE, checks_request=True)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    pipe_records = event["records"]
    batch = batch_id(pipe_records)
    valid, rejected = split(pipe_records)
    key = None
    if rejected:
        key = f"{REJECTED_PREFIX}{batch}.json"
        document = rejected_document(batch, pipe_records[0].get("eventSourceARN", ""), rejected)
        clients.client("s3").put_object(
            Bucket=os.environ["BATCHES_BUCKET"],
            Key=key,
            Body=json.dumps(document).encode(),
            ContentType="application/json",
        )
    metrics.add_metric(name="RecordsRejected", unit=MetricUnit.Count, value=len(rejected))
    return {
        "batch_id": batch,
        "received": len(pipe_records),
        "records": valid,
        "rejected": len(rejected),
        "rejected_key": key,
    }
