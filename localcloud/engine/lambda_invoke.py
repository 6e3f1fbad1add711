"""A Task's Lambda Invoke, answered by the Lambda backend behind the API, with no API request.

Through botocore and moto's in-process request handler, an Invoke of a warm function took about
0.9 ms, of which the function's own run in the Lambda runtime was 0.1 ms: the rest was botocore
building and parsing the request and moto routing it. Here the engine calls the backend method
the API calls (`LambdaBackend.invoke`: the lookup by name, ARN, alias or version, the runtime,
faults, throttling) and shapes its answer as the Invoke API does: status 200, 202 (Event) or 204
(DryRun), ExecutedVersion, FunctionError, LogResult only for LogType Tail, the invocation's
request id; an API error as botocore's ClientError with its HTTP status. The request is still
metered as a Lambda Invoke, and refused, as IAM would, when the Task's role may not invoke the
function.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

from botocore.exceptions import ClientError

from localcloud import execution_roles, metering, pins

_BACKENDS = pins.resolve("moto.awslambda.models", "lambda_backends")
pins.resolve("moto.awslambda.models", "LambdaBackend", "invoke")
_API_ERROR = pins.resolve("moto.core.exceptions", "JsonRESTError")
_ACCOUNT = pins.resolve("moto.core", "DEFAULT_ACCOUNT_ID")  # the account of the engine's clients' key
_STATUS = {"Event": 202, "DryRun": 204}
# moto's Invoke API answers a larger payload with this error (AWS: 6 MB)
_PAYLOAD_LIMIT = 6_000_000
_TOO_LARGE = (
    b'{"errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).", '
    b'"errorType": "Function.ResponseSizeTooLarge"}'
)
_HEADERS = {
    "InvocationType": "x-amz-invocation-type",
    "LogType": "x-amz-log-type",
    "ClientContext": "x-amz-client-context",
}


def invoke(region: str, parameters: dict[str, Any], role_arn: str | None = None) -> dict[str, Any]:
    """What botocore's `lambda.invoke(**parameters)` returns, with the Payload as bytes, when
    `role_arn` (the Task's) may invoke the function."""
    metering.record("awslambda", "Invoke")  # the service name moto meters it under
    if role_arn is not None:
        function = execution_roles.function_arn(
            parameters["FunctionName"], parameters.get("Qualifier"), region, _ACCOUNT
        )
        refusal = execution_roles.state_machine_refusal(role_arn, "lambda:InvokeFunction", function)
        if refusal is not None:
            raise _client_error("AccessDeniedException", refusal, 403)
    headers = {
        header: parameters[name] for name, header in _HEADERS.items() if parameters.get(name) is not None
    }
    body = parameters.get("Payload") or b""
    response_headers: dict[str, str] = {}
    try:
        payload = _BACKENDS[_ACCOUNT][region].invoke(
            parameters["FunctionName"],
            parameters.get("Qualifier"),
            body.decode("utf-8") if isinstance(body, bytes) else body,
            headers,
            response_headers,
        )
    except _API_ERROR as error:
        raise _client_error(error.error_type, error.message, int(error.code)) from None
    raw = payload.encode("utf-8") if isinstance(payload, str) else payload
    invocation = headers.get("x-amz-invocation-type", "RequestResponse")
    status = _STATUS.get(invocation, 200)
    request_id = response_headers.get("x-amzn-requestid") or str(uuid.uuid4())  # the invocation's
    response: dict[str, Any] = {"ResponseMetadata": _metadata(request_id, status), "StatusCode": status}
    if invocation != "Event" and sys.getsizeof(raw) > _PAYLOAD_LIMIT:
        raw, response_headers["x-amz-function-error"] = _TOO_LARGE, "Unhandled"
    if "x-amz-executed-version" in response_headers:
        response["ExecutedVersion"] = response_headers["x-amz-executed-version"]
    if "x-amz-function-error" in response_headers:
        response["FunctionError"] = response_headers["x-amz-function-error"]
    if headers.get("x-amz-log-type") == "Tail" and "x-amz-log-result" in response_headers:
        response["LogResult"] = response_headers["x-amz-log-result"]
    response["Payload"] = raw
    return response


def _client_error(code: str, message: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": _metadata(str(uuid.uuid4()), status),
        },
        "Invoke",
    )


def _metadata(request_id: str, status: int) -> dict[str, Any]:
    return {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": {"content-type": "application/json", "x-amzn-requestid": request_id},
        "RetryAttempts": 0,
    }
