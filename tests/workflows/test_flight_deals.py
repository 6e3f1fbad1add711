"""flight-deals on the local cloud: the producer's records through Kinesis and the Pipe to the real
definition and handlers. Asserts the prices table, the rejected records in S3, the deal alerts
and the failure path (the batch parked to be replayed, then an alert that says where and how)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.exceptions import DynamodbException
from moto.dynamodb.responses import DynamoHandler

from localcloud import LocalCloud, execution_roles, mock_config, run_files
from localcloud.engine import clock
from localcloud.fakes.aviasales import FakeAviasales
from tasks.flight_deals import producer, replay
from tasks.flight_deals.aviasales import AviasalesClient
from tasks.flight_deals.producer import encode, fetch_records, put_records
from tasks.flight_deals.records import batch_id, from_month_matrix
from tests import counters
from tests.conftest import Inbox
from tests.workflows.conftest import Deployed, deploy_workflows, mocks
from tests.workflows.policy_edges import (
    ALERT,
    SNS_FLAKY_THEN_DENIED,
    UNALERTED,
    a_flaky_alert_is_retried_and_sent,
    a_malformed_task_event_is_alerted,
    an_alert_that_cannot_be_sent_does_not_hide_the_failure,
    every_function_survives_a_transient_error_and_a_throttle,
    failed_errors,
    repeated_alerts_are_emailed_once_an_hour,
)
from workflows import WORKFLOWS
from workflows.policies import EMAILED_ONCE
from workflows.registry import ALERT_WINDOWS, ALERTS_TOPIC

WF = "flight-deals"
RULES = [
    {"name": "aeroflot-cheap", "max_cost": 5000, "airline": "Aeroflot", "currency": "rub"},
    {"name": "moscow-cheap", "max_cost": 2000, "origin": "LED", "destination": "MOW"},
]
# Cheap routes first, then a far one with no deals: some batches alert, some do not.
ROUTES = [("LED", "KZN"), ("LED", "MOW"), ("MOW", "KZN"), ("LED", "HKT")]
MONTHS = [f"{year}-{month:02d}" for year in (2026, 2027) for month in range(1, 13)] + [
    f"2028-{m:02d}" for m in range(1, 13)
]
MALFORMED = [
    b"not json at all",
    b"[1, 2, 3]",
    b'{"record_id": "x"}',
    json.dumps({"origin": "LED"}).encode(),
]


@pytest.fixture(scope="module")
def app(local_cloud: LocalCloud) -> Deployed:
    deployed = deploy_workflows(local_cloud, WF)
    deployed.client("ssm").put_parameter(
        Name="/pyflows/local/flight-deals/deal-rules", Type="String", Value=json.dumps(RULES), Overwrite=True
    )
    return deployed


@pytest.fixture
def flights(app: Deployed) -> Deployed:
    """Empty table, bucket and idempotency records; stream drained; no faults."""
    app.empty(WF, "prices", "idempotency", "batches")
    app.clear_faults()
    app.cloud.streams.drain(timeout=300)
    app.cloud.streams.deliveries.clear()
    return app


@pytest.fixture
def deals_inbox(flights: Deployed) -> Inbox:
    return flights.inbox(flights.resource(WF, "deals"))


@pytest.fixture
def alerts(flights: Deployed) -> Inbox:
    return flights.inbox(flights.resource(WF, "alerts"))


@pytest.fixture(scope="module")
def aviasales() -> Iterator[FakeAviasales]:
    with FakeAviasales(seed=11, token="local-aviasales-token") as fake:
        yield fake


def produce(app: Deployed, entries: list[tuple[bytes, str]]) -> None:
    stream = app.resource(WF, "price-records").rsplit("/", 1)[1]
    put_records(app.client("kinesis"), stream, entries)


def deliver(app: Deployed, window: int = 4, history: bool = True) -> list[dict[str, Any]]:
    """Deliver the stream through the Pipe (fire and forget, as deployed), `window` batches at a
    time, and wait for their executions: all at once would only queue on cold Lambda workers."""
    runs: list[dict[str, Any]] = []
    with clock.instant():
        while True:
            delivered = sum(app.cloud.streams.poll_once() for _ in range(window))
            deliveries = list(app.cloud.streams.deliveries)
            app.cloud.streams.deliveries.clear()
            assert all(d.ok for d in deliveries), deliveries
            runs += [run_of(app, d.detail, history) for d in deliveries]
            if not delivered:
                break
    assert all(r["status"] == "SUCCEEDED" for r in runs), [(r["error"], r["cause"]) for r in runs]
    return runs


def run_of(app: Deployed, arn: str, history: bool = True, timeout: float = 600) -> dict[str, Any]:
    """The execution once it has ended: status, input, output, states entered, history."""
    sfn = app.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{arn} still running"
        time.sleep(0.05)
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn) if history else []
    events = [event for page in pages for event in page["events"]]
    if history:
        counters.HISTORIES[WF].append(events)
    return {
        "arn": arn,
        "status": described["status"],
        "error": described.get("error"),
        "cause": described.get("cause"),
        "input": json.loads(described["input"]),
        "output": json.loads(described["output"]) if described.get("output") else None,
        "states": [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e],
        "events": events,
    }


def pipe_batch(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records as the pipe hands them to the workflow: Kinesis records, data in base64."""
    return [
        {"data": base64.b64encode(d).decode(), "partitionKey": k, "sequenceNumber": f"{i:056d}"}
        for i, (d, k) in enumerate(encode(records))
    ]


