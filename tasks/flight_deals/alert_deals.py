"""Alert Deals: publish the batch's deal summary to the deals topic, once per batch.

Powertools idempotency keyed by batch id: a redelivered or retried batch returns the first
publish's result instead of alerting again. A failed publish releases the claim (Powertools
deletes the in-progress record), so a retry can still alert.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from tasks.flight_deals.schemas import DEALS_ALERT
from tasks.shared import clients
from tasks.shared.handler import task

# A batch can come back while it is in the stream (24 h retention) or from a redrive soon after.
REMEMBER_SECONDS = 7 * 24 * 3600
IN_PROGRESS_SECONDS = 60  # a crashed attempt must not block the redelivery for long


class _Deadline:
    """What Powertools reads from a Lambda context to let an in-progress claim expire."""

    def get_remaining_time_in_millis(self) -> int:
        return IN_PROGRESS_SECONDS * 1000


def publish(alert: dict[str, Any]) -> dict[str, Any]:
    response = clients.client("sns").publish(
        TopicArn=os.environ["DEALS_TOPIC_ARN"], Subject=alert["subject"], Message=alert["message"]
    )
    return {"message_id": response["MessageId"]}


@cache
def publish_once(table: str) -> Any:
    config = IdempotencyConfig(event_key_jmespath="batch_id", expires_after_seconds=REMEMBER_SECONDS)
    config.register_lambda_context(_Deadline())  # type: ignore[arg-type]
    store = DynamoDBPersistenceLayer(table_name=table, boto3_client=clients.client("dynamodb"))
    return idempotent_function(data_keyword_argument="alert", persistence_store=store, config=config)(publish)


@task(DEALS_ALERT)
def handler(alert: dict[str, Any]) -> dict[str, Any]:
    sent = publish_once(os.environ["IDEMPOTENCY_TABLE"])(alert=alert)
    return {"deals": alert["count"], "alerted": True, "message_id": sent["message_id"]}
