"""Kinesis records reach the state machine behind an EventBridge Pipe, in the Pipes event format."""

from __future__ import annotations

import base64
import json
from typing import Any

from localcloud import LocalCloud
from tests.localcloud.helpers import deploy, role, state_machine


def _stream(cloud: LocalCloud, name: str) -> str:
    kinesis = cloud.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=2)
    arn: str = kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]
    return arn


def _pipe(cloud: LocalCloud, name: str, source: str, target: str, **source_params: Any) -> None:
    cloud.client("pipes").create_pipe(
        Name=name,
        RoleArn=role(cloud),
        Source=source,
        SourceParameters={
            "KinesisStreamParameters": {"StartingPosition": "LATEST", "BatchSize": 10, **source_params}
        },
        Target=target,
        TargetParameters={"StepFunctionStateMachineParameters": {"InvocationType": "REQUEST_RESPONSE"}},
    )


def _put(cloud: LocalCloud, stream: str, records: list[dict[str, Any]]) -> None:
    kinesis = cloud.client("kinesis")
    for i, record in enumerate(records):
        kinesis.put_record(StreamName=stream, Data=json.dumps(record).encode(), PartitionKey=f"key-{i}")


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
