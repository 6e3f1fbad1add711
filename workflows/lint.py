"""The definition linter: the error policy every workflow must follow, checked on the ASL.

- every Lambda task retries AWS's transient Lambda errors with backoff, and throttling with
  jitter and a delay cap;
- no retrier retries a validation or business error (States.ALL, States.TaskFailed or any
  TaskError raised by the task Lambdas);
- every top-level Task, Map and Parallel has a Catch that keeps the input (ResultPath under
  the error key) and leads to the alert, which leads to a Fail carrying Error and Cause;
- every loop passes a Choice that leaves it on a counter, and the worst-case number of history
  events stays under AWS's limit.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from functools import cache
from typing import Any

import tasks
from tasks.shared.errors import TaskError
from workflows.policies import ERROR_PATH, LAMBDA_THROTTLED, LAMBDA_TRANSIENT

MAX_HISTORY_EVENTS = 25_000
ALERT_TOPIC = "${AlertsTopicArn}"
ALWAYS_BUSINESS = {"States.ALL", "States.TaskFailed"}
# History events one state adds when it runs once (entered/exited plus the task's own events).
EVENTS_PER_STATE = {
    "Task": 5,
    "Map": 4,
    "Parallel": 4,
    "Choice": 2,
    "Pass": 2,
    "Wait": 2,
    "Succeed": 2,
    "Fail": 1,
}
COUNTER_RULES = ("NumericGreaterThanEquals", "NumericGreaterThan", "NumericEquals")


@cache
def business_errors() -> frozenset[str]:
    """Names of every TaskError subclass the task Lambdas can raise."""
    for module in pkgutil.walk_packages(tasks.__path__, "tasks."):
        importlib.import_module(module.name)
    found: set[str] = set()
    todo: list[type] = [TaskError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return frozenset(found)


def is_lambda(state: dict[str, Any]) -> bool:
    resource = str(state.get("Resource", ""))
    return resource.startswith("arn:aws:states:::lambda:invoke") or ":lambda:" in resource


def is_alert(state: dict[str, Any]) -> bool:
    return state.get("Type") == "Task" and state.get("Parameters", {}).get("TopicArn") == ALERT_TOPIC


def walk(graph: dict[str, Any], where: str = "") -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(qualified name, state, the graph holding it) for every state, nested ones included."""
    for name, state in graph["States"].items():
        yield f"{where}{name}", state, graph
        for i, branch in enumerate(state.get("Branches", [])):
            yield from walk(branch, f"{where}{name}/{i + 1}/")
        if "ItemProcessor" in state:
            yield from walk(state["ItemProcessor"], f"{where}{name}/item/")


def retry_problems(name: str, state: dict[str, Any]) -> list[str]:
    problems = []
    retries = state.get("Retry", [])
    for retry in retries:
        bad = set(retry["ErrorEquals"]) & (ALWAYS_BUSINESS | business_errors())
        if bad:
            problems.append(f"{name}: retries business or validation errors {sorted(bad)}")
    if is_lambda(state):
        transient = [r for r in retries if set(LAMBDA_TRANSIENT) <= set(r["ErrorEquals"])]
        if not transient:
            problems.append(f"{name}: does not retry AWS's transient Lambda errors")
        elif not any(r.get("BackoffRate", 2.0) > 1 and r.get("MaxAttempts", 3) > 0 for r in transient):
            problems.append(f"{name}: retries transient Lambda errors without backoff")
        throttled = [r for r in retries if set(LAMBDA_THROTTLED) <= set(r["ErrorEquals"])]
        if not any(r.get("JitterStrategy") == "FULL" and r.get("MaxDelaySeconds") for r in throttled):
            problems.append(f"{name}: does not retry throttling with jitter and a delay cap")
    return problems


def catch_problems(name: str, state: dict[str, Any], graph: dict[str, Any]) -> list[str]:
    catches = state.get("Catch", [])
    catch_all = [c for c in catches if "States.ALL" in c["ErrorEquals"]]
    if not catch_all:
        return [f"{name}: no Catch for States.ALL leading to the alert"]
    problems = []
    for catch in catch_all:
        if not str(catch.get("ResultPath", "$")).startswith(ERROR_PATH):
            problems.append(f"{name}: Catch does not keep the input (ResultPath {catch.get('ResultPath')!r})")
        if not leads_to_alert(graph, catch["Next"]):
            problems.append(f"{name}: Catch goes to {catch['Next']!r}, which does not lead to the alert")
    return problems


