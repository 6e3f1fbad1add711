"""The states a failing Parallel branch or Map iteration cuts short are recorded as aborted, as on
AWS: a Task that fails its branch after its failure, and a state still running in another branch
or iteration when the Parallel or Map fails, which records nothing after it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.engine.conftest import Run, Runner, inline_map


def test_failing_task_in_a_branch_is_aborted(run_definition: Runner) -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "engine-absent"},
        "End": True,
    }
    run = run_definition(
        {
            "StartAt": "P",
            "States": {
                "P": {"Type": "Parallel", "Branches": [{"StartAt": "T", "States": {"T": task}}], "End": True}
            },
        }
    )
    assert run.status == "FAILED"
    failed = run.types.index("TaskFailed")
    assert run.types[failed : failed + 3] == ["TaskFailed", "TaskStateAborted", "ParallelStateFailed"]


def test_a_failing_task_outside_a_branch_is_not_aborted(run_definition: Runner) -> None:
    run = run_definition(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "engine-absent"},
                    "End": True,
                }
            },
        }
    )
    assert "TaskStateAborted" not in run.types


# One function, three parts: a Task that fails once `others` Tasks are in flight, a slow Task that
# marks its start and end, and a Task that waits until every slow one has ended.
MARKED = (
    "import pathlib, time, uuid\n"
    "def handler(event, context):\n"
    "    marks = pathlib.Path(event['marks'])\n"
    "    if 'others' in event:\n"
    "        while len(list(marks.glob('*.started'))) < event['others']:\n"
    "            time.sleep(0.01)\n"
    "        raise ValueError('boom')\n"
    "    if event.get('await'):\n"
    "        while len(list(marks.glob('*.done'))) < len(list(marks.glob('*.started'))):\n"
    "            time.sleep(0.01)\n"
    "        return event\n"
    "    mark = marks / uuid.uuid4().hex\n"
    "    mark.with_suffix('.started').write_text('')\n"
    "    time.sleep(0.3)\n"
    "    mark.with_suffix('.done').write_text('')\n"
    "    return {'late': True}\n"
)

# After the failure is caught: wait for the slow Tasks' functions to answer, then long enough for
# their answers to reach the execution, where they would show as late events.
AFTER_CATCH = [
    "TaskStateEntered",
    "LambdaFunctionScheduled",
    "LambdaFunctionStarted",
    "LambdaFunctionSucceeded",
    "TaskStateExited",
    "WaitStateEntered",
    "WaitStateExited",
    "PassStateEntered",
    "PassStateExited",
    "ExecutionSucceeded",
]


def _caught_then_awaited(function_arn: str, first: str, first_state: dict[str, Any]) -> dict[str, Any]:
    return {
        "StartAt": first,
        "States": {
            first: {
                **first_state,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "AwaitSlow"}],
                "Next": "Done",
            },
            "AwaitSlow": {
                "Type": "Task",
                "Resource": function_arn,
                "Parameters": {"await": True, "marks.$": "$.marks"},
                "ResultPath": None,
                "Next": "Settle",
            },
            "Settle": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        },
    }


def _task(
    function_arn: str, parameters: dict[str, Any] | None, then: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A branch or iteration that calls the function (with its input, or these Parameters and the
    marks), then goes on to the `then` state, if any."""
    task: dict[str, Any] = {"Type": "Task", "Resource": function_arn}
    if parameters is not None:
        task["Parameters"] = {**parameters, "marks.$": "$.marks"}
    if then is None:
        return {"StartAt": "Call", "States": {"Call": {**task, "End": True}}}
    return {"StartAt": "Call", "States": {"Call": {**task, "Next": "Then"}, "Then": {**then, "End": True}}}


def _assert_caught_boom(run: Run, inpt: dict[str, Any]) -> None:
    """The execution went on with the Catch's output alone: its input and the failure caught."""
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    caught = run.output["caught"]
    assert run.output == {**inpt, "caught": caught}
    assert set(caught) == {"Error", "Cause"} and caught["Error"] == "ValueError"
    assert json.loads(caught["Cause"])["errorMessage"] == "boom"


