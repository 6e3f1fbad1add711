"""A Task that fails its Parallel branch is recorded as aborted after its failure, as on AWS."""

from __future__ import annotations

from tests.engine.conftest import Runner


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
