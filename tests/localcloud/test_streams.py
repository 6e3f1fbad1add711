"""Kinesis records reach the state machine behind an EventBridge Pipe, in the Pipes event format."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.engine import clock
from tests.localcloud.helpers import deploy, role, state_machine, wait


def _stream(cloud: LocalCloud, name: str, shards: int = 2) -> str:
    kinesis = cloud.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    arn: str = kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]
    return arn


def _pipe(
    cloud: LocalCloud,
    name: str,
    source: str,
    target: str,
    invocation: str = "REQUEST_RESPONSE",
    **source_params: Any,
) -> None:
    cloud.client("pipes").create_pipe(
        Name=name,
        RoleArn=role(cloud),
        Source=source,
        SourceParameters={
            "KinesisStreamParameters": {"StartingPosition": "LATEST", "BatchSize": 10, **source_params}
        },
        Target=target,
        TargetParameters={"StepFunctionStateMachineParameters": {"InvocationType": invocation}},
    )


def _put(cloud: LocalCloud, stream: str, records: list[dict[str, Any]], key: str | None = None) -> None:
    kinesis = cloud.client("kinesis")
    for i, record in enumerate(records):
        kinesis.put_record(
            StreamName=stream, Data=json.dumps(record).encode(), PartitionKey=key or f"key-{i}"
        )


PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def _inputs(cloud: LocalCloud, machine: str) -> list[list[dict[str, Any]]]:
    """The batches the state machine's executions were started with, oldest first."""
    sfn = cloud.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    described = [sfn.describe_execution(executionArn=e["executionArn"]) for e in executions]
    return [json.loads(d["input"]) for d in sorted(described, key=lambda d: d["startDate"])]


def _data(records: list[dict[str, Any]]) -> list[Any]:
    return [json.loads(base64.b64decode(r["data"])) for r in records]


def test_records_are_delivered_to_the_express_workflow(cloud: LocalCloud) -> None:
    stream_arn = _stream(cloud, "prices")
    machine = state_machine(
        cloud, "consumer", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, kind="EXPRESS"
    )
    _pipe(cloud, "prices-pipe", stream_arn, machine)
    sent = [{"flight": i, "price": 100 + i} for i in range(5)]
    _put(cloud, "prices", sent)

    delivered = cloud.streams.drain()

    assert delivered == 5
    sfn = cloud.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    batches = [
        json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in executions
    ]
    records = [record for batch in batches for record in batch]
    assert (
        sorted((json.loads(base64.b64decode(r["data"])) for r in records), key=lambda r: r["flight"]) == sent
    )
    first = records[0]
    assert first["eventSource"] == "aws:kinesis"
    assert first["eventSourceARN"] == stream_arn
    assert {"partitionKey", "sequenceNumber", "approximateArrivalTimestamp", "eventID"} <= first.keys()
    # Checkpointed: nothing is delivered twice.
    assert cloud.streams.drain() == 0
    _put(cloud, "prices", [{"flight": 99, "price": 1}])
    assert cloud.streams.drain() == 1


def test_failing_batch_is_retried_then_skipped(cloud: LocalCloud) -> None:
    stream_arn = _stream(cloud, "bad")
    machine = state_machine(
        cloud, "failing", {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope"}}}, kind="EXPRESS"
    )
    _pipe(cloud, "bad-pipe", stream_arn, machine, MaximumRetryAttempts=1)
    _put(cloud, "bad", [{"n": 1}])

    cloud.streams.drain()

    [delivery] = cloud.streams.deliveries
    assert not delivery.ok
    assert delivery.attempts == 2
    assert "Nope" in delivery.detail
    assert cloud.streams.drain() == 0


def test_lambda_event_source_mapping_gets_lambda_records(cloud: LocalCloud) -> None:
    stream_arn = _stream(cloud, "to-lambda")
    deploy(cloud, "echo", "echo")
    cloud.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName="echo", StartingPosition="TRIM_HORIZON", BatchSize=10
    )
    _put(cloud, "to-lambda", [{"n": 1}])

    assert cloud.streams.drain() == 1
    [delivery] = cloud.streams.deliveries
    assert delivery.ok
    event = json.loads(delivery.detail)["event"]
    assert json.loads(base64.b64decode(event["Records"][0]["kinesis"]["data"])) == {"n": 1}
    logs = cloud.client("logs").filter_log_events(logGroupName="/aws/lambda/echo", filterPattern="START")
    assert len(logs["events"]) == 1  # delivered once: by the poller, not also by moto's PutRecord


