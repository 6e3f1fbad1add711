"""What happened to each state, read from an execution's event history.

Every StateEntered event opens a run of its state; the events that follow it through
`previousEventId` (task scheduled, failed, succeeded...) belong to that run; StateExited closes
it. A state's status is its runs' worst status, counting only runs since the last redrive when
the state ran again after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflows.policies import ALERT_WINDOW, REJECTED, RELEASE_WINDOW

ATTEMPT = {
    "TaskScheduled",
    "LambdaFunctionScheduled",
    "ActivityScheduled",
    "ParallelStateStarted",
    "MapStateStarted",
}
SUCCEEDED = {"TaskSucceeded", "LambdaFunctionSucceeded", "ActivitySucceeded", "ParallelStateSucceeded"}
SUCCEEDED |= {"MapStateSucceeded"}
FAILED = {
    "TaskFailed",
    "TaskTimedOut",
    "TaskSubmitFailed",
    "TaskStartFailed",
    "LambdaFunctionFailed",
    "LambdaFunctionTimedOut",
    "LambdaFunctionStartFailed",
    "LambdaFunctionScheduleFailed",
    "ActivityFailed",
    "ActivityTimedOut",
    "ActivityScheduleFailed",
    "ParallelStateFailed",
    "MapStateFailed",
}
# The worst first: a state shows the worst thing that happened to it.
SEVERITY = ["failed", "running", "caught", "aborted", "cancelled", "retried", "succeeded"]
CLOSED = {"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"}


def event_details(event: dict[str, Any]) -> dict[str, Any]:
    """The event's details (its `...EventDetails` member), or {}."""
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            return value
    return {}


_NOT_WHERE = ("ExecutionFailed", "MapStateFailed", "ParallelStateFailed", "MapRunFailed")


def failed_in(events: list[dict[str, Any]]) -> str | None:
    """The state the execution failed in (a Catch may have led it on to a Fail state), and in a
    Map, the item. The failure is the last one that failed with the execution's error (retried and
    caught failures before it are not it); its state and item are found by following its events
    back, over the states that ended before it, since a Map's items interleave their events."""
    by_id, where = {e["id"]: e for e in events}, places(events)
    failures = [
        e
        for e in events
        if e["type"].endswith("Failed")
        and e["type"] not in _NOT_WHERE
        and where[e["id"]][0] not in (ALERT_WINDOW, RELEASE_WINDOW)  # no failure: an email held back
    ]
    ended = next((e for e in reversed(events) if e["type"] == "ExecutionFailed"), None)
    error = event_details(ended).get("error") if ended else None
    matching = [e for e in failures if event_details(e).get("error") == error]
    start = (matching or failures)[-1] if failures else ended
    event: dict[str, Any] | None = start
    state, depth = None, 0
    while event is not None:
        kind, details = event["type"], event_details(event)
        if kind.endswith("StateExited"):
            depth += 1  # a state that ended before the failure: its own events are not the way back
        elif kind.endswith("StateEntered"):
            if depth:
                depth -= 1
            elif state is None:
                state = details.get("name")
        elif kind == "MapIterationStarted" and not depth and state is not None:
            return f"{state} (item {details.get('index')} of the Map {details.get('name')})"
        previous = event.get("previousEventId", 0)
        event = by_id.get(previous) if previous < event["id"] else None
    return state


_OWN_STATE = ("Task", "LambdaFunction", "Activity")  # events of the state whose StateEntered led to them


