"""Path coverage from real execution histories (moto's interpreter, in-process)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from workflows.coverage import Edge, coverage, edges, gated

CAUGHT_PARALLEL = {
    "StartAt": "A",
    "States": {
        "A": {"Type": "Pass", "Result": {"x": 1}, "Next": "P"},
        "P": {
            "Type": "Parallel",
            # one branch, B1 then B2: a sibling branch's Fail may cancel B1 before it is entered
            "Branches": [
                {
                    "StartAt": "B1",
                    "States": {
                        "B1": {"Type": "Pass", "Next": "B2"},
                        "B2": {"Type": "Fail", "Error": "Boom", "Cause": "c"},
                    },
                },
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "C"}],
            "Next": "D",
        },
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "D"}],
            "Default": "E",
        },
        "D": {"Type": "Succeed"},
        "E": {"Type": "Succeed"},
    },
}
RETRIED_TASK = {
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "missing", "Payload.$": "$"},
            "Retry": [
                {"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 2},
                {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 1},
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
            "End": True,
        },
        "Caught": {"Type": "Succeed"},
    },
}

# Step Functions uses the first retrier whose ErrorEquals matches, and only that one.
OVERLAPPING_RETRIERS = {
    "StartAt": "T",
    "States": {
        "T": {
            **RETRIED_TASK["States"]["T"],
            "Retry": [
                {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 1},
                {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 1},
            ],
        },
        "Caught": {"Type": "Succeed"},
    },
}


@pytest.fixture
def run() -> Iterator[Any]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")

        def history(definition: dict[str, Any]) -> list[dict[str, Any]]:
            arn = sfn.create_state_machine(
                name=f"t{time.monotonic_ns()}",
                definition=json.dumps(definition),
                roleArn="arn:aws:iam::123456789012:role/r",
            )["stateMachineArn"]
            execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
            while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
                time.sleep(0.05)
            pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution)
            events: list[dict[str, Any]] = [event for page in pages for event in page["events"]]
            return events

        yield history


def test_edges_of_a_definition_include_branch_states_choices_and_catches() -> None:
    assert edges(CAUGHT_PARALLEL) >= {
        Edge("state", "B2"),
        Edge("choice", "C", "D"),
        Edge("default", "C", "E"),
        Edge("catch", "P", "C"),
    }


def test_a_caught_parallel_and_a_choice_rule_are_reached_but_not_the_default(run: Any) -> None:
    result = coverage("t", CAUGHT_PARALLEL, [run(CAUGHT_PARALLEL)])
    assert {
        Edge("catch", "P", "C"),
        Edge("choice", "C", "D"),
        Edge("state", "B1"),
        Edge("state", "B2"),
    } <= result.hit
    assert result.missed == [Edge("default", "C", "E"), Edge("state", "E")]


def test_a_retry_is_attributed_to_the_retrier_that_matched(run: Any) -> None:
    result = coverage("t", RETRIED_TASK, [run(RETRIED_TASK)])
    assert Edge("retry", "T", "States.ALL") in result.hit
    assert Edge("catch", "T", "Caught") in result.hit
    assert result.missed == [Edge("retry", "T", "Lambda.TooManyRequestsException")]
    assert result.line().split() == ["t", "state", "2/2", "choice", "0/0", "catch", "1/1", "retry", "1/2"]


def test_a_retry_counts_only_for_the_first_retrier_that_matches(run: Any) -> None:
    """A later retrier that would match as well never ran: the gate must not count it as reached."""
    result = coverage("t", OVERLAPPING_RETRIERS, [run(OVERLAPPING_RETRIERS)])
    assert Edge("retry", "T", "States.TaskFailed") in result.hit
    assert result.missed == [Edge("retry", "T", "States.ALL")]


def test_edges_declared_unreachable_are_excused_and_must_exist() -> None:
    result = coverage("t", CAUGHT_PARALLEL, [], {"default C -> E": "the input always has x = 1"})
    assert result.excused == {Edge("default", "C", "E"): "the input always has x = 1"}
    assert Edge("default", "C", "E") not in result.missed
    with pytest.raises(ValueError, match="do not exist"):
        coverage("t", CAUGHT_PARALLEL, [], {"default C -> Nowhere": "typo"})


def test_the_gate_holds_every_workflow_or_the_named_ones() -> None:
    known = ["lottery", "flight-deals", "ride-request"]
    assert gated(None, known) == gated("", known) == gated("0", known) == frozenset()
    assert gated("1", known) == frozenset(known)
    assert gated("lottery, ride-request", known) == {"lottery", "ride-request"}
    with pytest.raises(ValueError, match=r"unknown workflow.*lotery; known: flight-deals, lottery"):
        gated("lotery", known)
