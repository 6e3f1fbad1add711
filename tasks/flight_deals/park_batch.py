"""Park Batch: keep a batch the workflow could not process in S3, to be replayed.

The object holds the execution's input as the Pipe delivered it: replaying is starting the state
machine with `batch` as input (`python -m tasks.flight_deals.replay`; the workflow is idempotent,
so a partly processed batch is safe).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from tasks.flight_deals.records import batch_id
from tasks.flight_deals.schemas import PARK
from tasks.shared import clients
from tasks.shared.handler import task

PARKED_PREFIX = "parked/"


def parked_key(batch: Any, execution: str) -> str:
    try:
        name = batch_id(batch)
    except (TypeError, KeyError, AttributeError):  # not a Pipe batch: keep it under the execution
        name = execution.rsplit(":", 1)[-1]
    return f"{PARKED_PREFIX}{name}.json"


@task(PARK)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    key = parked_key(event["batch"], event["execution"])
    document = {**event, "parked_at": datetime.now(UTC).isoformat()}
    clients.client("s3").put_object(
        Bucket=os.environ["BATCHES_BUCKET"],
        Key=key,
        Body=json.dumps(document).encode(),
        ContentType="application/json",
    )
    return {"bucket": os.environ["BATCHES_BUCKET"], "key": key}
