"""Small helpers for route handlers behind an API Gateway HTTP API (payload format 2.0).

A route handler takes the v2 event and returns {statusCode, headers, body}. Errors have the
console's shape: {"error", "message", "fields": [{"field", "message"}]} for invalid input.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tasks.shared.documents import NotJson, described, errors, loads


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
