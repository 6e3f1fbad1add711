"""The states a failing Parallel branch or Map iteration cuts short are recorded as aborted, as on
AWS, and nothing of them follows.

AWS documents that when a Parallel branch fails (an unhandled error or a Fail state) "the entire
Parallel state is considered to have failed and all its branches are stopped", and that in Inline
mode any iteration that fails fails the Map state, which stops all its iterations; a Lambda
function a stopped branch invoked runs on ("Running Lambda functions cannot be stopped"). AWS's
history shows `TaskStateAborted` after the `TaskFailed` of a Task that fails, uncaught, inside a
Parallel branch, and has `<Type>StateAborted` and `MapIterationAborted` events for the states and
iterations so stopped.

moto recorded no such event. It marked the other branches of a failed Parallel stopped and let
their Tasks in flight go on: a Task's result (`LambdaFunctionSucceeded`...) was recorded when its
function answered, after `ParallelStateFailed`, while the execution had gone on to its Catch. It did
not stop the other iterations of a failed Map at all: their results and `MapIterationSucceeded`
came after `MapStateFailed`. Here, when a Parallel or an Inline Map fails, each branch or iteration
still running is aborted at that moment: the states it is in are recorded aborted (innermost
first; a Pass or Choice has no such event), a Map iteration with `MapIterationAborted`, then it is
stopped, and whatever it would record afterwards is dropped. Its function's answer is discarded.
A StopExecution aborts no state this way: AWS's history of a stopped execution ends with
`ExecutionAborted` alone (see `stop_execution`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks
from localcloud.engine.clock import CLOCK
from localcloud.engine.timeouts import ABORTED, recording

_PARSER = "moto.stepfunctions.parser"
_EXEC = f"{_PARSER}.asl.component.state.exec"
_ITERATION = f"{_EXEC}.state_map.iteration"
_ENV = f"{_PARSER}.asl.eval.environment:Environment"
_BRANCH = "_localcloud_parallel_branch"  # on a Parallel branch's frame
_IN_STATE = "_localcloud_in_state"  # on a frame: the state it is evaluating
_MAP_ITEM = "_localcloud_map_item"  # on a Map iteration's frame: its Map's name and its index


def _aborted_type(state: Any) -> Any | None:
    """The `<Type>StateAborted` event type of a state (None for a Pass, Choice, Succeed or Fail)."""
    from moto.stepfunctions.parser.api import HistoryEventType

    aborted = str(state.state_entered_event_type.value).replace("Entered", "Aborted")
    return HistoryEventType[aborted] if aborted in HistoryEventType.__members__ else None


def _abort_frame(frame: Any) -> None:
    if not frame.is_running():  # it ended (the failing branch, a finished iteration)
        return
    for inner in list(frame._frames):  # the states inside are aborted before the one holding them
        _abort_frame(inner)
    from moto.stepfunctions.parser.api import HistoryEventType

    state = frame.__dict__.get(_IN_STATE)
    aborted = _aborted_type(state) if state is not None else None
    if aborted is not None:
        frame.event_manager.add_event(context=frame.event_history_context, event_type=aborted)
    item = frame.__dict__.get(_MAP_ITEM)
    if item is not None:
        frame.event_manager.add_event(
            context=frame.event_history_context,
            event_type=HistoryEventType.MapIterationAborted,
            event_details={"mapIterationAbortedEventDetails": item},
            update_source_event_id=False,
        )
    frame.event_history_context.__dict__[ABORTED] = True


def abort(frame: Any) -> None:
    """Abort a branch's or an iteration's frame: record the states it is in as aborted, stop it,
    and drop what it records from then on."""
    # under the lock every event of the execution is checked and recorded under (timeouts, which
    # drops an aborted frame's): a frame's event lands before its abort or not at all
    with recording(frame.event_manager):
        _abort_frame(frame)
        frame.set_stop(stop_date=CLOCK.now(_dt.UTC), cause=None, error=None)


def _aborted_inside(open_frame: Callable[..., Any]) -> Callable[..., Any]:
    """A frame opened inside an aborted one records nothing either (a Map worker of an aborted
    branch taking its next item)."""

    def open_frame_(self: Any, event_history_context: Any = None) -> Any:
        frame = open_frame(self, event_history_context)  # in self._frames from now on
        # checked under the abort's lock, after the frame is listed: either the abort lists it,
        # or it sees the abort's mark (open_frame takes the parent's state lock, which a stop
        # holds while recording: taken inside this lock, the two could wait on each other)
        with recording(self.event_manager):
            if self.event_history_context.__dict__.get(ABORTED):
                frame.event_history_context.__dict__[ABORTED] = True
        return frame

    return open_frame_


def _in_state(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _eval_body(self: Any, env: Any) -> None:
        env.__dict__[_IN_STATE] = self
        try:
            eval_body(self, env)
        finally:
            env.__dict__[_IN_STATE] = None

    return _eval_body


def _map_item(eval_job: Callable[[Any, Any, Any], None]) -> Callable[[Any, Any, Any], None]:
    def _eval_job(self: Any, env: Any, job: Any) -> None:
        env.__dict__[_MAP_ITEM] = {"name": self._work_name, "index": job.job_index}
        eval_job(self, env, job)

    return _eval_job


def _mark_branch(init: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: Any, branch_worker_comm: Any, program: Any, env: Any) -> None:
        init(self, branch_worker_comm, program, env)
        setattr(env, _BRANCH, True)

    return __init__


def _record_abort(handle_uncaught: Callable[[Any, Any, Any], None]) -> Callable[[Any, Any, Any], None]:
    """The state that fails its branch, uncaught, is recorded aborted after its failure."""

    def _handle_uncaught(self: Any, env: Any, failure_event: Any) -> None:
        if getattr(env, _BRANCH, False):
            aborted = _aborted_type(self)
            if aborted is not None:
                env.event_manager.add_event(context=env.event_history_context, event_type=aborted)
        handle_uncaught(self, env, failure_event)

    return _handle_uncaught


def _aborts_branch(stop: Callable[..., None]) -> Callable[..., None]:
    """moto stops every branch of a Parallel that failed: the ones still running are aborted."""

    def stop_(self: Any, stop_date: Any, cause: str | None, error: str | None) -> None:
        abort(self.env)
        stop(self, stop_date, cause, error)

    return stop_


def _aborts_iterations(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """An Inline Map whose iteration failed aborts the iterations still running (moto left them
    running); its frames are its workers', each holding its iteration's."""

    def _eval_body(self: Any, env: Any) -> None:
        try:
            eval_body(self, env)
        except Exception:
            for worker in list(env._frames):
                abort(worker)
            raise

    return _eval_body


def install() -> None:
    for name in ("TaskStateAborted", "MapIterationAborted"):
        _hooks.resolve(f"{_PARSER}.api:HistoryEventType.{name}")
    _hooks.resolve(f"{_ENV}.set_stop")
    _hooks.patch(f"{_ENV}.open_frame", _aborted_inside)
    _hooks.patch(f"{_ENV}.open_inner_frame", _aborted_inside)
    # only the states that have an aborted event (a Pass or Choice has none, and a Map's items are
    # mostly those: marking every state cost map100 a twentieth); set on these classes, the
    # wrapper shadows CommonStateField's _eval_body, so it is patched after error_texts wraps that
    for abortable in (
        f"{_EXEC}.execute_state:ExecutionState",
        f"{_PARSER}.asl.component.state.wait.state_wait:StateWait",
    ):
        _hooks.patch(f"{abortable}._eval_body", _in_state)
    _hooks.patch(f"{_ITERATION}.iteration_worker:IterationWorker._eval_job", _map_item)
    _hooks.patch(f"{_EXEC}.state_parallel.branch_worker:BranchWorker.__init__", _mark_branch)
    _hooks.patch(f"{_EXEC}.execute_state:ExecutionState._handle_uncaught", _record_abort)
    _hooks.patch(f"{_EXEC}.state_parallel.branch_worker:BranchWorker.stop", _aborts_branch)
    _hooks.patch(
        f"{_ITERATION}.inline_iteration_component:InlineIterationComponent._eval_body", _aborts_iterations
    )
