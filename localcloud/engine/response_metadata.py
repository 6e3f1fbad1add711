"""The optimized integrations answer with the HTTP metadata AWS adds.

On AWS a request-response Task of `sns`, `sqs`, `dynamodb` or `states:startExecution` answers
the service's response plus `SdkHttpMetadata` (the response's status and headers, each header
also as a list under `AllHttpHeaders`) and `SdkResponseMetadata` (its request id), as the AWS SDK
for Java that Step Functions calls them with reports them. moto drops the response's metadata.
Here each engine client notes the last response it received (on its own thread), and the Task's
output gets that response's metadata: its status, request id, content type and length, as the
local service sent them. (`lambda:invoke` adds its own: see lambda_integration; aws-sdk Tasks
and the .sync and callback patterns, whose output is another response, add none, as on AWS.)
"""

from __future__ import annotations

import threading
from typing import Any

from localcloud.engine import _hooks
from localcloud.engine.clock import CLOCK, http_date

_SERVICE = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
_WITH_METADATA = (
    f"{_SERVICE}.state_task_service_sns:StateTaskServiceSns",
    f"{_SERVICE}.state_task_service_sqs:StateTaskServiceSqs",
    f"{_SERVICE}.state_task_service_dynamodb:StateTaskServiceDynamoDB",
    f"{_SERVICE}.state_task_service_sfn:StateTaskServiceSfn",
)
_last = threading.local()  # .response: (status, headers, body length) of this thread's last call


def remember_response(http_response: Any, model: Any, **_: Any) -> None:
    """botocore's after-call hook of the engine's clients. A streamed body (Lambda's Invoke) is
    left unread: its reader reads it."""
    if model.has_streaming_output:
        _last.response = None
    else:  # already read and parsed
        _last.response = (http_response.status_code, http_response.headers, len(http_response.content))


def _metadata(status: int, headers: Any, length: int) -> dict[str, Any]:
    request_id = headers.get("x-amzn-RequestId") or headers.get("x-amz-request-id") or ""
    sent = {
        "connection": "keep-alive",
        "Content-Length": str(length),
        "Content-Type": headers.get("Content-Type", "application/x-amz-json-1.0"),
        "Date": http_date(CLOCK.time()),
        "x-amzn-RequestId": request_id,
    }
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {k: [v] for k, v in sent.items()},
            "HttpHeaders": sent,
            "HttpStatusCode": status,
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


def _with_metadata(eval_service_task: Any) -> Any:
    def _eval_service_task(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        _last.response = None
        eval_service_task(self, env, *args, **kwargs)
        response, output = _last.response, env.stack[-1]
        if response is not None and self.resource.condition is None and isinstance(output, dict):
            env.stack[-1] = {**output, **_metadata(*response)}

    return _eval_service_task


def install() -> None:
    _hooks.resolve(f"{_SERVICE}.resource:ServiceResource")
    for service in _WITH_METADATA:
        _hooks.patch(f"{service}._eval_service_task", _with_metadata)
