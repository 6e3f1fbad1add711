"""The shape of a state machine: its states (with the Parallel / Map scope they sit in) and edges.

Scopes mirror what the AWS console draws: the top level has a Start and an End node; a Parallel
state opens one scope per branch and a Map state one for its iterator, each closed by a join
node from which the state's own Next and Catch edges leave.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

START = "__start__"
END = "__end__"
_RULE_KEYS = ("Next", "Variable", "Comment", "Assign", "Output")
_LABEL_MAX = 42


@dataclass
class Scope:
    """A region of the graph: the top level, one Parallel branch or one Map iterator."""

    id: str
    label: str
    owner: str | None  # the Parallel / Map state, None at the top level
    states: list[str] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)


@dataclass
class StateNode:
    name: str
    type: str
    scope: str
    definition: dict[str, Any]
    comment: str | None = None


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # next | choice | default | catch | branch | join
    label: str = ""


@dataclass
class Shape:
    states: dict[str, StateNode]
    edges: list[Edge]
    root: Scope


def join_id(state: str) -> str:
    """The node where a Parallel / Map state's branches meet and its own transitions leave."""
    return f"{state}__join"


def _value(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else f'"{value}"'


def rule_label(rule: dict[str, Any]) -> str:
    """A short reading of a Choice rule, e.g. `$.check.eligible == true`."""
    if "Condition" in rule:
        text = str(rule["Condition"])
    elif "And" in rule or "Or" in rule:
        op = "And" if "And" in rule else "Or"
        text = f" {op.lower()} ".join(rule_label(r) for r in rule[op])
    elif "Not" in rule:
        text = f"not ({rule_label(rule['Not'])})"
    else:
        ops = [k for k in rule if k not in _RULE_KEYS]
        op = ops[0] if ops else "?"
        # longest suffix first: NumericGreaterThanEquals is >=, not ==
        symbol = {"GreaterThanEquals": ">=", "LessThanEquals": "<=", "GreaterThan": ">", "LessThan": "<"}
        symbol |= {"Equals": "=="}
        short = next(
            (s for suffix, s in symbol.items() if op.endswith(suffix) and not op.endswith("Path")), None
        )
        if op == "IsPresent" or op.startswith("Is"):
            text = f"{rule.get('Variable', '')} {op} {_value(rule[op])}"
        elif short:
            text = f"{rule.get('Variable', '')} {short} {_value(rule[op])}"
        else:
            text = f"{rule.get('Variable', '')} {op} {_value(rule.get(op))}"
    return text if len(text) <= _LABEL_MAX else text[: _LABEL_MAX - 1] + "…"


def _exit(name: str, state: dict[str, Any]) -> str:
    """The node transitions leave from: the join node of a container state."""
    return join_id(name) if state.get("Type") in ("Parallel", "Map") else name


def _walk(graph: dict[str, Any], scope: Scope, start: str, end: str, shape: Shape) -> None:
    shape.edges.append(Edge(start, graph["StartAt"], "next" if start == START else "branch"))
    for name, state in graph["States"].items():
        kind = state.get("Type", "?")
        shape.states[name] = StateNode(name, kind, scope.id, state, state.get("Comment"))
        scope.states.append(name)
        source = _exit(name, state)
        if kind == "Parallel":
            for index, branch in enumerate(state.get("Branches", [])):
                sub = Scope(f"{name}#branch{index}", f"Branch {index + 1}", name)
                scope.scopes.append(sub)
                _walk(branch, sub, name, join_id(name), shape)
        elif kind == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                sub = Scope(f"{name}#iterator", "Iterator", name)
                scope.scopes.append(sub)
                _walk(processor, sub, name, join_id(name), shape)
        if kind == "Choice":
            for rule in state.get("Choices", []):
                shape.edges.append(Edge(name, rule["Next"], "choice", rule_label(rule)))
            if "Default" in state:
                shape.edges.append(Edge(name, state["Default"], "default", "Default"))
        elif "Next" in state:
            shape.edges.append(Edge(source, state["Next"], "next"))
        elif state.get("End") or kind in ("Succeed", "Fail"):
            shape.edges.append(Edge(source, end, "join" if end != END else "next"))
        for catcher in state.get("Catch", []):
            label = ", ".join(catcher.get("ErrorEquals", []))
            shape.edges.append(Edge(source, catcher["Next"], "catch", label))


def flow_order(definition: dict[str, Any]) -> list[str]:
    """The states in the order the workflow runs them: StartAt first, then depth first along
    Parallel branches and the Map iterator, Choice rules, Default and Next; a scope's Catch
    targets after its own flow. States nothing reaches come last, in definition order."""
    order: list[str] = []
    seen: set[str] = set()

    def walk(graph: dict[str, Any]) -> None:
        states = graph.get("States", {})
        stack: list[str] = [graph["StartAt"]]
        caught: list[str] = []
        while stack or caught:
            name = stack.pop() if stack else caught.pop(0)
            if name in seen or name not in states:
                continue
            seen.add(name)
            order.append(name)
            state = states[name]
            for branch in state.get("Branches", []):
                walk(branch)
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                walk(processor)
            after = [rule.get("Next") for rule in state.get("Choices", [])]
            after += [state.get("Default"), state.get("Next")]
            stack.extend(reversed([n for n in after if n]))
            caught.extend(catcher["Next"] for catcher in state.get("Catch", []))

    walk(definition)
    return order + [name for name in shape_of(definition).states if name not in seen]


def shape_of(definition: dict[str, Any]) -> Shape:
    shape = Shape(states={}, edges=[], root=Scope("root", "", None))
    _walk(definition, shape.root, START, END, shape)
    return shape
