"""Session-wide counts for the quality summary `make test` prints: malformed inputs sent, faults
injected into the local Lambda runtime, records lost (as measured by the tests that check)."""

from __future__ import annotations

import functools
import threading
from typing import Any

_lock = threading.Lock()
inputs_tried = 0
faults_injected = 0
records_lost = 0
# which checks ran, so that "records lost: 0" is never printed for nothing measured
loss_checks: list[str] = []
# tables the quality tests print in the summary (the load test's figures)
reports: list[str] = []


def input_tried() -> None:
    global inputs_tried
    with _lock:
        inputs_tried += 1


def fault_injected() -> None:
    global faults_injected
    with _lock:
        faults_injected += 1


def lost(count: int, check: str) -> None:
    global records_lost
    with _lock:
        records_lost += count
        loss_checks.append(check)


def count_faults(runtime: Any) -> None:
    """Wrap `runtime.inject` (on the instance, not in localcloud) to count every fault injected."""
    if getattr(runtime.inject, "_counted", False):
        return
    inject = runtime.inject

    @functools.wraps(inject)
    def counted(*args: Any, **kwargs: Any) -> Any:
        result = inject(*args, **kwargs)
        fault_injected()  # after: a rejected fault (unknown kind) was not injected
        return result

    counted._counted = True  # type: ignore[attr-defined]
    runtime.inject = counted


def report(text: str) -> None:
    with _lock:
        reports.append(text)


def summary() -> str:
    lost_text = f"{records_lost}" if loss_checks else "not measured"
    return (
        f"quality: bad inputs tried: {inputs_tried}, faults injected: {faults_injected}, "
        f"records lost: {lost_text}"
    )
