"""The lottery's error policy is in its definition: retries, catches, a bounded loop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from workflows import definitions, policies
from workflows.lottery import MAX_REDRAWS, WORKFLOW

DEFINITION = json.loads(definitions.render(WORKFLOW))


def all_states(graph: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in graph["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from all_states(branch)


def test_every_lambda_task_retries_transient_lambda_errors_with_backoff() -> None:
    lambda_tasks = [
        s for _, s in all_states(DEFINITION) if s.get("Resource") == "arn:aws:states:::lambda:invoke"
    ]
    assert len(lambda_tasks) == 4
    for state in lambda_tasks:
        transient = state["Retry"][0]
        assert transient["ErrorEquals"] == policies.LAMBDA_TRANSIENT
        assert transient["BackoffRate"] > 1
        throttled = state["Retry"][1]
        assert throttled["ErrorEquals"] == ["Lambda.TooManyRequestsException"]
        assert throttled["JitterStrategy"] == "FULL" and throttled["MaxDelaySeconds"] > 0


def test_no_retrier_retries_business_errors() -> None:
    for _, state in all_states(DEFINITION):
        for retry in state.get("Retry", []):
            assert "States.ALL" not in retry["ErrorEquals"]
            assert "States.TaskFailed" not in retry["ErrorEquals"]


def test_every_top_level_task_and_parallel_is_caught_into_the_alert() -> None:
    """Notify Winners' error goes through Not Announced, which says the draw is recorded; the
    request's own faults end in Request Rejected first, unalerted."""
    rejections = {
        "Validate Request": ["InvalidInput", "NotEnoughEligibleEmployees"],
        "Draw Winners": ["NotEnoughEligibleEmployees"],
    }
    for name, state in DEFINITION["States"].items():
        if state["Type"] in ("Task", "Parallel") and name not in (
            policies.ALERT_WINDOW,
            "Alert Failure",
            policies.RELEASE_WINDOW,
        ):
            caught_by = "Not Announced" if name == "Notify Winners" else "Alert Window"
            errors = rejections.get(name)
            rejected = [{"ErrorEquals": errors, "ResultPath": "$.error", "Next": policies.REJECTED}]
            assert state["Catch"] == [
                *(rejected if errors else []),
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": caught_by},
            ]
    assert DEFINITION["States"][policies.REJECTED] == {
        "Type": "Fail",
        "Comment": "The request cannot be served as sent: failed with its error, unalerted",
        "ErrorPath": "$.error.Error",
        "CausePath": "$.error.Cause",
    }
    assert DEFINITION["States"]["Not Announced"]["Next"] == "Alert Window"
    window = DEFINITION["States"]["Alert Window"]
    assert window["Next"] == "Alert Failure" and {c["Next"] for c in window["Catch"]} == {"Alert Failure"}
    assert DEFINITION["States"]["Alert Failure"]["Next"] == "Failed"
    release = DEFINITION["States"]["Alert Failure"]["Catch"][0]["Next"]
    assert release == policies.RELEASE_WINDOW and DEFINITION["States"][release]["Next"] == policies.UNALERTED
    assert DEFINITION["States"]["Failed"] == {
        "Type": "Fail",
        "Comment": "Ends the execution with the caught error",
        "ErrorPath": "$.error.Error",
        "CausePath": "$.error.Cause",
    }


def test_the_redraw_loop_is_bounded_by_a_counter() -> None:
    choice = DEFINITION["States"]["Any Past Winner?"]
    limit = next(rule for rule in choice["Choices"] if rule["Next"] == "Redraw Limit Reached")
    assert limit == {
        "Variable": "$.draw.attempt",
        "NumericGreaterThanEquals": MAX_REDRAWS,
        "Next": "Redraw Limit Reached",
    }
    assert choice["Default"] == "Count Redraw"
    count = DEFINITION["States"]["Count Redraw"]
    assert count["Parameters"]["attempt.$"] == "States.MathAdd($.draw.attempt, 1)"
    assert DEFINITION["States"]["Redraw Limit Reached"]["Next"] == "Alert Window"


def test_a_draw_not_announced_fails_with_its_own_error_which_no_fresh_start_follows() -> None:
    """The error marks the run: the console offers no Start again for it, and its cause names the
    command that announces the draw in the environment it ran in."""
    not_announced = DEFINITION["States"]["Not Announced"]["Parameters"]
    assert not_announced["Error"] == "DrawNotAnnounced"
    assert "python -m tasks.lottery.announce --env ${Environment} --draw {}" in not_announced["Cause.$"]
    assert "${Environment}" in definitions.render(WORKFLOW)  # a token deploy knows
    assert not definitions.token_problems(WORKFLOW, definitions.render(WORKFLOW))
    failed = {"status": "FAILED", "error": "DrawNotAnnounced"}
    assert "a new one would draw other winners" in str(WORKFLOW.fresh_start_warning(failed))
    assert WORKFLOW.fresh_start_warning({**failed, "status": "SUCCEEDED"}) is None
    assert WORKFLOW.fresh_start_warning({**failed, "error": "WinnerAlreadyRecorded"}) is None
