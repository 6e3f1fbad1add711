"""Request metering: how many requests each AWS operation received, whoever made them.

Batch operations count their items (what AWS bills). A cost estimate needs what a run really did (DynamoDB writes from a handler, SNS publishes
from an integration, S3 puts): the local cloud counts every request its services answer.

    metering.install(); metering.reset(); ...run...; metering.counts()  # {("dynamodb", "PutItem"): 3}

On demand, DynamoDB bills request units, not requests: `count_capacity()` also counts
("dynamodb", "WriteRequestUnits") and ("dynamodb", "ReadRequestUnits") as DynamoDB's pricing
page reckons them (see localcloud/capacity.py). It reads the items each request touches, so it is off
unless asked for (the cost bench).

`count_logs()` also counts the bytes put to each log group (`logged()`: {"/aws/lambda/fn": 4210}),
as CloudWatch Logs sizes a batch of events: each message's UTF-8 bytes plus 26. Off unless asked
for, as it measures every line a function logs.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from localcloud import pins

_BaseResponse = pins.resolve("moto.core.responses", "BaseResponse")
_S3Response = pins.resolve("moto.s3.responses", "S3Response")
_LogStream = pins.resolve("moto.logs.models", "LogStream")

_lock = threading.Lock()
_counts: dict[tuple[str, str], float] = {}  # requests; DynamoDB's read request units may be halves
_logged: dict[str, int] = {}  # log group -> bytes put
# What PutLogEvents adds to each event's message in reckoning a batch's size
LOG_EVENT_OVERHEAD = 26


# Batch operations are billed per item, not per request.
_ITEMS = {
    ("dynamodb", "BatchWriteItem"): lambda body: sum(len(v) for v in body.get("RequestItems", {}).values()),
    ("dynamodb", "BatchGetItem"): lambda body: sum(
        len(v.get("Keys", [])) for v in body.get("RequestItems", {}).values()
    ),
    ("dynamodb", "TransactWriteItems"): lambda body: 2 * len(body.get("TransactItems", [])),
    ("dynamodb", "TransactGetItems"): lambda body: 2 * len(body.get("TransactItems", [])),
    ("kinesis", "PutRecords"): lambda body: len(body.get("Records", [])),
}


def units(service: str, operation: str, body: Any) -> int:
    """Billable units of one request: items for batch operations, else 1."""
    count = _ITEMS.get((service, operation))
    if count is None:
        return 1
    try:
        return int(count(body if isinstance(body, dict) else json.loads(body or "{}")))
    except (ValueError, TypeError, AttributeError):
        return 1


def record(service: str, operation: str, amount: float = 1) -> None:
    with _lock:
        _counts[(service, operation)] = _counts.get((service, operation), 0) + amount


def count_capacity(on: bool = True) -> None:
    """Count DynamoDB's request units too (or no longer)."""
    _capacity[0] = on


_capacity = [False]


def count_logs(on: bool = True) -> None:
    """Count the bytes put to each log group too (or no longer)."""
    _logs[0] = on


_logs = [False]


def event_bytes(message: str) -> int:
    """The size of one log event as CloudWatch Logs reckons it."""
    return len(message.encode()) + LOG_EVENT_OVERHEAD


def logged() -> dict[str, int]:
    with _lock:
        return dict(_logged)


def counts() -> dict[tuple[str, str], float]:
    with _lock:
        return dict(_counts)


def reset() -> None:
    with _lock:
        _counts.clear()
        _logged.clear()


def install() -> None:
    """Count every action moto dispatches (idempotent)."""
    if getattr(_BaseResponse.call_action, "_metered", False):
        return
    call_action = _BaseResponse.call_action
    key_response = _S3Response._key_response
    put_log_events = _LogStream.put_log_events

    def metered_call_action(self: Any) -> Any:
        service, operation = str(self.service_name), str(self._get_action())
        record(service, operation, units(service, operation, getattr(self, "body", None)))
        if not (_capacity[0] and service == "dynamodb"):
            return call_action(self)
        from localcloud import capacity

        backend, body = self.dynamodb_backend, self.body
        touched = capacity.before(backend, operation, body)
        answer = call_action(self)
        for kind, amount in capacity.units(backend, operation, body, answer, touched).items():
            record("dynamodb", kind, amount)
        return answer

    def metered_key_response(self: Any, request: Any, full_url: str) -> Any:
        # S3 object requests bypass call_action; their method says what they are.
        record(
            "s3",
            {"PUT": "PutObject", "GET": "GetObject", "DELETE": "DeleteObject"}.get(
                request.method, request.method
            ),
        )
        return key_response(self, request, full_url)

    def metered_put_log_events(self: Any, log_events: list[dict[str, Any]]) -> Any:
        # every put, the API's and the Lambda runtime's own (which writes to the stream directly)
        if _logs[0]:
            size = sum(event_bytes(str(event["message"])) for event in log_events)
            group = str(self.log_group.name)
            with _lock:
                _logged[group] = _logged.get(group, 0) + size
        return put_log_events(self, log_events)

    metered_call_action._metered = True  # type: ignore[attr-defined]
    _BaseResponse.call_action = metered_call_action
    _S3Response._key_response = metered_key_response
    _LogStream.put_log_events = metered_put_log_events
