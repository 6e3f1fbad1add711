"""Where moto's DynamoDB answers otherwise than DynamoDB does (each recorded on AWS, in
../shared/conformance):

- A table name outside DynamoDB's pattern, and a PutItem with no Item, are refused with a
  ValidationException naming the field. moto looked the name up (ResourceNotFoundException) and
  failed on the missing Item with a KeyError (an internal error).
- UpdateItem answers ConsumedCapacity only when ReturnConsumedCapacity asks for it, as moto's
  other item actions do; moto's UpdateItem always added it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from localcloud import pins

_HANDLER = pins.resolve("moto.dynamodb.responses", "DynamoHandler")
_INVALID = pins.resolve("moto.dynamodb.exceptions", "MockValidationException")
_ITEM_ACTIONS = ("get_item", "put_item", "update_item", "delete_item", "query", "scan")
_TABLE_NAME = "[a-zA-Z0-9_.-]+"
for _action in _ITEM_ACTIONS:
    pins.resolve("moto.dynamodb.responses", "DynamoHandler", _action)  # checked at import


def _refused(body: dict[str, Any], action: str) -> str | None:
    """AWS's message for what the request gets wrong, if anything."""
    name = body.get("TableName")
    if isinstance(name, str) and not name.startswith("arn:") and not re.fullmatch(_TABLE_NAME, name):
        return (
            f"1 validation error detected: Value '{name}' at 'tableName' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {_TABLE_NAME}"
        )
    if action == "put_item" and body.get("Item") is None:
        return (
            "1 validation error detected: Value null at 'item' failed to satisfy constraint: "
            "Member must not be null"
        )
    return None


def _checked(action: str, handle: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def checked_action(handler: Any) -> Any:
        message = _refused(handler.body, action)
        if message is not None:
            raise _INVALID(message)
        result = handle(handler)
        if action == "update_item" and handler.body.get("ReturnConsumedCapacity", "NONE") == "NONE":
            result.result.pop("ConsumedCapacity", None)
        return result

    checked_action.__localcloud_original__ = handle  # type: ignore[attr-defined]
    return checked_action


def install() -> None:
    """Idempotent."""
    for action in _ITEM_ACTIONS:
        handle = getattr(_HANDLER, action)
        if getattr(handle, "__localcloud_original__", None) is None:
            setattr(_HANDLER, action, _checked(action, handle))
