"""Executions are found by ARN and by name without a scan, and the API answers as before."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from localcloud.engine import clock
from localcloud.engine.execution_index import IndexedExecutions
from tests.engine.conftest import ROLE_ARN

WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


class _Execution:
    def __init__(self, name: str) -> None:
        self.name = name
        self.execution_arn = f"arn:aws:states:us-east-1:123456789012:execution:sm:{name}"


def test_the_maps_follow_every_change_to_the_list() -> None:
    a, b, c = _Execution("a"), _Execution("b"), _Execution("c")
    executions = IndexedExecutions([a])
    executions.append(b)
    assert executions.find(b.execution_arn) is b and executions.named("a") is a
    executions.remove(a)
    assert executions.find(a.execution_arn) is None and executions.named("b") is b
    executions += [c]
    executions[0] = a
    assert list(executions) == [a, c]
    assert executions.named("b") is None and executions.find(c.execution_arn) is c
    executions.clear()
    assert executions.named("a") is None and executions == []


@pytest.fixture
def sfn(local_cloud: LocalCloud) -> Any:
    return local_cloud.client("stepfunctions")


def _scanned(self: IndexedExecutions) -> Iterator[Any]:
    raise AssertionError("a state machine's executions were scanned")


def _machine(sfn: Any, definition: dict[str, Any]) -> str:
    return sfn.create_state_machine(
        name=f"index-{uuid.uuid4().hex[:12]}", definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]


def test_describe_and_start_find_executions_without_scanning(sfn: Any) -> None:
    arn = _machine(sfn, WAIT)
    with clock.speed(1), pytest.MonkeyPatch.context() as no_scans:
        no_scans.setattr(IndexedExecutions, "__iter__", _scanned)  # any walk over them fails
        started = [sfn.start_execution(stateMachineArn=arn, name=f"e{i}", input="{}") for i in range(30)]
        described = sfn.describe_execution(executionArn=started[17]["executionArn"])
        assert described["name"] == "e17" and described["status"] == "RUNNING"
        # the same name and input while it runs is the same execution, as on AWS
        again = sfn.start_execution(stateMachineArn=arn, name="e3", input="{}")
        assert again["executionArn"] == started[3]["executionArn"]
        with pytest.raises(ClientError) as taken:
            sfn.start_execution(stateMachineArn=arn, name="e3", input='{"other": 1}')
    assert taken.value.response["Error"]["Code"] == "ExecutionAlreadyExists"
    assert started[3]["executionArn"] in taken.value.response["Error"]["Message"]
    for execution in started:
        sfn.stop_execution(executionArn=execution["executionArn"])


def test_unknown_and_finished_executions_answer_as_before(sfn: Any) -> None:
    arn = _machine(sfn, PASS)
    done = sfn.start_execution(stateMachineArn=arn, name="once", input="{}")["executionArn"]
    missing = done.replace(":once", ":never")
    with pytest.raises(ClientError) as unknown:
        sfn.describe_execution(executionArn=missing)
    assert unknown.value.response["Error"]["Code"] == "ExecutionDoesNotExist"
    assert missing in unknown.value.response["Error"]["Message"]
    while sfn.describe_execution(executionArn=done)["status"] == "RUNNING":
        time.sleep(0.01)  # a poll with no pause would hold the GIL against the engine it waits for
    with pytest.raises(ClientError) as finished:
        sfn.start_execution(stateMachineArn=arn, name="once", input="{}")
    assert finished.value.response["Error"]["Code"] == "ExecutionAlreadyExists"
    listed = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["executionArn"] for e in listed] == [done]
