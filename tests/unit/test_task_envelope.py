"""The envelope every task takes, and whose mistake a refused event is: the caller's (InvalidInput,
which a workflow may reject unalerted) only for an input the task that checks the request refuses;
any other refusal is the definition's (MalformedTaskInput), which every workflow alerts."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from tasks.shared.errors import InvalidInput, MalformedTaskInput
from tasks.shared.handler import Handler, task
from tests.unit.conftest import envelope
from workflows import WORKFLOWS, definitions, lint

NO_ENVELOPE = r"^event: expected \{'execution': \.\.\., 'input': \{\.\.\.\}\}$"
WINNERS: dict[str, Any] = {"type": "object", "properties": {"winners": {"type": "integer"}}}


@task(WINNERS, checks_request=True)
def check_request(request: dict[str, Any]) -> dict[str, Any]:
    return request


@task(WINNERS)
def later_step(given: dict[str, Any]) -> dict[str, Any]:
    return given


def handler(dotted: str) -> Handler:
    module, _, name = dotted.rpartition(".")
    found: Handler = getattr(importlib.import_module(module), name)
    return found


def task_functions() -> Iterator[tuple[str, str, bool]]:
    """(workflow/function, handler, whether it is the first Lambda task the definition reaches)
    for every function a definition invokes."""
    for workflow in WORKFLOWS.values():
        definition = definitions.load(workflow)
        order = lint.flow_order(definition)
        tasks = sorted(
            (order[name], json.dumps(state["Parameters"]["FunctionName"]))
            for name, state in definition["States"].items()
            if name in order and lint.is_lambda(state)
        )
        first = tasks[0][1]
        text = json.dumps(definition)
        for function in workflow.functions:
            token = "${" + function.token + "}"
            if token in text:
                yield f"{workflow.name}/{function.name}", function.handler, token in first


TASK_FUNCTIONS = list(task_functions())


def test_only_the_task_that_checks_the_request_refuses_an_input_as_the_callers_mistake(
    context: LambdaContext,
) -> None:
    with pytest.raises(InvalidInput, match=r'^winners: "two" is not of type "integer"$'):
        check_request(envelope({"winners": "two"}), context)
    with pytest.raises(MalformedTaskInput, match=r'^winners: "two" is not of type "integer"$'):
        later_step(envelope({"winners": "two"}), context)
    assert later_step(envelope({"winners": 2}), context) == {"winners": 2}


@pytest.mark.parametrize("checks", [True, False], ids=["checks the request", "later step"])
def test_an_event_that_is_not_the_envelope_is_the_definitions_mistake(
    context: LambdaContext, checks: bool
) -> None:
    with pytest.raises(MalformedTaskInput, match=NO_ENVELOPE):
        (check_request if checks else later_step)({"winners": 2}, context)


@pytest.mark.parametrize(("function", "dotted"), [(f, d) for f, d, _ in TASK_FUNCTIONS])
def test_every_task_refuses_an_event_that_is_not_the_envelope_as_the_definitions_mistake(
    context: LambdaContext, function: str, dotted: str
) -> None:
    """The workflow's request sent bare, as a definition that forgot the envelope sends it."""
    with pytest.raises(MalformedTaskInput, match=NO_ENVELOPE):
        handler(dotted)({"winners": 2}, context)


@pytest.mark.parametrize(("function", "dotted", "first"), TASK_FUNCTIONS)
def test_the_first_task_of_every_workflow_and_no_other_checks_the_request(
    context: LambdaContext, function: str, dotted: str, first: bool
) -> None:
    """Only the first task sees the caller's request as the caller sent it: any later task's input
    is what the states before it made, which no caller can get wrong."""
    with pytest.raises(InvalidInput if first else MalformedTaskInput) as refused:
        handler(dotted)(envelope("not an object"), context)  # type: ignore[arg-type]
    assert type(refused.value) is (InvalidInput if first else MalformedTaskInput)
