"""A Distributed Map's Map Run, as AWS runs it: child workflow executions that fail beyond the
tolerated failure threshold fail the Map with States.ExceedToleratedFailureThreshold (within it, the
Map succeeds), DescribeMapRun counts the items and executions by status, and ListExecutions with the
Map Run's ARN lists its child executions."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.engine import clock
from tests.engine.conftest import ROLE_ARN, Run, Runner, only

EXCEEDED = "States.ExceedToleratedFailureThreshold"
EXCEEDED_CAUSE = "The specified tolerated failure threshold was exceeded"
OK, FAILS = {"fail": False}, {"fail": True}
# a child workflow that fails on an item {"fail": true} and passes any other through
CHILD = {
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Boom"}],
            "Default": "Done",
        },
        "Boom": {"Type": "Fail", "Error": "ItemFailed", "Cause": "the item says so"},
        "Done": {"Type": "Pass", "End": True},
    },
}


def distributed(child: dict[str, Any] = CHILD, **fields: Any) -> dict[str, Any]:
    """A Map state in Distributed mode over its input, each item a child workflow execution."""
    processor = {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, **child}
    return {"Type": "Map", "ItemProcessor": processor, **fields}


@pytest.fixture
def sfn(local_cloud: LocalCloud) -> Any:
    return local_cloud.client("stepfunctions")


def _map_run_arn(run: Run) -> str:
    arn: str = run.event("MapRunStarted")["mapRunStartedEventDetails"]["mapRunArn"]
    return arn


def _children(sfn: Any, map_run_arn: str, **filters: Any) -> list[dict[str, Any]]:
    pages = sfn.get_paginator("list_executions").paginate(mapRunArn=map_run_arn, **filters)
    return [execution for page in pages for execution in page["executions"]]


def _counts(counts: dict[str, int]) -> dict[str, int]:
    keys = ("total", "pending", "running", "succeeded", "failed", "timedOut", "aborted")
    return {key: counts[key] for key in keys}


def test_a_failed_child_fails_the_map_run_when_nothing_is_tolerated(run_definition: Runner) -> None:
    run = run_definition(only(distributed()), [OK, FAILS, OK])

    assert (run.status, run.error, run.cause) == ("FAILED", EXCEEDED, EXCEEDED_CAUSE)
    assert run.types[-4:] == ["MapRunStarted", "MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    assert run.event("MapRunFailed")["mapRunFailedEventDetails"] == {
        "error": EXCEEDED,
        "cause": EXCEEDED_CAUSE,
    }


def test_a_catch_catches_the_exceeded_threshold(run_definition: Runner) -> None:
    catch = [{"ErrorEquals": [EXCEEDED], "ResultPath": "$.error", "Next": "Caught"}]
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {**distributed(), "ItemsPath": "$.items", "Catch": catch, "Next": "Done"},
            "Caught": {"Type": "Pass", "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }

    run = run_definition(definition, {"items": [FAILS, OK]})

    assert run.status == "SUCCEEDED"
    assert run.output["error"] == {"Error": EXCEEDED, "Cause": EXCEEDED_CAUSE}
    assert "Caught" in [
        e["stateEnteredEventDetails"]["name"] for e in run.events if "stateEnteredEventDetails" in e
    ]


@pytest.mark.parametrize(
    ("fields", "items", "status"),
    [
        ({"ToleratedFailurePercentage": 50}, [OK, FAILS, OK], "SUCCEEDED"),  # 33% failed
        ({"ToleratedFailurePercentage": 50}, [OK, FAILS], "SUCCEEDED"),  # 50%: not exceeded
        ({"ToleratedFailurePercentage": 50}, [FAILS, FAILS, OK], "FAILED"),  # 67%
        ({"ToleratedFailureCount": 1}, [OK, FAILS, OK], "SUCCEEDED"),
        ({"ToleratedFailureCount": 1}, [FAILS, OK, FAILS], "FAILED"),
        ({"ToleratedFailureCount": 1, "ToleratedFailurePercentage": 100}, [FAILS, FAILS], "FAILED"),  # either
        ({"ToleratedFailurePercentage": 100}, [FAILS, FAILS], "SUCCEEDED"),
        ({"ToleratedFailureCountPath": "$.tolerated"}, [OK, FAILS], "SUCCEEDED"),
    ],
    ids=["33%-of-50%", "50%-of-50%", "67%-of-50%", "1-of-1", "2-of-1", "count-or-percent", "100%", "path"],
)
def test_the_map_fails_only_when_its_failures_exceed_the_threshold(
    run_definition: Runner, fields: dict[str, Any], items: list[Any], status: str
) -> None:
    definition = only({**distributed(**fields), "ItemsPath": "$.items"})

    run = run_definition(definition, {"items": items, "tolerated": 1})

    assert run.status == status
    assert run.types.count("MapRunSucceeded" if status == "SUCCEEDED" else "MapRunFailed") == 1


def test_a_declared_threshold_is_not_logged_as_having_no_effect(
    run_definition: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    definition = only(distributed(ToleratedFailureCount=1, ToleratedFailurePercentage=50))

    with caplog.at_level(logging.WARNING):
        run = run_definition(definition, [OK, FAILS])

    assert run.status == "SUCCEEDED"
    assert not [r for r in caplog.records if "ToleratedFailure" in r.getMessage()]


def test_a_jsonata_tolerated_failure_count_is_a_count(run_definition: Runner, sfn: Any) -> None:
    definition = {"QueryLanguage": "JSONata", **only(distributed(ToleratedFailureCount="{% 1 %}"))}
    child = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $states.input.fail %}", "Next": "Boom"}],
                "Default": "Done",
            },
            "Boom": {"Type": "Fail", "Error": "ItemFailed"},
            "Done": {"Type": "Pass", "End": True},
        },
    }
    definition["States"]["Only"]["ItemProcessor"].update(child)

    run = run_definition(definition, [OK, FAILS])

    assert run.status == "SUCCEEDED"
    described = sfn.describe_map_run(mapRunArn=_map_run_arn(run))
    assert (described["toleratedFailureCount"], described["toleratedFailurePercentage"]) == (1, 0)


def test_describe_map_run_counts_the_items_and_executions_of_a_failed_run(
    run_definition: Runner, sfn: Any
) -> None:
    run = run_definition(only(distributed()), [OK, FAILS, OK])

    described = sfn.describe_map_run(mapRunArn=_map_run_arn(run))

    assert described["status"] == "FAILED"
    assert "stopDate" in described
    expected = {
        "total": 3,
        "pending": 0,
        "running": 0,
        "succeeded": 2,
        "failed": 1,
        "timedOut": 0,
        "aborted": 0,
    }
    assert _counts(described["itemCounts"]) == expected
    assert _counts(described["executionCounts"]) == expected
    # written by a ResultWriter, which this Map has not
    assert described["itemCounts"]["resultsWritten"] == described["executionCounts"]["resultsWritten"] == 0


def test_a_failed_map_run_starts_no_more_children(run_definition: Runner, sfn: Any) -> None:
    run = run_definition(only(distributed(MaxConcurrency=1)), [FAILS, OK, OK])

    described = sfn.describe_map_run(mapRunArn=_map_run_arn(run))

    assert run.error == EXCEEDED
    assert _counts(described["itemCounts"]) == {
        "total": 3,
        "pending": 2,
        "running": 0,
        "succeeded": 0,
        "failed": 1,
        "timedOut": 0,
        "aborted": 0,
    }
    assert described["executionCounts"]["total"] == 1
    assert [child["status"] for child in _children(sfn, _map_run_arn(run))] == ["FAILED"]


def test_list_executions_of_a_map_run_lists_its_child_executions(run_definition: Runner, sfn: Any) -> None:
    definition = only(distributed(ToleratedFailureCount=1, Label="Items", MaxConcurrency=1))
    run = run_definition(definition, [FAILS, OK, OK])
    map_run_arn = _map_run_arn(run)
    [map_run] = sfn.list_map_runs(executionArn=run.arn)["mapRuns"]

    children = _children(sfn, map_run_arn)

    assert run.status == "SUCCEEDED"
    assert [child["status"] for child in children] == ["SUCCEEDED", "SUCCEEDED", "FAILED"]  # newest first
    assert [child["startDate"] for child in children] == sorted(
        (c["startDate"] for c in children), reverse=True
    )
    machine = map_run["stateMachineArn"]
    assert machine.endswith("/Items")
    for child in children:
        assert child["mapRunArn"] == map_run_arn
        assert child["stateMachineArn"] == machine
        assert child["executionArn"] == f"{machine.replace(':stateMachine:', ':execution:')}:{child['name']}"
        assert child["itemCount"] == 1
        assert child["stopDate"] >= child["startDate"]
    assert len({child["name"] for child in children}) == 3


def test_list_executions_of_a_map_run_filters_by_status_and_pages(run_definition: Runner, sfn: Any) -> None:
    run = run_definition(only(distributed(ToleratedFailurePercentage=100)), [OK, FAILS, OK, FAILS, OK])
    map_run_arn = _map_run_arn(run)

    first = sfn.list_executions(mapRunArn=map_run_arn, maxResults=2)
    rest = sfn.list_executions(mapRunArn=map_run_arn, maxResults=2, nextToken=first["nextToken"])

    assert len(first["executions"]) == len(rest["executions"]) == 2
    assert len(_children(sfn, map_run_arn)) == 5
    assert {c["executionArn"] for c in first["executions"]}.isdisjoint(
        c["executionArn"] for c in rest["executions"]
    )
    assert [c["status"] for c in _children(sfn, map_run_arn, statusFilter="FAILED")] == ["FAILED", "FAILED"]


def test_list_executions_of_an_unknown_map_run_is_refused(run_definition: Runner, sfn: Any) -> None:
    run = run_definition(only(distributed()), [OK])
    unknown = _map_run_arn(run).rsplit(":", 1)[0] + f":{uuid.uuid4()}"

    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.list_executions(mapRunArn=unknown)
    with pytest.raises(sfn.exceptions.ClientError, match="ValidationException"):
        sfn.list_executions(mapRunArn=_map_run_arn(run), stateMachineArn=run.arn)


def test_the_children_of_a_stopped_execution_are_aborted(sfn: Any) -> None:
    waits = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    machine = sfn.create_state_machine(
        name=f"engine-{uuid.uuid4().hex[:12]}",
        definition=json.dumps(only(distributed(waits))),
        roleArn=ROLE_ARN,
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps([1, 2]))["executionArn"]
    while not (map_runs := sfn.list_map_runs(executionArn=execution)["mapRuns"]):
        time.sleep(0.01)
    map_run_arn = map_runs[0]["mapRunArn"]
    while sfn.describe_map_run(mapRunArn=map_run_arn)["executionCounts"]["running"] < 2:
        time.sleep(0.01)

    sfn.stop_execution(executionArn=execution)

    while sfn.describe_map_run(mapRunArn=map_run_arn)["status"] == "RUNNING":
        time.sleep(0.01)
    described = sfn.describe_map_run(mapRunArn=map_run_arn)
    assert described["status"] == "ABORTED"
    assert (described["executionCounts"]["aborted"], described["executionCounts"]["running"]) == (2, 0)
    assert [child["status"] for child in _children(sfn, map_run_arn)] == ["ABORTED", "ABORTED"]


def _start(sfn: Any, definition: dict[str, Any], inpt: Any) -> str:
    machine = sfn.create_state_machine(
        name=f"engine-{uuid.uuid4().hex[:12]}", definition=json.dumps(definition), roleArn=ROLE_ARN
    )["stateMachineArn"]
    execution: str = sfn.start_execution(stateMachineArn=machine, input=json.dumps(inpt))["executionArn"]
    return execution


def _running_map_run(sfn: Any, execution: str, children: int) -> str:
    """The execution's Map Run, once `children` of its child executions run."""
    while not (map_runs := sfn.list_map_runs(executionArn=execution)["mapRuns"]):
        time.sleep(0.01)
    map_run_arn: str = map_runs[0]["mapRunArn"]
    while sfn.describe_map_run(mapRunArn=map_run_arn)["executionCounts"]["running"] < children:
        time.sleep(0.01)
    return map_run_arn


def _ended(sfn: Any, execution: str) -> dict[str, Any]:
    with clock.instant():  # the children's Waits end now
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            time.sleep(0.01)
    return dict(described)


def test_a_threshold_set_by_update_map_run_applies(sfn: Any) -> None:
    # each child holds, then fails on an item {"fail": true}
    held = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Check"}}}
    held["States"].update({name: state for name, state in CHILD["States"].items()})
    definition = only(distributed(held, ToleratedFailurePercentage=100))
    execution = _start(sfn, definition, [FAILS, OK])
    map_run_arn = _running_map_run(sfn, execution, 2)

    sfn.update_map_run(mapRunArn=map_run_arn, toleratedFailureCount=0)

    described = _ended(sfn, execution)
    assert (described["status"], described["error"]) == ("FAILED", EXCEEDED)
    assert sfn.describe_map_run(mapRunArn=map_run_arn)["toleratedFailureCount"] == 0