def test_a_batch_holds_at_most_batch_size_records_and_every_record_is_delivered_once_in_order(
    cloud: LocalCloud,
) -> None:
    stream_arn = _stream(cloud, "busy", shards=1)
    machine = state_machine(cloud, "batched", PASS, kind="EXPRESS")
    _pipe(cloud, "busy-pipe", stream_arn, machine, BatchSize=10)
    sent = [{"n": i} for i in range(25)]
    _put(cloud, "busy", sent)

    assert cloud.streams.drain() == 25

    batches = _inputs(cloud, machine)
    assert [len(batch) for batch in batches] == [10, 10, 5]
    assert [record for batch in batches for record in _data(batch)] == sent


def test_a_pipe_record_has_the_fields_aws_gives_it(cloud: LocalCloud) -> None:
    stream_arn = _stream(cloud, "shaped", shards=1)
    machine = state_machine(cloud, "shaped", PASS, kind="EXPRESS")
    _pipe(cloud, "shaped-pipe", stream_arn, machine)
    _put(cloud, "shaped", [{"n": 1}], key="the-key")

    cloud.streams.drain()

    [[record]] = _inputs(cloud, machine)
    shard = cloud.client("kinesis").list_shards(StreamARN=stream_arn)["Shards"][0]["ShardId"]
    assert record == {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": "the-key",
        "sequenceNumber": record["sequenceNumber"],
        "data": base64.b64encode(b'{"n": 1}').decode(),
        "approximateArrivalTimestamp": record["approximateArrivalTimestamp"],
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{record['sequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role(cloud),
        "awsRegion": stream_arn.split(":")[3],
        "eventSourceARN": stream_arn,
    }


def test_a_latest_pipe_skips_what_the_stream_held_before_it_was_made(cloud: LocalCloud) -> None:
    stream_arn = _stream(cloud, "old-news")
    _put(cloud, "old-news", [{"n": "before"}])
    machine = state_machine(cloud, "latest", PASS, kind="EXPRESS")
    _pipe(cloud, "latest-pipe", stream_arn, machine, StartingPosition="LATEST")
    _put(cloud, "old-news", [{"n": "after"}])

    assert cloud.streams.drain() == 1
    assert [_data(batch) for batch in _inputs(cloud, machine)] == [[{"n": "after"}]]


def test_a_stopped_pipe_delivers_nothing_until_it_is_started_again(cloud: LocalCloud) -> None:
    stream_arn = _stream(cloud, "paused")
    machine = state_machine(cloud, "paused", PASS, kind="EXPRESS")
    _pipe(cloud, "paused-pipe", stream_arn, machine)
    pipes = cloud.client("pipes")
    pipes.stop_pipe(Name="paused-pipe")
    _put(cloud, "paused", [{"n": 1}])

    assert cloud.streams.drain() == 0
    pipes.start_pipe(Name="paused-pipe")
    assert cloud.streams.drain() == 1


def test_a_fire_and_forget_pipe_starts_a_standard_workflow_without_waiting_for_it(cloud: LocalCloud) -> None:
    stream_arn = _stream(cloud, "async")
    machine = state_machine(cloud, "standard", PASS)
    _pipe(cloud, "async-pipe", stream_arn, machine, invocation="FIRE_AND_FORGET")
    _put(cloud, "async", [{"n": 1}])

    assert cloud.streams.drain() == 1

    [delivery] = cloud.streams.deliveries
    assert delivery.ok and delivery.attempts == 1
    assert wait(cloud, delivery.detail)["status"] == "SUCCEEDED"
    assert [_data(batch) for batch in _inputs(cloud, machine)] == [[{"n": 1}]]


def _mapping(cloud: LocalCloud, stream_arn: str, function: str, **params: Any) -> str:
    uuid: str = cloud.client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=function, **{"BatchSize": 10, **params}
    )["UUID"]
    return uuid


def test_an_event_source_mapping_invokes_its_function_with_the_whole_batch(cloud: LocalCloud) -> None:
    stream_arn = _stream(cloud, "to-lambda", shards=1)
    deploy(cloud, "echo", "echo")
    _mapping(cloud, stream_arn, "echo", StartingPosition="TRIM_HORIZON")
    _put(cloud, "to-lambda", [{"n": 1}, {"n": 2}, {"n": 3}])

    assert cloud.streams.drain() == 3

    [delivery] = cloud.streams.deliveries
    records = json.loads(delivery.detail)["event"]["Records"]
    assert [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in records] == [
        {"n": 1},
        {"n": 2},
        {"n": 3},
    ]


@pytest.fixture(params=["UTC", "America/New_York", "Asia/Shanghai"])
def local_time_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The process's local time zone (the local cloud runs in it): the machine's need not be UTC."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_an_event_source_mapping_starts_reading_where_its_starting_position_says(
    cloud: LocalCloud, local_time_zone: str
) -> None:
    stream_arn = _stream(cloud, "to-lambda", shards=1)
    deploy(cloud, "echo", "echo")
    _put(cloud, "to-lambda", [{"n": "before"}])
    time.sleep(1)  # moto stamps a mapping's creation in whole seconds
    oldest = _mapping(cloud, stream_arn, "echo", StartingPosition="TRIM_HORIZON")
    latest = _mapping(cloud, stream_arn, "echo", StartingPosition="LATEST")
    _put(cloud, "to-lambda", [{"n": "after"}])

    assert cloud.streams.drain() == 3

    delivered = {d.consumer: d.records for d in cloud.streams.deliveries}
    assert delivered == {oldest: 2, latest: 1}