def run_batch(app: Deployed, batch: list[dict[str, Any]]) -> dict[str, Any]:
    """The workflow run on one batch, synchronously as the pipe starts it; Retry backoff takes no time."""
    sfn, machine = app.client("stepfunctions"), app.outputs[WF]["state_machine_arn"]
    with clock.instant():
        result = sfn.start_sync_execution(stateMachineArn=machine, input=json.dumps(batch))
    return run_of(app, result["executionArn"])


def stored(app: Deployed) -> list[str]:
    pages = app.client("dynamodb").get_paginator("scan")
    table = app.resource(WF, "prices")
    pages = pages.paginate(TableName=table, ProjectionExpression="record_id")  # moto serialises slowly
    return [i["record_id"]["S"] for p in pages for i in p["Items"]]


def s3_documents(app: Deployed, prefix: str) -> dict[str, Any]:
    s3, bucket = app.client("s3"), app.resource(WF, "batches")
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for o in page.get("Contents", [])
    ]
    return {k: json.loads(s3.get_object(Bucket=bucket, Key=k)["Body"].read()) for k in keys}


def is_deal(data: str) -> bool:
    """RULES, written out: Aeroflot under 5,000, or LED to MOW under 2,000 (none of the malformed
    records has a price)."""
    try:
        record = json.loads(base64.b64decode(data))
        cost = record["cost"]
    except (ValueError, TypeError, KeyError):
        return False
    return (cost < 5000 and record["gate"] == "Aeroflot") or (
        cost < 2000 and (record["origin"], record["destination"]) == ("LED", "MOW")
    )


def expected_deal_batches(runs: list[dict[str, Any]]) -> set[str]:
    return {batch_id(r["input"]) for r in runs if any(is_deal(record["data"]) for record in r["input"])}


def alerted_batches(inbox: Inbox) -> list[str]:
    return [m.splitlines()[0].rsplit(" ", 1)[1].rstrip(":") for m in inbox.messages()]


@pytest.mark.slow
def test_ten_thousand_records_are_stored_once_rejected_with_reasons_and_alerted_per_batch(
    flights: Deployed, aviasales: FakeAviasales, deals_inbox: Inbox, alerts: Inbox
) -> None:
    api = AviasalesClient(aviasales.token, aviasales.url)
    valid = fetch_records(api, ROUTES, MONTHS)[:9_300]
    entries = encode(valid)
    # 700 malformed records spread through the stream (every 14th position).
    for i in range(700):
        entries.insert(i * 14 + 7, (MALFORMED[i % len(MALFORMED)], f"bad-{i}"))
    assert len(entries) == 10_000

    produce(flights, entries)
    runs = deliver(flights, history=False)  # histories of 100 alike executions add nothing

    assert sum(len(r["input"]) for r in runs) == 10_000
    ids = stored(flights)
    assert len(ids) == len(set(ids)) == len({r["record_id"] for r in valid})
    assert set(ids) == {r["record_id"] for r in valid}
    rejected = [r for doc in s3_documents(flights, "rejected/").values() for r in doc["rejected"]]
    assert len(rejected) == 700 and all(r["reason"] for r in rejected)
    bad = {data for data, _ in entries if data in MALFORMED}
    assert {json.dumps(r["reason"].split(":")[0]) for r in rejected} >= {'"data"', '"record"'}
    assert {base64.b64decode(r["data"]) for r in rejected} == bad
    expected = expected_deal_batches(runs)
    assert 0 < len(expected) < len(runs)  # the test data has batches with and without deals
    sent = alerted_batches(deals_inbox)
    assert sorted(sent) == sorted(expected)  # one alert per batch with deals, none without
    assert {r["output"]["batch_id"] for r in runs if r["output"]["alerted"]} == expected
    # the only alerts: one per batch that brought rejected records, none a failure
    told = [m.split(" records of batch ", 1)[1].split(":")[0] for m in alerts.messages()]
    assert sorted(told) == sorted(r["output"]["batch_id"] for r in runs if r["output"]["rejected"])


