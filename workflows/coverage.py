"""Path coverage of a workflow: which states, Choice branches, Catch and Retry edges ran.

The edges come from the definition; what was reached comes from execution histories, whose
events chain through `previousEventId`: a state entered right after its predecessor's exit is
a normal transition, entered after a failure event is a Catch, and a task scheduled again
after a failure is a Retry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

FAILURE_SUFFIXES = ("Failed", "TimedOut")
# A failure event of a Parallel or Map belongs to that state; every other one to a Task.
_FAILED_STATE_TYPE = {"Parallel": "Parallel", "Map": "Map"}


@dataclass(frozen=True, order=True)
class Edge:
    kind: str  # state | choice | default | catch | retry
    state: str
    target: str = ""  # the next state, or the retrier's error names

    def __str__(self) -> str:
        if self.kind == "state":
            return f"state {self.state}"
        if self.kind == "retry":
            return f"retry {self.state} on {self.target}"
        return f"{self.kind} {self.state} -> {self.target}"


def _states(graph: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], int]]:
    """(name, state, graph id) for every state, nested graphs included."""
    counter = [0]

    def visit(g: dict[str, Any], gid: int) -> Iterator[tuple[str, dict[str, Any], int]]:
        for name, state in g["States"].items():
            yield name, state, gid
            for sub in [
                *state.get("Branches", []),
                *([state["ItemProcessor"]] if "ItemProcessor" in state else []),
            ]:
                counter[0] += 1
                yield from visit(sub, counter[0])

    yield from visit(graph, 0)


def edges(definition: dict[str, Any]) -> set[Edge]:
    found: set[Edge] = set()
    for name, state, _ in _states(definition):
        found.add(Edge("state", name))
        for rule in state.get("Choices", []):
            found.add(Edge("choice", name, rule["Next"]))
        if "Default" in state:
            found.add(Edge("default", name, state["Default"]))
        for catch in state.get("Catch", []):
            found.add(Edge("catch", name, catch["Next"]))
        for retry in state.get("Retry", []):
            found.add(Edge("retry", name, ",".join(retry["ErrorEquals"])))
    return found


def _matches(error_equals: list[str], error: str | None) -> bool:
    if error is None:
        return True
    if error in error_equals or "States.ALL" in error_equals:
        return True
    return "States.TaskFailed" in error_equals and not error.startswith("States.")


def _error(event: dict[str, Any]) -> str | None:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict) and "error" in value:
            return str(value["error"])
    return None


def _entered_name(event: dict[str, Any]) -> str | None:
    details = event.get("stateEnteredEventDetails")
    return str(details["name"]) if details else None


def _entered_before(
    by_id: dict[int, dict[str, Any]], event: dict[str, Any], accept: Callable[[str], bool]
) -> tuple[str | None, dict[str, Any] | None]:
    """The state this event descends from (the nearest entered state that `accept`s), and the
    first failure on the way. States of nested branches on the way are passed over."""
    failure, current = None, by_id.get(event.get("previousEventId", 0))
    while current is not None:
        name = _entered_name(current)
        if name is not None and accept(name):
            return name, failure
        if failure is None and current["type"].endswith(FAILURE_SUFFIXES):
            failure = current
        current = by_id.get(current.get("previousEventId", 0))
    return None, failure


States = dict[str, tuple[dict[str, Any], int]]


def _in_graph(states: States, graph: int, name: str) -> bool:
    return name in states and states[name][1] == graph


def _of_type(states: States, kind: str, name: str) -> bool:
    return name in states and states[name][0].get("Type") == kind


def reached(definition: dict[str, Any], histories: Iterable[list[dict[str, Any]]]) -> set[Edge]:
    states: States = {name: (state, gid) for name, state, gid in _states(definition)}
    found: set[Edge] = set()
    for events in histories:
        by_id = {e["id"]: e for e in events}
        retried_from = {
            e.get("previousEventId") for e in events if not _entered_name(e) and "Scheduled" in e["type"]
        }

        for event in events:
            name = _entered_name(event)
            if name in states:
                found.add(Edge("state", name))
                graph = states[name][1]
                source, failure = _entered_before(by_id, event, partial(_in_graph, states, graph))
                if source is None:
                    continue  # the first state of a branch or iteration
                source_state = states[source][0]
                if failure is not None:
                    error = _error(failure)
                    for catch in source_state.get("Catch", []):
                        if catch["Next"] == name and _matches(catch["ErrorEquals"], error):
                            found.add(Edge("catch", source, name))
                            break
                elif source_state["Type"] == "Choice":
                    kind = (
                        "choice"
                        if any(r["Next"] == name for r in source_state.get("Choices", []))
                        else "default"
                    )
                    found.add(Edge(kind, source, name))
            elif event["type"].endswith(FAILURE_SUFFIXES) and event["id"] in retried_from:
                kind = _FAILED_STATE_TYPE.get(event["type"].split("State")[0], "Task")
                source, _ = _entered_before(by_id, event, partial(_of_type, states, kind))
                if source is not None:
                    error = _error(event)
                    for retry in states[source][0].get("Retry", []):
                        if _matches(retry["ErrorEquals"], error):
                            found.add(Edge("retry", source, ",".join(retry["ErrorEquals"])))
                            break
    return found


@dataclass
class Coverage:
    workflow: str
    all: set[Edge]
    hit: set[Edge] = field(default_factory=set)
    # edges the workflow declares unreachable by construction -> why
    excused: dict[Edge, str] = field(default_factory=dict)

    @property
    def missed(self) -> list[Edge]:
        return sorted(self.all - self.hit - self.excused.keys())

    def line(self) -> str:
        kinds = ("state", "choice", "catch", "retry")
        parts = []
        for kind in kinds:
            total = [e for e in self.all if e.kind == kind or (kind == "choice" and e.kind == "default")]
            hits = [e for e in total if e in self.hit]
            parts.append(f"{kind} {len(hits)}/{len(total)}")
        return f"{self.workflow:<16} " + "  ".join(parts)


def coverage(
    workflow: str,
    definition: dict[str, Any],
    histories: Iterable[list[dict[str, Any]]],
    unreachable: Mapping[str, str] | None = None,
) -> Coverage:
    every = edges(definition)
    named = {str(edge): edge for edge in every}
    unknown = set(unreachable or {}) - named.keys()
    if unknown:
        raise ValueError(f"{workflow}: declared unreachable edges that do not exist: {sorted(unknown)}")
    excused = {named[text]: why for text, why in (unreachable or {}).items()}
    return Coverage(workflow, every, reached(definition, histories) & every, excused)


def gated(setting: str | None, known: Iterable[str]) -> frozenset[str]:
    """The workflows the coverage gate (PYFLOWS_COVERAGE_GATE) holds to every edge: "1" every
    known one (`make test`), a comma-separated list of names those alone (a workflow's own test
    file run by itself), unset, empty or "0" none."""
    value = (setting or "").strip()
    if value in ("", "0"):
        return frozenset()
    known = frozenset(known)
    if value == "1":
        return known
    names = frozenset(n.strip() for n in value.split(",") if n.strip())
    unknown = sorted(names - known)
    if unknown:
        raise ValueError(
            f"PYFLOWS_COVERAGE_GATE names unknown workflow(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))} (or 1 for all)"
        )
    return names