def places(events: list[dict[str, Any]]) -> dict[int, tuple[str | None, str | None]]:
    """Each event's id -> (the state it belongs to, the Map item it happened in: "2", or "2.0"
    for an item of a Map inside item 2). A Map's items interleave their events, so the row before
    an event is not where it happened: its previousEventId is."""
    kinds: dict[int, str] = {}
    found: dict[int, tuple[str | None, tuple[tuple[str, int], ...]]] = {}  # items: (Map, index)...
    entered_at: dict[str, tuple[tuple[str, int], ...]] = {}  # a Map's name -> the items it runs in
    for event in events:
        kind, details = event["type"], event_details(event)
        previous = event.get("previousEventId", 0)
        state, items = found.get(previous, (None, ()))
        name: str | None = details.get("name")
        if kind.startswith("MapIteration"):
            items = (*entered_at.get(str(name), ()), (str(name), int(details.get("index", -1))))
        elif kind == "MapStateEntered":
            entered_at[str(name)] = items
        elif kind == "MapStateExited":
            items = entered_at.get(str(name), items)
        elif kind in ("MapStateSucceeded", "MapStateFailed", "MapStateAborted"):
            # it follows an event of one of its items (none when it had no item): outside them
            if items and kinds.get(previous) != "MapStateStarted":
                name, items = items[-1][0], items[:-1]
            else:
                name = state
        elif name is None and kind.startswith((*_OWN_STATE, "MapState")):
            name = state
        kinds[event["id"]], found[event["id"]] = kind, (name, items)
    return {
        event_id: (name, ".".join(str(index) for _, index in items) if items else None)
        for event_id, (name, items) in found.items()
    }


def placed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each event with the state it belongs to and the Map item it happened in (see places), as
    the HTTP API and `history --json` give them."""
    where = places(events)
    return [{**e, "state": where[e["id"]][0], "mapItem": where[e["id"]][1]} for e in events]


def ended_in_fail_state(events: list[dict[str, Any]]) -> str | None:
    """The top-level Fail state the execution ended in (a caught error led it there), or None: a
    redrive restarts there, so it only fails again."""
    if len(events) < 2 or events[-1]["type"] != "ExecutionFailed" or events[-2]["type"] != "FailStateEntered":
        return None
    name = event_details(events[-2]).get("name")
    return str(name) if name else None


def rejected(events: list[dict[str, Any]]) -> bool:
    """Whether the execution ended in a business rejection: the request refused on purpose, in the
    Fail state every workflow's rejections are caught into, unalerted (`policies.rejected`), with the
    error the task raised. `events` may be the history's last two events alone. The Fail state
    tells, not the error: one error may be a rejection where one state raises it and an alerted
    failure where another does (InvalidInput, from the lottery's Validate Request and from
    etf-signal's Plan Day), and the state says what the workflow did when it ran, whatever its
    workflow declares since. A States.Runtime there is the definition's own mistake (the Fail state could not read
    the error it was to fail with), which no one refused on purpose."""
    if ended_in_fail_state(events) != REJECTED:
        return False
    return bool(event_details(events[-1]).get("error") != "States.Runtime")


def futile_redrive(execution: dict[str, Any], events: Callable[[], list[dict[str, Any]]]) -> str | None:
    """The Fail state a redrive of the execution would only run again, or None (it cannot be
    redriven, or a redrive would run more). The one rule behind describe, the CLI's refusal to
    redrive without --force and the console's warning (its graph's redriveRerunsOnly); `events`
    is read only for a failed execution that can be redriven."""
    if execution.get("status") != "FAILED" or execution.get("redriveStatus", "REDRIVABLE") != "REDRIVABLE":
        return None
    return ended_in_fail_state(events())


def only_fails_again(fail_state: str) -> str:
    """Why a redrive of a run that ended in `fail_state` is futile, as describe, the CLI's and the
    API's refusals and the console say it."""
    # what to do instead is the cause's to say: most often start afresh, but not always (a
    # lottery draw recorded and not announced is announced by hand)
    return f"it would only run {fail_state} again, and fail as this run did"


def stops_before_redrives(events: list[dict[str, Any]]) -> list[tuple[int, str | None, str | None]]:
    """(the redrive that followed, error, cause) of each stop a redrive went on from: the
    execution's description keeps only how its last run ended."""
    found: list[tuple[int, str | None, str | None]] = []
    stopped: dict[str, Any] | None = None
    for event in events:
        if event["type"] == "ExecutionAborted":
            stopped = event_details(event)
        elif event["type"] == "ExecutionRedriven":
            if stopped is not None:
                count = int(event_details(event).get("redriveCount") or len(found) + 1)
                found.append((count, stopped.get("error"), stopped.get("cause")))
            stopped = None
        elif event["type"] in ("ExecutionFailed", "ExecutionTimedOut"):
            stopped = None
    return found


