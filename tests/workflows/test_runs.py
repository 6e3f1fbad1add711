"""What a workflow test shows when an execution did not end as the test expected."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflows.conftest import Run, deploy_workflows, pytest_assertrepr_compare

EVENTS: list[dict[str, Any]] = [
    {"id": 1, "previousEventId": 0, "type": "ExecutionStarted"},
    {
        "id": 2,
        "previousEventId": 1,
        "type": "TaskStateEntered",
        "stateEnteredEventDetails": {"name": "Find Unicorn"},
    },
    {
        "id": 3,
        "previousEventId": 2,
        "type": "TaskFailed",
        "taskFailedEventDetails": {"error": "KeyError", "cause": "'eta'"},
    },
    {
        "id": 4,
        "previousEventId": 3,
        "type": "TaskStateExited",
        "stateExitedEventDetails": {"name": "Find Unicorn"},
    },
    {
        "id": 5,
        "previousEventId": 4,
        "type": "FailStateEntered",
        "stateEnteredEventDetails": {"name": "Failed"},
    },
    {
        "id": 6,
        "previousEventId": 5,
        "type": "ExecutionFailed",
        "executionFailedEventDetails": {"error": "KeyError", "cause": "'eta'"},
    },
]


def test_a_failed_run_compared_with_succeeded_names_the_state_error_and_cause() -> None:
    run = Run("arn:x", "FAILED", None, "KeyError", "'eta'", EVENTS)

    explained = pytest_assertrepr_compare("==", run.status, "SUCCEEDED")

    assert explained is not None
    assert explained[-1] == "the execution ended FAILED in 'Find Unicorn': KeyError: 'eta'"
    assert run.status == "FAILED" and run.status != "SUCCEEDED"


def test_a_run_that_succeeded_is_compared_as_pytest_compares_strings() -> None:
    run = Run("arn:x", "SUCCEEDED", {}, None, None, EVENTS[:1])
    assert pytest_assertrepr_compare("==", run.status, "FAILED") is None


def test_a_workflow_the_registry_does_not_list_is_named_with_those_it_does() -> None:
    """Not a bare KeyError: a new workflow left out of WORKFLOWS is the likely cause."""
    with pytest.raises(KeyError, match=r"unknown workflow 'greting'; known: .*lottery"):
        deploy_workflows(None, "greting")  # never reaches a cloud
