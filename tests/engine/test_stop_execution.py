"""StopExecution of a Standard execution, as on AWS: the execution is ABORTED at once (DescribeExecution
right after says so, with the stopDate StopExecution returned), its history ends with ExecutionAborted,
no Catch fires, and the Tasks still in flight when it stopped record nothing after it."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.engine.conftest import ROLE_ARN, inline_map

# notes its start, sleeps for the event's seconds, notes its end
SLEEPS = (
    "import pathlib, time, uuid\n"
    "def handler(event, context):\n"
    "    mark = pathlib.Path(event['marks']) / uuid.uuid4().hex\n"
    "    mark.with_suffix('.started').write_text('')\n"
    "    time.sleep(event['seconds'])\n"
    "    mark.with_suffix('.done').write_text('')\n"
    "    return event\n"
)

CATCH_ALL = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Caught"}]


def _map_of_tasks(function_arn: str) -> dict[str, Any]:
    """The shape of ticket-ranking: a Map whose iterations run a Lambda Task, States.ALL caught on
    the Task and on the Map."""
    task = {"Type": "Task", "Resource": function_arn, "Catch": CATCH_ALL, "End": True}
    iteration = {"StartAt": "Rank", "States": {"Rank": task, "Caught": {"Type": "Pass", "End": True}}}
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                **inline_map(iteration, max_concurrency=2),
                "ItemsPath": "$.items",
                "Catch": CATCH_ALL,
                "Next": "Done",
            },
            "Caught": {"Type": "Pass", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }


def _one_task(function_arn: str) -> dict[str, Any]:
    task = {"Type": "Task", "Resource": function_arn, "Catch": CATCH_ALL, "Next": "Done"}
    return {
        "StartAt": "Slow",
        "States": {"Slow": task, "Caught": {"Type": "Pass", "Next": "Done"}, "Done": {"Type": "Succeed"}},
    }


def _machine(sfn: Any, definition: dict[str, Any]) -> str:
    arn: str = sfn.create_state_machine(
        name=f"stop-{uuid.uuid4().hex[:12]}", definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]
    return arn


def _history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def _tasks_ended(marks: Path, timeout: float = 10) -> None:
    """Wait until every Lambda started has returned, and the engine has had the answers."""
    deadline = time.monotonic() + timeout
    while len(list(marks.glob("*.done"))) < len(list(marks.glob("*.started"))):
        assert time.monotonic() < deadline, "Lambda invocations still running"
        time.sleep(0.02)
    time.sleep(0.2)


def _stop_at_several_moments(
    sfn: Any, machine_arn: str, payload: dict[str, Any], delays: list[float]
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Start an execution per delay, stop it after that delay; (ARN, StopExecution's answer,
    DescribeExecution right after it) for each."""
    stopped = []
    for delay in delays:
        arn = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(payload))["executionArn"]
        time.sleep(delay)
        answer = sfn.stop_execution(executionArn=arn)
        stopped.append((arn, answer, sfn.describe_execution(executionArn=arn)))
    return stopped


