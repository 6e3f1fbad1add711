"""RedriveExecution for the local cloud, which moto (5.2) does not implement.

As on AWS, a redrive reuses the execution: same ARN, same input, the history goes on (an
`ExecutionRedriven` event, then the new events), `redriveCount` grows, and the states that
succeeded are not run again: the run restarts at the top-level state that did not succeed, with
the input that state had. Differences, documented: a Parallel or Map state is redriven whole
(AWS reruns only its failed branches or iterations, which idempotent tasks make equivalent here),
and variables set by `Assign` before the failure are not restored. An Express execution does not
redrive (ExecutionNotRedrivable), as on AWS. DescribeExecution says whether an execution can be
redriven (`redriveStatus`, and `redriveStatusReason` when it cannot), as AWS does.

`install()` patches moto in this process, so it must run where the local cloud's moto server
runs (LocalCloud.start() or a test fixture); it is idempotent.
"""

from __future__ import annotations

import copy
import datetime
import json
import threading
from typing import Any

from localcloud import pins
from localcloud.sync_execution import is_express

_lock = threading.Lock()
_installed = False
_REDRIVABLE = ("FAILED", "ABORTED", "TIMED_OUT")


def restart_point(definition: dict[str, Any], events: list[dict[str, Any]]) -> tuple[str, Any] | None:
    """(state, its input) where a redrive restarts: the last top-level state entered and not left."""
    top = set(definition.get("States", {}))
    exited: set[int] = set()
    open_runs: dict[str, int] = {}
    entered: list[tuple[int, str, Any]] = []
    for event in events:
        kind = str(event.get("type", ""))
        if kind.endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails") or {}
            if details.get("name") in top:
                open_runs[details["name"]] = event["id"]
                entered.append((event["id"], details["name"], details.get("input")))
        elif kind.endswith("StateExited"):
            name = (event.get("stateExitedEventDetails") or {}).get("name")
            if name in open_runs:
                exited.add(open_runs.pop(name))
    for event_id, name, text in reversed(entered):
        if event_id not in exited:
            return name, json.loads(text) if isinstance(text, str) else text
    return None


Restart = tuple[str, Any]  # the state a redrive restarts at, and its input


def redrivability(execution: Any) -> tuple[str | None, Restart | None]:
    """(why it cannot be redriven, None) or (None, where it restarts). A long history is read
    once for each length it reaches, not for every DescribeExecution of it."""
    status = str(getattr(execution.status, "value", execution.status))
    if is_express(execution.state_machine):
        return "Redrive is not supported for executions of EXPRESS state machines.", None
    if status not in _REDRIVABLE:
        return f"Execution is {status} and cannot be redriven.", None
    worker = execution.exec_worker
    if worker is None or worker.env is None:
        return "Execution has no record of where it stopped.", None
    events = worker.env.event_manager.get_event_history()
    known = getattr(execution, "_localcloud_restart", None)
    if known is None or known[0] != len(events):
        found = restart_point(json.loads(execution.state_machine.definition), events)
        execution._localcloud_restart = known = (len(events), found)
    if known[1] is None:
        return "Execution has no unsuccessful state to redrive.", None
    return None, known[1]


def _describe_with_redrive_status(original_describe: Any) -> Any:
    def describe_execution(response: Any) -> Any:
        result = original_describe(response)
        execution = response.stepfunction_backend.describe_execution(response._get_param("executionArn"))
        if isinstance(result.result, dict):
            if getattr(execution, "redrive_count", 0):
                result.result["redriveCount"] = execution.redrive_count
                result.result["redriveDate"] = execution.redrive_date
            reason, _ = redrivability(execution)
            result.result["redriveStatus"] = "REDRIVABLE" if reason is None else "NOT_REDRIVABLE"
            if reason is not None:
                result.result["redriveStatusReason"] = reason
        return result

    return describe_execution


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        response_cls = pins.resolve("moto.stepfunctions.responses", "StepFunctionResponse")
        action_result = pins.resolve("moto.core.responses", "ActionResult")
        backend_cls = pins.resolve("moto.stepfunctions.parser.models", "StepFunctionsParserBackend")
        worker_cls = pins.resolve("moto.stepfunctions.parser.backend.execution_worker", "ExecutionWorker")
        context_cls = pins.resolve(
            "moto.stepfunctions.parser.asl.eval.event.event_manager", "EventHistoryContext"
        )
        not_redrivable = pins.resolve("moto.stepfunctions.parser.api", "ExecutionNotRedrivable")
        event_types = pins.resolve("moto.stepfunctions.parser.api", "HistoryEventType")
        statuses = pins.resolve("moto.stepfunctions.parser.api", "ExecutionStatus")
        original_describe = response_cls.describe_execution

        class RedriveWorker(worker_cls):  # type: ignore[misc, valid-type]
            """Runs the program from the restart state, writing into the execution's old history."""

            def prepare(self, previous: Any, state_input: Any, redrive_count: int) -> None:
                self._program = self._get_evaluation_entrypoint()
                self.env = self._get_evaluation_environment()
                # The history goes on in the redrive's own event manager, not the previous run's:
                # a run stopped by StopExecution is ABORTED at once but may still be winding down
                # (a Task in flight), and what it records then must not land in the redrive's.
                old, new = previous.event_manager, self.env.event_manager
                with old._mutex:
                    new._history_event_list.extend(old._history_event_list)
                    new._event_id_gen._next_id = old._event_id_gen._next_id
                last = new.get_event_history()[-1]["id"]
                self.env.event_history_context = context_cls(previous_event_id=last)
                self.env.states.reset(state_input)
                self.env.event_manager.add_event(
                    context=self.env.event_history_context,
                    event_type=event_types.ExecutionRedriven,
                    event_details={"executionRedrivenEventDetails": {"redriveCount": redrive_count}},
                )

            def _execution_logic(self) -> None:
                self._program.eval(self.env)
                self._execution_communication.terminated()

        def redrive(backend: Any, execution_arn: str) -> datetime.datetime:
            execution = backend.describe_execution(execution_arn)
            reason, found = redrivability(execution)
            if found is None:
                raise not_redrivable(reason)
            state, state_input = found
            worker, definition = execution.exec_worker, json.loads(execution.state_machine.definition)
            details = copy.copy(worker._evaluation_details)
            details.state_machine_details = copy.copy(details.state_machine_details)
            details.state_machine_details.definition = json.dumps({**definition, "StartAt": state})
            again = RedriveWorker(
                evaluation_details=details,
                exec_comm=execution._get_start_execution_worker_comm(),
                cloud_watch_logging_session=worker._cloud_watch_logging_session,
                activity_store=worker._activity_store,
            )
            count = getattr(execution, "redrive_count", 0) + 1
            again.prepare(worker.env, state_input, count)
            now = datetime.datetime.now(tz=datetime.UTC)
            execution.redrive_count, execution.redrive_date = count, now
            execution.exec_worker = again
            execution.exec_status = statuses.RUNNING
            execution.stop_date = execution.error = execution.cause = execution.output = None
            again.start()
            return now

        def redrive_execution(response: Any) -> Any:
            date = redrive(response.stepfunction_backend, response._get_param("executionArn"))
            return action_result({"redriveDate": date})

        backend_cls.redrive_execution = redrive
        response_cls.redrive_execution = redrive_execution
        response_cls.describe_execution = _describe_with_redrive_status(original_describe)
        _installed = True
