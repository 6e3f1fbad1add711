"""UpdateItem answers ConsumedCapacity only when ReturnConsumedCapacity asks for it, as DynamoDB
does (and as moto does for its other item actions); moto's UpdateItem always adds it, so a Step
Functions `aws-sdk:dynamodb:updateItem` Task's output has a key that AWS's has not (recorded on
AWS, in ../shared/conformance).
"""

from __future__ import annotations

from typing import Any

from localcloud import pins

_HANDLER = pins.resolve("moto.dynamodb.responses", "DynamoHandler")


def install() -> None:
    """Idempotent."""
    update_item = _HANDLER.update_item
    if getattr(update_item, "__localcloud_original__", None) is not None:
        return

    def capacity_when_asked(handler: Any) -> Any:
        result = update_item(handler)
        if handler.body.get("ReturnConsumedCapacity", "NONE") == "NONE":
            result.result.pop("ConsumedCapacity", None)
        return result

    capacity_when_asked.__localcloud_original__ = update_item  # type: ignore[attr-defined]
    _HANDLER.update_item = capacity_when_asked
