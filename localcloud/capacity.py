"""DynamoDB request units of one request, as on-demand pricing reckons them.

A write: for each item, one unit per KB (rounded up) of the larger of the item before and after it,
and as much again for each global secondary index holding it (of its projection's size);
a transaction twice that. A read: one unit per 4 KB read, half of it when eventually consistent; a
transaction twice. A Query or Scan is billed on every item it read before its filter, all sizes
together: their sizes are not in its answer, so each is taken at the table's average item size.
(aws.amazon.com/dynamodb/pricing/on-demand: "Read request unit", "Write request unit".)
Two more approximations, both on the high side: an index holding the item is counted as written
even when an update changes none of the attributes it projects (DynamoDB writes it only then, and
twice when its key changes), and a transaction's ConditionCheck as a write.
"""

from __future__ import annotations

import json
import math
from typing import Any

WRITE_UNIT, READ_UNIT = 1024, 4096  # bytes a request unit covers
# (table, the item or its key, times billed, the stored item before the request)
Touched = list[tuple[str, dict[str, Any], int, Any]]


def before(backend: Any, operation: str, body: dict[str, Any]) -> Touched:
    """The items a write is about to replace, as stored before it; nothing for a read."""
    return [
        (table, key, times, _stored(backend, table, key)) for table, key, times in _written(operation, body)
    ]


def units(
    backend: Any, operation: str, body: dict[str, Any], answer: Any, touched: Touched
) -> dict[str, float]:
    """The request's WriteRequestUnits or ReadRequestUnits, once it was answered."""
    if touched:
        written = sum(
            times * _write_units(backend, table, old, _stored(backend, table, key))
            for table, key, times, old in touched
        )
        return {"WriteRequestUnits": written}
    read = _read_units(backend, operation, body, answer)
    return {"ReadRequestUnits": read} if read else {}


def _written(operation: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any], int]]:
    if operation == "PutItem":
        return [(body["TableName"], body["Item"], 1)]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(body["TableName"], body["Key"], 1)]
    if operation == "BatchWriteItem":
        return [
            (
                table,
                request["PutRequest"]["Item"] if "PutRequest" in request else request["DeleteRequest"]["Key"],
                1,
            )
            for table, requests in body.get("RequestItems", {}).items()
            for request in requests
        ]
    if operation == "TransactWriteItems":
        actions = [next(iter(item.values())) for item in body.get("TransactItems", [])]
        return [(action["TableName"], action.get("Item") or action["Key"], 2) for action in actions]
    return []


def _stored(backend: Any, table_name: str, key_or_item: dict[str, Any]) -> Any:
    try:
        table = backend.get_table(table_name)
        names = [table.hash_key_attr, *([table.range_key_attr] if table.range_key_attr else [])]
        return backend.get_item(table_name, {name: key_or_item[name] for name in names})
    except Exception:  # no such table or key: the request itself fails, and says why
        return None


def _write_units(backend: Any, table_name: str, *versions: Any) -> int:
    items = [item for item in versions if item is not None]
    if not items:  # nothing written (a failed condition on a missing item still costs one unit)
        return 1
    written = _units(max(item.size() for item in items), WRITE_UNIT)
    for index in backend.get_table(table_name).global_indexes:
        held = [index.project(i) for i in items if all(k in i.attrs for k in index.schema_key_attrs)]
        if held:
            written += _units(max(item.size() for item in held), WRITE_UNIT)
    return written


def _read_units(backend: Any, operation: str, body: dict[str, Any], answer: Any) -> float:
    consistent = 1.0 if body.get("ConsistentRead") else 0.5
    if operation == "GetItem":
        return consistent * _units(_size(_stored(backend, body["TableName"], body["Key"])), READ_UNIT)
    if operation == "BatchGetItem":
        return sum(
            (1.0 if request.get("ConsistentRead") else 0.5)
            * _units(_size(_stored(backend, table, key)), READ_UNIT)
            for table, request in body.get("RequestItems", {}).items()
            for key in request.get("Keys", [])
        )
    if operation == "TransactGetItems":
        gets = [item["Get"] for item in body.get("TransactItems", [])]
        return sum(2 * _units(_size(_stored(backend, g["TableName"], g["Key"])), READ_UNIT) for g in gets)
    if operation in ("Query", "Scan"):
        scanned = int(json.loads(answer[2] or "{}").get("ScannedCount", 0)) if answer[0] == 200 else 0
        return consistent * _units(scanned * _average_size(backend, body["TableName"]), READ_UNIT)
    return 0.0


def _average_size(backend: Any, table_name: str) -> float:
    sizes = [item.size() for item in backend.get_table(table_name).all_items()]
    return sum(sizes) / len(sizes) if sizes else 0.0


def _size(item: Any) -> int:
    return int(item.size()) if item is not None else 0


def _units(size: float, unit: int) -> int:
    return max(1, math.ceil(size / unit))
