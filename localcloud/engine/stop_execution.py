"""StopExecution as on AWS: the execution is ABORTED when StopExecution answers, and no Retry or
Catch fires for the states it stops.

moto's StopExecution only marks the program stopped. The execution's status, stop date and
`ExecutionAborted` event waited for the program's thread to notice, after the Tasks in flight had
answered (0.2-0.8 s for a Lambda): DescribeExecution said RUNNING meanwhile, StopExecution answered
without a stopDate, and a stop that came before the first state recorded no `ExecutionAborted` at
all. Here the stop records `ExecutionAborted` and the ABORTED status at once,
stamped with the date StopExecution returns; what the program records after it is dropped (see
`timeouts`: nothing is recorded after an execution's last event). The error and cause the caller
gave go into `ExecutionAborted`'s details, as on AWS: moto's StopExecution read neither and
stopped every execution with error "" and cause "", so the reason for a stop was lost.

A Map state whose execution was stopped handled its aborted iterations as a failure of its own:
moto's iteration worker puts the stop's error (the text "" from StopExecution, None for a Parallel
branch stopped by a sibling's failure) where a failure's details (a dict) go, so the Map's failure
handling raised AttributeError('str' object has no attribute 'get'), which the program turned into
`States.Runtime` over the stop: the execution ended FAILED, without `ExecutionAborted`. Here an
attempt that fails in a stopped frame ends the state without a failure: no Retry, no Catch.

StopExecution "is not supported by EXPRESS state machines" (the API reference): AWS answers an
Express execution's ARN with 400 InvalidArn, "Invalid Arn: 'Resource type not valid in this
context: express'" (as recorded on AWS), and the execution runs on. moto stopped it.
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks
from localcloud.engine.clock import CLOCK

_PARSER = "moto.stepfunctions.parser"
_ATTEMPT = f"{_PARSER}.asl.component.state.exec.execute_state:ExecutionState._evaluate_with_timeout"
_STOP = f"{_PARSER}.backend.execution:Execution.stop"
_STOPPED = f"{_PARSER}.asl.eval.program_state:ProgramStopped"
_START_WAIT_SECONDS = 5.0  # how long a stop waits for an execution just started to begin its program
_RESPONSE = "moto.stepfunctions.responses:StepFunctionResponse.stop_execution"
_REFUSED = "moto.core.exceptions:JsonRESTError"  # a 400 with AWS's error code and message
# The error and cause of the StopExecution request this thread serves: moto's backend passes
# neither on to the execution it stops.
_requested = threading.local()


def _quiet_when_stopped(evaluate: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    stopped = _hooks.resolve(_STOPPED)[2]

    def _evaluate_with_timeout(self: Any, env: Any) -> None:
        try:
            evaluate(self, env)
        except Exception:
            # the attempt failed because its frame was stopped (a Map's aborted iterations), or
            # during the stop: on AWS a stopped execution fires no Retry or Catch. The state then
            # ends without output, as moto's states do when their frame is no longer running.
            if not isinstance(env.program_state(), stopped):
                raise

    return _evaluate_with_timeout


def _started_env(execution: Any) -> Any | None:
    """The execution's environment once its program has begun (StartExecution answers before its
    thread has made it); None if there is none."""
    deadline = time.monotonic() + _START_WAIT_SECONDS
    while True:
        worker = execution.exec_worker
        env = getattr(worker, "env", None)
        if (env is not None and env._program_state is not None) or time.monotonic() > deadline:
            return env
        time.sleep(0.001)


def _aborted_now(_stop: Any) -> Any:
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext

    def stop(self: Any, stop_date: _dt.datetime, error: str | None, cause: str | None) -> None:
        error = error or getattr(_requested, "error", None)
        cause = cause or getattr(_requested, "cause", None)
        env = _started_env(self)
        if env is None:
            return
        with env._state_mutex:  # reentrant; the program's own set_error waits until this is done
            if not env.is_running():  # it ended first: nothing to stop, as moto
                return
            moment = CLOCK.now(_dt.UTC)
            moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # as the history's
            env.set_stop(stop_date=moment, cause=cause, error=error)
            details = (("error", error), ("cause", cause))
            # moto's program records it when it notices the stop, after event 0 (ExecutionStarted)
            env.event_manager.add_event(
                context=EventHistoryContext.of_program_start(),
                event_type=HistoryEventType.ExecutionAborted,
                # AWS's details are {} for a stop without error or cause (moto's program wrote "")
                event_details={"executionAbortedEventDetails": {k: v for k, v in details if v}},
                timestamp=moment,
            )
            # the status, once: the program's end records it again only when the stop did not
            self.exec_worker._execution_communication.terminated()
            self.stop_date = moment

    return stop


def _is_express(execution_arn: str | None) -> bool:
    """arn:aws:states:<region>:<account>:express:<machine>:<name>:<id>"""
    return (execution_arn or "").split(":")[5:6] == ["express"]


def _with_error_and_cause(respond: Callable[[Any], Any]) -> Callable[[Any], Any]:
    refused = _hooks.resolve(_REFUSED)[2]

    def stop_execution(self: Any) -> Any:
        if _is_express(self._get_param("executionArn")):
            raise refused("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: express'")
        _requested.error, _requested.cause = self._get_param("error"), self._get_param("cause")
        try:
            return respond(self)
        finally:
            _requested.error = _requested.cause = None

    return stop_execution


def install() -> None:
    _hooks.resolve(f"{_PARSER}.api:HistoryEventType.ExecutionAborted")
    _hooks.resolve(f"{_PARSER}.asl.eval.event.event_manager:EventHistoryContext.of_program_start")
    _hooks.patch(_ATTEMPT, _quiet_when_stopped)
    _hooks.patch(_STOP, _aborted_now)
    _hooks.patch(_RESPONSE, _with_error_and_cause)