def ended_in(events: list[dict[str, Any]]) -> str | None:
    """The states an execution that timed out or was stopped was in: entered and never exited (a
    Map or Parallel only when nothing inside it was), each with its Map item. None when it ran none."""
    where, running = places(events), {}
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            running[where[event["id"]]] = kind
        elif kind.endswith("StateExited"):
            running.pop(where[event["id"]], None)
        elif kind == "ExecutionRedriven":  # the run before it stopped elsewhere, or where it goes on
            running.clear()
    inner = [place for place, kind in running.items() if not kind.startswith(("Map", "Parallel"))]
    return (
        ", ".join(f"{state} (Map item {item})" if item else str(state) for state, item in inner or running)
        or None
    )


def explained(execution: dict[str, Any], events: Callable[[], list[dict[str, Any]]]) -> dict[str, Any]:
    """What the execution's description leaves to its history, as the HTTP API, the graph and
    `describe` give it: failedIn (the state it failed in, in a Map with the item), endedIn (the
    states it was in when it timed out or was stopped), rejected (it ended in a business
    rejection), redriveRerunsOnly (the Fail state a redrive would only run again) and
    stoppedBeforeRedrives (each stop a redrive went on from, which the description no longer
    says). `events` is read only when one needs it."""
    failed = execution.get("status") == "FAILED"
    return {
        "failedIn": failed_in(events()) if failed else None,
        "endedIn": ended_in(events()) if execution.get("status") in ("TIMED_OUT", "ABORTED") else None,
        "rejected": failed and rejected(events()),
        "redriveRerunsOnly": futile_redrive(execution, events),
        "stoppedBeforeRedrives": [
            {"redrive": count, "error": error, "cause": cause}
            for count, error, cause in (
                stops_before_redrives(events()) if execution.get("redriveCount") else []
            )
        ],
    }


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _time(event: dict[str, Any] | None) -> datetime | None:
    if not event:
        return None
    value = event.get("timestamp")
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value) if isinstance(value, str) else None


@dataclass
class Run:
    state: str
    state_type: str
    entered: dict[str, Any]
    parent: Run | None
    exited: dict[str, Any] | None = None
    attempts: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    last_outcome: str | None = None  # "ok" | "fail"
    iterations: dict[str, int] = field(default_factory=dict)
    status: str = "running"
    error: str | None = None
    cause: str | None = None
    item: str | None = None  # the Map item it ran in ("2", "2.0" in a nested Map), as places() says

    @property
    def retries(self) -> int:
        return max(self.attempts - 1, 0)

    def duration_ms(self, now: datetime | None) -> int | None:
        start, end = _time(self.entered), _time(self.exited) or now
        return None if start is None or end is None else int((end - start).total_seconds() * 1000)


@dataclass
class Timeline:
    runs: dict[str, list[Run]]
    redriven_at: int  # id of the last ExecutionRedriven event, 0 when never redriven


def _open_run(runs: dict[str, list[Run]], name: str) -> Run | None:
    return next((r for r in reversed(runs.get(name, [])) if r.exited is None), None)


def _latest_open(order: list[Run], state_type: str) -> Run | None:
    return next((r for r in reversed(order) if r.exited is None and r.state_type == state_type), None)