def test_a_disabled_event_source_mapping_delivers_nothing(cloud: LocalCloud) -> None:
    stream_arn = _stream(cloud, "to-lambda")
    deploy(cloud, "echo", "echo")
    _mapping(cloud, stream_arn, "echo", StartingPosition="TRIM_HORIZON", Enabled=False)
    _put(cloud, "to-lambda", [{"n": 1}])

    assert cloud.streams.drain() == 0
    assert cloud.streams.deliveries == []


def test_a_batch_the_function_fails_on_is_retried_then_skipped(cloud: LocalCloud) -> None:
    stream_arn = _stream(cloud, "to-lambda")
    deploy(cloud, "raises", "raises")
    _mapping(cloud, stream_arn, "raises", StartingPosition="TRIM_HORIZON", MaximumRetryAttempts=1)
    _put(cloud, "to-lambda", [{"n": 1}])

    assert cloud.streams.drain() == 1

    [delivery] = cloud.streams.deliveries
    assert not delivery.ok and delivery.attempts == 2
    assert "MyCustomError" in delivery.detail
    assert cloud.streams.drain() == 0


def _dead_letters(cloud: LocalCloud, name: str) -> tuple[str, str]:
    sqs = cloud.client("sqs")
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _described(cloud: LocalCloud, url: str) -> list[dict[str, Any]]:
    messages = cloud.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_record_too_large_to_start_with_is_retried_then_described_in_the_dead_letter_queue(
    cloud: LocalCloud,
) -> None:
    stream_arn = _stream(cloud, "oversized", shards=1)
    machine = state_machine(cloud, "oversized", PASS, kind="EXPRESS")
    url, queue = _dead_letters(cloud, "oversized-dead-letters")
    _pipe(
        cloud,
        "oversized-pipe",
        stream_arn,
        machine,
        invocation="FIRE_AND_FORGET",
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=2,
        OnPartialBatchItemFailure="AUTOMATIC_BISECT",
        DeadLetterConfig={"Arn": queue},
    )
    # base64 makes 200,000 bytes 266,668 characters: more than StartExecution takes as input
    _put(cloud, "oversized", [{"n": 1}, {"big": "x" * 200_000}, {"n": 2}])

    assert cloud.streams.drain() == 3

    # halved down to the record at fault: the others start their executions
    assert sorted(r["n"] for batch in _inputs(cloud, machine) for r in _data(batch)) == [1, 2]
    [given_up] = [d for d in cloud.streams.deliveries if not d.ok]
    assert given_up.records == 1 and given_up.attempts == 3  # MaximumRetryAttempts 2: 3 starts
    assert "262144" in given_up.detail
    [described] = _described(cloud, url)
    big = cloud.client("kinesis").get_records(ShardIterator=_oldest(cloud, "oversized"))["Records"][1]
    shard = cloud.client("kinesis").list_shards(StreamARN=stream_arn)["Shards"][0]["ShardId"]
    assert described["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert described["requestContext"]["approximateInvokeCount"] == 3
    assert described["KinesisBatchInfo"] == {
        "shardId": shard,
        "startSequenceNumber": big["SequenceNumber"],
        "endSequenceNumber": big["SequenceNumber"],
        "approximateArrivalOfFirstRecord": described["KinesisBatchInfo"]["approximateArrivalOfFirstRecord"],
        "approximateArrivalOfLastRecord": described["KinesisBatchInfo"]["approximateArrivalOfLastRecord"],
        "batchSize": 1,
        "streamArn": stream_arn,
    }
    # the shard moved on: what comes next flows
    _put(cloud, "oversized", [{"n": 3}])
    assert cloud.streams.drain() == 1
    assert _data(_inputs(cloud, machine)[-1]) == [{"n": 3}]


def test_a_batch_whose_start_keeps_failing_is_described_whole_without_bisect(cloud: LocalCloud) -> None:
    stream_arn = _stream(cloud, "refused", shards=1)
    machine = state_machine(cloud, "refused", PASS, kind="EXPRESS")
    url, queue = _dead_letters(cloud, "refused-dead-letters")
    _pipe(
        cloud,
        "refused-pipe",
        stream_arn,
        machine,
        invocation="FIRE_AND_FORGET",
        MaximumRetryAttempts=1,
        DeadLetterConfig={"Arn": queue},
    )
    _put(cloud, "refused", [{"n": 1}, {"big": "x" * 200_000}])

    assert cloud.streams.drain() == 2

    assert _inputs(cloud, machine) == []
    [described] = _described(cloud, url)
    assert described["KinesisBatchInfo"]["batchSize"] == 2
    assert described["requestContext"]["approximateInvokeCount"] == 2
    records = cloud.client("kinesis").get_records(ShardIterator=_oldest(cloud, "refused"))["Records"]
    assert described["KinesisBatchInfo"]["startSequenceNumber"] == records[0]["SequenceNumber"]
    assert described["KinesisBatchInfo"]["endSequenceNumber"] == records[1]["SequenceNumber"]
    _put(cloud, "refused", [{"n": 2}])
    assert cloud.streams.drain() == 1
    assert [_data(batch) for batch in _inputs(cloud, machine)] == [[{"n": 2}]]


# Each run waits two minutes on the local cloud's clock, then fails: instant, the records age as they would.
SLOW_FAILURE = {
    "StartAt": "W",
    "States": {"W": {"Type": "Wait", "Seconds": 120, "Next": "F"}, "F": {"Type": "Fail", "Error": "Nope"}},
}


def test_a_failing_batch_is_given_up_once_its_records_are_older_than_the_maximum_age(
    cloud: LocalCloud,
) -> None:
    stream_arn = _stream(cloud, "stale", shards=1)
    machine = state_machine(cloud, "stale", SLOW_FAILURE, kind="EXPRESS")
    url, queue = _dead_letters(cloud, "stale-dead-letters")
    _pipe(
        cloud,
        "stale-pipe",
        stream_arn,
        machine,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=5,
        MaximumRecordAgeInSeconds=300,
        DeadLetterConfig={"Arn": queue},
    )
    _put(cloud, "stale", [{"n": 1}, {"n": 2}])

    with clock.instant():
        assert cloud.streams.drain() == 2

    # two minutes a run: 4 minutes old after 2 runs, retried; 6 after 3, past the 5 allowed
    [given_up] = cloud.streams.deliveries
    assert not given_up.ok and (given_up.records, given_up.attempts) == (2, 3)
    assert "Nope" in given_up.detail
    [described] = _described(cloud, url)
    records = cloud.client("kinesis").get_records(ShardIterator=_oldest(cloud, "stale"))["Records"]
    assert described["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert described["requestContext"]["approximateInvokeCount"] == 3
    assert described["KinesisBatchInfo"]["batchSize"] == 2
    assert described["KinesisBatchInfo"]["startSequenceNumber"] == records[0]["SequenceNumber"]
    assert described["KinesisBatchInfo"]["endSequenceNumber"] == records[1]["SequenceNumber"]
    assert cloud.streams.drain() == 0


@pytest.mark.parametrize("maximum_age", [-1, 3600])
def test_a_failing_batch_younger_than_the_maximum_age_is_retried_to_its_attempt_limit(
    cloud: LocalCloud, maximum_age: int
) -> None:
    stream_arn = _stream(cloud, "young", shards=1)
    machine = state_machine(cloud, "young", SLOW_FAILURE, kind="EXPRESS")
    _pipe(
        cloud,
        "young-pipe",
        stream_arn,
        machine,
        StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=3,
        MaximumRecordAgeInSeconds=maximum_age,
    )
    _put(cloud, "young", [{"n": 1}])

    with clock.instant():
        assert cloud.streams.drain() == 1

    [given_up] = cloud.streams.deliveries
    assert not given_up.ok and given_up.attempts == 4  # 8 minutes old at the end


def _oldest(cloud: LocalCloud, stream: str) -> str:
    kinesis = cloud.client("kinesis")
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator: str = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return iterator
