"""The graph as JSON: the definition's states and edges, each state with what happened to it.

build(definition)                       the workflow's graph, every state "not_reached"
build(definition, execution, events)    an execution's graph (execution: DescribeExecution)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from console.graph import runs as history
from console.graph.definition import END, START, Scope, Shape, flow_order, join_id, shape_of

STATUSES = ("succeeded", "failed", "caught", "retried", "running", "aborted", "cancelled", "not_reached")
_MAX_RUNS = 50  # per state: enough to read loops and Map iterations, small enough to send


def _scope_json(scope: Scope) -> dict[str, Any]:
    return {
        "id": scope.id,
        "label": scope.label,
        "owner": scope.owner,
        "states": scope.states,
        "scopes": [_scope_json(s) for s in scope.scopes],
    }


def _parents(shape: Shape) -> dict[str, str | None]:
    owners: dict[str, str | None] = {}

    def visit(scope: Scope) -> None:
        for name in scope.states:
            owners[name] = scope.owner
        for sub in scope.scopes:
            visit(sub)

    visit(shape.root)
    return owners


def _run_json(run: history.Run, now: datetime | None) -> dict[str, Any]:
    return {
        "status": run.status,
        "enteredAt": run.entered.get("timestamp"),
        "durationMs": run.duration_ms(now),
        "input": history.payload(run, "input"),
        "output": history.payload(run, "output"),
        "error": run.error,
        "cause": run.cause,
        "retries": run.retries,
        "mapItem": run.item,
    }


def _state_json(node: Any, runs: list[history.Run], now: datetime | None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "name": node.name,
        "type": node.type,
        "scope": node.scope,
        "comment": node.comment,
        "status": history.worst([r.status for r in runs]),
        "runs": len(runs),
        "retries": sum(r.retries for r in runs),
    }
    if runs:
        status = history.worst([r.status for r in runs])
        # The run whose error is shown gives the input, output and duration beside it: those of
        # another run (a Map's next item) would name the wrong item as the one that failed.
        failed = next((r for r in reversed(runs) if r.error and r.status == status), None)
        failed = failed or next((r for r in reversed(runs) if r.error), None)
        state |= _run_json(failed or runs[-1], now)
        state["status"] = status
        state["retries"] = sum(r.retries for r in runs)
        state["history"] = [_run_json(r, now) for r in runs[:_MAX_RUNS]]
    if node.type == "Fail" and state["status"] == "failed" and not state.get("error"):
        state["error"], state["cause"] = node.definition.get("Error"), node.definition.get("Cause")
    if node.type == "Map" and runs:
        totals: dict[str, int] = {}
        for run in runs:
            for outcome, count in run.iterations.items():
                totals[outcome] = totals.get(outcome, 0) + count
        state["iterations"] = totals
    return state


def _now(execution: dict[str, Any] | None) -> datetime | None:
    if not execution:
        return None
    stop = execution.get("stopDate")
    if stop:
        return stop if isinstance(stop, datetime) else datetime.fromisoformat(stop)
    return datetime.now(UTC)


def build(
    definition: dict[str, Any],
    execution: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    shape = shape_of(definition)
    status = (execution or {}).get("status", "")
    timeline = history.Timeline({}, 0)
    if events is not None:
        types = {name: node.type for name, node in shape.states.items()}
        timeline = history.read(events, types, _parents(shape))
        history.judge(timeline, status, events)
    now = _now(execution)
    states = {
        name: _state_json(node, history.current_runs(timeline.runs.get(name, []), timeline.redriven_at), now)
        for name, node in shape.states.items()
    }
    joins = [join_id(n) for n, node in shape.states.items() if node.type in ("Parallel", "Map")]
    return {
        "comment": definition.get("Comment"),
        "startAt": definition.get("StartAt"),
        "order": flow_order(definition),
        "start": START,
        "end": END,
        "joins": joins,
        "states": states,
        "edges": [{"from": e.source, "to": e.target, "kind": e.kind, "label": e.label} for e in shape.edges],
        "scopes": _scope_json(shape.root),
        "execution": None
        if execution is None
        else {
            **{
                k: execution.get(k)
                for k in ("executionArn", "name", "status", "startDate", "stopDate", "error", "cause")
            },
            # where it failed, whether a redrive would only fail again, stops before redrives
            **history.explained(execution, lambda: events or []),
        },
    }
