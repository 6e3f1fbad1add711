"""The envelope every task Lambda shares.

Workflows invoke a task with `{"execution": <execution ARN>, "input": {...}}`. `task(schema)`
turns a function of the input into a Lambda handler: the execution becomes the logs'
correlation id, the input is validated (the error names the field), metrics are flushed
and the call is traced. The function returns a JSON-safe dict. A call that fails forgets the
settings the worker had cached (tasks.shared.parameters), so that a retry, a redrive or the next
run reads them afresh: a setting corrected after a failure takes effect at once.

Whose mistake a refused event is decides its error name, which the workflow's Catch matches: an
input refused by the task that checks the caller's request (`checks_request`) is the caller's,
InvalidInput, which a workflow may reject unalerted; an event that is not the envelope, or an
input any other task refuses, is the definition's, MalformedTaskInput, which every workflow alerts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tasks.shared.documents import described, schema_errors
from tasks.shared.errors import InvalidInput, MalformedTaskInput, TaskError
from tasks.shared.powertools import logger, metrics, tracer

TaskFunction = Callable[[dict[str, Any]], dict[str, Any]]
Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def validated(
    payload: Any, schema: Mapping[str, Any], refused: type[TaskError] = InvalidInput
) -> dict[str, Any]:
    """The payload, once it matches `schema`; `refused` words what is wrong as the door does."""
    found = schema_errors(schema, payload)
    if found:
        raise refused(described(found))
    return dict(payload)


def _forget_settings() -> None:
    """The failure may come of a stale setting (a URL since corrected). Imported here, not at the
    top: most tasks read no setting and need not load the parameter providers to start."""
    from tasks.shared import parameters

    parameters.clear()


def task(schema: Mapping[str, Any], *, checks_request: bool = False) -> Callable[[TaskFunction], Handler]:
    """`checks_request`: the task is the one that checks the workflow's input, the caller's
    request, so an input its schema refuses is the caller's mistake (InvalidInput), which the
    workflow may reject unalerted. Any other task is given what the states before it made of the
    request: an input its schema refuses is a definition's mistake (MalformedTaskInput), alerted."""
    refused = InvalidInput if checks_request else MalformedTaskInput

    def wrap(function: TaskFunction) -> Handler:
        @functools.wraps(function)
        @metrics.log_metrics
        @tracer.capture_lambda_handler(capture_response=False)
        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            if not isinstance(event, dict) or "input" not in event:
                raise MalformedTaskInput("event: expected {'execution': ..., 'input': {...}}")
            logger.set_correlation_id(event.get("execution"))
            logger.append_keys(task=function.__name__)
            try:
                return function(validated(event["input"], schema, refused))
            except Exception:
                _forget_settings()
                raise

        return handler

    return wrap
