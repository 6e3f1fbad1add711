"""Send Report: publish the day's report to the subscribers' topic, once per trading day.

An idempotency record keyed on the date (Powertools idempotency, DynamoDB) makes a retry, a
redrive or a second run of the same day return the first publish instead of emailing again; a
run other than the one that sent it is told so (`already_sent`). A publish that fails leaves no record, so the next attempt sends.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasks.etf_signal import storage
from tasks.etf_signal.schemas import SEND
from tasks.shared import clients
from tasks.shared.handler import task

ONCE_PER_DAY = IdempotencyConfig(event_key_jmespath="date", expires_after_seconds=7 * 24 * 3600)


def publish_once(report: dict[str, Any]) -> dict[str, Any]:
    # Built per call: the persistence layer takes the (lazily created, test-replaceable) client.
    layer = DynamoDBPersistenceLayer(
        table_name=os.environ["IDEMPOTENCY_TABLE"], boto3_client=clients.client("dynamodb")
    )

    @idempotent_function(data_keyword_argument="report", persistence_store=layer, config=ONCE_PER_DAY)
    def publish(report: dict[str, Any]) -> dict[str, Any]:
        answer = clients.client("sns").publish(
            TopicArn=os.environ["SIGNALS_TOPIC"],
            Subject=report["subject"],
            Message=storage.get_text(report["text_key"]),
        )
        return {
            "message_id": answer["MessageId"],
            "sent_at": datetime.now(UTC).isoformat(),
            "date": report["date"],
            "sent_by": report["run"],
        }

    result: dict[str, Any] = publish(report=report)
    # another run's publish, remembered; a retry or redrive of the one that sent it is not told so
    return {**result, "already_sent": result.get("sent_by") != report["run"]}


@task(SEND)
def _send(report: dict[str, Any]) -> dict[str, Any]:
    return publish_once(report)


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # An in-progress record then expires with this invocation, not in a week, if it dies mid-way.
    ONCE_PER_DAY.register_lambda_context(context)
    return _send(event, context)
