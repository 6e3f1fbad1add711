"""The definition linter catches each breach of the error policy."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from workflows import WORKFLOWS, definitions, lint
from workflows.lottery import WORKFLOW as LOTTERY

LOTTERY_DEFINITION = json.loads(definitions.render(LOTTERY))


def lottery() -> dict[str, Any]:
    return copy.deepcopy(LOTTERY_DEFINITION)


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_workflow_passes_the_linter(name: str) -> None:
    workflow = WORKFLOWS[name]
    standard = workflow.type == "STANDARD"
    assert lint.lint(definitions.load(workflow), standard=standard, map_items=workflow.max_map_items) == []


def test_a_lambda_task_without_transient_retries_is_reported() -> None:
    definition = lottery()
    definition["States"]["Draw Winners"]["Retry"] = definition["States"]["Draw Winners"]["Retry"][1:]
    assert "Draw Winners: does not retry AWS's transient Lambda errors" in lint.lint(definition)


def test_throttling_without_jitter_is_reported() -> None:
    definition = lottery()
    del definition["States"]["Check Past Winners"]["Retry"][1]["JitterStrategy"]
    assert "Check Past Winners: does not retry throttling with jitter and a delay cap" in lint.lint(
        definition
    )


@pytest.mark.parametrize("error", ["States.ALL", "NotEnoughEligibleEmployees", "InvalidInput"])
def test_retrying_a_business_error_is_reported(error: str) -> None:
    definition = lottery()
    definition["States"]["Validate Request"]["Retry"].append({"ErrorEquals": [error], "MaxAttempts": 2})
    assert f"Validate Request: retries business or validation errors ['{error}']" in lint.lint(definition)


def test_a_task_without_catch_is_reported() -> None:
    definition = lottery()
    del definition["States"]["Announce And Record"]["Catch"]
    assert "Announce And Record: no Catch for States.ALL leading to the alert" in lint.lint(definition)


def test_a_catch_that_drops_the_input_is_reported() -> None:
    definition = lottery()
    definition["States"]["Draw Winners"]["Catch"][0]["ResultPath"] = "$"
    assert "Draw Winners: Catch does not keep the input (ResultPath '$')" in lint.lint(definition)


def test_a_catch_that_skips_the_alert_is_reported() -> None:
    definition = lottery()
    definition["States"]["Draw Winners"]["Catch"][0]["Next"] = "Failed"
    assert "Draw Winners: Catch goes to 'Failed', which does not lead to the alert" in lint.lint(definition)


def test_a_fail_state_without_cause_is_reported() -> None:
    definition = lottery()
    del definition["States"]["Failed"]["CausePath"]
    assert "Failed: Fail state without Error and Cause" in lint.lint(definition)


def test_an_unbounded_loop_is_reported() -> None:
    definition = lottery()
    choice = definition["States"]["Any Past Winner?"]
    choice["Choices"] = [r for r in choice["Choices"] if r["Next"] != "Redraw Limit Reached"]
    problems = lint.lint(definition)
    assert any("loop" in p and "has no counter that ends it" in p for p in problems)


def test_a_loop_whose_counter_never_moves_is_reported() -> None:
    definition = lottery()
    definition["States"]["Count Redraw"]["Parameters"]["attempt.$"] = "$.draw.attempt"
    assert any("has no counter that ends it" in p for p in lint.lint(definition))


def test_a_history_over_the_limit_is_reported() -> None:
    definition = lottery()
    definition["States"]["Any Past Winner?"]["Choices"][1]["NumericGreaterThanEquals"] = 5000
    assert any("history events, over AWS's limit of 25000" in p for p in lint.lint(definition))
    assert not any("history events" in p for p in lint.lint(definition, standard=False))
