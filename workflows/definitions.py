"""Render workflow definitions to `definitions/<name>.asl.json` and check them.

A definition file is generated, never edited: `check` fails when a file differs from what
the Python builds, when a `${Token}` is not one the registry knows, when the graph is
broken (a `Next` to no state, a state nothing reaches, a path with no end), when a function's
handler is not where Lambda would look for it, when the registry names a resource, a function (a
route's), a stream (a stream trigger's), a seed file or an IAM action that is not there, when a sync
route starts a Standard workflow or two workflows declare one route, or when an alert's subject
names another workflow.
"""

from __future__ import annotations

import difflib
import importlib
import json
import pkgutil
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from localcloud import schedule_expr
from workflows import actions, handlers
from workflows.asl import StateMachineType
from workflows.lint import flow_problems, is_alert, nested, state_problems
from workflows.policies import ALERT_ACCESS, ALERT_ENVIRONMENT
from workflows.registry import (
    DATA_DIR,
    DEFINITIONS_DIR,
    SCHEDULED_TIME,
    STATE_MACHINE,
    Access,
    Function,
    HttpRoute,
    Route,
    Schedule,
    StreamTrigger,
    Workflow,
    likely,
    unknown,
)

TOKEN = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
_FIRST_KEYS = ("Type", "Comment")


def _ordered(state: dict[str, Any]) -> dict[str, Any]:
    """Type and Comment first, so a reader sees what a state is before how it is configured."""
    ordered = {k: state[k] for k in _FIRST_KEYS if k in state}
    ordered.update((k, v) for k, v in state.items() if k not in ordered)
    return ordered


def _normalise(graph: dict[str, Any]) -> dict[str, Any]:
    states = {}
    for name, state in graph["States"].items():
        state = _ordered(state)
        if "Branches" in state:
            state["Branches"] = [_normalise(b) for b in state["Branches"]]
        if "ItemProcessor" in state:
            state["ItemProcessor"] = _normalise(state["ItemProcessor"])
        states[name] = state
    return {**graph, "States": states}


def built(workflow: Workflow) -> dict[str, Any]:
    """The workflow's definition as its builder makes it, with the registry's `timeout_seconds` as
    its top-level TimeoutSeconds (after the Comment: how long a run may take is read with what it
    is)."""
    return _with_timeout(workflow, workflow.build())


def _with_timeout(workflow: Workflow, graph: dict[str, Any]) -> dict[str, Any]:
    if workflow.timeout_seconds is None:
        return graph
    head = {k: graph[k] for k in ("Comment",) if k in graph}
    rest = {k: v for k, v in graph.items() if k != "TimeoutSeconds"}  # the registry's, not the graph's
    return {**head, "TimeoutSeconds": workflow.timeout_seconds, **rest}


def render(workflow: Workflow) -> str:
    return _text(built(workflow))


def _text(definition: dict[str, Any]) -> str:
    return json.dumps(_normalise(definition), indent=2, ensure_ascii=False) + "\n"


def write(workflow: Workflow) -> bool:
    """Write the definition file; True when it changed."""
    text = render(workflow)
    path = workflow.definition_path
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def load(workflow: Workflow) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(workflow.definition_path.read_text())
    return result


_GRAPH_NAMES = {"ItemProcessor": "item processor", "Iterator": "iterator"}


