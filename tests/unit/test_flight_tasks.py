"""flight-deals task Lambdas against moto: decode, store (throttled too), deals, one alert, park."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from tasks.flight_deals import alert_deals, decode_batch, find_deals, park_batch, store_records
from tasks.flight_deals.records import from_month_matrix
from tasks.shared import clients, parameters
from tasks.shared.alerts import EMAILED, EMAILED_ONCE_A_FUNCTION
from tests.conftest import Inbox
from tests.unit.conftest import TEST_ENV, create_table, envelope, handler_environment
from tests.unit.test_flight_records import ENTRY, pipe_record
from workflows.flight_deals import DEAL_RULES_PARAMETER, WORKFLOW
from workflows.registry import ALERT_WINDOWS, ALERT_WINDOWS_TABLE, ALERTS_TOPIC

BUCKET, PRICES, IDEMPOTENCY, WINDOWS = "batches-test", "prices-test", "idempotency-test", "windows-test"
RULES = TEST_ENV.setting_name(DEAL_RULES_PARAMETER)


@pytest.fixture
def resources(aws: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    spec = {t.name: t for t in WORKFLOW.tables}
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    topic = boto3.client("sns").create_topic(Name="deals-test")["TopicArn"]
    alerts = boto3.client("sns").create_topic(Name="alerts-test")["TopicArn"]
    names = {
        "batches": BUCKET,
        "prices": PRICES,
        "idempotency": IDEMPOTENCY,
        "deals": topic,
        ALERTS_TOPIC: alerts,
        ALERT_WINDOWS: WINDOWS,
    }
    handler_environment(monkeypatch, WORKFLOW.functions, names)
    parameters.clear()
    alert_deals.publish_once.cache_clear()
    return {
        "prices": create_table(spec["prices"], PRICES),
        "idempotency": create_table(spec["idempotency"], IDEMPOTENCY),
        "windows": create_table(ALERT_WINDOWS_TABLE, WINDOWS),
        "inbox": Inbox(boto3.client, topic, raw=False),
        "alerts": Inbox(boto3.client, alerts, raw=False),
    }


def records(n: int, cheap_every: int = 4) -> list[dict[str, Any]]:
    return [
        from_month_matrix(
            {
                **ENTRY,
                "depart_date": f"2026-12-{1 + i % 28:02d}",
                "value": 3000 + i if i % cheap_every == 0 else 9000 + i,
            },
            "rub",
        )
        for i in range(n)
    ]


def test_decode_keeps_rejected_records_in_s3_with_their_reason(
    resources: dict[str, Any], context: LambdaContext
) -> None:
    good = records(3)
    batch = [pipe_record(json.dumps(r), i) for i, r in enumerate(good)] + [pipe_record("oops", 9)]

    out = decode_batch.handler(envelope({"records": batch}), context)

    assert out["records"] == good and out["received"] == 4 and out["rejected"] == 1
    assert out["rejected_key"] == f"rejected/{out['batch_id']}.json"
    kept = json.loads(boto3.client("s3").get_object(Bucket=BUCKET, Key=out["rejected_key"])["Body"].read())
    assert kept["rejected"] == [
        {
            "sequence_number": f"{9:056d}",
            "partition_key": "k9",
            "data": batch[-1]["data"],
            "reason": kept["rejected"][0]["reason"],
        }
    ]
    assert kept["rejected"][0]["reason"].startswith("data: not JSON")
    clean = decode_batch.handler(envelope({"records": batch[:3]}), context)
    assert clean["rejected"] == 0 and clean["rejected_key"] is None


def test_a_batch_with_rejected_records_is_counted_and_alerted_saying_where_they_are(
    resources: dict[str, Any], context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    """The alerts topic is told, the first batch of the hour by email, the next ones in the inbox
    alone (tasks.shared.alerts); a batch without rejected records tells no one."""
    good = [pipe_record(json.dumps(r), i) for i, r in enumerate(records(3))]
    first = decode_batch.handler(envelope({"records": [*good, pipe_record("oops", 9)]}), context)
    second = decode_batch.handler(
        envelope({"records": [*good[:1], pipe_record("{}", 7), pipe_record("[]", 8)]}), context
    )
    decode_batch.handler(envelope({"records": good}), context)

    where = f"s3://{BUCKET}/{first['rejected_key']}"
    one, two = resources["alerts"].notifications()
    assert one["Subject"] == "[flight-deals] 1 record rejected"
    assert one["Message"] == (
        f"Workflow flight-deals rejected 1 of the 4 records of batch {first['batch_id']}: the schema "
        f"refused them, so they are not stored. They are kept whole, each with its reason, at {where} "
        f"(aws s3 cp {where} -); the batch's other records are stored. {EMAILED_ONCE_A_FUNCTION}"
    )
    assert two["Subject"] == "[flight-deals] 2 records rejected"
    assert f"rejected 2 of the 3 records of batch {second['batch_id']}" in two["Message"]
    assert f"s3://{BUCKET}/{second['rejected_key']}" in two["Message"]
    assert [n["MessageAttributes"][EMAILED]["Value"] for n in (one, two)] == ["yes", "no"]
    [window] = resources["windows"].scan()["Items"]
    assert window["alert"] == "flight-deals Decode Batch RecordsRejected"
    # and counted, batch by batch, in the RecordsRejected metric (EMF on stdout)
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m["RecordsRejected"] for m in emitted if "RecordsRejected" in m] == [[1.0], [2.0], [0.0]]


def test_a_batch_whose_rejected_records_cannot_be_alerted_fails_to_be_parked(
    resources: dict[str, Any], context: LambdaContext
) -> None:
    """Not stored silently: the batch fails, the workflow parks and alerts it, and its replay alerts
    the rejected records again."""
    boto3.client("sns").delete_topic(TopicArn=os.environ["ALERTS_TOPIC_ARN"])
    batch = [pipe_record(json.dumps(records(1)[0]), 0), pipe_record("oops", 1)]
    with pytest.raises(ClientError, match="NotFound"):
        decode_batch.handler(envelope({"records": batch}), context)
    assert resources["windows"].scan()["Items"] == []  # released: the replay's alert is emailed


def test_store_writes_each_record_once_even_when_the_batch_comes_twice(
    resources: dict[str, Any], context: LambdaContext
) -> None:
    batch: dict[str, Any] = {"batch_id": "b1", "records": records(60)}
    assert store_records.handler(envelope(batch), context)["stored"] == 60
    store_records.handler(envelope(batch), context)
    items = resources["prices"].scan()["Items"]
    assert sorted(i["record_id"] for i in items) == sorted(r["record_id"] for r in batch["records"])
    assert {i["batch_id"] for i in items} == {"b1"}  # each price says which batch brought it


class Throttling:
    """A DynamoDB client that throttles: errors first, then leaves half of each batch unprocessed."""

    def __init__(self, real: Any, errors: int = 2) -> None:
        self.real, self.errors, self.calls = real, errors, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.errors:
            self.errors -= 1
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "BatchWriteItem")
        ((table, requests),) = RequestItems.items()
        keep, later = requests[: (len(requests) + 1) // 2], requests[(len(requests) + 1) // 2 :]
        self.real.batch_write_item(RequestItems={table: keep})
        return {"UnprocessedItems": {table: later} if later else {}}


def test_throttled_writes_are_retried_and_lose_no_record(
    resources: dict[str, Any], context: LambdaContext
) -> None:
    throttling = Throttling(boto3.client("dynamodb"))
    clients.override("dynamodb", throttling)
    batch = {"batch_id": "b2", "records": records(50)}

    out = store_records.handler(envelope(batch), context)

    assert out["stored"] == 50 and out["retried_rounds"] > 0 and throttling.calls > 4
    assert len(resources["prices"].scan()["Items"]) == 50


def test_writes_refused_every_time_raise_a_retryable_error(
    resources: dict[str, Any], context: LambdaContext
) -> None:
    clients.override("dynamodb", Throttling(boto3.client("dynamodb"), errors=10_000))
    store_records.MAX_ROUNDS, saved = 2, store_records.MAX_ROUNDS
    try:
        with pytest.raises(store_records.RecordsNotStored):
            store_records.handler(envelope({"batch_id": "b3", "records": records(3)}), context)
    finally:
        store_records.MAX_ROUNDS = saved


def test_a_write_refused_for_another_reason_than_throttling_fails_at_once(
    resources: dict[str, Any], context: LambdaContext
) -> None:
    class Refusing(Throttling):
        def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
            self.calls += 1
            raise ClientError({"Error": {"Code": "ValidationException"}}, "BatchWriteItem")

    refusing = Refusing(boto3.client("dynamodb"))
    clients.override("dynamodb", refusing)
    with pytest.raises(ClientError, match="ValidationException"):
        store_records.handler(envelope({"batch_id": "b8", "records": records(3)}), context)
    assert refusing.calls == 1  # not retried as if throttled: the workflow decides


def test_find_deals_uses_the_configured_rules_or_the_seeds_rule(
    resources: dict[str, Any], context: LambdaContext
) -> None:
    batch = {"batch_id": "b4", "records": records(8)}  # 2 cheap Aeroflot records (3000, 3004)
    out = find_deals.handler(envelope(batch), context)
    assert out["count"] == 2 and out["subject"] == "2 flight deals found"

    boto3.client("ssm").put_parameter(
        Name=RULES, Type="String", Value='[{"max_cost": 3001, "origin": "LED"}]'
    )
    parameters.clear()
    out = find_deals.handler(envelope(batch), context)
    assert out["count"] == 1 and "LED->KZN 2026-12-01 Aeroflot 3000 RUB" in out["message"]

    boto3.client("ssm").put_parameter(Name=RULES, Type="String", Value="[]", Overwrite=True)
    parameters.clear()
    with pytest.raises(find_deals.InvalidDealRules):
        find_deals.handler(envelope(batch), context)


def test_a_batchs_alert_is_published_once(resources: dict[str, Any], context: LambdaContext) -> None:
    alert = {"batch_id": "b5", "count": 2, "subject": "2 flight deals found", "message": "two deals"}
    first = alert_deals.handler(envelope(alert), context)
    again = alert_deals.handler(envelope(alert), context)
    other = alert_deals.handler(envelope({**alert, "batch_id": "b6"}), context)

    assert first == again and first["alerted"] is True and other["message_id"] != first["message_id"]
    sent = resources["inbox"].notifications()
    assert sorted(m["Subject"] for m in sent) == ["2 flight deals found"] * 2


def test_a_failed_publish_does_not_block_the_retry(resources: dict[str, Any], context: LambdaContext) -> None:
    class Down:
        def publish(self, **kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "InternalError"}}, "Publish")

    alert = {"batch_id": "b7", "count": 1, "subject": "1 flight deal found", "message": "one deal"}
    clients.override("sns", Down())
    with pytest.raises(ClientError):
        alert_deals.handler(envelope(alert), context)
    clients.reset()
    alert_deals.publish_once.cache_clear()
    assert alert_deals.handler(envelope(alert), context)["alerted"] is True
    assert len(resources["inbox"].notifications()) == 1


def test_park_keeps_the_batch_as_delivered_for_redrive(
    resources: dict[str, Any], context: LambdaContext
) -> None:
    batch = [pipe_record("x", 1), pipe_record("y", 2)]
    error = {"Error": "RecordsNotStored", "Cause": "still throttled"}
    execution = "arn:aws:states:us-east-1:123456789012:express:flight-deals:e1:e1"
    out = park_batch.handler(envelope({"batch": batch, "error": error, "execution": execution}), context)

    parked = json.loads(boto3.client("s3").get_object(Bucket=BUCKET, Key=out["key"])["Body"].read())
    assert out["key"].startswith("parked/") and parked["batch"] == batch and parked["error"] == error
    odd = park_batch.handler(envelope({"batch": {"not": "a batch"}, "execution": execution}), context)
    assert odd["key"] == "parked/e1.json"


def test_a_batch_parked_again_keeps_when_it_was_first_parked_and_counts_its_failures(
    resources: dict[str, Any], context: LambdaContext
) -> None:
    batch = [pipe_record("x", 1)]
    first = "arn:aws:states:us-east-1:123456789012:express:flight-deals:pipe-run:e1"
    replayed = "arn:aws:states:us-east-1:123456789012:express:flight-deals:replay-run:e2"
    out = park_batch.handler(
        envelope({"batch": batch, "error": {"Error": "RecordsNotStored"}, "execution": first}), context
    )

    def parked() -> dict[str, Any]:
        body = boto3.client("s3").get_object(Bucket=BUCKET, Key=out["key"])["Body"].read()
        return dict(json.loads(body))

    once = parked()
    assert once["failures"] == 1 and once["last_parked_at"] == once["parked_at"]
    again = {
        "batch": batch,
        "error": {"Error": "AccessDenied", "Cause": "not authorized"},
        "execution": replayed,
    }
    park_batch.handler(envelope(again), context)
    # Park Batch retried by the replay's run (its put done, its answer lost): the same failed run
    park_batch.handler(envelope(again), context)

    twice = parked()
    assert twice["parked_at"] == once["parked_at"]
    assert datetime.fromisoformat(twice["last_parked_at"]) > datetime.fromisoformat(once["parked_at"])
    assert twice["failures"] == 2
    assert twice["execution"] == replayed and twice["error"] == again["error"]  # the latest failure's
