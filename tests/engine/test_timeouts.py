"""State machine TimeoutSeconds and AWS's maximum execution duration, on the engine clock."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.engine import clock
from tests.engine.conftest import ROLE_ARN, Runner, inline_map, only


def test_state_machine_timeout_cuts_a_wait(run_definition: Runner, instant_clock: None) -> None:
    run = run_definition(
        {
            "TimeoutSeconds": 5,
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 60, "Next": "P"}, "P": {"Type": "Pass", "End": True}},
        }
    )
    assert run.status == "TIMED_OUT"
    assert "PassStateEntered" not in run.types


def test_a_timed_out_execution_is_described_and_listed_with_when_it_timed_out(
    local_cloud: LocalCloud, run_definition: Runner, instant_clock: None
) -> None:
    """As on AWS: the console and the CLI count its duration up to then, not up to now."""
    run = run_definition({"TimeoutSeconds": 5, **only({"Type": "Wait", "Seconds": 60})})
    sfn = local_cloud.client("stepfunctions")
    described = sfn.describe_execution(executionArn=run.arn)
    [listed] = sfn.list_executions(stateMachineArn=described["stateMachineArn"])["executions"]
    assert described["status"] == listed["status"] == "TIMED_OUT"
    assert described["stopDate"] == listed["stopDate"]
    assert (described["stopDate"] - described["startDate"]).total_seconds() == pytest.approx(5, abs=0.5)


def test_a_wait_longer_than_a_year_times_the_execution_out(
    run_definition: Runner, instant_clock: None
) -> None:
    # AWS: a Standard execution lasts at most one year
    run = run_definition(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 99999999, "End": True}}}
    )
    assert run.status == "TIMED_OUT"


def test_an_express_execution_lasts_at_most_five_minutes(run_definition: Runner, instant_clock: None) -> None:
    run = run_definition(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 301, "End": True}}}, sm_type="EXPRESS"
    )
    assert run.status == "TIMED_OUT"


def test_a_wait_within_the_limits_completes(run_definition: Runner, instant_clock: None) -> None:
    run = run_definition({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86400, "End": True}}})
    assert run.status == "SUCCEEDED"


def _around(inner: dict[str, Any]) -> dict[str, Any]:
    """`inner` (a Map or Parallel state), then a Pass that a timed-out execution never reaches."""
    return {
        "TimeoutSeconds": 5,
        "StartAt": "Inner",
        "States": {"Inner": {**inner, "Next": "After"}, "After": {"Type": "Pass", "End": True}},
    }


WAIT_A_MINUTE = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}


@pytest.mark.parametrize(
    "inner",
    [
        inline_map(WAIT_A_MINUTE),
        {
            "Type": "Parallel",
            "Branches": [WAIT_A_MINUTE, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}],
        },
    ],
    ids=["map-iteration", "parallel-branch"],
)
def test_a_wait_past_the_deadline_inside_a_map_or_parallel_times_the_execution_out(
    run_definition: Runner, instant_clock: None, inner: dict[str, Any]
) -> None:
    """The Wait used to time out only its own iteration or branch, which then counted as succeeded:
    the execution went on and succeeded."""
    run = run_definition(_around(inner), [1, 2])
    assert run.status == "TIMED_OUT"
    assert run.types[-1] == "ExecutionTimedOut" and run.types.count("ExecutionTimedOut") == 1
    assert not any(t.endswith("StateSucceeded") or t == "MapIterationSucceeded" for t in run.types)
    assert "After" not in str(run.events)


def test_nothing_is_recorded_after_the_execution_timed_out(run_definition: Runner) -> None:
    spin = {
        "StartAt": "Spin",
        "States": {
            "Spin": {"Type": "Pass", "Next": "Again"},
            "Again": {"Type": "Choice", "Choices": [{"Variable": "$", "IsPresent": True, "Next": "Spin"}]},
        },
    }
    definition = _around(inline_map(spin, max_concurrency=2))
    with clock.speed(50):  # 0.1 s of looping
        run = run_definition(definition, [1, 2, 3])
    assert run.status == "TIMED_OUT"
    assert run.types[-1] == "ExecutionTimedOut" and run.types.count("ExecutionTimedOut") == 1
    assert "MapIterationSucceeded" not in run.types and "MapStateSucceeded" not in run.types


# sleeps for the event's seconds, then leaves a file saying so
SLOW = (
    "import pathlib, time\n"
    "def handler(event, context):\n"
    "    time.sleep(event['seconds'])\n"
    "    pathlib.Path(event['done']).write_text('done')\n"
    "    return event\n"
)


def _slow_task_past_the_deadline(function_arn: str) -> dict[str, Any]:
    return {
        "TimeoutSeconds": 5,
        "StartAt": "Slow",
        "States": {"Slow": {"Type": "Task", "Resource": function_arn, "End": True}},
    }


def test_an_execution_times_out_at_its_deadline_while_a_task_still_runs(
    run_definition: Runner, deploy_function: Callable[[str], str], tmp_path: Path
) -> None:
    """The execution's own thread runs its program, and is still waiting for the Task's answer at
    the deadline: the watcher records the execution's end then."""
    done = tmp_path / "done"
    with clock.speed(25):  # the deadline 0.2 s away, the Task's 3 s later
        run = run_definition(
            _slow_task_past_the_deadline(deploy_function(SLOW)), {"seconds": 3, "done": str(done)}
        )
    assert run.status == "TIMED_OUT" and not done.exists()
    assert run.types[-1] == "ExecutionTimedOut" and "TaskSucceeded" not in run.types


def test_a_sync_execution_answers_at_its_deadline_while_a_task_still_runs(
    local_cloud: LocalCloud, deploy_function: Callable[[str], str], tmp_path: Path
) -> None:
    sfn = local_cloud.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"slow-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(_slow_task_past_the_deadline(deploy_function(SLOW))),
        roleArn=ROLE_ARN,
        type="EXPRESS",
    )["stateMachineArn"]
    done = tmp_path / "done"
    with clock.speed(25):
        answer = sfn.start_sync_execution(
            stateMachineArn=arn, input=json.dumps({"seconds": 3, "done": str(done)})
        )
    assert answer["status"] == "TIMED_OUT" and not done.exists()
