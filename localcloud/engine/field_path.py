"""Where a JSONata expression sits in its state ('Arguments/FunctionName', 'Assign/result', ...).

AWS names that location in QueryEvaluationError causes and in EvaluationFailed events; moto
does not track it. After a definition is parsed, `index(program)` walks the evaluation tree once
and stores on each expression component the path from its state's field down through the keys of
the JSON templates around it.
"""

from __future__ import annotations

from typing import Any

_ATTR = "_localcloud_field_path"
_REPORTS = "_localcloud_state_reports"
# Fields an execution state (Task, Map, Parallel) evaluates inside its error handling, which records
# the EvaluationFailed event itself; a failure anywhere else must record it where it happens.
_HANDLED_BY_EXECUTION_STATE = {
    "Arguments",
    "Items",
    "ItemSelector",
    "TimeoutSeconds",
    "HeartbeatSeconds",
    "MaxConcurrency",
    "Credentials",
    "ItemReader",
    "ResultWriter",
    "ToleratedFailureCount",
    "ToleratedFailurePercentage",
    "Label",
}

# attribute of a moto state component -> the ASL field it was built from
_STATE_FIELDS = {
    "parargs": "Arguments",
    "output": "Output",
    "assign_decl": "Assign",
    "items": "Items",
    "item_selector": "ItemSelector",
    "cause": "Cause",
    "error": "Error",
    "max_concurrency_decl": "MaxConcurrency",
    "timeout": "TimeoutSeconds",
    "heartbeat": "HeartbeatSeconds",
    "tolerated_failure_count_decl": "ToleratedFailureCount",
    "tolerated_failure_percentage_decl": "ToleratedFailurePercentage",
    "choices_decl": "Condition",
    "credentials": "Credentials",
    "item_reader": "ItemReader",
    "result_writer": "ResultWriter",
    "label": "Label",
}
_WAIT_FIELDS = {"SecondsJSONata": "Seconds", "Seconds": "Seconds"}


def index(program: Any) -> None:
    from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringExpression
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

    seen: set[int] = set()
    # iterative DFS: (object, path so far, inside a state field, the state reports failures there)
    todo: list[tuple[Any, tuple[str, ...], bool, bool]] = [(program, (), False, False)]
    while todo:
        obj, path, in_field, reported = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, StringExpression):
            if path:
                obj.__dict__[_ATTR] = "/".join(path)
            obj.__dict__[_REPORTS] = reported
            continue
        if isinstance(obj, CommonStateField):
            execution_state = isinstance(obj, ExecutionState)
            for attr, value in vars(obj).items():
                field = _STATE_FIELDS.get(attr)
                if attr == "wait_function":
                    field = _WAIT_FIELDS.get(type(value).__name__, "Timestamp")
                handled = execution_state and field in _HANDLED_BY_EXECUTION_STATE
                todo.append((value, (field,) if field else (), field is not None, handled))
        elif isinstance(obj, Component):
            ident = getattr(obj, "identifier", None)
            sub = (*path, ident) if in_field and isinstance(ident, str) else path
            todo.extend((value, sub, in_field, reported) for value in vars(obj).values())
        elif isinstance(obj, (list, tuple)):
            todo.extend((value, path, in_field, reported) for value in obj)
        elif isinstance(obj, dict):
            todo.extend((value, path, in_field, reported) for value in obj.values())


def location_of(component: Any) -> str | None:
    return component.__dict__.get(_ATTR)


def reported_by_state(component: Any) -> bool:
    """True when the enclosing execution state records the EvaluationFailed event of a failure here."""
    return bool(component.__dict__.get(_REPORTS))
