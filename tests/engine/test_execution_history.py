"""GetExecutionHistory: pages as AWS serves them, with the events moto's serialiser would write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest

from localcloud import LocalCloud
from localcloud.engine import _hooks
from tests.engine.conftest import Runner, inline_map, only

FAILS_ONCE = """
import os
def handler(event, context):
    marker = "/tmp/" + context.function_name
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first call fails")
    return {"n": event["n"] + 1}
"""


def _rich_definition(function_arn: str) -> dict[str, Any]:
    """Task with Retry and Catch, Map, Parallel, Choice, Wait, Assign and a Fail: most event kinds."""
    return {
        "StartAt": "Add",
        "States": {
            "Add": {
                "Type": "Task",
                "Resource": function_arn,
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                "Assign": {"added.$": "$.n"},
                "Next": "Both",
            },
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}},
                    {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": [1, 2], "End": True}}},
                ],
                "ResultSelector": {"items.$": "$[1]"},
                "Next": "Each",
            },
            "Each": {
                **inline_map({"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}}),
                "ItemsPath": "$.items",
                "Next": "Which",
            },
            "Which": {
                "Type": "Choice",
                "Choices": [{"Variable": "$[0]", "NumericEquals": 1, "Next": "Stop"}],
                "Default": "Stop",
            },
            "Stop": {"Type": "Fail", "Error": "Done", "Cause": "the end"},
        },
    }


def _pages(sfn: Any, arn: str, **args: Any) -> list[list[dict[str, Any]]]:
    pages, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=arn, **args, **({"nextToken": token} if token else {}))
        pages.append(page["events"])
        if not (token := page.get("nextToken")):
            return pages


def _long_run(run_definition: Runner) -> str:
    """An execution of 258 events: a Map over 63 items of one Pass state."""
    item = {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}}
    run = run_definition(only(inline_map(item)), list(range(63)))
    assert run.status == "SUCCEEDED"
    return run.arn


def test_events_are_those_moto_s_serialiser_writes(
    local_cloud: LocalCloud,
    run_definition: Runner,
    deploy_function: Callable[[str], str],
    instant_clock: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sfn = local_cloud.client("stepfunctions")
    run = run_definition(_rich_definition(deploy_function(FAILS_ONCE)), {"n": 1})
    assert (run.status, run.error) == ("FAILED", "Done")
    ours = sfn.get_execution_history(executionArn=run.arn, maxResults=1000)
    handler = "moto.stepfunctions.responses:StepFunctionResponse.get_execution_history"
    monkeypatch.setattr(_hooks.resolve(handler)[0], "get_execution_history", _hooks.original(handler))
    moto = sfn.get_execution_history(executionArn=run.arn)
    assert "nextToken" not in ours
    assert ours["events"] == moto["events"]
    kinds = {e["type"] for e in ours["events"]}
    assert {
        "LambdaFunctionFailed",
        "MapIterationStarted",
        "ParallelStateSucceeded",
        "WaitStateExited",
    } <= kinds


def test_pages_of_a_hundred_by_default_and_each_event_once(
    local_cloud: LocalCloud, run_definition: Runner
) -> None:
    sfn = local_cloud.client("stepfunctions")
    arn = _long_run(run_definition)
    pages = _pages(sfn, arn)
    assert [len(p) for p in pages] == [100, 100, 58]
    assert [e["id"] for p in pages for e in p] == list(range(1, 259))
    assert [len(p) for p in _pages(sfn, arn, maxResults=1000)] == [258]
    backwards = [e["id"] for p in _pages(sfn, arn, maxResults=60, reverseOrder=True) for e in p]
    assert backwards == list(range(258, 0, -1))
    paginated = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    assert sum(len(page["events"]) for page in paginated) == 258


def test_without_execution_data_the_events_keep_all_but_input_and_output(
    local_cloud: LocalCloud, run_definition: Runner
) -> None:
    sfn = local_cloud.client("stepfunctions")
    arn = run_definition({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, {"secret": 1}).arn
    full = sfn.get_execution_history(executionArn=arn)["events"]
    bare = sfn.get_execution_history(executionArn=arn, includeExecutionData=False)["events"]
    assert full[0]["executionStartedEventDetails"]["input"] == '{"secret": 1}'
    assert "secret" not in str(bare)
    assert bare[1]["stateEnteredEventDetails"]["name"] == "P"
    assert [e["type"] for e in bare] == [e["type"] for e in full]


def test_a_token_not_issued_for_this_history_is_refused(
    local_cloud: LocalCloud, run_definition: Runner
) -> None:
    sfn = local_cloud.client("stepfunctions")
    arn = _long_run(run_definition)
    other = run_definition({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}).arn
    token = sfn.get_execution_history(executionArn=arn)["nextToken"]
    for bad in [{"executionArn": other, "nextToken": token}, {"executionArn": arn, "nextToken": "garbage"}]:
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            sfn.get_execution_history(**bad)
        assert refused.value.response["Error"]["Code"] == "InvalidToken"
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        sfn.get_execution_history(executionArn=arn, nextToken=token, reverseOrder=True)
    assert refused.value.response["Error"]["Code"] == "InvalidToken"
    with pytest.raises(botocore.exceptions.ClientError) as too_many:
        sfn.get_execution_history(executionArn=arn, maxResults=1001)
    assert too_many.value.response["Error"]["Code"] == "ValidationException"
    assert "maxResults" in too_many.value.response["Error"]["Message"]
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.get_execution_history(executionArn=other.replace(other.rsplit(":", 1)[1], "no-such-execution"))
