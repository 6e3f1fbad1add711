"""Small helpers for route handlers behind an API Gateway HTTP API (payload format 2.0).

A route handler takes the v2 event and returns {statusCode, headers, body}. Errors have the
console's shape: {"error", "message", "fields": [{"field", "message"}]} for invalid input.

Every route handler is made with `@route(workflow, function)`: a failure it did not expect is
alerted and answered 500 (`unexpected`), as the original ticket ranking pushed a notification on
any unhandled error. A client's mistake is an answer of the handler's own (400), never alerted.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import json
import traceback
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from tasks.shared import alerts
from tasks.shared.documents import NotJson, described, errors, loads
from tasks.shared.powertools import logger

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def response(status: int, body: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, default=_default),
    }


def error(status: int, name: str, message: str, **extra: Any) -> dict[str, Any]:
    return response(status, {"error": name, "message": message, **extra})


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def invalid(schema: Mapping[str, Any], document: Any) -> dict[str, Any] | None:
    """A 400 response naming every wrong field, or None when `document` is valid."""
    found = errors(schema, document)
    if not found:
        return None
    return error(400, "InvalidInput", described(found), fields=found)


def json_body(event: Mapping[str, Any]) -> Any:
    """The request body decoded as JSON; NotJson says why it is not (see `not_json`)."""
    raw = event.get("body")
    if raw is None:
        raise NotJson("the request has no body")
    try:
        text = base64.b64decode(raw, validate=True).decode() if event.get("isBase64Encoded") else raw
    except (binascii.Error, UnicodeDecodeError) as problem:
        raise NotJson(f"the body is not base64-encoded UTF-8: {problem}") from None
    return loads(text)


def not_json(problem: NotJson) -> dict[str, Any]:
    message = f"the request body is not JSON: {problem}"
    return error(400, "InvalidInput", message, fields=[{"field": "$", "message": message}])


def request_id_of(event: Mapping[str, Any]) -> str:
    """API Gateway's id of the request (a new one where the event has none)."""
    return str((event.get("requestContext") or {}).get("requestId") or uuid.uuid4())


def unexpected(
    alert: alerts.Alert | None,
    workflow: str,
    function: str,
    status: int,
    request_id: str,
    detail: str,
    failure: str,
    said: str = "the request failed",
) -> dict[str, Any]:
    """`workflow`'s `function` failed in a way no client caused: alerted with `detail` (`failure`, the error, is
    what its window is of), then answered `status` with the request id and nothing of the failure,
    which is the alert's to tell. An alert that cannot be sent does not change the answer."""
    if alert is not None:
        with contextlib.suppress(Exception):
            subject = f"[{workflow}] {function} failed: {failure}"
            alert(
                subject,
                f"{function}, request {request_id}: {detail}\n\n{alerts.EMAILED_ONCE_A_FUNCTION}",
                failure,
            )
    answer = error(status, "InternalError", f"{said} (request id {request_id})", request_id=request_id)
    answer["headers"]["X-Request-Id"] = request_id
    return answer


def route(workflow: str, function: str) -> Callable[[Handler], Handler]:
    """A route handler of `workflow`'s `function` whose exceptions are `unexpected`: alerted as the
    workflow's ("[workflow] function failed: Error", emailed once an hour per error, see
    tasks.shared.alerts), logged with the traceback, answered 500."""
    alert = alerts.of_function(f"{workflow} {function}")

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def guarded(event: dict[str, Any], context: Any) -> dict[str, Any]:
            try:
                return handler(event, context)
            except Exception as problem:
                logger.exception(f"{function} failed")
                detail = "".join(traceback.format_exception(problem)).rstrip()
                failure = alerts.error_name(problem)
                return unexpected(alert, workflow, function, 500, request_id_of(event), detail, failure)

        return guarded

    return wrap
