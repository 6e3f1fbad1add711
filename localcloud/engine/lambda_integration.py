"""The Lambda integration returns what AWS returns.

- `arn:aws:states:::lambda:invoke` results carry, besides StatusCode and Payload, the
  `ExecutedVersion`, `SdkHttpMetadata` (headers, status) and `SdkResponseMetadata` (request id)
  that AWS adds; moto keeps only the fields of the Invoke API.
- "Function not found" causes name the version looked for (`...:function:NAME:$LATEST`).
- A Task whose Resource is a function ARN fails with the function's error document as AWS's Python
  runtime printed it (`{"errorMessage": "...", ...}`); moto re-encodes it compactly, which is
  only right for the `lambda:invoke` integration. When the Invoke call itself fails (throttled,
  missing function), the error is `Lambda.<Code>` as on AWS, not moto's `Exception`; when the
  role may not invoke the function, `Lambda.AWSLambdaException`, the base class of the AWS SDK
  for Java, which has none for AccessDeniedException.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from localcloud.engine import _hooks, lambda_invoke
from localcloud.engine.clock import CLOCK, http_date

_TASK = "moto.stepfunctions.parser.asl.component.state.exec.state_task"


def _payload(raw: bytes) -> Any:
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _sdk_metadata(
    response: dict[str, Any], raw: bytes, version: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    meta = response.get("ResponseMetadata", {})
    request_id = meta.get("RequestId", "")
    headers = {
        "Connection": "keep-alive",
        "Content-Length": str(len(raw)),
        "Content-Type": "application/json",
        "Date": http_date(CLOCK.time()),
        "X-Amz-Executed-Version": version,
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request_id,
        "X-Amzn-Trace-Id": meta.get("HTTPHeaders", {}).get("x-amzn-trace-id", f"Root=1-{request_id[:8]}"),
    }
    http = {
        "AllHttpHeaders": {k: [v] for k, v in headers.items()},
        "HttpHeaders": headers,
        "HttpStatusCode": meta.get("HTTPStatusCode", 200),
    }
    return http, {"RequestId": request_id}


def _integration(original: Callable[..., None]) -> Callable[..., None]:
    def execute_lambda_function_integration(
        env: Any, parameters: dict[str, Any], region: str, state_credentials: Any
    ) -> None:
        if env.is_mocked_mode():
            original(env=env, parameters=parameters, region=region, state_credentials=state_credentials)
            return
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils import (
            LambdaFunctionErrorException,
        )

        response = lambda_invoke.invoke(region, parameters, getattr(state_credentials, "role_arn", None))
        raw: bytes = response["Payload"]
        payload = _payload(raw)
        function_error = response.get("FunctionError")
        if function_error:
            raise LambdaFunctionErrorException(function_error, json.dumps(payload, separators=(",", ":")))
        version = response.get("ExecutedVersion") or "$LATEST"
        http, sdk = _sdk_metadata(response, raw, version)
        env.stack.append(
            {
                "ExecutedVersion": version,
                "Payload": payload,
                "SdkHttpMetadata": http,
                "SdkResponseMetadata": sdk,
                "StatusCode": response.get("StatusCode", 200),
            }
        )

    return execute_lambda_function_integration


def _runtime_formatted_cause(
    from_error: Callable[[Any, Any, Exception], Any],
) -> Callable[[Any, Any, Exception], Any]:
    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils import (
            LambdaFunctionErrorException,
        )

        if isinstance(ex, LambdaFunctionErrorException):
            try:
                spaced = json.dumps(json.loads(ex.payload))  # AWS's Python runtime: json.dumps defaults
                ex = LambdaFunctionErrorException(ex.function_error, spaced)
            except ValueError:
                pass
        elif isinstance(ex, ClientError):
            return _invoke_api_failure(env, ex)
        return from_error(self, env, ex)

    return _from_error


def _invoke_api_failure(env: Any, ex: Any) -> Any:
    """The Invoke API itself failed (throttled, not found, ...): AWS names it Lambda.<Code>, with the
    SDK's description as cause, where moto says 'Exception'."""
    from moto.stepfunctions.parser.api import HistoryEventType, LambdaFunctionFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
        StateTaskServiceLambda,
    )

    error, cause = StateTaskServiceLambda._error_cause_from_client_error(ex)
    details: Any = {
        "lambdaFunctionFailedEventDetails": LambdaFunctionFailedEventDetails(error=error, cause=cause)
    }
    return FailureEvent(
        env=env,
        error_name=CustomErrorName(error),
        event_type=HistoryEventType.LambdaFunctionFailed,
        event_details=details,
    )


_NOT_FOUND = re.compile(r"^(Function not found: arn:[^:]+:lambda:[^:]+:\d+:function:[^: ]+)(?= |$)")


def _as_aws_names(cause_of: Callable[[Any], tuple[str, str]]) -> Callable[[Any], tuple[str, str]]:
    def _error_cause_from_client_error(client_error: Any) -> tuple[str, str]:
        error, cause = cause_of(client_error)
        if client_error.response["Error"]["Code"] == "AccessDeniedException":  # no SDK class of its own
            error = "Lambda.AWSLambdaException"
        # AWS names the version it looked for: "...:function:NAME:$LATEST"
        return error, _NOT_FOUND.sub(r"\1:$LATEST", cause, count=1)

    return _error_cause_from_client_error


def install() -> None:
    _hooks.resolve(f"{_TASK}.lambda_eval_utils:LambdaFunctionErrorException")
    _hooks.patch(f"{_TASK}.lambda_eval_utils:execute_lambda_function_integration", _integration)
    _hooks.patch(f"{_TASK}.state_task_lambda:StateTaskLambda._from_error", _runtime_formatted_cause)
    _hooks.patch(
        f"{_TASK}.service.state_task_service_lambda:StateTaskServiceLambda._error_cause_from_client_error",
        lambda orig: staticmethod(_as_aws_names(orig.__func__)),
    )
