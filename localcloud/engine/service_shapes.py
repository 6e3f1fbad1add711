"""Service integrations translate between Step Functions' and the SDK's field names.

Step Functions lets a Task write `StateMachineArn` where the API says `stateMachineArn`, and
answers `ExecutionArn`, `StartDate` where the API says `executionArn`, `startDate`. moto's port
keeps LocalStack's translation helpers (`_to_boto_request`, `_from_boto_response`) but its
`_normalise_parameters`/`_normalise_response` do nothing, so e.g. `states:startExecution` fails
in botocore with KeyError 'StateMachineArn'. They are given botocore's shapes here, and the
timestamps botocore parses become text again.
"""

from __future__ import annotations

import datetime
import functools
import threading
from typing import Any

import botocore.session

from localcloud.engine import _hooks
from localcloud.engine.clock import aws_iso

_SERVICE = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service"
_lock = threading.Lock()


@functools.cache
def _service_model(service: str) -> Any:
    with _lock:  # botocore's loader caches without locking
        return botocore.session.get_session().get_service_model(service)


@functools.cache
def _operation(service: str, action: str) -> Any:
    from moto.stepfunctions.parser.utils import camel_to_snake_case

    model = _service_model(service)
    for name in model.operation_names:
        if camel_to_snake_case(name) == action:
            return model.operation_model(name)
    return None


def _shapes(self: Any, boto_service_name: str | None, service_action_name: str | None) -> tuple[Any, Any]:
    service = self._get_boto_service_name(boto_service_name=boto_service_name)
    action = self._get_boto_service_action(service_action_name=service_action_name)
    try:
        operation = _operation(service, action)
    except Exception:  # unknown service: leave the values as they are
        return None, None
    if operation is None:
        return None, None
    return operation.input_shape, operation.output_shape


def _normalise_parameters(
    self: Any,
    parameters: dict[str, Any],
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    input_shape, _ = _shapes(self, boto_service_name, service_action_name)
    if input_shape is not None and isinstance(parameters, dict):
        self._to_boto_request(parameters, input_shape)


def _normalise_response(
    self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    _, output_shape = _shapes(self, boto_service_name, service_action_name)
    if output_shape is not None and isinstance(response, dict):
        self._from_boto_response(response, output_shape)
    _dates_to_text(response)


def _dates_to_text(value: Any) -> None:
    """botocore parses timestamps into datetimes; a state's output must be JSON (moto's
    DescribeExecution fails on a datetime in it)."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in list(items):
        if isinstance(item, datetime.datetime):
            value[key] = aws_iso(item)
        elif isinstance(item, (dict, list)):
            _dates_to_text(item)


def install() -> None:
    _hooks.resolve(f"{_SERVICE}:StateTaskService._to_boto_request")
    _hooks.resolve(f"{_SERVICE}:StateTaskService._from_boto_response")
    _hooks.resolve("moto.stepfunctions.parser.utils:camel_to_snake_case")
    _hooks.patch(f"{_SERVICE}:StateTaskService._normalise_parameters", lambda _orig: _normalise_parameters)
    _hooks.patch(f"{_SERVICE}:StateTaskService._normalise_response", lambda _orig: _normalise_response)
