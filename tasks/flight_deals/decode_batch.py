"""Decode Batch: the Pipe's Kinesis records -> valid flight records; rejected ones kept in S3.

Nothing is dropped: a record that is not base64, not JSON or not a flight record goes, whole and
with its reason, to `rejected/<batch id>.json` (the same batch redelivered rewrites the same key).
Nor is it silent: a batch with rejected records counts them (the RecordsRejected metric) and alerts
the alerts topic, saying where they are, emailed once an hour (tasks.shared.alerts).
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from tasks.flight_deals.records import batch_id, rejected_alert, rejected_document, split
from tasks.flight_deals.schemas import DECODE
from tasks.flight_deals.storage import REJECTED_PREFIX
from tasks.shared import alerts, clients
from tasks.shared.handler import task
from tasks.shared.powertools import metrics

# what the alert's window is of: one email an hour however many batches bring bad records
ALERT_SOURCE, ALERT_ERROR = "flight-deals Decode Batch", "RecordsRejected"


def alert(subject: str, message: str) -> None:
    """Raises when it cannot be sent: the batch then fails, is parked and alerted, and its replay
    alerts again, rather than its rejected records going untold."""
    alerts.of_function(ALERT_SOURCE)(subject, message, ALERT_ERROR)


@task(DECODE, checks_request=True)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    pipe_records = event["records"]
    batch = batch_id(pipe_records)
    valid, rejected = split(pipe_records)
    key = None
    if rejected:
        key, bucket = f"{REJECTED_PREFIX}{batch}.json", os.environ["BATCHES_BUCKET"]
        document = rejected_document(batch, pipe_records[0].get("eventSourceARN", ""), rejected)
        clients.client("s3").put_object(
            Bucket=bucket, Key=key, Body=json.dumps(document).encode(), ContentType="application/json"
        )
        alert(*rejected_alert(batch, len(pipe_records), len(rejected), f"s3://{bucket}/{key}"))
    metrics.add_metric(name="RecordsRejected", unit=MetricUnit.Count, value=len(rejected))
    return {
        "batch_id": batch,
        "received": len(pipe_records),
        "records": valid,
        "rejected": len(rejected),
        "rejected_key": key,
    }
