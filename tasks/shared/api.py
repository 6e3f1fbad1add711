"""Small helpers for route handlers behind an API Gateway HTTP API (payload format 2.0).

A route handler takes the v2 event and returns {statusCode, headers, body}. Errors have the
console's shape: {"error", "message", "fields": [{"field", "message"}]} for invalid input.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tasks.shared.documents import errors, loads


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
    message = "; ".join(f"{e['field']}: {e['message']}" for e in found)
    return error(400, "InvalidInput", message, fields=found)


def json_body(event: Mapping[str, Any]) -> Any:
    """The request body decoded as JSON; None when it is missing or not JSON."""
    raw = event.get("body")
    if raw is None:
        return None
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    try:
        return loads(raw)
    except (TypeError, ValueError):
        return None
