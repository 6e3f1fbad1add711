"""Request metering: how many requests each AWS operation received, whoever made them.

A cost estimate needs what a run really did (DynamoDB writes from a handler, SNS publishes
from an integration, S3 puts): the local cloud counts every request its services answer.

    metering.install(); metering.reset(); ...run...; metering.counts()  # {("dynamodb", "PutItem"): 3}
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from localcloud import pins

_BaseResponse = pins.resolve("moto.core.responses", "BaseResponse")
_S3Response = pins.resolve("moto.s3.responses", "S3Response")

_lock = threading.Lock()
_counts: Counter[tuple[str, str]] = Counter()


def record(service: str, operation: str) -> None:
    with _lock:
        _counts[(service, operation)] += 1


def counts() -> dict[tuple[str, str], int]:
    with _lock:
        return dict(_counts)


def reset() -> None:
    with _lock:
        _counts.clear()


def install() -> None:
    """Count every action moto dispatches (idempotent)."""
    if getattr(_BaseResponse.call_action, "_metered", False):
        return
    call_action = _BaseResponse.call_action
    key_response = _S3Response._key_response

    def metered_call_action(self: Any) -> Any:
        record(str(self.service_name), str(self._get_action()))
        return call_action(self)

    def metered_key_response(self: Any, request: Any, full_url: str) -> Any:
        # S3 object requests bypass call_action; their method says what they are.
        record(
            "s3",
            {"PUT": "PutObject", "GET": "GetObject", "DELETE": "DeleteObject"}.get(
                request.method, request.method
            ),
        )
        return key_response(self, request, full_url)

    metered_call_action._metered = True  # type: ignore[attr-defined]
    _BaseResponse.call_action = metered_call_action
    _S3Response._key_response = metered_key_response