def leads_to_alert(graph: dict[str, Any], start: str) -> bool:
    """The caught path reaches the alert through Pass/Choice states only."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        state = graph["States"].get(name)
        if name in seen or state is None:
            continue
        seen.add(name)
        if is_alert(state):
            return True
        if state["Type"] in ("Pass", "Choice"):
            todo += [state.get("Next"), state.get("Default"), *[r["Next"] for r in state.get("Choices", [])]]
    return False


def cycles(graph: dict[str, Any]) -> list[list[str]]:
    """Elementary cycles through Next/Choice edges (catches excluded: they leave on failure)."""
    states = graph["States"]
    edges = {
        n: [t for t in [s.get("Next"), s.get("Default"), *[r["Next"] for r in s.get("Choices", [])]] if t]
        for n, s in states.items()
    }
    found: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for target in edges.get(node, []):
            if target == path[0]:
                found.append(list(path))
            elif target not in path and target > path[0]:
                visit(target, [*path, target])

    for start in sorted(states):
        visit(start, [start])
    return found


def loop_problems(graph: dict[str, Any], where: str = "") -> list[str]:
    problems = []
    for cycle in cycles(graph):
        bounded = False
        for name in cycle:
            state = graph["States"][name]
            exits = [
                r
                for r in state.get("Choices", [])
                if r["Next"] not in cycle and set(COUNTER_RULES) & r.keys()
            ]
            counters = {r["Variable"] for r in exits}
            if any(counted(graph, cycle, variable) for variable in counters):
                bounded = True
        if not bounded:
            problems.append(f"{where}loop {' -> '.join(cycle)} has no counter that ends it")
    return problems


def counted(graph: dict[str, Any], cycle: list[str], variable: str) -> bool:
    """Some state of the cycle adds to `variable` with States.MathAdd."""
    text = repr([graph["States"][n] for n in cycle])
    return f"States.MathAdd({variable}," in text


def worst_case_events(definition: dict[str, Any], map_items: int) -> int:
    """Every state run once (Map iterations `map_items` times), retries at their maximum,
    the whole multiplied by the loops' bound."""
    total = 0
    for name, state, _ in walk(definition):
        retries = sum(r.get("MaxAttempts", 3) for r in state.get("Retry", []))
        runs = map_items if "/item/" in name else 1
        total += runs * (EVENTS_PER_STATE.get(state["Type"], 2) + 3 * retries)
    return total * loop_bound(definition)


def loop_bound(graph: dict[str, Any]) -> int:
    bounds = [
        int(rule[op])
        for cycle in cycles(graph)
        for name in cycle
        for rule in graph["States"][name].get("Choices", [])
        for op in COUNTER_RULES
        if op in rule and isinstance(rule[op], int | float)
    ]
    return max(bounds, default=0) + 1


def lint(definition: dict[str, Any], *, standard: bool = True, map_items: int = 1) -> list[str]:
    """Problems of one definition; `map_items` is the most items any of its Maps iterates.

    Only Standard workflows keep a history (Express ones log instead), so only they are held
    to the history limit."""
    problems = []
    for name, state, graph in walk(definition):
        problems += retry_problems(name, state)
        if graph is definition and state["Type"] in ("Task", "Map", "Parallel") and not is_alert(state):
            problems += catch_problems(name, state, graph)
        if state["Type"] == "Fail" and not (
            {"Error", "ErrorPath"} & state.keys() and {"Cause", "CausePath"} & state.keys()
        ):
            problems.append(f"{name}: Fail state without Error and Cause")
        for i, branch in enumerate(state.get("Branches", [])):
            problems += loop_problems(branch, f"{name}/{i + 1}: ")
    problems += loop_problems(definition)
    events = worst_case_events(definition, map_items)
    if standard and events > MAX_HISTORY_EVENTS:
        problems.append(f"worst case {events} history events, over AWS's limit of {MAX_HISTORY_EVENTS}")
    return problems
