"""The waits real AWS needs: IAM propagation, updates in progress, functions still pending.

Local and in-process clouds answer at once, so these only loop on AWS; the tests drive them with
botocore Stubber error sequences and a fake sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from infra.plan import error_code

T = TypeVar("T")

# A role created seconds ago is not yet visible to the service assuming it.
ROLE_NOT_READY = {
    "InvalidParameterValueException": "cannot be assumed",  # Lambda
    "AccessDeniedException": "assume",  # Step Functions: "not authorized to assume the provided role"
    "ValidationException": "assume",  # Scheduler, Pipes
    "BadRequestException": "assume",  # API Gateway
}
# Lambda refuses a change while another one is being applied.
IN_PROGRESS = {"ResourceConflictException": "", "ConflictException": ""}


class WaitTimeout(Exception):
    pass


def retry(
    call: Callable[[], T],
    retryable: dict[str, str],
    *,
    attempts: int = 12,
    delay: float = 1.0,
    max_delay: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`call()`, again after a growing delay while it fails with a retryable code and message."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as error:
            code = error_code(error)
            if code not in retryable or retryable[code] not in str(error) or attempt == attempts - 1:
                raise
            sleep(min(delay * 2**attempt, max_delay))
    raise AssertionError("unreachable")


def until(
    read: Callable[[], Any],
    ready: Callable[[Any], bool],
    what: str,
    *,
    timeout: float = 300.0,
    interval: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Poll `read()` until `ready(value)`; counts slept time so a fake sleep needs no clock."""
    waited = 0.0
    while True:
        value = read()
        if ready(value):
            return value
        if waited >= timeout:
            raise WaitTimeout(f"{what}: still not ready after {timeout:.0f}s")
        sleep(interval)
        waited += interval
