"""Executions found by ARN and by name without scanning every execution.

moto keeps a state machine's executions in a list and scans it on every StartExecution (is the
name taken?) and DescribeExecution. Executions pile up in a local cloud left running or under a
load test: after 30,000 of them DescribeExecution took 8.3 ms instead of 2.5, StartExecution 4.1
instead of 2.7 (`python bench/accumulated.py`). Each state machine's list here also maps ARN and
name to the execution, and those two lookups use the maps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from localcloud.engine import _hooks

_ALREADY_EXISTS = "moto.stepfunctions.exceptions:ExecutionAlreadyExists"
_DOES_NOT_EXIST = "moto.stepfunctions.exceptions:ExecutionDoesNotExist"


class IndexedExecutions(list[Any]):
    """A list of executions, as moto expects, that also maps each ARN and each name to its
    execution (the first under a name, as moto's scan finds it). Every change keeps the maps."""

    def __init__(self, executions: Iterable[Any] = ()) -> None:
        super().__init__(executions)
        self._reindex()

    def find(self, execution_arn: str) -> Any | None:
        return self._by_arn.get(execution_arn)

    def named(self, name: str) -> Any | None:
        return self._by_name.get(name)

    def append(self, execution: Any) -> None:
        super().append(execution)
        self._add(execution)

    def _add(self, execution: Any) -> None:
        self._by_arn.setdefault(execution.execution_arn, execution)
        self._by_name.setdefault(execution.name, execution)

    def _reindex(self) -> None:
        self._by_arn: dict[str, Any] = {}
        self._by_name: dict[str, Any] = {}
        for execution in self:
            self._add(execution)


def _reindexed_after(name: str) -> Any:
    change = getattr(list, name)

    def changed(self: IndexedExecutions, *args: Any) -> Any:
        result = change(self, *args)
        self._reindex()
        return result

    return changed


# Anything but append is rare (nothing in moto does it): the maps are rebuilt.
for _change in ("extend", "insert", "remove", "pop", "clear", "__setitem__", "__delitem__", "__iadd__"):
    setattr(IndexedExecutions, _change, _reindexed_after(_change))


def find(executions: list[Any], execution_arn: str) -> Any | None:
    if isinstance(executions, IndexedExecutions):
        return executions.find(execution_arn)
    return next((e for e in executions if e.execution_arn == execution_arn), None)


def _named(executions: list[Any], name: str) -> Any | None:
    if isinstance(executions, IndexedExecutions):
        return executions.named(name)
    return next((e for e in executions if e.name == name), None)


def _indexed(init: Any) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.executions = IndexedExecutions(self.executions)

    return __init__


def _describe_execution(_: Any) -> Any:
    does_not_exist = _hooks.resolve(_DOES_NOT_EXIST)[2]

    def describe_execution(self: Any, execution_arn: str) -> Any:
        self._validate_execution_arn(execution_arn)
        state_machine = self._get_state_machine_for_execution(execution_arn)
        execution = find(state_machine.executions, execution_arn)
        if execution is None:
            raise does_not_exist("Execution Does Not Exist: '" + execution_arn + "'")
        return execution

    return describe_execution


def _name_taken(_: Any) -> Any:
    already_exists = _hooks.resolve(_ALREADY_EXISTS)[2]

    def handle_name_input_idempotency(self: Any, name: str, execution_input: str) -> Any | None:
        # AWS: the same name and input while it runs is the same execution; otherwise the name is taken.
        execution = _named(self.executions, name)
        if execution is None:
            return None
        if execution_input == execution.execution_input and execution.status == "RUNNING":
            return execution
        raise already_exists("Execution Already Exists: '" + execution.execution_arn + "'")

    return handle_name_input_idempotency


def install() -> None:
    _hooks.patch("moto.stepfunctions.models:StateMachineInstance.__init__", _indexed)
    _hooks.patch("moto.stepfunctions.models:StepFunctionBackend.describe_execution", _describe_execution)
    _hooks.patch("moto.stepfunctions.models:StateMachine._handle_name_input_idempotency", _name_taken)
