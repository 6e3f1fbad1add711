"""The definition linter: the error policy every workflow must follow, checked on the ASL.

- every Lambda task retries AWS's transient Lambda errors with backoff, and throttling with
  jitter and a delay cap (a Retry of MaxAttempts 0 retries nothing);
- no retrier retries a validation or business error (States.ALL, States.TaskFailed or any
  TaskError raised by the task Lambdas);
- no Retry or Catch has an empty ErrorEquals, or States.ALL beside other errors or before another
  retrier or catcher (AWS refuses both);
- every top-level Task, Map and Parallel has a Catch that keeps the input and leads to the alert
  (through Pass and Choice states, or a Task that, failed or not, goes on only to the alert),
  which leads to a Fail carrying Error and Cause;
- every Catch writes the error where the states after it read its Error and Cause;
- every Choice has a Default: a Choice cannot catch States.NoChoiceMatched, so at top level it
  would skip the alert, and in a branch or item processor a Catch meant for a task could take it
  (said also when the graph is broken, as when the Default was a state's only way in);
- every loop, Catch edges included, in every graph (Parallel branches, Map item processors),
  passes a Choice that leaves it on a counter: a number set before the loop, grown by
  States.MathAdd(counter, step > 0) written back to the same path inside the loop and written
  nowhere else there, and compared by a rule (And/Or/Not included) that leaves the loop before
  any rule stays in it;
- the worst-case number of history events stays under AWS's limit.
"""

from __future__ import annotations

import importlib
import json
import math
import pkgutil
import re
from collections.abc import Iterator
from functools import cache
from typing import Any, NamedTuple

import tasks
from tasks.shared.errors import TaskError
from workflows import registry
from workflows.policies import LAMBDA_THROTTLED, LAMBDA_TRANSIENT

MAX_HISTORY_EVENTS = 25_000
ALERT_TOPIC = "${AlertsTopicArn}"
ALERT_WINDOWS_TABLE = "${" + registry.ALERT_WINDOWS_TABLE.token + "}"
ALWAYS_BUSINESS = {"States.ALL", "States.TaskFailed"}
ALL_ALONE = "AWS refuses it: States.ALL must appear alone and last"
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
# A path read with .Error or .Cause after it: the error object a Catch wrote there.
ERROR_FIELD = re.compile(r"(?<!\$)(\$(?:\.\w+)*)\.(?:Error|Cause)\b")
MATH_ADD = re.compile(r"States\.MathAdd\((.+),(.+)\)")
NO_COUNTER = (
    "no Choice of it compares a counter: have a Pass of the loop set $.n to States.MathAdd($.n, 1)"
    " and a Choice of the loop leave it on $.n >= LIMIT"
)


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


def is_alert_window(state: dict[str, Any]) -> bool:
    """policies.alert_window and release_window: on the way to the alert or to the Fail after it,
    whatever DynamoDB answers."""
    arguments = state.get("Arguments", {})
    return state.get("Type") == "Task" and arguments.get("TableName") == ALERT_WINDOWS_TABLE


def number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- Graphs ---------------------------------------------------------------------------------


# where a graph sits: for each enclosing state, its name and which of its graphs it is
# ("branch", index) for a Parallel's, ("ItemProcessor" or "Iterator", 0) for a Map's
Nesting = tuple[tuple[str, str, int], ...]


def nested(graph: dict[str, Any], at: Nesting = ()) -> Iterator[tuple[Nesting, dict[str, Any]]]:
    """The definition and every graph nested in it, each with where it sits."""
    yield at, graph
    for name, state in graph.get("States", {}).items():
        for i, branch in enumerate(state.get("Branches", [])):
            yield from nested(branch, (*at, (name, "branch", i)))
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from nested(state[key], (*at, (name, key, 0)))


