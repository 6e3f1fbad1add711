"""DeleteStateMachine as on AWS: a Standard machine with executions running is DELETING until they
have ended, and each ends at its next state transition, failed.

The API reference: "It sets the state machine's status to DELETING and begins the deletion
process. A state machine is deleted only when all its executions are completed. On the next state
transition, the state machine's executions are terminated." AWS's knowledge center ("Why is my Step
Functions state machine stuck in the DELETING status?") gives how they end: "executions fail with
the following error: {"Type": "ExecutionFailed", "ExecutionFailedEventDetails": {"Error":
"States.Runtime", "Cause": "State machine testing-delete has been deleted."}}", and that a machine
stays DELETING while an execution is in a Wait state or a Task waits for its answer; ListExecutions
and StopExecution still serve it meanwhile. StartExecution of a DELETING machine is refused with
StateMachineDeleting, one of that action's errors in the API reference.

moto removed the machine at once (DescribeStateMachine: StateMachineDoesNotExist) and let its
executions run on to their end, Tasks and all, out of sight: DescribeExecution no longer found
them. An Express machine is still removed at once, its executions left to run: for EXPRESS "the
deletion happens eventually (usually in less than a minute). Running executions may emit logs
after DeleteStateMachine API is called."
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks

_MODELS = "moto.stepfunctions.models"
_PARSER = "moto.stepfunctions.parser"
_RESPONSE = "moto.stepfunctions.responses:StepFunctionResponse"
_REFUSED = "moto.core.exceptions:JsonRESTError"  # a 400 with AWS's error code and message
_FAILED = "_localcloud_machine_deleted"  # on the environment of an execution failed by the deletion
# ARN -> the Standard machine being deleted, while an execution of it runs: looked up at each state
# transition only while one is; a machine made since with its name (after a reset) is another
_deleting: dict[str, Any] = {}
_lock = threading.Lock()  # its writes, and a machine's removal: two last executions may end at once


def _machine_arn(arn: str) -> str:
    """The machine's ARN from a version's or an alias's (arn:...:stateMachine:<name>:<qualifier>),
    which DeleteStateMachine deletes with it."""
    return ":".join(arn.split(":")[:7])


def _being_deleted(backend: Any, arn: str) -> Any | None:
    machine = _deleting.get(_machine_arn(arn))
    return machine if any(m is machine for m in backend.state_machines) else None


def _running(machine: Any) -> list[Any]:
    return [e for e in machine.executions if getattr(e.exec_status, "value", None) == "RUNNING"]


def _remove(machine: Any) -> None:
    arn = machine.arn
    with _lock:
        machines = machine.backend.state_machines
        machines[:] = [m for m in machines if m is not machine]
        if _deleting.get(arn) is machine:
            del _deleting[arn]


def _deleting_while_running(delete: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    def delete_state_machine(self: Any, arn: str) -> None:
        machine = next((m for m in self.state_machines if m.arn == arn), None)
        if machine is None or machine.type == "EXPRESS" or not _running(machine):
            delete(self, arn)
            return
        with _lock:
            _deleting[machine.arn] = machine

    return delete_state_machine


def _status_deleting(describe: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def _describe_state_machine(self: Any, state_machine_arn: str) -> Any:
        answer = describe(self, state_machine_arn)
        if _deleting and _being_deleted(self.stepfunction_backend, state_machine_arn) is not None:
            answer.result["status"] = "DELETING"
        return answer

    return _describe_state_machine


def _refused_while_deleting(start: Callable[..., Any]) -> Callable[..., Any]:
    refused = _hooks.resolve(_REFUSED)[2]

    def start_execution(self: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
        if _deleting and _being_deleted(self, state_machine_arn) is not None:
            # the error AWS names; its message here is the local cloud's own
            raise refused("StateMachineDeleting", f"State Machine Is Being Deleted: '{state_machine_arn}'")
        return start(self, state_machine_arn, *args, **kwargs)

    return start_execution


def _doomed_execution(env: Any) -> tuple[Any, Any] | None:
    """(the machine being deleted, the execution) when `env` is a frame of a running execution of it."""
    context = env.states.context_object.context_object_data
    machine = _deleting.get(_machine_arn(context["StateMachine"]["Id"]))
    if machine is None:
        return None
    mine = context["Execution"]  # one dict for all the frames of an execution, none other's
    for execution in machine.executions:
        root = getattr(execution.exec_worker, "env", None)
        if root is not None and root.states.context_object.context_object_data["Execution"] is mine:
            return machine, execution
    return None


def _fail_deleted(machine: Any, execution: Any) -> None:
    """End the execution as AWS ends it: ExecutionFailed first, so that what its states still running
    do after it is not recorded (see timeouts), then the failure its status and error come from."""
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType

    root = execution.exec_worker.env
    details = ExecutionFailedEventDetails(
        error="States.Runtime", cause=f"State machine {machine.name} has been deleted."
    )
    with root._state_mutex:
        if not root.is_running():
            return
        root.event_manager.add_event(
            context=root.event_history_context,
            event_type=HistoryEventType.ExecutionFailed,
            event_details={"executionFailedEventDetails": details},
        )
        root.set_error(details)
        root.__dict__[_FAILED] = True


def _first_failure_kept(set_error: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """The states that the failure cuts short (a Map's iterations) fail the program again as they
    wind down: the execution's error and cause stay the deletion's."""

    def _set_error(self: Any, error: Any) -> None:
        if not self.__dict__.get(_FAILED):
            set_error(self, error)

    return _set_error


def _terminated_on_transition(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Every state's entry, at any depth (aborted_states copies it onto the Task, Map, Parallel and
    Wait classes: installed before it)."""

    def _eval_body(self: Any, env: Any) -> None:
        if _deleting and (doomed := _doomed_execution(env)) is not None:
            _fail_deleted(*doomed)
            return
        eval_body(self, env)

    return _eval_body


def _deleted_after_the_last(terminated: Callable[[Any], None]) -> Callable[[Any], None]:
    def terminated_and_deleted(self: Any) -> None:
        terminated(self)
        machine = _deleting.get(_machine_arn(self.execution.state_machine_arn))
        mine = any(e is self.execution for e in machine.executions) if machine is not None else False
        if mine and not _running(machine):
            _remove(machine)

    return terminated_and_deleted


def install() -> None:
    _hooks.resolve(f"{_PARSER}.api:ExecutionFailedEventDetails")
    _hooks.patch(f"{_MODELS}:StepFunctionBackend.delete_state_machine", _deleting_while_running)
    _hooks.patch(f"{_RESPONSE}._describe_state_machine", _status_deleting)
    _hooks.patch(f"{_PARSER}.models:StepFunctionsParserBackend.start_execution", _refused_while_deleting)
    _hooks.patch(
        f"{_PARSER}.asl.component.state.state:CommonStateField._eval_body", _terminated_on_transition
    )
    _hooks.patch(
        f"{_PARSER}.backend.execution:BaseExecutionWorkerCommunication.terminated", _deleted_after_the_last
    )
    _hooks.patch(f"{_PARSER}.asl.eval.environment:Environment.set_error", _first_failure_kept)
