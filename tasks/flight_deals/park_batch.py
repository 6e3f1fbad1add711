"""Park Batch: keep a batch the workflow could not process in S3, to be replayed.

The object holds the execution's input as the Pipe delivered it: replaying is starting the state
machine with `batch` as input (`python -m tasks.flight_deals.replay`; the workflow is idempotent,
so a partly processed batch is safe). With it: the error and the execution of the latest failure,
when the batch was first parked (`parked_at`: a replay that fails parks it again), when last, and
how many runs of it failed (`failures`: a retry of one run's parking counts that run once).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from tasks.flight_deals.records import batch_id
from tasks.flight_deals.schemas import PARK
from tasks.flight_deals.storage import PARKED_PREFIX
from tasks.shared import clients
from tasks.shared.handler import task


def parked_key(batch: Any, execution: str) -> str:
    try:
        name = batch_id(batch)
    except (TypeError, KeyError, AttributeError):  # not a Pipe batch: keep it under the execution
        name = execution.rsplit(":", 1)[-1]
    return f"{PARKED_PREFIX}{name}.json"


def _earlier(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    """What an earlier parking of the batch kept; nothing when it is parked the first time."""
    try:
        return dict(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
    except s3.exceptions.NoSuchKey:
        return {}


@task(PARK)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    s3, bucket = clients.client("s3"), os.environ["BATCHES_BUCKET"]
    key = parked_key(event["batch"], event["execution"])
    earlier, now = _earlier(s3, bucket, key), datetime.now(UTC).isoformat()
    # a retry of this run's own parking (its put done, its answer lost) is no further failure
    counted = int(earlier.get("failures", 1)) if earlier else 0
    again = earlier.get("execution") != event["execution"]
    document = {
        **event,
        "parked_at": earlier.get("parked_at", now),
        "last_parked_at": now,
        "failures": counted + 1 if again else counted,
    }
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(document).encode(), ContentType="application/json")
    return {"bucket": bucket, "key": key}
