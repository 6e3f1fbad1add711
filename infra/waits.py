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
# error code -> parts of its message, any of which makes it worth another attempt
Retryable = dict[str, tuple[str, ...]]

# A role created seconds ago, or its policy written seconds ago, is not yet visible to the service
# assuming it: each code is retried only when its message says so (any of the parts).
ROLE_NOT_READY: Retryable = {
    # Lambda: the trust not yet seen, or the policy not yet seen while it checks the role can
    # write X-Ray traces ("...does not have permissions to call PutTraceSegments on XRAY")
    "InvalidParameterValueException": ("cannot be assumed", "execution role does not have permissions"),
    # Step Functions: "...is authorized to assume the provided role", and with logging on, the
    # log-delivery grants not yet seen ("not authorized to access the Log Destination"); not a bare
    # "assume", which the deployer's own refusals hold ("User: ...:assumed-role/ci/... is not
    # authorized to perform ...") and would be retried for a minute and a half
    "AccessDeniedException": ("authorized to assume", "Log Destination"),
    "ValidationException": ("assume",),  # Scheduler, Pipes
    "BadRequestException": ("assume",),  # API Gateway
}
# Lambda refuses a change while another one is being applied.
IN_PROGRESS: Retryable = {"ResourceConflictException": ("",), "ConflictException": ("",)}
# DynamoDB enables continuous backups on a new table in the background and refuses to turn on
# point-in-time recovery until it has ("Backups are being enabled for the table").
BACKUPS_NOT_READY: Retryable = {"ContinuousBackupsUnavailableException": ("",)}


class WaitTimeout(Exception):
    pass


def retry(
    call: Callable[[], T],
    retryable: Retryable,
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
            parts = retryable.get(error_code(error), ())
            if not any(part in str(error) for part in parts) or attempt == attempts - 1:
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


def until_gone(
    describe: Callable[[], Any],
    missing: type[Exception] | tuple[type[Exception], ...],
    what: str,
    *,
    timeout: float = 600.0,
    interval: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Poll `describe()` until it raises `missing`: AWS deletes tables, streams, pipes and state
    machines in the background, answering for them (DELETING) and refusing a new one of the name.
    Deploy waits out one it finds DELETING, rather than destroy waiting for its own deletions: that
    covers a destroy stopped midway or run elsewhere, and a deletion by hand, too."""

    def gone() -> bool:
        try:
            describe()
        except missing:
            return True
        return False

    until(gone, bool, what, timeout=timeout, interval=interval, sleep=sleep)


def live(
    describe: Callable[[], Any],
    missing: type[Exception],
    deleting: Callable[[Any], bool],
    what: str,
    *,
    apply: bool,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """What `describe()` answers, or None when there is none to update: also when AWS is still
    deleting it (deleted moments ago, by a --destroy), which is waited out when applying (see
    until_gone) and is to be created again."""
    try:
        current = describe()
    except missing:
        return None
    if deleting(current):
        if apply:
            until_gone(describe, missing, f"{what} deleted", sleep=sleep)
        return None
    return current