def test_a_task_in_flight_in_a_sibling_branch_is_aborted_and_its_answer_dropped(
    run_definition: Runner, deploy_function: Callable[[str], str], tmp_path: Path
) -> None:
    """AWS stops every branch of a Parallel whose branch fails: the sibling's Task is aborted when
    the Parallel fails, and its function's answer, though it comes, is recorded nowhere."""
    function = deploy_function(MARKED)
    parallel = {
        "Type": "Parallel",
        "Branches": [
            _task(function, {"others": 1}),
            _task(function, {}, then={"Type": "Pass", "Result": "late"}),
        ],
    }
    inpt = {"marks": str(tmp_path)}
    run = run_definition(_caught_then_awaited(function, "Both", parallel), inpt)
    _assert_caught_boom(run, inpt)
    failed = run.types.index("ParallelStateFailed")
    # the failing Task's abort, then its sibling's, before the Parallel fails
    assert run.types[failed - 2 : failed] == ["TaskStateAborted", "TaskStateAborted"]
    sibling = run.events[failed - 1]
    entered = {e["id"]: e for e in run.events if e["type"] == "TaskStateEntered"}
    assert sibling["previousEventId"] in entered  # the sibling had entered its Task, no more
    assert run.types[failed + 1 :] == ["ParallelStateExited", *AFTER_CATCH]
    assert run.types.count("LambdaFunctionSucceeded") == 1  # AwaitSlow's
    assert "PassStateEntered" not in run.types[:failed]
    assert list(tmp_path.glob("*.done"))  # the sibling's function did answer


def test_iterations_in_flight_when_another_fails_are_aborted_and_their_answers_dropped(
    run_definition: Runner, deploy_function: Callable[[str], str], tmp_path: Path
) -> None:
    """An Inline Map fails with any of its iterations, stopping the others: each still running is
    aborted (its Task, then the iteration) before MapStateFailed, and records nothing after it."""
    function = deploy_function(MARKED)
    marks = str(tmp_path)
    items = [{"marks": marks}, {"marks": marks, "others": 2}, {"marks": marks}]
    iteration = _task(function, None, then={"Type": "Pass"})
    each = {**inline_map(iteration, max_concurrency=3), "ItemsPath": "$.items"}
    inpt = {"marks": marks, "items": items}
    run = run_definition(_caught_then_awaited(function, "Each", each), inpt)
    _assert_caught_boom(run, inpt)
    failed = run.types.index("MapStateFailed")
    before = run.types[:failed]
    assert before.count("MapIterationFailed") == 1
    assert before.count("TaskStateAborted") == before.count("MapIterationAborted") == 2
    aborted = [e for e in run.events if e["type"] == "MapIterationAborted"]
    assert sorted(e["mapIterationAbortedEventDetails"]["index"] for e in aborted) == [0, 2]
    assert {e["mapIterationAbortedEventDetails"]["name"] for e in aborted} == {"Each"}
    # each iteration's Task is aborted just before the iteration
    for event in aborted:
        assert run.types[run.events.index(event) - 1] == "TaskStateAborted"
    assert run.types[failed + 1 :] == ["MapStateExited", *AFTER_CATCH]
    assert "MapIterationSucceeded" not in run.types
    assert run.types.count("LambdaFunctionSucceeded") == 1  # AwaitSlow's


def test_a_parallel_in_flight_in_an_aborted_branch_is_aborted_after_its_task(
    run_definition: Runner, deploy_function: Callable[[str], str], tmp_path: Path
) -> None:
    """The states an aborted branch is in are aborted innermost first: the nested Parallel's Task,
    then the nested Parallel."""
    function = deploy_function(MARKED)
    inner = {"Type": "Parallel", "Branches": [_task(function, {})], "End": True}
    parallel = {
        "Type": "Parallel",
        "Branches": [_task(function, {"others": 1}), {"StartAt": "Inner", "States": {"Inner": inner}}],
    }
    inpt = {"marks": str(tmp_path)}
    run = run_definition(_caught_then_awaited(function, "Both", parallel), inpt)
    _assert_caught_boom(run, inpt)
    failed = run.types.index("ParallelStateFailed")
    assert run.types[failed - 3 : failed] == ["TaskStateAborted", "TaskStateAborted", "ParallelStateAborted"]
    assert run.types[failed + 1 :] == ["ParallelStateExited", *AFTER_CATCH]