def graphs(graph: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(prefix of its states' names, graph) for the definition and every graph nested in it."""
    for at, inner in nested(graph):
        yield "".join(f"{name}/{i + 1 if kind == 'branch' else 'item'}/" for name, kind, i in at), inner


def walk(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(qualified name, state, the graph holding it) for every state, nested ones included."""
    for where, graph in graphs(definition):
        for name, state in (graph.get("States") or {}).items():
            yield f"{where}{name}", state, graph


def next_states(state: dict[str, Any]) -> list[str]:
    """Where a state goes when it does not fail: Next, the Choice rules, Default."""
    targets = [state.get("Next"), *[rule["Next"] for rule in state.get("Choices", [])], state.get("Default")]
    return list(dict.fromkeys(t for t in targets if t))


def catch_states(state: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(catch["Next"] for catch in state.get("Catch", [])))


def flow_order(graph: dict[str, Any]) -> dict[str, int]:
    """Each state's rank in the order the flow reaches it from StartAt (breadth first)."""
    order: dict[str, int] = {}
    todo = [graph["StartAt"]]
    while todo:
        name = todo.pop(0)
        state = graph["States"].get(name)
        if name in order or state is None:
            continue
        order[name] = len(order)
        todo += next_states(state) + catch_states(state)
    return order


def ancestors(graph: dict[str, Any], names: list[str]) -> set[str]:
    """The states from which one of `names` can be reached."""
    sources: dict[str, set[str]] = {}
    for name, state in graph["States"].items():
        for target in next_states(state) + catch_states(state):
            sources.setdefault(target, set()).add(name)
    found: set[str] = set()
    todo = list(names)
    while todo:
        for source in sources.get(todo.pop(), set()) - found:
            found.add(source)
            todo.append(source)
    return found


# --- What a state writes --------------------------------------------------------------------


class Write(NamedTuple):
    """The value a state gives a path: a literal number, a Pass's expression on its input, or
    neither (a value from a task's result, a string, a key the state drops)."""

    number: float | None = None
    expression: str | None = None


def covers(path: str, inner: str) -> bool:
    """Writing `path` replaces `inner`."""
    return path == "$" or inner == path or inner.startswith(path + ".")


def flatten(payload: Any, path: str, *, from_input: bool) -> dict[str, Write]:
    """The value at every leaf path of a Parameters/Result/ResultSelector placed at `path`."""
    if not isinstance(payload, dict):
        return {path: Write(number=payload if number(payload) else None)}
    leaves: dict[str, Write] = {}
    for key, value in payload.items():
        if key.endswith(".$"):
            # A ResultSelector's expressions read the task's result, not the state's input.
            leaves[f"{path}.{key[:-2]}"] = Write(expression=value if from_input else None)
        else:
            leaves.update(flatten(value, f"{path}.{key}", from_input=from_input))
    return leaves


# a JSONata Output that is the state's input, or the input with keys merged in
_KEEPS_INPUT = re.compile(r"\{%\s*(\$states\.input|\$merge\(\[\$states\.input,(.*)\]\))\s*%\}", re.DOTALL)
# a JSONata string literal with no escapes in it: an object literal's key
_QUOTED = re.compile(r"""(["'])((?:(?!\1)[^\\])*)\1""")


def result_path(block: dict[str, Any]) -> str | None:
    """Where a state or a Catch writes its result or error: "$" over its input, None nowhere. In
    JSONata (no ResultPath) an Output that keeps the input, merging keys in or not, is as None:
    merged() says which keys it writes."""
    if "Output" in block:
        return None if _KEEPS_INPUT.fullmatch(str(block["Output"])) else "$"
    path: str | None = block.get("ResultPath", "$")
    return path


def merged(block: dict[str, Any]) -> dict[str, str]:
    """The keys a JSONata Output of `$merge([$states.input, {...}])` writes into the input, each
    with its value's text. What is not one object literal (`$states.result`, two objects) is known
    only at run time: taken to write nothing, as `{% $states.input %}`."""
    found = _KEEPS_INPUT.fullmatch(str(block.get("Output", "")))
    entries = object_entries(found.group(2)) if found and found.group(2) else None
    return entries or {}


def object_entries(text: str) -> dict[str, str] | None:
    """The top-level entries of a JSONata object literal, key to value text; None when `text` is
    not one object literal or a key is not a quoted string."""
    text = text.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    entries: dict[str, str] = {}
    depth, quote, escaped, start, colon = 0, "", False, 1, 0
    for i, char in enumerate(text[1:-1] + ",", 1):  # the comma ends the last entry
        if escaped:
            escaped = False
        elif quote:
            escaped = char == "\\"
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth < 0:  # the object ends before the text does
                return None
        elif char == ":" and depth == 0 and not colon:
            colon = i
        elif char == "," and depth == 0:
            if text[start:i].strip():
                key = _QUOTED.fullmatch(text[start:colon].strip()) if colon else None
                if key is None:
                    return None
                entries[key.group(2)] = text[colon + 1 : i].strip()
            start, colon = i + 1, 0
    return entries


def merged_values(entries: dict[str, str]) -> dict[str, Write]:
    """The value at every leaf path of the keys an Output merges in: a JSON literal's, as
    Parameters', and unknown for an expression."""
    leaves: dict[str, Write] = {}
    for key, value in entries.items():
        try:
            leaves.update(flatten(json.loads(value), f"$.{key}", from_input=False))
        except json.JSONDecodeError:
            leaves[f"$.{key}"] = Write()
    return leaves


def output(state: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, Write]]:
    """The paths a state writes over in its input (none: it leaves it as it is) and the values
    under them."""
    if state["Type"] not in ("Pass", "Task", "Map", "Parallel"):
        return (), {}
    entries = merged(state)
    if entries:
        return tuple(f"$.{key}" for key in entries), merged_values(entries)
    root = result_path(state)
    if root is None:
        return (), {}
    if state["Type"] != "Pass":
        return (root,), flatten(state.get("ResultSelector"), root, from_input=False)
    payload = state.get("Parameters", state.get("Result"))
    if payload is None:  # a Pass without Parameters or Result copies its input: at "$", nothing changes
        return ((), {}) if root == "$" else ((root,), {})
    return (root,), flatten(payload, root, from_input=True)


def new_value(state: dict[str, Any], path: str) -> Write | None:
    """What a state sets `path` to; None when it leaves it alone."""
    roots, leaves = output(state)
    if not any(covers(root, path) for root in roots):
        return None
    return leaves.get(path, Write())


# --- Retries --------------------------------------------------------------------------------


def error_equals_problems(name: str, state: dict[str, Any]) -> list[str]:
    """ErrorEquals AWS refuses in a Retry or Catch: an empty one, and States.ALL that is not
    alone in its ErrorEquals and in the last retrier or catcher."""
    problems = []
    for kind in ("Retry", "Catch"):
        blocks = state.get(kind) or []
        for i, block in enumerate(blocks):
            errors = block.get("ErrorEquals") if isinstance(block, dict) else None
            if errors == []:
                problems.append(
                    f"{name}: a {kind}'s ErrorEquals is empty, which AWS refuses: name its errors"
                )
            elif isinstance(errors, list) and "States.ALL" in errors:
                if len(errors) > 1:
                    problems.append(
                        f"{name}: a {kind}'s ErrorEquals {json.dumps(errors)} holds States.ALL with other"
                        f" errors: {ALL_ALONE}"
                    )
                if i < len(blocks) - 1:
                    problems.append(
                        f"{name}: a {kind} of States.ALL comes before another {kind}: {ALL_ALONE}"
                    )
    return problems


def first_retrier(retries: list[dict[str, Any]], error: str) -> dict[str, Any] | None:
    """The retrier Step Functions applies to `error`: the first one whose ErrorEquals matches."""
    return next(
        (r for r in retries if error in r["ErrorEquals"] or ALWAYS_BUSINESS & set(r["ErrorEquals"])), None
    )


def retry_problems(name: str, state: dict[str, Any]) -> list[str]:
    problems = []
    retries = state.get("Retry", [])
    for retry in retries:
        bad = set(retry["ErrorEquals"]) & (ALWAYS_BUSINESS | business_errors())
        if bad:
            problems.append(f"{name}: retries business or validation errors {sorted(bad)}")
    if is_lambda(state):
        problems += transient_problems(name, retries) + throttling_problems(name, retries)
    return problems


def transient_problems(name: str, retries: list[dict[str, Any]]) -> list[str]:
    retriers = {error: first_retrier(retries, error) for error in LAMBDA_TRANSIENT}
    missing = [error for error, retrier in retriers.items() if retrier is None]
    if len(missing) == len(LAMBDA_TRANSIENT):
        return [f"{name}: does not retry AWS's transient Lambda errors"]
    problems = []
    if missing:
        problems.append(
            f"{name}: does not retry AWS's transient Lambda errors {missing}: add them to its Retry"
        )
    used = [retrier for retrier in retriers.values() if retrier is not None]
    if any(retrier.get("MaxAttempts", 3) == 0 for retrier in used):
        problems.append(
            f"{name}: never retries AWS's transient Lambda errors: their Retry has MaxAttempts 0;"
            " give it 3 with BackoffRate 2 (workflows.policies.transient_retry)"
        )
    elif any(retrier.get("BackoffRate", 2.0) <= 1 for retrier in used):
        problems.append(
            f"{name}: retries transient Lambda errors without backoff: give their Retry a BackoffRate above 1"
        )
    return problems


def throttling_problems(name: str, retries: list[dict[str, Any]]) -> list[str]:
    retrier = first_retrier(retries, LAMBDA_THROTTLED[0])
    if retrier is not None and retrier.get("MaxAttempts", 3) == 0:
        return [
            f"{name}: never retries throttling: its Retry has MaxAttempts 0;"
            " give it 6 with full jitter and a delay cap (workflows.policies.throttle_retry)"
        ]
    if retrier is None or retrier.get("JitterStrategy") != "FULL" or not retrier.get("MaxDelaySeconds"):
        return [f"{name}: does not retry throttling with jitter and a delay cap"]
    return []


# --- Catches and the alert path -------------------------------------------------------------


def catch_problems(name: str, state: dict[str, Any], graph: dict[str, Any]) -> list[str]:
    catches = state.get("Catch", [])
    catch_all = [c for c in catches if "States.ALL" in c["ErrorEquals"]]
    if not catch_all:
        return [f"{name}: no Catch for States.ALL leading to the alert"]
    problems = []
    for catch in catch_all:
        if result_path(catch) == "$":
            problems.append(f"{name}: Catch does not keep the input ({_replaces_input(catch)})")
        if not leads_to_alert(graph, catch["Next"]):
            problems.append(f"{name}: Catch goes to {catch['Next']!r}, which does not lead to the alert")
    return problems


def _replaces_input(catch: dict[str, Any]) -> str:
    """How a Catch that does not keep its input replaces it."""
    if "Output" in catch:
        return "its Output replaces the input"
    if "ResultPath" in catch:
        return "ResultPath '$': the error replaces the input"
    return "no ResultPath, so '$', the default: the error replaces the input"


def leads_to_alert(graph: dict[str, Any], start: str) -> bool:
    """The caught path reaches the alert through Pass/Choice states only, or through a Task that
    is there for the failure alone: wherever it ends, failed or not, it goes on to the alert and
    nowhere else (flight-deals parks its batch before alerting, to say where it is)."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        state = graph["States"].get(name)
        if name in seen or state is None:
            continue
        seen.add(name)
        if is_alert(state):
            return True
        if state["Type"] in ("Pass", "Choice") or is_alert_window(state) or _on_the_way(graph, state):
            todo += next_states(state)
    return False


def _on_the_way(graph: dict[str, Any], state: dict[str, Any]) -> bool:
    """A Task whose every way on, its Next and its Catches (one of States.ALL among them), comes
    to the alert through Pass/Choice states only: it can neither skip the alert nor do more."""
    catches = state.get("Catch", [])
    if state["Type"] != "Task" or not any("States.ALL" in c["ErrorEquals"] for c in catches):
        return False
    ways = [state.get("Next"), *(c["Next"] for c in catches)]
    return all(way and _only_to_alert(graph, way, frozenset()) for way in ways)


def _only_to_alert(graph: dict[str, Any], name: str, seen: frozenset[str]) -> bool:
    state = graph["States"].get(name)
    if state is None or name in seen:
        return False
    if is_alert(state):
        return True
    ways = next_states(state)
    return (
        (state["Type"] in ("Pass", "Choice") or is_alert_window(state))
        and bool(ways)
        and all(_only_to_alert(graph, way, seen | {name}) for way in ways)
    )


def expressions(payload: Any) -> Iterator[str]:
    """The JSONPath and intrinsic expressions of a Parameters block."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key.endswith(".$") and isinstance(value, str):
                yield value
            else:
                yield from expressions(value)


def error_reads(state: dict[str, Any]) -> set[str]:
    """The error objects whose Error or Cause a state reads ($.error for $.error.Cause)."""
    texts = [state.get("ErrorPath"), state.get("CausePath"), *expressions(state.get("Parameters"))]
    return {m.group(1) for text in texts if isinstance(text, str) for m in ERROR_FIELD.finditer(text)}


def with_error(errors: frozenset[str], path: str | None) -> frozenset[str]:
    """The error objects left once an error object is written at `path` (None: dropped)."""
    if path is None:
        return errors
    return frozenset({e for e in errors if not covers(path, e)} | {path})


def errors_after(state: dict[str, Any], errors: frozenset[str]) -> frozenset[str]:
    """The error objects left in a state's output: what it overwrites is gone, and a Pass that
    builds {Error, Cause} (Redraw Limit Reached) adds one."""
    roots, leaves = output(state)
    kept = frozenset(e for e in errors if not any(covers(root, e) for root in roots))
    return kept | {root for root in roots if f"{root}.Error" in leaves and f"{root}.Cause" in leaves}


def caught_errors(catch: dict[str, Any], errors: frozenset[str]) -> frozenset[str]:
    """The error objects after a Catch: its error at its ResultPath; in JSONata, the keys its
    Output merges in written over, the error at the one given $states.errorOutput."""
    entries = merged(catch)
    if not entries:
        return with_error(errors, result_path(catch))
    kept = frozenset(e for e in errors if not any(covers(f"$.{key}", e) for key in entries))
    return kept | {f"$.{key}" for key, value in entries.items() if value == "$states.errorOutput"}


def flow_moves(state: dict[str, Any], errors: frozenset[str]) -> list[tuple[str, frozenset[str]]]:
    """The states a state's Next and Choice edges lead to, each with the error objects there: a
    Choice rule taken only when an object is there (`IsPresent: true`) holds it on its branch."""
    if state["Type"] != "Choice":
        return [(target, errors_after(state, errors)) for target in next_states(state)]
    moves = [(rule["Next"], errors | present(rule)) for rule in state.get("Choices", [])]
    return moves + ([(state["Default"], errors)] if "Default" in state else [])


def present(rule: dict[str, Any]) -> frozenset[str]:
    if rule.get("IsPresent") is True and isinstance(rule.get("Variable"), str):
        return frozenset({rule["Variable"]})
    return frozenset()


def known_errors(
    graph: dict[str, Any], starts: dict[str, frozenset[str]], *, any_path: bool
) -> dict[str, frozenset[str]]:
    """The error objects in each state's input: put there on every path from `starts` through
    Next and Choice edges, or, with `any_path`, on some path, Catch edges included."""
    states = graph["States"]
    known = dict(starts)
    todo = list(starts)
    while todo:
        name = todo.pop()
        state = states.get(name)
        if state is None:
            continue
        moves = flow_moves(state, known[name])
        if any_path:
            moves += [(c["Next"], caught_errors(c, known[name])) for c in state.get("Catch", [])]
        for target, errors in moves:
            if target in known:
                errors = known[target] | errors if any_path else known[target] & errors
            if known.get(target) != errors:
                known[target] = errors
                todo.append(target)
    return known


def unset_reads(graph: dict[str, Any], start: str, errors: frozenset[str]) -> tuple[list[str], list[str]]:
    """The states after `start` that read an error object not set on every way there, and those objects."""
    known = known_errors(graph, {start: errors}, any_path=False)
    unset = {n: error_reads(graph["States"][n]) - k for n, k in known.items() if n in graph["States"]}
    readers = [name for name, objects in unset.items() if objects]
    return readers, sorted(set().union(*unset.values()))


def error_path_problems(graph: dict[str, Any], where: str = "") -> list[str]:
    """Each Catch writes its error where the states after it (the alert, the Fail) read it, and
    the states the flow reaches without a Catch read only errors a Pass built on the way.

    A Catch is checked on its own: its state's input holds what some path put there, so one
    wrong Catch upstream is not blamed on the alert's own Catch as well."""
    start = graph["StartAt"]
    readers, objects = unset_reads(graph, start, frozenset())
    problems = []
    if readers:
        problems.append(
            f"{where}{' and '.join(readers)} read {' and '.join(objects)} (Error and Cause), which no state"
            f" on the way from {start} sets: have the Pass before them set it (ResultPath {objects[0]!r})"
        )
    caught = known_errors(graph, {start: frozenset()}, any_path=True)
    for name, state in graph["States"].items():
        for catch in state.get("Catch", []):
            readers, objects = unset_reads(
                graph, catch["Next"], caught_errors(catch, caught.get(name, frozenset()))
            )
            if readers:
                problems.append(
                    f"{where}{name}: Catch of {', '.join(catch['ErrorEquals'])} {_catch_writes(catch)},"
                    f" but {' and '.join(readers)} read {' and '.join(objects)} (its Error and Cause):"
                    f" {_catch_fix(catch, objects[0])}"
                )
    return problems


def _catch_writes(catch: dict[str, Any]) -> str:
    entries = merged(catch)
    if entries:
        return f"merges {', '.join(map(repr, entries))} into its input"
    return f"writes the error to {result_path(catch)!r}"


def _catch_fix(catch: dict[str, Any], path: str) -> str:
    if merged(catch):
        return f'merge {{"{path[2:]}": $states.errorOutput}} into its input'
    return f"set the Catch's ResultPath to {path!r}"


def choice_problems(name: str, state: dict[str, Any], *, top_level: bool) -> list[str]:
    if state.get("Type") != "Choice" or "Default" in state:
        return []
    if top_level:
        outcome = "the execution fails without the alert"
        fix = "a Pass that sets $.error {Error, Cause} and goes to the alert"
    else:
        outcome = "the whole branch or item fails, or a Catch meant for a task takes it"
        fix = "a Fail with Error and Cause"
    return [
        f"{name}: Choice without Default: a value no rule matches raises States.NoChoiceMatched, which a"
        f" Choice cannot catch, so {outcome}: add a Default (when no value should get there, {fix})"
    ]


# --- Loops ----------------------------------------------------------------------------------


class Limit(NamedTuple):
    """A Choice leaves once the counter is >= value (inclusive) or > value."""

    value: float
    inclusive: bool


class Bound(NamedTuple):
    counter: str
    rounds: int  # the most times each state of the loop runs


def cycles(graph: dict[str, Any]) -> list[list[str]]:
    """Elementary cycles through every edge, Catch edges included (a caught error can go round
    as well), each listed from the state the flow reaches first."""
    states = graph["States"]
    edges = {n: [t for t in next_states(s) + catch_states(s) if t in states] for n, s in states.items()}
    order = flow_order(graph)

    def rank(name: str) -> tuple[int, str]:
        return order.get(name, len(order)), name

    found: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for target in edges[node]:
            if target == path[0]:
                found.append(list(path))
            elif target not in path and rank(target) > rank(path[0]):
                visit(target, [*path, target])

    for start in sorted(states, key=rank):
        visit(start, [start])
    return found


def describe(graph: dict[str, Any], cycle: list[str]) -> str:
    """`A (Catch) → B → C`: a state left through a Catch edge is marked so."""
    steps = []
    for name, following in zip(cycle, cycle[1:] + cycle[:1], strict=True):
        caught = following not in next_states(graph["States"][name])
        steps.append(f"{name} (Catch)" if caught else name)
    return " → ".join(steps)


def rule_leaves(rule: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The comparisons of a Choice rule, inside And/Or/Not included."""
    for key in ("And", "Or"):
        for child in rule.get(key, []):
            yield from rule_leaves(child)
    if "Not" in rule:
        yield from rule_leaves(rule["Not"])
    if "Variable" in rule:
        yield rule


def rule_leaves_of(choice: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for rule in choice.get("Choices", []):
        yield from rule_leaves(rule)


def compares(leaf: dict[str, Any]) -> bool:
    """The rule compares its variable with a number (NumericEquals included: it is a counter,
    though one that can step over or start past its limit)."""
    return any(op.startswith("Numeric") and number(value) for op, value in leaf.items())


def limit_of(leaf: dict[str, Any]) -> Limit | None:
    """From which counter value on this comparison tells the counter is past its limit."""
    for op, inclusive in (
        ("NumericGreaterThanEquals", True),
        ("NumericLessThan", True),
        ("NumericGreaterThan", False),
        ("NumericLessThanEquals", False),
    ):
        if number(leaf.get(op)):
            return Limit(leaf[op], inclusive)
    return None


def compare(leaf: dict[str, Any], limit: Limit) -> bool | None:
    """Whether a comparison of the counter holds once the counter is past `limit` (None: may or
    may not)."""
    for op, value in leaf.items():
        if op in ("IsPresent", "IsNumeric") and isinstance(value, bool):
            return value
        if op == "IsNull" and isinstance(value, bool):
            return not value
        if not number(value):
            continue
        at_least = limit.value >= value  # the counter is >= value for sure
        above = limit.value > value or (limit.value == value and not limit.inclusive)
        if (op == "NumericGreaterThanEquals" and at_least) or (op == "NumericGreaterThan" and above):
            return True
        if (op == "NumericLessThan" and at_least) or (
            op in ("NumericLessThanEquals", "NumericEquals") and above
        ):
            return False
    return None


def matches(rule: dict[str, Any], counter: str, limit: Limit) -> bool | None:
    """Whether a Choice rule matches once `counter` is past `limit`; None when other data decides."""
    if "And" in rule or "Or" in rule:
        results = [matches(child, counter, limit) for child in rule.get("And", rule.get("Or", []))]
        decisive, other = (False, True) if "And" in rule else (True, False)
        if decisive in results:
            return decisive
        return other if all(r is other for r in results) else None
    if "Not" in rule:
        result = matches(rule["Not"], counter, limit)
        return None if result is None else not result
    return compare(rule, limit) if rule.get("Variable") == counter else None


def leaves_loop(choice: dict[str, Any], cycle: list[str], counter: str, limit: Limit) -> bool:
    """Once `counter` is past `limit`, the Choice takes a way out of the loop, whatever else holds:
    Choice rules are tried in order, so no rule that may match can stay in the loop before one
    that surely matches leaves it."""
    for rule in choice.get("Choices", []):
        result = matches(rule, counter, limit)
        if result is False:
            continue
        if rule["Next"] in cycle:
            return False
        if result:
            return True
    return choice.get("Default") not in cycle  # no Default: States.NoChoiceMatched leaves it too


def exit_limit(choice: dict[str, Any], cycle: list[str], counter: str) -> Limit | None:
    """The lowest limit of `counter` from which the Choice surely leaves the loop."""
    limits = {limit_of(leaf) for leaf in rule_leaves_of(choice) if leaf["Variable"] == counter}
    ordered = sorted((limit for limit in limits if limit), key=lambda lim: (lim.value, not lim.inclusive))
    return next((limit for limit in ordered if leaves_loop(choice, cycle, counter, limit)), None)


def increment(write: Write, counter: str) -> float | None:
    """The step of States.MathAdd(counter, step); None for any other value."""
    found = MATH_ADD.fullmatch((write.expression or "").strip())
    args = [arg.strip() for arg in found.groups()] if found else []
    if counter not in args:
        return None
    try:
        return float(args[1 - args.index(counter)])
    except ValueError:
        return None


def overwrite(name: str, state: dict[str, Any], write: Write, counter: str) -> str:
    """Why a state of the loop that writes the counter without growing it keeps the loop going."""
    if write.expression is not None:
        return f"{name} sets {counter} to {write.expression}, so it does not grow: set it to States.MathAdd({counter}, 1)"
    if write.number is not None:
        return (
            f"{name} sets {counter} back to {write.number:g} inside the loop: set its start before the loop"
        )
    how = "its Output's $merge" if merged(state) else f"ResultPath {state.get('ResultPath', '$')!r}"
    return f"{name} overwrites {counter} inside the loop ({how}): write its result elsewhere"


def growth(graph: dict[str, Any], cycle: list[str], counter: str, choice: str) -> float | str:
    """How much one round adds to the counter, or why it does not surely grow."""
    total = 0.0
    for name in cycle:
        state = graph["States"][name]
        write = new_value(state, counter)
        if write is None:
            continue
        step = increment(write, counter)
        if step is None or step <= 0:
            return overwrite(name, state, write, counter)
        total += step
    if total:
        return total
    for name in cycle:
        _, leaves = output(graph["States"][name])
        for path, write in leaves.items():
            if increment(write, counter):
                return (
                    f"{name} writes {write.expression} to {path}, not back to {counter}, which {choice} leaves"
                    " the loop on: write it back (ResultPath/Parameters)"
                )
    return (
        f"nothing in the loop writes {counter} back, which {choice} leaves the loop on: a state of the loop"
        f" must set it to States.MathAdd({counter}, 1) (ResultPath/Parameters)"
    )


def start_value(graph: dict[str, Any], cycle: list[str], counter: str) -> float | None:
    """The smallest number the counter is set to before the loop; None when a state on the way
    sets it to something else, or none sets it (it would come from the execution's input)."""
    starts = []
    for name in ancestors(graph, cycle) - set(cycle):
        write = new_value(graph["States"][name], counter)
        if write is None or increment(write, counter):  # another loop's count
            continue
        if write.number is None:
            return None
        starts.append(write.number)
    return min(starts, default=None)


def rounds(start: float, step: float, limit: Limit) -> int:
    """The most times a state of the loop runs: every round the Choice lets go on, plus the last."""
    span = (limit.value - start) / step
    go_on = math.ceil(span) if limit.inclusive else math.floor(span) + 1
    return max(go_on, 0) + 1


def counter_bound(graph: dict[str, Any], cycle: list[str], choice: str, counter: str) -> Bound | str:
    limit = exit_limit(graph["States"][choice], cycle, counter)
    if limit is None:
        return (
            f"{choice} can go round again however large {counter} grows: put a rule leaving the loop"
            f" on {counter} >= LIMIT before the rules that stay in it"
        )
    step = growth(graph, cycle, counter, choice)
    if isinstance(step, str):
        return step
    start = start_value(graph, cycle, counter)
    if start is None:
        return f"{counter} is not set to a number before the loop: set it (to 0) in a state before it"
    return Bound(counter, rounds(start, step, limit))


def loop_bound(graph: dict[str, Any], cycle: list[str]) -> Bound | str:
    """The counter that ends a loop and the rounds it allows, or why no counter ends it."""
    bounds: list[Bound] = []
    reasons: list[str] = []
    for name in cycle:
        state = graph["States"][name]
        if state["Type"] != "Choice":
            continue
        for counter in dict.fromkeys(leaf["Variable"] for leaf in rule_leaves_of(state) if compares(leaf)):
            found = counter_bound(graph, cycle, name, counter)
            if isinstance(found, Bound):
                bounds.append(found)
            else:
                reasons.append(found)
    if bounds:
        return min(bounds, key=lambda bound: bound.rounds)
    return "; ".join(dict.fromkeys(reasons)) or NO_COUNTER


def loop_problems(graph: dict[str, Any], where: str = "") -> list[str]:
    label = f"{where[:-1]}: " if where else ""
    problems = []
    for cycle in cycles(graph):
        bound = loop_bound(graph, cycle)
        if isinstance(bound, str):
            problems.append(f"{label}loop {describe(graph, cycle)} has no counter that ends it: {bound}")
    return problems


# --- History --------------------------------------------------------------------------------


def loop_runs(graph: dict[str, Any]) -> dict[str, int]:
    """How many times each state can run: the product of the rounds of the counters whose loops
    hold it (an outer loop may set an inner loop's counter back). Unbounded loops are reported
    as such and count once."""
    rounds_of: dict[str, int] = {}
    members: dict[str, set[str]] = {}
    for cycle in cycles(graph):
        bound = loop_bound(graph, cycle)
        if isinstance(bound, Bound):
            rounds_of[bound.counter] = max(rounds_of.get(bound.counter, 0), bound.rounds)
            members.setdefault(bound.counter, set()).update(cycle)
    return {
        name: math.prod(r for counter, r in rounds_of.items() if name in members[counter])
        for name in graph["States"]
    }


def worst_case_events(graph: dict[str, Any], map_items: int) -> int:
    """Every state run as often as its loops allow, retries at their maximum, nested graphs with
    their state (a Map's `map_items` times)."""
    runs = loop_runs(graph)
    total = 0
    for name, state in graph["States"].items():
        retries = sum(r.get("MaxAttempts", 3) for r in state.get("Retry", []))
        once = EVENTS_PER_STATE.get(state["Type"], 2) + 3 * retries
        once += sum(worst_case_events(branch, map_items) for branch in state.get("Branches", []))
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                once += map_items * worst_case_events(state[key], map_items)
        total += runs[name] * once
    return total


def lint(definition: dict[str, Any], *, standard: bool = True, map_items: int = 1) -> list[str]:
    """Problems of one definition; `map_items` is the most items any of its Maps iterates.

    Only Standard workflows keep a history (Express ones log instead), so only they are held
    to the history limit."""
    return state_problems(definition) + flow_problems(definition, standard=standard, map_items=map_items)


def state_problems(definition: dict[str, Any]) -> list[str]:
    """What is wrong with a state whatever the graph around it (its ErrorEquals, a Choice without
    Default): said even when the graph is broken, and before the ASL parser's message."""
    problems = []
    for name, state, graph in walk(definition):
        problems += error_equals_problems(name, state)
        problems += choice_problems(name, state, top_level=graph is definition)
    return problems


def flow_problems(definition: dict[str, Any], *, standard: bool = True, map_items: int = 1) -> list[str]:
    """The problems lint finds by following the graph's edges: only for a sound graph."""
    problems = []
    for name, state, graph in walk(definition):
        problems += retry_problems(name, state)
        alerting = is_alert(state) or is_alert_window(state)
        if graph is definition and state["Type"] in ("Task", "Map", "Parallel") and not alerting:
            problems += catch_problems(name, state, graph)
        if state["Type"] == "Fail" and not (
            {"Error", "ErrorPath"} & state.keys() and {"Cause", "CausePath"} & state.keys()
        ):
            problems.append(f"{name}: Fail state without Error and Cause")
    for where, graph in graphs(definition):
        problems += error_path_problems(graph, where)
        problems += loop_problems(graph, where)
    events = worst_case_events(definition, map_items)
    if standard and events > MAX_HISTORY_EVENTS:
        problems.append(f"worst case {events} history events, over AWS's limit of {MAX_HISTORY_EVENTS}")
    return problems