def _graphs(graph: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(prefix of its problems, graph) for the definition and every graph nested in it."""
    for at, inner in nested(graph):
        where = (
            f"{name}/{f'branch {i + 1}' if kind == 'branch' else _GRAPH_NAMES[kind]}: "
            for name, kind, i in at
        )
        yield "".join(where), inner


def _targets(state: dict[str, Any]) -> list[str]:
    targets = [state["Next"]] if "Next" in state else []
    targets += [rule["Next"] for rule in state.get("Choices", [])]
    targets += [state["Default"]] if "Default" in state else []
    targets += [catch["Next"] for catch in state.get("Catch", [])]
    return targets


def _typo(name: Any, states: Mapping[str, Any]) -> str:
    """`: did you mean 'X'?` for the state `name` is likely a typo of, if any."""
    close = likely(name, states) if isinstance(name, str) else None
    return f": did you mean {close!r}?" if close else ""


def graph_problems(definition: dict[str, Any]) -> list[str]:
    """Structural problems of every graph (top level, branches, item processors)."""
    problems = []
    for where, graph in _graphs(definition):
        states = graph.get("States") or {}
        start = graph.get("StartAt")
        if start not in states:
            problems.append(f"{where or 'top level: '}StartAt {start!r} is not a state{_typo(start, states)}")
            continue
        for name, state in states.items():
            kind = state.get("Type")
            for target in _targets(state):
                if target not in states:
                    problems.append(
                        f"{where}{name}: goes to {target!r}, which is not a state here{_typo(target, states)}"
                    )
            ends = kind in ("Succeed", "Fail") or state.get("End") is True
            if kind == "Choice":
                if not state.get("Choices"):
                    problems.append(f"{where}{name}: Choice without Choices")
            elif not ends and "Next" not in state:
                problems.append(f"{where}{name}: neither Next nor End")
            if kind == "Fail" and not ({"Error", "ErrorPath"} & state.keys()):
                problems.append(f"{where}{name}: Fail state without Error or ErrorPath")
        reached, todo = set(), [start]
        while todo:
            name = todo.pop()
            if name in reached or name not in states:
                continue
            reached.add(name)
            todo.extend(_targets(states[name]))
        for name in states.keys() - reached:
            problems.append(f"{where}{name}: not reachable from {start!r}")
    return problems


def token_problems(workflow: Workflow, text: str) -> list[str]:
    """Tokens the registry does not know, each with the known one it is closest to: a function's
    is `<Name>FunctionArn`, its name in PascalCase, a resource's `<Name>TableName`, `TopicArn`..."""
    known = workflow.tokens()
    problems = []
    for token in sorted(set(TOKEN.findall(text)) - known):
        close = likely(token, known)
        hint = (
            f"did you mean ${{{close}}}?"
            if close
            else "known: " + ", ".join(f"${{{k}}}" for k in sorted(known))
        )
        problems.append(f"unknown token ${{{token}}}; {hint}")
    return problems


# optimized integrations a state machine calls itself: resource -> (the parameter naming what it
# acts on, the IAM action its role needs on it)
INTEGRATION_ACTIONS = {
    "arn:aws:states:::sns:publish": ("TopicArn", "sns:Publish"),
    "arn:aws:states:::dynamodb:getItem": ("TableName", "dynamodb:GetItem"),
    "arn:aws:states:::dynamodb:putItem": ("TableName", "dynamodb:PutItem"),
    "arn:aws:states:::dynamodb:updateItem": ("TableName", "dynamodb:UpdateItem"),
    "arn:aws:states:::dynamodb:deleteItem": ("TableName", "dynamodb:DeleteItem"),
}


def _grants(granted: set[tuple[str, str]], resource: str, action: str) -> bool:
    """As IAM reads an action: case aside, and `service:*` or `*` for every action."""
    service = action.split(":", 1)[0]
    return any((resource, a) in granted for a in (action.lower(), f"{service}:*", "*"))


def grant_problems(workflow: Workflow, definition: dict[str, Any]) -> list[str]:
    """Integrations the definition calls, on resources it names by token, that the workflow's
    `integrations` do not grant: deploy would give its role no such right, and the call would fail
    at run time."""
    by_token = {resource.token: name for name, resource in workflow.resources().items()}
    granted = {(a.resource, action.lower()) for a in workflow.integrations for action in a.actions}
    problems = []
    for where, graph in _graphs(definition):
        for name, state in graph.get("States", {}).items():
            base = str(state.get("Resource", "")).split(".", 1)[0]  # .waitForTaskToken calls it too
            parameter, action = INTEGRATION_ACTIONS.get(base, (None, None))
            if parameter is None or action is None:
                continue
            arguments = state.get("Parameters") or state.get("Arguments") or {}
            value = str(arguments.get(parameter, ""))
            found = TOKEN.fullmatch(value)
            resource = by_token.get(found.group(1)) if found else None
            if resource is not None and not _grants(granted, resource, action):
                problems.append(
                    f"{where}{name}: calls {action} on {value}, which the workflow's integrations do not "
                    f'grant: add Access("{resource}", ("{action}",))'
                )
    return problems


_SUBJECT_WORKFLOW = re.compile(r"\[([^\]]*)\]")


def alert_problems(workflow: Workflow, definition: dict[str, Any]) -> list[str]:
    """Alerts whose Subject does not begin with `[<this workflow>]`: every workflow of an
    environment alerts on one topic, so the subject is how the on-call tells whose run failed, and
    `policies.alert_and_fail` given another workflow's name tells them the wrong one."""
    own = f"[{workflow.name}]"
    problems = []
    for where, graph in _graphs(definition):
        for name, state in graph.get("States", {}).items():
            subject = state.get("Parameters", {}).get("Subject") if is_alert(state) else None
            if not isinstance(subject, str):
                continue  # a Subject.$ is known only at run time
            found = _SUBJECT_WORKFLOW.match(subject)
            if found and found.group(1) == workflow.name:
                continue
            said = f"names workflow {found.group(1)!r}" if found else "names no workflow"
            problems.append(
                f"{where}{name}: alert Subject {subject!r} {said}: begin it with {own!r} "
                f"(policies.alert_and_fail takes the workflow's own name)"
            )
    return problems


def is_stale(workflow: Workflow, text: str, graph: dict[str, Any] | None = None) -> bool:
    """Whether a definition file's text is not what the workflow's builder builds now (`graph`,
    when already built)."""
    return text != (render(workflow) if graph is None else _text(_with_timeout(workflow, graph)))


def parse_problems(text: str) -> list[str]:
    """Run the definition through moto's ASL parser (the grammar the local cloud executes)."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    concrete = TOKEN.sub(lambda m: f"arn:aws:lambda:us-east-1:123456789012:function:{m.group(1)}", text)
    try:
        AmazonStateLanguageParser.parse(concrete)
    except Exception as error:  # the parser raises several exception types; any is a problem
        return [f"ASL parser: {_expecting_few(str(error))}"]
    return []


_EXPECTING = re.compile(r"expecting \{([^{}]*)\}")


def _expecting_few(message: str, most: int = 10) -> str:
    """The parser's message with its list of expected tokens (up to every field name of the
    grammar, thousands of characters) cut to the few closest to the input it refused."""
    found = _EXPECTING.search(message)
    tokens = found.group(1).split(", ") if found else []
    if not found or len(tokens) <= most:
        return message
    given = re.search(r"input (.*?) expecting", message)
    close = difflib.get_close_matches(given.group(1), tokens, n=3, cutoff=0.6) if given else []
    like = f", such as {', '.join(close)}" if close else ""
    return f"{message[: found.start()]}expecting one of {len(tokens)} tokens{like}{message[found.end() :]}"


def file_problems(text: str, *, standard: bool = True, map_items: int = 1) -> list[str]:
    """Problems of a definition's text on its own: its states' own (lint.state_problems, which the
    ASL parser would name less clearly, or a broken graph hide), its graph, its grammar, then the
    rest of the linter (which follows the graph's edges, so only once the graph is sound)."""
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as error:
        return [f"not JSON: {error}"]
    if not isinstance(definition, dict) or not isinstance(definition.get("States"), dict):
        return ["not a state machine definition: no States"]
    structure = graph_problems(definition)
    problems = state_problems(definition) + structure + parse_problems(text)
    if not structure:
        problems += flow_problems(definition, standard=standard, map_items=map_items)
    return problems


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


# what EventBridge Scheduler writes for SCHEDULED_TIME, for checking a schedule's input
_A_SCHEDULED_TIME = "2026-11-20T09:30:00Z"


def input_problems(workflow: Workflow) -> list[str]:
    """The example input (the console's start form, `python -m workflows example`) and each
    schedule's input (every scheduled run's) must start the workflow as they are."""
    from tasks.shared.documents import described, errors

    inputs: list[tuple[str, Any]] = [("example_input", workflow.example_input)]
    for trigger in workflow.triggers:
        if isinstance(trigger, Schedule):
            given = json.dumps(trigger.input).replace(SCHEDULED_TIME, _A_SCHEDULED_TIME)
            inputs.append((f"schedule {trigger.expression}: input", json.loads(given)))
    example = workflow.example_input
    absent = [f for f in workflow.fresh_fields if not isinstance(example, Mapping) or f not in example]
    if workflow.fresh_fields and not absent:  # as the benchmarks start it
        inputs.append(("example_input with fresh_fields made unique", workflow.fresh_input()))
    found = ((what, errors(workflow.input_schema, given)) for what, given in inputs)
    problems = [f"{workflow.name}: {what} is not valid input: {described(e)}" for what, e in found if e]
    return problems + [f"{workflow.name}: fresh_fields: example_input has no field {f!r}" for f in absent]


def handler_problems(workflow: Workflow) -> list[str]:
    """Each function's handler as Lambda would look for it."""
    found = ((fn, handlers.handler_problem(fn.handler)) for fn in workflow.functions)
    return [f"{workflow.name}: function {fn.name}: {problem}" for fn, problem in found if problem]


def prefix_problems(workflow: Workflow) -> list[str]:
    """A grant's key prefix that cannot narrow it as it says (Access.prefix_problem), which deploy
    stops on too; a grant of a resource that is not there is wiring_problems' to name."""
    resources = workflow.resources()
    return [
        f"{who} to {grant.resource!r}: {problem}"
        for who, grants in _grantees(workflow)
        for grant in grants
        if grant.resource in resources and (problem := grant.prefix_problem(resources[grant.resource]))
    ]


def _grantees(workflow: Workflow) -> Iterator[tuple[str, tuple[Access, ...]]]:
    """(who, its grants): each function, and the state machine's integrations."""
    yield from ((f"function {fn.name}: access", fn.access) for fn in workflow.functions)
    yield "state machine: integrations", workflow.integrations


# API Gateway's HTTP API answers 503 itself (its integration timeout) after this long
API_GATEWAY_SECONDS = 30
# a route's function must end before API Gateway stops waiting for it
ROUTE_TIMEOUT = API_GATEWAY_SECONDS - 1


def wiring_problems(workflow: Workflow) -> list[str]:
    """What the registry names that is not there: a resource a grant or an environment value names,
    a function a route names, a stream a stream trigger names (deploy would stop on each), a seed
    file (deploy would fail after its changes), an IAM action (IAM takes any name: the call would
    be denied at run time); a grant's key prefix that cannot narrow it (deploy would stop); and a
    sync route of a Standard workflow (AWS refuses every request)."""
    resources = workflow.resources()
    problems = []
    for who, grants in _grantees(workflow):
        for grant in grants:
            if grant.resource not in resources:
                problems.append(f"{who}: no resource named {unknown(grant.resource, resources)}")
            found = (actions.action_problem(action) for action in grant.actions)
            problems += [f"{who} to {grant.resource!r}: {p}" for p in found if p]
    problems += prefix_problems(workflow)
    for fn in workflow.functions:
        for variable, logical in fn.environment.items():
            if logical not in resources:
                problems.append(
                    f"function {fn.name}: environment {variable}: no resource named {unknown(logical, resources)}"
                )
    functions = [fn.name for fn in workflow.functions]
    for route in workflow.routes:
        if route.function not in functions:
            problems.append(
                f"route {route.method} {route.path}: no function named {unknown(route.function, functions)}"
            )
        elif (timeout := workflow.function(route.function).timeout) > ROUTE_TIMEOUT:
            problems.append(
                f"route {route.method} {route.path}: function {route.function} has a {timeout} s timeout, "
                f"but API Gateway stops waiting after {API_GATEWAY_SECONDS} s: give it at most {ROUTE_TIMEOUT}"
            )
        if route.function in functions and not _alerts(workflow.function(route.function)):
            problems.append(
                f"route {route.method} {route.path}: function {route.function} cannot alert its failures "
                "(tasks.shared.api.route): give it *ALERT_ACCESS and **ALERT_ENVIRONMENT (workflows.policies)"
            )
    streams = [stream.name for stream in workflow.streams]
    for trigger in workflow.triggers:
        if isinstance(trigger, StreamTrigger) and trigger.stream not in streams:
            problems.append(f"stream trigger: no stream named {unknown(trigger.stream, streams)}")
        if isinstance(trigger, HttpRoute) and trigger.sync and workflow.type != StateMachineType.EXPRESS:
            problems.append(
                f"route {trigger.method} {trigger.path}: sync, but StartSyncExecution starts only "
                "EXPRESS state machines: make the workflow EXPRESS or the route not sync"
            )
    seeds = sorted(p.name for p in DATA_DIR.glob("*.json"))
    for table in workflow.tables:
        if table.seed and not (DATA_DIR / table.seed).is_file():
            problems.append(
                f"table {table.name}: seed: no file in workflows/data/ named {unknown(table.seed, seeds)}"
            )
    return [f"{workflow.name}: {p}" for p in problems]


def _alerts(fn: Function) -> bool:
    """Whether the function may send the alerts of tasks.shared.alerts.of_function."""
    granted = {(a.resource, action) for a in fn.access for action in a.actions}
    needed = {(a.resource, action) for a in ALERT_ACCESS for action in a.actions}
    return needed <= granted and ALERT_ENVIRONMENT.items() <= fn.environment.items()


# the longest an execution may run, as AWS ends it
MAX_TIMEOUT_SECONDS = {StateMachineType.STANDARD: 365 * 24 * 3600, StateMachineType.EXPRESS: 5 * 60}
_LIMIT_SAID = {StateMachineType.STANDARD: "a year", StateMachineType.EXPRESS: "five minutes"}
# what a synchronous start's caller still does once the workflow has answered, however it ended:
# the answer's way back (up to 2 s late) and an alert to SNS when it did not succeed (up to 2 s)
SYNC_ANSWER_MARGIN_SECONDS = 4
# a cron schedule's starts looked at for the shortest time between two (two years of a daily one)
_STARTS_LOOKED_AT = 800


def shortest_period(schedule: Schedule) -> float | None:
    """The fewest seconds between two starts of the schedule; None for one that starts once."""
    expression = schedule_expr.parse(schedule.expression, schedule.timezone)
    if isinstance(expression, schedule_expr.Rate):
        return expression.period.total_seconds()
    starts: list[datetime] = []
    when: datetime | None = datetime(2026, 1, 1, tzinfo=UTC)
    while when is not None and len(starts) < _STARTS_LOOKED_AT:
        when = expression.next_after(when, when)
        starts += [when.astimezone(UTC)] if when else []  # in UTC: a daylight saving change counts
    return min(((b - a).total_seconds() for a, b in pairwise(starts)), default=None)


def starts_synchronously(fn: Function) -> bool:
    """Whether the function may start its workflow with StartSyncExecution, and so waits for its end."""
    return any(
        grant.resource == STATE_MACHINE and "states:startsyncexecution" in {a.lower() for a in grant.actions}
        for grant in fn.access
    )


def _synchronous_callers(workflow: Workflow) -> Iterator[tuple[str, int]]:
    """(who, how many seconds it has to answer) for each route that waits for the workflow's end:
    a sync HttpRoute (API Gateway's integration) and a function route whose function starts it
    with StartSyncExecution. None of a Standard workflow, which no synchronous start can start."""
    if workflow.type != StateMachineType.EXPRESS:
        return
    for trigger in workflow.triggers:
        if isinstance(trigger, HttpRoute) and trigger.sync:
            yield f"sync route {trigger.method} {trigger.path} (API Gateway's limit)", API_GATEWAY_SECONDS
    functions = {fn.name: fn for fn in workflow.functions}
    for route in workflow.routes:
        fn = functions.get(route.function)
        if fn is not None and starts_synchronously(fn):
            yield f"route {route.method} {route.path}'s function {fn.name} (its timeout)", fn.timeout


def timeout_problems(workflow: Workflow, graph: dict[str, Any] | None = None) -> list[str]:
    """A workflow without timeout_seconds (a Standard run stuck on an answer that never comes would
    run for a year, and its timed-out alarm never fire), one beyond its type's maximum, one longer
    than its schedule's period (a run would still go when the next starts), one its synchronous
    caller cannot outlast (the caller would be ended before it could answer and alert), and a
    builder that sets its own TimeoutSeconds (build writes the registry's instead): `graph` is what
    it builds, when already built."""
    timeout = workflow.timeout_seconds
    if timeout is None:
        return [
            f"{workflow.name}: no timeout_seconds: a run waiting on an answer that never comes would run "
            f"for {_LIMIT_SAID[workflow.type]}, unnoticed; declare how long its longest path may take (its "
            "Tasks' timeouts through their retries), saying why"
        ]
    problems = []
    most = MAX_TIMEOUT_SECONDS[workflow.type]
    if not 1 <= timeout <= most:
        problems.append(f"timeout_seconds {timeout}: {workflow.type} executions last 1 to {most} seconds")
    for trigger in workflow.triggers:
        if not isinstance(trigger, Schedule):
            continue
        try:
            period = shortest_period(trigger)
        except schedule_expr.ScheduleExpressionError as error:
            problems.append(f"schedule {trigger.expression}: {error}")
            continue
        if period is not None and period < timeout:
            problems.append(
                f"timeout_seconds {timeout} is longer than schedule {trigger.expression} allows between two "
                f"starts ({period:.0f} s): a run could still go when the next one starts"
            )
    for caller, seconds in _synchronous_callers(workflow):
        if timeout > seconds - SYNC_ANSWER_MARGIN_SECONDS:
            problems.append(
                f"timeout_seconds {timeout}: {caller} is {seconds} s, so at most "
                f"{seconds - SYNC_ANSWER_MARGIN_SECONDS} s lets it answer and alert when the run times out"
            )
    own = (workflow.build() if graph is None else graph).get("TimeoutSeconds")
    if own is not None and own != timeout:
        problems.append(
            f"its builder's graph sets TimeoutSeconds {own}, which build replaces with timeout_seconds "
            f"{timeout}: declare it in the Workflow alone"
        )
    return [f"{workflow.name}: {p}" for p in problems]


def check(workflow: Workflow) -> list[str]:
    path = workflow.definition_path
    graph = workflow.build()  # once, for the timeout and the staleness checks
    own = input_problems(workflow) + handler_problems(workflow) + wiring_problems(workflow)
    own += timeout_problems(workflow, graph)
    if not path.exists():
        return [f"{path.name}: missing; run `python -m workflows build`", *own]
    text = path.read_text()
    problems = (
        [f"{path.name}: stale; run `python -m workflows build`"] if is_stale(workflow, text, graph) else []
    )
    problems += own
    standard = workflow.type == StateMachineType.STANDARD
    found = token_problems(workflow, text) + file_problems(
        text, standard=standard, map_items=workflow.max_map_items
    )
    definition = _json_or_none(text)
    if isinstance(definition, dict):
        found += grant_problems(workflow, definition) + alert_problems(workflow, definition)
    return problems + [f"{path.name}: {p}" for p in found]


def registry_problems(registered: Mapping[str, Workflow]) -> list[str]:
    """A workflow module that `WORKFLOWS` does not list (build, check and deploy see only those it
    lists), a route two of them declare, and a definition file no listed workflow builds."""
    import workflows

    problems = []
    for module in pkgutil.iter_modules(workflows.__path__, "workflows."):
        if module.name.rsplit(".", 1)[1].startswith("_"):
            continue  # __main__ runs the command line when imported
        declared = getattr(importlib.import_module(module.name), "WORKFLOW", None)
        if isinstance(declared, Workflow) and registered.get(declared.name) is not declared:
            problems.append(
                f"{module.name} declares workflow {declared.name!r}, which WORKFLOWS "
                "(workflows/__init__.py) does not list: add it there"
            )
    claimed: dict[str, list[str]] = {}
    for workflow in registered.values():
        routes: list[Route | HttpRoute] = [*workflow.routes]
        routes += (t for t in workflow.triggers if isinstance(t, HttpRoute))
        for route in routes:
            claimed.setdefault(f"{route.method.upper()} {route.path}", []).append(workflow.name)
    for key, claimants in claimed.items():
        if len(claimants) > 1:
            problems.append(
                f"route {key}: declared by {' and '.join(claimants)}: the environment's one API has "
                "one route per method and path"
            )
    built = {workflow.definition_path.name for workflow in registered.values()}
    for path in sorted(DEFINITIONS_DIR.glob("*.asl.json")):
        if path.name not in built:
            problems.append(
                f"{path.name}: no workflow of WORKFLOWS builds it: list its workflow in "
                "workflows/__init__.py, or delete the file"
            )
    return problems