def _assert_aborted(sfn: Any, stopped: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
    for arn, answer, right_after in stopped:
        described = sfn.describe_execution(executionArn=arn)
        assert described["status"] == "ABORTED", (arn, described.get("error"), described.get("cause"))
        assert not described.get("error") and not described.get("cause"), described
        events = _history(sfn, arn)
        types = [event["type"] for event in events]
        assert types[-1] == "ExecutionAborted", types
        assert types.count("ExecutionAborted") == 1 and "ExecutionFailed" not in types, types
        entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
        assert "Caught" not in entered and "Done" not in entered, entered
        # and it was so as soon as StopExecution answered, stopped when it said
        assert right_after["status"] == "ABORTED", (arn, right_after["status"])
        assert right_after["stopDate"] == described["stopDate"] == answer["stopDate"]
        assert events[-1]["timestamp"] == answer["stopDate"].replace(
            microsecond=answer["stopDate"].microsecond // 1000 * 1000
        )


def test_stopping_a_map_of_lambda_tasks_aborts_it(
    local_cloud: LocalCloud, deploy_function: Callable[[str], str], tmp_path: Path
) -> None:
    """Stops land before, during and between iterations (0.3 s Tasks, two at a time, three items)."""
    sfn = local_cloud.client("stepfunctions")
    machine = _machine(sfn, _map_of_tasks(deploy_function(SLEEPS)))
    item = {"seconds": 0.3, "marks": str(tmp_path)}
    delays = [0.02 + 0.025 * i for i in range(20)]  # the last before the third item ends, at 0.6 s
    stopped = _stop_at_several_moments(sfn, machine, {"items": [item] * 3}, delays)
    _tasks_ended(tmp_path)
    _assert_aborted(sfn, stopped)


def test_stopping_during_a_task_aborts_at_once(
    local_cloud: LocalCloud, deploy_function: Callable[[str], str], tmp_path: Path
) -> None:
    """The Task still running finishes in its Lambda, and the execution records nothing of it."""
    sfn = local_cloud.client("stepfunctions")
    machine = _machine(sfn, _one_task(deploy_function(SLEEPS)))
    stopped = _stop_at_several_moments(sfn, machine, {"seconds": 0.3, "marks": str(tmp_path)}, [0.1, 0.2])
    _tasks_ended(tmp_path)
    _assert_aborted(sfn, stopped)
    for arn, _, _ in stopped:
        types = [event["type"] for event in _history(sfn, arn)]
        assert "TaskSucceeded" not in types and "TaskStateExited" not in types, types


def test_a_stopped_map_raises_nothing_and_catches_nothing(
    local_cloud: LocalCloud,
    deploy_function: Callable[[str], str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The Map state of a stopped execution ends without handling its aborted iterations as a
    failure: moto passed the stop's error text where a failure's details go, and the Map's
    handling of it raised AttributeError('str' object has no attribute 'get')."""
    sfn = local_cloud.client("stepfunctions")
    machine = _machine(sfn, _map_of_tasks(deploy_function(SLEEPS)))
    item = {"seconds": 0.3, "marks": str(tmp_path)}
    with caplog.at_level(logging.WARNING, logger="moto.stepfunctions"):
        stopped = _stop_at_several_moments(sfn, machine, {"items": [item] * 3}, [0.1, 0.4])
        _tasks_ended(tmp_path)
    _assert_aborted(sfn, stopped)
    assert "has no attribute" not in caplog.text
    assert "Stepfunctions computation ended with exception" not in caplog.text


def test_a_redrive_right_after_a_stop_records_only_its_own_run(
    local_cloud: LocalCloud, deploy_function: Callable[[str], str], tmp_path: Path
) -> None:
    """Redriven while the stopped run's Task is still in flight: that Task's answer and the stopped
    run's end go nowhere, the redriven run's history goes on to its own end."""
    sfn = local_cloud.client("stepfunctions")
    machine = _machine(sfn, _one_task(deploy_function(SLEEPS)))
    payload = {"seconds": 0.4, "marks": str(tmp_path)}
    [(arn, _, right_after)] = _stop_at_several_moments(sfn, machine, payload, [0.1])
    assert right_after["status"] == "ABORTED"
    sfn.redrive_execution(executionArn=arn)
    deadline = time.monotonic() + 10
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    _tasks_ended(tmp_path)
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    events = _history(sfn, arn)
    redriven = [e["type"] for e in events[[e["type"] for e in events].index("ExecutionRedriven") :]]
    assert redriven == [
        "ExecutionRedriven",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]


def test_the_error_and_cause_of_a_stop_are_in_its_execution_aborted_event(
    local_cloud: LocalCloud, deploy_function: Callable[[str], str], tmp_path: Path
) -> None:
    """As on AWS: whoever looks at the stopped run later reads why it was stopped (moto dropped
    both, and stopped every execution with error "" and cause ""). A Map's iterations stop too."""
    sfn = local_cloud.client("stepfunctions")
    item = {"seconds": 0.3, "marks": str(tmp_path)}
    for definition, payload in ((_one_task, item), (_map_of_tasks, {"items": [item] * 3})):
        machine = _machine(sfn, definition(deploy_function(SLEEPS)))
        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))["executionArn"]
        time.sleep(0.1)
        sfn.stop_execution(executionArn=arn, error="Oncall.Stopped", cause="stuck on the broker")
        _tasks_ended(tmp_path)
        assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
        events = _history(sfn, arn)
        assert events[-1]["type"] == "ExecutionAborted"
        assert events[-1]["executionAbortedEventDetails"] == {
            "error": "Oncall.Stopped",
            "cause": "stuck on the broker",
        }
    # the next stop without them records none
    [(arn, _, _)] = _stop_at_several_moments(sfn, machine, payload, [0.1])
    _tasks_ended(tmp_path)
    assert _history(sfn, arn)[-1]["executionAbortedEventDetails"] == {}


def test_stop_execution_refuses_an_express_execution_which_runs_on(local_cloud: LocalCloud) -> None:
    """StopExecution "is not supported by EXPRESS state machines" (the API reference); AWS answers
    an Express execution's ARN with InvalidArn, as recorded, and the execution goes on."""
    sfn = local_cloud.client("stepfunctions")
    wait = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "Done"}, "Done": {"Type": "Succeed"}},
    }
    machine = sfn.create_state_machine(
        name=f"stop-{uuid.uuid4().hex[:12]}", definition=json.dumps(wait), roleArn=ROLE_ARN, type="EXPRESS"
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]

    with pytest.raises(sfn.exceptions.InvalidArn) as refused:
        sfn.stop_execution(executionArn=arn, error="Oncall.Stopped")

    error = refused.value.response["Error"]
    assert error["Message"] == "Invalid Arn: 'Resource type not valid in this context: express'"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    while (status := sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING":
        time.sleep(0.05)
    assert status == "SUCCEEDED"