def test_a_batch_delivered_twice_stores_nothing_twice_and_alerts_once(
    flights: Deployed, aviasales: FakeAviasales, deals_inbox: Inbox
) -> None:
    records = fetch_records(AviasalesClient(aviasales.token, aviasales.url), [("LED", "KZN")], ["2026-12"])
    produce(flights, [*encode(records[:80]), (b"oops", "bad")])
    [first] = deliver(flights)
    assert first["output"]["alerted"] is True
    before = sorted(stored(flights))

    again = flights.client("stepfunctions").start_sync_execution(
        stateMachineArn=flights.outputs[WF]["state_machine_arn"], input=json.dumps(first["input"])
    )
    second = run_of(flights, again["executionArn"])

    assert second["status"] == "SUCCEEDED"
    assert second["output"] == first["output"]
    assert sorted(stored(flights)) == before and len(before) == 80
    assert len(alerted_batches(deals_inbox)) == 1
    assert list(s3_documents(flights, "rejected/")) == [f"rejected/{first['output']['batch_id']}.json"]


def test_a_batch_without_deals_is_stored_and_alerts_nobody(
    flights: Deployed, aviasales: FakeAviasales, deals_inbox: Inbox
) -> None:
    records = fetch_records(AviasalesClient(aviasales.token, aviasales.url), [("LED", "HKT")], ["2026-12"])
    produce(flights, encode(records))
    [run] = deliver(flights)
    assert run["states"][-2:] == ["No Deals", "Batch Done"]
    assert run["output"] == {**run["output"], "deals": 0, "alerted": False, "rejected": 0}
    assert len(stored(flights)) == len(records)
    assert deals_inbox.messages() == []


def test_a_batch_with_rejected_records_alerts_how_many_and_where_emailed_once_an_hour(
    flights: Deployed,
) -> None:
    """Rejected records are not stored: the alerts topic says how many and where they are kept; the
    first such alert of the hour is emailed, the next ones only reach the inbox."""
    key = {"alert": {"S": "flight-deals Decode Batch RecordsRejected"}}
    flights.client("dynamodb").delete_item(TableName=flights.resource(WF, ALERT_WINDOWS), Key=key)
    alerts = Inbox(flights.cloud.client, flights.resource(WF, ALERTS_TOPIC), raw=False)

    def batch(cost: int, *junk: bytes) -> list[dict[str, Any]]:
        fare = {"origin": "LED", "destination": "HKT", "depart_date": "2026-12-14", "value": cost}
        record = from_month_matrix({**fare, "gate": "S7", "found_at": "2026-12-01T09:30:00"}, "rub")
        data = [json.dumps(record).encode(), *junk]
        return [{"data": base64.b64encode(d).decode(), "sequenceNumber": str(i)} for i, d in enumerate(data)]

    runs = [
        flights.run(WF, b) for b in (batch(30100, b"not json"), batch(30200, b"{}", b"[1]"), batch(30300))
    ]

    assert [r.status for r in runs] == ["SUCCEEDED"] * 3
    assert [(r.output["stored"], r.output["rejected"]) for r in runs] == [(1, 1), (1, 2), (1, 0)]
    bucket, (one, two) = flights.resource(WF, "batches"), alerts.notifications()
    where = f"s3://{bucket}/rejected/{runs[0].output['batch_id']}.json"
    assert one["Subject"] == "[flight-deals] 1 record rejected"
    assert one["Message"].startswith(
        f"Workflow flight-deals rejected 1 of the 2 records of batch {runs[0].output['batch_id']}: "
    )
    assert f"kept whole, each with its reason, at {where} (aws s3 cp {where} -)" in one["Message"]
    assert two["Subject"] == "[flight-deals] 2 records rejected"
    assert [n["MessageAttributes"]["emailed"]["Value"] for n in (one, two)] == ["yes", "no"]
    assert list(s3_documents(flights, "rejected/")) == sorted(
        f"rejected/{r.output['batch_id']}.json" for r in runs[:2]
    )