def read(events: list[dict[str, Any]], types: dict[str, str], parents: dict[str, str | None]) -> Timeline:
    """Group the history into runs. `types`: state -> Type; `parents`: state -> enclosing state."""
    runs: dict[str, list[Run]] = {}
    order: list[Run] = []
    owner: dict[int, Run] = {}
    redriven_at = 0
    where = places(events)
    for event in events:
        kind, details = event["type"], event_details(event)
        run: Run | None = None
        if kind.endswith("StateEntered"):
            name = details.get("name", "?")
            parent_name = parents.get(name)
            parent = _open_run(runs, parent_name) if parent_name else None
            run = Run(name, types.get(name, kind[: -len("StateEntered")]), event, parent)
            run.item = where.get(event["id"], (None, None))[1]
            runs.setdefault(name, []).append(run)
            order.append(run)
        elif kind.endswith("StateExited"):
            # the run its own events lead back to: a Map's items interleave, so the latest run of
            # that name still open may be another item's
            name = details.get("name", "?")
            mine = owner.get(event.get("previousEventId", -1))
            run = mine if mine is not None and mine.state == name and mine.exited is None else None
            run = run or _open_run(runs, name)
            if run is not None:
                run.exited = event
        elif kind.startswith(("Parallel", "Map")):
            name = details.get("name")
            # MapIteration events name their Map; Parallel/Map state events belong to the innermost open one.
            container = "Map" if kind.startswith("Map") else "Parallel"
            run = _open_run(runs, name) if name else _latest_open(order, container)
            if run is not None and kind.startswith("MapIteration"):
                outcome = kind[len("MapIteration") :].lower()
                run.iterations[outcome] = run.iterations.get(outcome, 0) + 1
        elif kind == "ExecutionRedriven":
            redriven_at = event["id"]
        else:
            run = owner.get(event.get("previousEventId", -1))
        if run is None:
            continue
        owner[event["id"]] = run
        if kind in ATTEMPT:
            run.attempts += 1
        elif kind in SUCCEEDED:
            run.last_outcome = "ok"
        elif kind in FAILED:
            run.last_outcome = "fail"
            run.failures.append(details)
    return Timeline(runs, redriven_at)


def judge(timeline: Timeline, execution_status: str, events: list[dict[str, Any]]) -> None:
    """Set each run's status (and error) now that the whole history and the execution status are known."""
    last = events[-1] if events else {}
    closing = event_details(last) if last.get("type", "").startswith("Execution") else {}
    every = [run for runs in timeline.runs.values() for run in runs]
    cause_run = None
    if execution_status == "FAILED" and last.get("type") == "ExecutionFailed":
        cause_run = _run_before(last, events, {run.entered["id"]: run for run in every})
    for run in every:
        _judge(run, execution_status, cause_run, closing)


def _run_before(event: dict[str, Any], events: list[dict[str, Any]], entered: dict[int, Run]) -> Run | None:
    """The run whose last event led to `event` (the state that failed the execution)."""
    ids = {e["id"]: e for e in events}
    current = ids.get(event.get("previousEventId", -1))
    while current is not None:
        if current["id"] in entered:
            return entered[current["id"]]
        current = ids.get(current.get("previousEventId", -1))
    return None


def _closed(run: Run, execution_status: str) -> bool:
    if execution_status in CLOSED:
        return True
    return run.parent is not None and (run.parent.exited is not None or _closed(run.parent, execution_status))


def _judge(run: Run, execution_status: str, cause_run: Run | None, closing: dict[str, Any]) -> None:
    failure = run.failures[-1] if run.failures else {}
    run.error, run.cause = failure.get("error"), failure.get("cause")
    if run.state_type == "Fail":
        run.status = "failed"
        run.error = run.error or closing.get("error")
        run.cause = run.cause or closing.get("cause")
    elif run.exited is not None:
        run.status = "caught" if run.last_outcome == "fail" else "retried" if run.failures else "succeeded"
    elif not _closed(run, execution_status):
        run.status = "running"
    elif run.last_outcome == "fail" or run is cause_run:
        run.status = "failed"
        if run.error is None:
            run.error, run.cause = closing.get("error"), closing.get("cause")
    else:
        run.status = "aborted" if execution_status in ("ABORTED", "TIMED_OUT") else "cancelled"


def current_runs(runs: list[Run], redriven_at: int) -> list[Run]:
    """The runs that count: after a redrive, a state that ran again shows only its new runs."""
    newer = [r for r in runs if r.entered["id"] > redriven_at]
    return newer if redriven_at and newer else runs


def worst(statuses: list[str]) -> str:
    return min(statuses, key=SEVERITY.index) if statuses else "not_reached"


def payload(run: Run, key: str) -> Any:
    event = run.entered if key == "input" else run.exited
    return _json(event_details(event).get(key)) if event else None
