"""The envelope every task Lambda shares.

Workflows invoke a task with `{"execution": <execution ARN>, "input": {...}}`. `task(schema)`
turns a function of the input into a Lambda handler: the execution becomes the logs'
correlation id, the input is validated (InvalidInput names the field), metrics are flushed
and the call is traced. The function returns a JSON-safe dict. A call that fails forgets the
settings the worker had cached (tasks.shared.parameters), so that a retry, a redrive or the next
run reads them afresh: a setting corrected after a failure takes effect at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tasks.shared.documents import described, schema_errors
from tasks.shared.errors import InvalidInput
from tasks.shared.powertools import logger, metrics, tracer

TaskFunction = Callable[[dict[str, Any]], dict[str, Any]]
Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def validated(payload: Any, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The payload, once it matches `schema`; InvalidInput words what is wrong as the door does."""
    found = schema_errors(schema, payload)
    if found:
        raise InvalidInput(described(found))
    return dict(payload)


def _forget_settings() -> None:
    """The failure may come of a stale setting (a URL since corrected). Imported here, not at the
    top: most tasks read no setting and need not load the parameter providers to start."""
    from tasks.shared import parameters

    parameters.clear()


def task(schema: Mapping[str, Any]) -> Callable[[TaskFunction], Handler]:
    def wrap(function: TaskFunction) -> Handler:
        @functools.wraps(function)
        @metrics.log_metrics
        @tracer.capture_lambda_handler(capture_response=False)
        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            if not isinstance(event, dict) or "input" not in event:
                raise InvalidInput("event: expected {'execution': ..., 'input': {...}}")
            logger.set_correlation_id(event.get("execution"))
            logger.append_keys(task=function.__name__)
            try:
                return function(validated(event["input"], schema))
            except Exception:
                _forget_settings()
                raise

        return handler

    return wrap
