"""DeleteStateMachine while executions of it run, as AWS documents it: the machine is DELETING until
they have ended, and each fails at its next state transition."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.engine.conftest import ROLE_ARN, inline_map

WAIT_THEN_PASS = {
    "StartAt": "Hold",
    "States": {
        "Hold": {"Type": "Wait", "SecondsPath": "$.seconds", "Next": "After"},
        "After": {"Type": "Pass", "End": True},
    },
}
BRIEF, LONG = {"seconds": 1}, {"seconds": 3600}  # LONG keeps the machine DELETING until it is stopped


def _machine(sfn: Any, definition: dict[str, Any], sm_type: str = "STANDARD") -> tuple[str, str]:
    name = f"deleted-{uuid.uuid4().hex[:12]}"
    arn: str = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE_ARN, type=sm_type
    )["stateMachineArn"]
    return name, arn


def _start(sfn: Any, machine: str, inpt: Any, waits: int = 1) -> str:
    """An execution of the machine, once `waits` of its Wait states have been entered: the deletion
    then comes while it waits."""
    arn: str = sfn.start_execution(stateMachineArn=machine, input=json.dumps(inpt))["executionArn"]
    while _types(sfn, arn).count("WaitStateEntered") < waits:
        time.sleep(0.01)
    return arn


def _ended(sfn: Any, execution_arn: str) -> dict[str, Any]:
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        time.sleep(0.02)
    return dict(described)


def _types(sfn: Any, execution_arn: str) -> list[str]:
    return [
        e["type"] for e in sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    ]


def _is_gone(sfn: Any, machine_arn: str) -> bool:
    try:
        sfn.describe_state_machine(stateMachineArn=machine_arn)
    except sfn.exceptions.StateMachineDoesNotExist:
        return True
    return False


def test_a_machine_deleted_while_it_runs_is_deleting_and_refuses_to_start(local_cloud: LocalCloud) -> None:
    sfn = local_cloud.client("stepfunctions")
    _, machine = _machine(sfn, WAIT_THEN_PASS)
    holder = _start(sfn, machine, LONG)

    sfn.delete_state_machine(stateMachineArn=machine)

    assert sfn.describe_state_machine(stateMachineArn=machine)["status"] == "DELETING"
    assert [e["status"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]] == ["RUNNING"]
    with pytest.raises(sfn.exceptions.StateMachineDeleting):
        _start(sfn, machine, BRIEF)
    # what AWS's knowledge center says to do with a machine stuck in DELETING: stop its executions
    sfn.stop_execution(executionArn=holder)
    assert _is_gone(sfn, machine)


NEXT_STATES = {
    "Pass": {"Type": "Pass", "End": True},
    "Wait": {"Type": "Wait", "Seconds": 0, "End": True},
    "Parallel": {
        "Type": "Parallel",
        "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}],
        "End": True,
    },
}


@pytest.mark.parametrize("next_type", list(NEXT_STATES))
def test_its_execution_fails_at_its_next_state_transition(local_cloud: LocalCloud, next_type: str) -> None:
    """The Wait it was in ends; the state it goes to is not entered. The machine is deleted once
    the last execution of it has ended."""
    sfn = local_cloud.client("stepfunctions")
    definition = {"StartAt": "Hold", "States": {**WAIT_THEN_PASS["States"], "After": NEXT_STATES[next_type]}}
    name, machine = _machine(sfn, definition)
    execution, holder = _start(sfn, machine, BRIEF), _start(sfn, machine, LONG)
    sfn.delete_state_machine(stateMachineArn=machine)

    described = _ended(sfn, execution)

    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "States.Runtime",
        f"State machine {name} has been deleted.",
    )
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "WaitStateEntered",
        "WaitStateExited",
        "ExecutionFailed",
    ]
    assert events[-1]["executionFailedEventDetails"] == {
        "error": "States.Runtime",
        "cause": f"State machine {name} has been deleted.",
    }
    assert sfn.describe_state_machine(stateMachineArn=machine)["status"] == "DELETING"
    sfn.stop_execution(executionArn=holder)
    assert _is_gone(sfn, machine)


def test_an_execution_in_a_map_fails_at_an_iteration_s_next_transition(local_cloud: LocalCloud) -> None:
    sfn = local_cloud.client("stepfunctions")
    definition = {"StartAt": "Each", "States": {"Each": {**inline_map(WAIT_THEN_PASS), "End": True}}}
    name, machine = _machine(sfn, definition)
    execution, holder = _start(sfn, machine, [BRIEF, BRIEF], waits=2), _start(sfn, machine, [LONG])
    sfn.delete_state_machine(stateMachineArn=machine)

    described = _ended(sfn, execution)

    assert (described["status"], described["cause"]) == ("FAILED", f"State machine {name} has been deleted.")
    types = _types(sfn, execution)
    assert types[-1] == "ExecutionFailed" and "PassStateEntered" not in types, types
    assert types.count("ExecutionFailed") == 1 and "MapStateSucceeded" not in types, types
    sfn.stop_execution(executionArn=holder)
    assert _is_gone(sfn, machine)


@pytest.mark.parametrize("sm_type", ["STANDARD", "EXPRESS"])
def test_a_machine_is_deleted_at_once_when_nothing_of_it_runs_or_it_is_express(
    local_cloud: LocalCloud, sm_type: str
) -> None:
    sfn = local_cloud.client("stepfunctions")
    _, machine = _machine(sfn, WAIT_THEN_PASS, sm_type)
    if sm_type == "EXPRESS":  # deleted "eventually (usually in less than a minute)": its runs go on
        sfn.start_execution(stateMachineArn=machine, input=json.dumps(BRIEF))

    sfn.delete_state_machine(stateMachineArn=machine)

    assert _is_gone(sfn, machine)
