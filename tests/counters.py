"""Session-wide records for the summaries `make test` prints: malformed inputs sent, faults injected
into the local Lambda runtime, records lost (as measured by the tests that check), and the history of
every workflow execution a test finished (for path coverage). Under pytest-xdist each worker keeps
its own; `state` and `merge` carry them to the controller, which prints the summaries."""

from __future__ import annotations

import functools
import json
import threading
from collections import defaultdict
from typing import Any

_lock = threading.Lock()
inputs_tried = 0
faults_injected = 0
records_lost = 0
# which checks ran, so that "records lost: 0" is never printed for nothing measured
loss_checks: list[str] = []
# tables the quality tests print in the summary (the load test's figures)
reports: list[str] = []
# workflow name -> histories of every execution finished during the session
HISTORIES: dict[str, list[list[dict[str, Any]]]] = defaultdict(list)


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


def state() -> str:
    """A worker's records, for its controller (pytest-xdist's workeroutput holds strings)."""
    with _lock:
        return json.dumps(
            {
                "inputs_tried": inputs_tried,
                "faults_injected": faults_injected,
                "records_lost": records_lost,
                "loss_checks": loss_checks,
                "reports": reports,
                "histories": HISTORIES,
            },
            default=str,  # the events' timestamps
        )


def merge(text: str) -> None:
    """Add a worker's records (`state`) to this process's."""
    global inputs_tried, faults_injected, records_lost
    other = json.loads(text)
    with _lock:
        inputs_tried += other["inputs_tried"]
        faults_injected += other["faults_injected"]
        records_lost += other["records_lost"]
        loss_checks.extend(other["loss_checks"])
        reports.extend(other["reports"])
        for workflow, histories in other["histories"].items():
            HISTORIES[workflow].extend(histories)
