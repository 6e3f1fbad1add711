"""Send Report: email subscribers the day's signals, each fund's once.

The day's emails are numbered, and each is published once whatever retries, redrives or runs of
the day happen: an idempotency record keyed on the date and the number (Powertools idempotency,
DynamoDB) keeps the funds it carried. A run walks the day's emails in order and sends, as the next
one, the report's funds none of them carried: the whole report first, then a follow-up with only
the funds a later run of the day signalled (missing at first, fetched once the provider was back).
A run with nothing new sends nothing and is told the day's last email (`already_sent`). Two runs
at once cannot both send an email: the second waits for the first's (the workflow retries
IdempotencyAlreadyInProgressError), then sends only what is still new. A publish that fails leaves
no record, so the next attempt sends it.
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasks.etf_signal import signals, storage
from tasks.etf_signal.schemas import SEND
from tasks.shared import clients
from tasks.shared.handler import task

ONCE_PER_EMAIL = IdempotencyConfig(event_key_jmespath="[date, number]", expires_after_seconds=7 * 24 * 3600)


def email_once(email: dict[str, Any], day: dict[str, Any]) -> dict[str, Any]:
    """The day's email `number`: sent now with `funds`, or the one sent before (the funds it carried)."""
    # Built per call: the persistence layer takes the (lazily created, test-replaceable) client.
    layer = DynamoDBPersistenceLayer(
        table_name=os.environ["IDEMPOTENCY_TABLE"], boto3_client=clients.client("dynamodb")
    )

    @idempotent_function(data_keyword_argument="email", persistence_store=layer, config=ONCE_PER_EMAIL)
    def publish(email: dict[str, Any]) -> dict[str, Any]:
        part, follow_up = signals.only(day, email["funds"]), email["number"] > 0
        answer = clients.client("sns").publish(
            TopicArn=os.environ["SIGNALS_TOPIC"],
            Subject=signals.subject(part, follow_up),
            Message=signals.text(part, follow_up),
        )
        return {
            "message_id": answer["MessageId"],
            "sent_at": datetime.now(UTC).isoformat(),
            "funds": email["funds"],
            "sent_by": email["run"],
        }

    result: dict[str, Any] = publish(email=email)
    return result


def send_new(date: str, run: str) -> dict[str, Any]:
    day = storage.get_json(storage.report_key(date, "json"))
    signalled = [s["ts_code"] for s in day["signals"]]
    sent: set[str] = set()
    emails: list[dict[str, Any]] = []
    for number in itertools.count():  # ends at the first email not sent before: it is sent now
        new = [code for code in signalled if code not in sent]
        if not new:
            break
        emails.append(email_once({"date": date, "number": number, "funds": new, "run": run}, day))
        sent.update(emails[-1]["funds"])
    # a retry or redrive of the run that sent an email is told it sent it, not that it was sent before
    mine = [e for e in emails if e["sent_by"] == run]
    last = (mine or emails)[-1]
    return {
        "message_id": last["message_id"],
        "sent_at": last["sent_at"],
        "already_sent": not mine,
        "emailed": sorted(code for e in mine for code in e["funds"]),
    }


@task(SEND)
def _send(report: dict[str, Any]) -> dict[str, Any]:
    return send_new(report["date"], report["run"])


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # An in-progress record then expires with this invocation, not in a week, if it dies mid-way.
    ONCE_PER_EMAIL.register_lambda_context(context)
    return _send(event, context)