@contextmanager
def throttled_writes(table: str, error_every: int = 3) -> Iterator[dict[str, int]]:
    """DynamoDB (the local cloud's, in this process) throttling BatchWriteItem on `table`: every
    `error_every`-th call fails with ProvisionedThroughputExceededException, the others write only
    the first half of the items and return the rest as UnprocessedItems, as AWS does under load."""
    original = DynamoHandler.batch_write_item
    counts = {"calls": 0, "errors": 0, "unprocessed": 0}
    lock = threading.Lock()

    def throttled(handler: Any) -> Any:
        requests = handler.body.get("RequestItems", {})
        if table not in requests:
            return original(handler)
        with lock:
            counts["calls"] += 1
            refuse = counts["calls"] % error_every == 0
            counts["errors"] += refuse
        if refuse:
            raise DynamodbException(
                "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded",
            )
        items = requests[table]
        keep, later = items[: (len(items) + 1) // 2], items[(len(items) + 1) // 2 :]
        handler.body = {**handler.body, "RequestItems": {**requests, table: keep}}
        result = original(handler)
        if later:
            with lock:
                counts["unprocessed"] += len(later)
            cast(dict[str, Any], result.result)["UnprocessedItems"] = {table: later}
        return result

    DynamoHandler.batch_write_item = throttled  # type: ignore[method-assign,assignment]
    try:
        yield counts
    finally:
        DynamoHandler.batch_write_item = original  # type: ignore[method-assign]


def test_throttled_dynamodb_writes_lose_no_record(flights: Deployed, aviasales: FakeAviasales) -> None:
    records = fetch_records(
        AviasalesClient(aviasales.token, aviasales.url), [("MOW", "KZN")], ["2027-02", "2027-03"]
    )
    produce(flights, encode(records))

    with throttled_writes(flights.resource(WF, "prices")) as counts:
        runs = deliver(flights)

    assert counts["errors"] > 0 and counts["unprocessed"] > 0
    assert all(r["status"] == "SUCCEEDED" for r in runs)
    assert sorted(stored(flights)) == sorted(r["record_id"] for r in records)


def test_writes_left_unprocessed_are_written_again_by_the_workflow_and_lose_no_record(
    flights: Deployed, aviasales: FakeAviasales, alerts: Inbox
) -> None:
    """RecordsNotStored (DynamoDB left items unprocessed past the handler's rounds): the workflow
    runs the whole, idempotent, write again after a backoff instead of failing the batch."""
    records = fetch_records(AviasalesClient(aviasales.token, aviasales.url), [("LED", "KZN")], ["2027-05"])
    flights.inject(WF, "store-records", "error", times=2, error_type="RecordsNotStored")
    batch = pipe_batch(records[:20])

    run = run_batch(flights, batch)

    assert run["status"] == "SUCCEEDED"
    failed = [e["taskFailedEventDetails"]["error"] for e in run["events"] if e["type"] == "TaskFailed"]
    assert failed == ["RecordsNotStored", "RecordsNotStored"]
    assert sorted(stored(flights)) == sorted(r["record_id"] for r in records[:20])
    assert alerts.messages() == []


def test_writes_failing_after_retries_alert_and_park_the_batch_for_replay(
    flights: Deployed, aviasales: FakeAviasales, alerts: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    records = fetch_records(AviasalesClient(aviasales.token, aviasales.url), [("LED", "KZN")], ["2027-04"])
    # a refusal says what was refused at the end of a long message: the listing keeps it whole
    refused = (
        "An error occurred (AccessDeniedException) when calling the BatchWriteItem operation: User: "
        "arn:aws:sts::123456789012:assumed-role/pyflows-local-flight-deals-store-records/"
        "pyflows-local-flight-deals-store-records is not authorized to perform: dynamodb:BatchWriteItem "
        "on resource: arn:aws:dynamodb:us-east-1:123456789012:table/pyflows-local-flight-deals-prices"
    )
    flights.inject(WF, "store-records", "error", error_type="RecordsNotStored", message=refused)
    batch = pipe_batch(records[:20])

    run = run_batch(flights, batch)

    assert run["status"] == "FAILED" and run["error"] == "RecordsNotStored"
    assert run["states"][-4:] == ["Park Batch", *ALERT]
    [(key, parked)] = s3_documents(flights, "parked/").items()
    assert key == f"parked/{batch_id(batch)}.json" and parked["batch"] == batch
    # the alert says where the batch is and the command that runs it again
    [alert] = alerts.messages()
    assert "RecordsNotStored" in alert and run["arn"] in alert
    assert alert.endswith(
        f") Its batch is parked at s3://{flights.resource(WF, 'batches')}/{key}: once the cause is "
        f"fixed, python -m tasks.flight_deals.replay --env local --key {key} runs it again. {EMAILED_ONCE}"
    )
    assert parked["error"]["Error"] == "RecordsNotStored"

    # The operator's replay: while the fault lasts the batch fails again and stays parked, since
    # its first parking; once the fault is gone, the batch is stored in full and leaves parked/.
    bucket = flights.resource(WF, "batches")
    with clock.instant():
        assert replay.main(["--env", "local", "--list"]) == 0
        assert capsys.readouterr().out.splitlines() == [
            f"{key}  parked {parked['parked_at']}  by {run['arn']}",
            f"  RecordsNotStored: {refused}",
            f"1 batch(es) parked in {bucket}",
        ]
        assert replay.main(["--env", "local"]) == 1
        assert capsys.readouterr().out.splitlines() == [
            f"{key}: failed again (RecordsNotStored: {refused}); still parked"
        ]
        assert replay.main(["--env", "local", "--list", "--json"]) == 0
        [again] = json.loads(capsys.readouterr().out)["parked"]
        flights.clear_faults()
        assert replay.main(["--env", "local", "--key", key]) == 0
    assert again["parked_at"] == parked["parked_at"] != again["last_parked_at"]
    assert again["failures"] == 2 and again["error"] == "RecordsNotStored"
    assert refused in again["cause"]
    assert again["execution"] != run["arn"] and again["execution"].startswith(run["arn"].rsplit(":", 2)[0])
    assert capsys.readouterr().out.splitlines() == [f"{key}: replayed, 20 records stored; no longer parked"]
    assert len(alerts.messages()) == 1  # the replay that failed again alerted
    assert s3_documents(flights, "parked/") == {}
    assert sorted(stored(flights)) == sorted(r["record_id"] for r in records[:20])
    assert replay.main(["--env", "local"]) == 0  # nothing left to replay


def test_a_record_too_large_to_start_a_run_is_given_up_on_listed_and_the_stream_flows_on(
    flights: Deployed, aviasales: FakeAviasales, capsys: pytest.CaptureFixture[str]
) -> None:
    """StartExecution refuses the batch holding it (over 256 KiB): no execution starts, so no failure
    path runs. The pipe halves the batch down to that record, gives up on it after its retries,
    describes it in its dead-letter queue (which --list shows, by shard and sequence numbers) and
    goes on: the other records are stored."""
    records = fetch_records(AviasalesClient(aviasales.token, aviasales.url), [("LED", "KZN")], ["2027-06"])
    produce(flights, encode(records[:2]))
    produce(flights, [(b"x" * 200_000, "too-large")])
    produce(flights, encode(records[2:4]))

    with clock.instant():
        flights.cloud.streams.drain(timeout=300)
    deliveries = list(flights.cloud.streams.deliveries)
    flights.cloud.streams.deliveries.clear()

    assert [(d.records, d.attempts) for d in deliveries if not d.ok] == [(1, 6)]  # MaximumRetryAttempts 5
    runs = [run_of(flights, d.detail, False) for d in deliveries if d.ok]
    assert [r["status"] for r in runs] == ["SUCCEEDED"] * len(runs)
    assert sorted(stored(flights)) == sorted(r["record_id"] for r in records[:4])
    kinesis, stream = flights.client("kinesis"), flights.resource(WF, "price-records").rsplit("/", 1)[1]
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    assert replay.main(["--env", "local", "--list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    [dead] = listed["dead_letters"]
    assert listed["queue"] == "pyflows-local-flight-deals-price-records-dead-letters"
    assert dead["shard"] == shard and dead["records"] == 1
    assert dead["first_sequence_number"] == dead["last_sequence_number"]
    assert "262144" in dead["error"]
    assert replay.main(["--env", "local", "--list"]) == 0  # read, not taken: listed again
    lines = capsys.readouterr().out.splitlines()
    assert lines[-3].startswith(
        f"{shard} {dead['first_sequence_number']}..{dead['last_sequence_number']}  1 record(s)"
    )
    assert lines[-1].endswith("never started (workflows/README.md: flight-deals)")
    flights.client("sqs").purge_queue(
        QueueUrl=flights.client("sqs").get_queue_url(QueueName=listed["queue"])["QueueUrl"]
    )


def test_a_batch_that_cannot_be_parked_still_fails_with_one_alert_saying_so(
    flights: Deployed, alerts: Inbox
) -> None:
    for name in ("decode-batch", "park-batch"):
        flights.inject(WF, name, "error", error_type="Broken")
    sfn, machine = flights.client("stepfunctions"), flights.outputs[WF]["state_machine_arn"]

    result = sfn.start_sync_execution(
        stateMachineArn=machine, input=json.dumps([{"data": "", "sequenceNumber": "1"}])
    )
    run = run_of(flights, result["executionArn"])

    assert run["status"] == "FAILED" and run["error"] == "Broken"
    assert run["states"] == ["Receive Batch", "Decode Batch", "Park Batch", "Batch Not Parked", *ALERT]
    [alert] = alerts.messages()
    assert "failed with Broken: " in alert and "Its batch could not be parked in S3 (Broken: " in alert
    assert alert.endswith(f"): it is only in the stream now. {EMAILED_ONCE}")


def acting_as(app: Deployed, function: str, service: str) -> Any:
    """A client that acts as the function's execution role, as the function's own code does."""
    name = app.function(WF, function)
    role = app.client("lambda").get_function_configuration(FunctionName=name)["Role"]
    session = execution_roles.credentials(role, name)
    return boto3.client(
        service,
        endpoint_url=app.cloud.endpoint,
        region_name=app.cloud.region,
        aws_access_key_id=session["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=session["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=session["AWS_SESSION_TOKEN"],
    )


def test_park_batch_reaches_only_the_parked_batches_and_still_counts_a_batch_failed_twice(
    flights: Deployed,
) -> None:
    """The batches bucket also holds the records Decode Batch rejected: Park Batch's role may read
    and write under parked/ alone, and S3 refuses it the rest (AccessDenied). Its first parking of
    a batch still reads a key not there yet as NoSuchKey, and its next counts the second failure."""
    bucket, batch = flights.resource(WF, "batches"), list(WORKFLOWS[WF].example_input)
    flights.client("s3").put_object(Bucket=bucket, Key="rejected/earlier.json", Body=b"{}")
    flights.inject(WF, "decode-batch", "error", error_type="Broken")

    first, again = run_batch(flights, batch), run_batch(flights, batch)

    assert [first["error"], again["error"]] == ["Broken", "Broken"]
    assert first["states"][-4:] == again["states"][-4:] == ["Park Batch", *ALERT]
    [(key, parked)] = s3_documents(flights, "parked/").items()
    assert key == f"parked/{batch_id(batch)}.json"
    assert parked["failures"] == 2 and parked["execution"] == again["arn"]
    s3 = acting_as(flights, "park-batch", "s3")
    assert json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) == parked
    for refused in (
        lambda: s3.get_object(Bucket=bucket, Key="rejected/earlier.json"),
        lambda: s3.put_object(Bucket=bucket, Key="rejected/earlier.json", Body=b"[]"),
        lambda: s3.get_object(Bucket=bucket, Key="parked"),  # the prefix is parked/, not parked
    ):
        with pytest.raises(ClientError) as denied:
            refused()
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert flights.client("s3").get_object(Bucket=bucket, Key="rejected/earlier.json")["Body"].read() == b"{}"


def test_every_lambda_task_survives_a_transient_error_and_a_throttle(
    flights: Deployed, aviasales: FakeAviasales, deals_inbox: Inbox
) -> None:
    records = fetch_records(AviasalesClient(aviasales.token, aviasales.url), [("LED", "KZN")], ["2027-05"])

    # Park Batch runs only on the way to the alert: ParkingFlaky reaches its retriers
    run = every_function_survives_a_transient_error_and_a_throttle(
        flights, WF, pipe_batch(records), besides=["park-batch"]
    )

    assert run.output["stored"] == len(records) == len(stored(flights))
    assert len(alerted_batches(deals_inbox)) == 1


def test_deal_rules_unreadable_for_a_moment_are_read_again(
    flights: Deployed, aviasales: FakeAviasales
) -> None:
    """Not the default rule: a settings store that failed is retried, not taken as unset."""
    records = fetch_records(AviasalesClient(aviasales.token, aviasales.url), [("LED", "KZN")], ["2027-05"])
    flights.inject(WF, "find-deals", "error", times=1, error_type="SettingUnavailable")

    run = flights.run(WF, pipe_batch(records))

    assert run.status == "SUCCEEDED" and run.output["deals"] > 0
    assert failed_errors(run) == ["SettingUnavailable"] and run.states.count("Find Deals") == 1


def test_the_producer_command_reads_the_api_with_the_secret_token_and_feeds_the_workflow(
    flights: Deployed, aviasales: FakeAviasales
) -> None:
    flights.client("secretsmanager").create_secret(
        Name="pyflows-local-flight-deals-aviasales-token", SecretString=aviasales.token
    )
    argv = ["--env", "local", "--route", "LED-AER", "--month", "2027-06", "--api-url", aviasales.url]

    assert producer.main(argv) == 0

    expected = fetch_records(AviasalesClient(aviasales.token, aviasales.url), [("LED", "AER")], ["2027-06"])
    runs = deliver(flights)
    assert sum(r["output"]["received"] for r in runs) == len(expected)
    assert sorted(stored(flights)) == sorted(r["record_id"] for r in expected)


def test_the_producer_locally_reads_the_fake_its_local_cloud_records_with_the_fakes_token(
    flights: Deployed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No token in the local environment: the fake's own, with --api-url too; without --api-url, the
    fake where the local cloud at the local endpoint says it serves (not its default port)."""
    secrets = flights.client("secretsmanager")
    with contextlib.suppress(secrets.exceptions.ResourceNotFoundException):
        secrets.delete_secret(SecretId=producer_secret(flights), ForceDeleteWithoutRecovery=True)
    monkeypatch.setattr(run_files, "RUN_DIR", tmp_path)
    port = int(str(flights.env.endpoint).rsplit(":", 1)[1])
    with FakeAviasales(seed=5) as recorded, FakeAviasales(seed=7) as named:
        run_files.record_fakes(port, {"aviasales": recorded.url})
        run_files.pid_file(port).write_text(str(os.getpid()))  # the local cloud's own: this process
        expected = []
        for fake, month, api_url in ((recorded, "2027-07", []), (named, "2027-08", ["--api-url", named.url])):
            argv = ["--env", "local", "--route", "LED-AER", "--month", month, *api_url]
            assert producer.main(argv) == 0
            expected += fetch_records(AviasalesClient(fake.token, fake.url), [("LED", "AER")], [month])
    deliver(flights)
    assert sorted(stored(flights)) == sorted(r["record_id"] for r in expected)


def producer_secret(app: Deployed) -> str:
    return app.env.resource_name(WF, producer.TOKEN_SECRET)


def test_the_example_batch_the_console_offers_stores_its_record_and_alerts_its_deal(
    flights: Deployed, deals_inbox: Inbox
) -> None:
    run = flights.run(WF, WORKFLOWS[WF].example_input)
    assert run.status == "SUCCEEDED"
    assert run.output is not None and (run.output["stored"], run.output["deals"]) == (1, 1)
    [alert] = deals_inbox.messages()
    assert "LED" in alert and "KZN" in alert and "3890" in alert


def test_hand_made_batches_numbered_alike_each_alert_and_one_started_twice_alerts_once(
    flights: Deployed, deals_inbox: Inbox
) -> None:
    """Batches started from the CLI or the console have no stream identity: every record is
    sequenceNumber "1" (as in the example). Their content tells them apart."""

    def by_hand(cost: int, junk: bytes) -> list[dict[str, Any]]:
        fare = {"origin": "LED", "destination": "KZN", "depart_date": "2026-12-14", "value": cost}
        entry = {**fare, "gate": "Aeroflot", "found_at": "2026-12-01T09:30:00"}
        record = json.dumps(from_month_matrix(entry, "RUB")).encode()
        return [{"data": base64.b64encode(data).decode(), "sequenceNumber": "1"} for data in (record, junk)]

    first, second = by_hand(3890, b"not json"), by_hand(4120, b"not json either")
    runs = [flights.run(WF, batch) for batch in (first, second, first)]

    assert [r.status for r in runs] == ["SUCCEEDED"] * 3
    outputs = [r.output for r in runs]
    assert [o["alerted"] for o in outputs] == [True] * 3
    assert outputs[0]["batch_id"] != outputs[1]["batch_id"] and outputs[2] == outputs[0]
    alerted = alerted_batches(deals_inbox)
    assert sorted(alerted) == sorted([outputs[0]["batch_id"], outputs[1]["batch_id"]])  # the same batch: once
    rejected = s3_documents(flights, "rejected/")
    assert sorted(rejected) == sorted(f"rejected/{o['batch_id']}.json" for o in outputs[:2])
    assert {base64.b64decode(d["rejected"][0]["data"]) for d in rejected.values()} == {
        b"not json",
        b"not json either",
    }


def test_the_producer_without_its_stream_says_to_deploy_first(
    flights: Deployed,
    aviasales: FakeAviasales,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(producer, "STREAM", "not-deployed")  # as before flight-deals is deployed
    monkeypatch.setattr(producer, "_token", lambda env, fake_token: aviasales.token)
    argv = ["--env", "local", "--route", "LED-AER", "--month", "2027-06", "--api-url", aviasales.url]
    assert producer.main(argv) == 2  # the environment lacks it, as deploy's and the CLI's exit 2
    assert capsys.readouterr().err == (
        "no stream pyflows-local-flight-deals-not-deployed in local: deploy flight-deals first "
        "(python deploy.py --env local)\n"
    )


def test_a_batch_is_parked_before_a_flaky_alert_is_sent(flights: Deployed) -> None:
    batch = [{"data": base64.b64encode(b"{}").decode(), "sequenceNumber": "41"}]

    run = a_flaky_alert_is_retried_and_sent(flights, WF, "Decode Batch", "Broken", batch)

    assert run.states == ["Receive Batch", "Decode Batch", "Park Batch", *ALERT]
    assert list(s3_documents(flights, "parked/")) == [f"parked/{batch_id(batch)}.json"]


def test_a_batch_is_parked_even_when_the_alert_cannot_be_sent(flights: Deployed) -> None:
    batch = [{"data": base64.b64encode(b"{}").decode(), "sequenceNumber": "42"}]

    run = an_alert_that_cannot_be_sent_does_not_hide_the_failure(flights, WF, "Decode Batch", "Broken", batch)

    assert run.states == ["Receive Batch", "Decode Batch", "Park Batch", *UNALERTED]
    [(key, parked)] = s3_documents(flights, "parked/").items()
    assert key == f"parked/{batch_id(batch)}.json" and parked["batch"] == batch


def test_a_malformed_task_event_parks_the_batch_and_is_alerted(flights: Deployed, alerts: Inbox) -> None:
    batch = [{"data": base64.b64encode(b"{}").decode(), "sequenceNumber": "43"}]

    run = a_malformed_task_event_is_alerted(flights, WF, "Decode Batch", batch)

    assert run.states == ["Receive Batch", "Decode Batch", "Park Batch", *ALERT]
    assert list(s3_documents(flights, "parked/")) == [f"parked/{batch_id(batch)}.json"]
    [alert] = alerts.messages()
    assert "MalformedTaskInput" in alert


# Paths that need AWS itself to misbehave (SNS failing, Park Batch's Lambda flaky) are forced with
# mocked test cases; the other states run for real.
MOCKS = mocks(
    {
        "flight-deals": {
            "ParkingFlaky": {"Decode Batch": "Broken", "Park Batch": "LambdaFlakyThenBroken"},
            "NothingWorks": {
                "Decode Batch": "Broken",
                "Alert Failure": "SnsDown",
                "Park Batch": "LambdaFlakyThenBroken",
            },
        }
    },
    {
        "Broken": {"0": {"Throw": {"Error": "Broken", "Cause": "decoder crashed"}}},
        "SnsDown": SNS_FLAKY_THEN_DENIED,
        "LambdaFlakyThenBroken": {
            "0": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "service error"}},
            "1": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "throttled"}},
            "2": {"Throw": {"Error": "S3Unavailable", "Cause": "bucket unreachable"}},
        },
    },
)


@pytest.fixture
def mocked(flights: Deployed) -> Iterator[Deployed]:
    with mock_config.loaded(MOCKS):
        yield flights


def test_a_batch_whose_parking_retries_run_out_is_alerted_as_not_parked(
    mocked: Deployed, alerts: Inbox
) -> None:
    run = mocked.run(f"{WF}#ParkingFlaky", [{"data": "", "sequenceNumber": "1"}])

    assert run.status == "FAILED" and run.error == "Broken" and run.cause == "decoder crashed"
    assert run.states[-5:] == ["Park Batch", "Batch Not Parked", *ALERT]
    [alert] = alerts.messages()
    assert "failed with Broken: decoder crashed" in alert
    assert alert.endswith(
        " Its batch could not be parked in S3 (S3Unavailable: bucket unreachable): it is only in the stream now. "
        + EMAILED_ONCE
    )


def test_when_parking_and_alerting_fail_the_execution_still_fails_with_its_error(mocked: Deployed) -> None:
    run = mocked.run(f"{WF}#NothingWorks", [{"data": "", "sequenceNumber": "1"}])

    assert run.status == "FAILED" and run.error == "Broken"
    assert run.states[-6:] == ["Park Batch", "Batch Not Parked", *UNALERTED]
    assert run.cause == (
        "the alert was not sent (SNS.AuthorizationErrorException: topic policy denies): decoder crashed"
    )
    assert failed_errors(run) == [
        "Broken",
        "Lambda.ServiceException",
        "Lambda.TooManyRequestsException",
        "S3Unavailable",
        "SNS.InternalErrorException",
        "SNS.ThrottledException",
        "SNS.AuthorizationErrorException",
    ]


def test_repeated_alerts_are_emailed_once_an_hour(flights: Deployed) -> None:
    repeated_alerts_are_emailed_once_an_hour(
        flights, WF, "Decode Batch", [{"data": base64.b64encode(b"{}").decode(), "sequenceNumber": "43"}]
    )
