"""Execution time limits on the engine clock: the state machine's TimeoutSeconds and AWS's maximum
execution duration (one year for STANDARD, five minutes for EXPRESS).

moto joins the program thread with a real-time timeout, which a fast clock never reaches, and has
no maximum duration, so an over-long Wait just waits. Here the program is watched in virtual
time, and a Wait that would end past the execution's deadline waits only until the deadline, where
the execution times out, as on AWS.

At the deadline the history ends with ExecutionTimedOut, as on AWS: the states still winding down
(a Map's iterations, a Task's answer) record nothing after it. No event is recorded after an
execution's last event (until a redrive). A Wait inside a Map iteration or a Parallel branch that
reaches the deadline waits for the execution to time out: timing out its own frame only used to
end the iteration as if it had succeeded, and the execution could then succeed.

moto runs each execution's program on a thread of its own, which the execution's thread joins
with the timeout. Here the execution's thread runs the program itself, and one thread watches the
deadlines of all executions: at a deadline it times the execution out and records its end, even
while its program is still waiting for a Task. Handing the program to another thread and waiting
for it to start took a fifth of a millisecond, more than a one-Pass execution's own work. A
StartSyncExecution still runs its program on a thread of its own: its caller answers at the
deadline, not when a Task that outlasts it ends.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localcloud.engine import _hooks
from localcloud.engine.clock import CLOCK, iso_millis
from localcloud.thread_pool import PooledThread

LOG = logging.getLogger(__name__)
_PARSER = "moto.stepfunctions.parser"
MAX_DURATION = {"STANDARD": 365 * 24 * 3600.0, "EXPRESS": 300.0}
_WAIT = f"{_PARSER}.asl.component.state.wait.wait_function"
_EVENTS = f"{_PARSER}.asl.eval.event.event_manager:EventManager"
_POLL_REAL_SECONDS = 0.05
_LAST = ("ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut")
_ENDED = "_localcloud_history_ended"
# on an event history context (a Parallel branch's or a Map iteration's frame) that was aborted:
# nothing of it is recorded any more (aborted_states)
ABORTED = "_localcloud_aborted"

# id(the execution's $$.Execution dict, shared by every frame) -> virtual deadline
_deadlines: dict[int, float] = {}


@dataclass
class _Execution:
    type: str  # the state machine's (moto's worker always says STANDARD)
    # records the execution's end (moto's execution worker communication), once
    terminated: Callable[[], None]
    sync: bool  # a StartSyncExecution, whose caller answers at the deadline


# same key -> what its execution worker told
_executions: dict[int, _Execution] = {}


def _key(env: Any) -> int:
    """The execution's key in _deadlines and _executions, from any of its frames."""
    return id(env.states.context_object.context_object_data["Execution"])


def deadline_of(env: Any) -> float | None:
    return _deadlines.get(_key(env))


def _forget(key: int) -> None:
    """Once the execution's program has ended."""
    _deadlines.pop(key, None)
    _executions.pop(key, None)


def _budget(program: Any, execution: _Execution | None) -> float:
    typ = execution.type if execution else "STANDARD"
    limit = MAX_DURATION.get(typ, MAX_DURATION["STANDARD"])
    timeout = program.timeout_seconds.timeout_seconds if program.timeout_seconds else None
    return min(float(timeout), limit) if timeout else limit


class _Watcher:
    """One thread that times out every execution past its deadline, in engine time: it looks at the
    earliest deadline when it falls due, and at least every _POLL_REAL_SECONDS, since the clock may
    also jump ahead (an instant Wait)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        # id(the program's env) -> (deadline, env, what to do once it has timed out)
        self._watched: dict[int, tuple[float, Any, Callable[[], None]]] = {}
        self._next_look = -math.inf  # the engine time it looks next at the latest
        self._thread: threading.Thread | None = None

    def watch(self, env: Any, deadline: float, then: Callable[[], None]) -> None:
        with self._cond:
            self._watched[id(env)] = (deadline, env, then)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="execution-deadlines", daemon=True)
                self._thread.start()
            elif deadline < self._next_look:  # seldom: deadlines are mostly a year or 5 minutes away
                self._cond.notify()

    def unwatch(self, env: Any) -> None:
        with self._cond:
            self._watched.pop(id(env), None)

    def _run(self) -> None:
        while True:
            with self._cond:
                now = CLOCK.time()
                due = [key for key, (deadline, _, _) in self._watched.items() if deadline <= now]
                expired = [self._watched.pop(key)[1:] for key in due]
                if not expired:
                    earliest = min((deadline for deadline, _, _ in self._watched.values()), default=None)
                    real = _POLL_REAL_SECONDS
                    if earliest is not None:
                        real = min(real, max((earliest - now) / CLOCK.factor, 0.001))
                    self._next_look = now + real * CLOCK.factor
                    self._cond.wait(real)
                    continue
            for env, then in expired:
                if env.is_running():
                    try:
                        _time_out(env)
                        then()
                    except Exception:  # the watcher lives on for the other executions
                        LOG.exception("timing out an execution failed")


_WATCHER = _Watcher()


def _make_program_eval(program_cls: Any) -> Any:
    base_eval = program_cls.__mro__[1].eval  # EvalComponent.eval: runs _eval_body

    def program_eval(self: Any, env: Any) -> None:
        if env.is_frame() and not self.timeout_seconds:
            # a Map iteration or Parallel branch: its execution's watcher already keeps the time
            if not env.is_running():  # stopped (a sibling failed) before it began
                return
            env.next_state_name = self.start_at.start_at_name
            base_eval(self, env)
            return
        key = _key(env)
        execution = _executions.get(key)
        _deadlines[key] = deadline = CLOCK.time() + _budget(self, execution)
        env.next_state_name = self.start_at.start_at_name
        if execution is None or execution.sync:
            _on_its_own_thread(base_eval, self, env, key, deadline)
            return
        # the watcher records the execution's end at the deadline, as the program may still wait
        _WATCHER.watch(env, deadline, execution.terminated)
        try:
            base_eval(self, env)
        finally:
            _WATCHER.unwatch(env)
            _forget(key)

    return program_eval


def _on_its_own_thread(base_eval: Any, program: Any, env: Any, key: int, deadline: float) -> None:
    """The program on a pooled thread, waited for until it ends or the watcher times it out."""
    ended = threading.Event()

    def run() -> None:
        try:
            base_eval(program, env)
        finally:
            ended.set()
            _forget(key)

    _WATCHER.watch(env, deadline, ended.set)
    try:
        PooledThread(target=run, daemon=True).start()
        ended.wait()
    finally:
        _WATCHER.unwatch(env)


def _time_out(env: Any) -> None:
    from moto.stepfunctions.parser.api import HistoryEventType

    # the last event first: iterations and branches that the time-out ends record nothing after it
    env.event_manager.add_event(
        context=env.event_history_context, event_type=HistoryEventType.ExecutionTimedOut
    )
    env.set_timed_out()


def wait_until_deadline(env: Any, seconds: float) -> None:
    """A Wait of `seconds`, cut short at the execution's deadline (which times the execution out)."""
    deadline = deadline_of(env)
    stop = lambda: not env.is_running()  # noqa: E731 - moto pulses program_state_event on stop
    if deadline is not None and CLOCK.time() + seconds >= deadline:
        CLOCK.wait(max(0.0, deadline - CLOCK.time()), env.program_state_event, stop=stop)
        if not env.is_frame():
            if env.is_running():
                env.set_timed_out()
            return
        while env.is_running():  # the execution's watcher times it out, and with it this frame
            env.program_state_event.wait(_POLL_REAL_SECONDS)
        return
    CLOCK.wait(seconds, env.program_state_event, stop=stop)


def recording(manager: Any) -> threading.RLock:
    """The execution's lock that an event is checked and recorded under: held longer, several
    events and marks go in as one (aborted_states)."""
    lock: threading.RLock = manager._mutex
    return lock


def _reentrant(init: Any) -> Any:
    """moto's event manager's own lock, made reentrant: moto's add_event takes it, and a caller
    holding it to record several events as one calls add_event."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._mutex = threading.RLock()

    return __init__


def _nothing_after_the_end(add_event: Any) -> Any:
    from moto.stepfunctions.parser.api import HistoryEventType

    last = frozenset(HistoryEventType[name] for name in _LAST)
    redriven = HistoryEventType.ExecutionRedriven

    def ended(manager: Any, event_type: Any) -> bool:
        """Whether the history has ended (nothing is recorded after its last event but a redrive);
        notes whether this event ends it. Called under the lock the event is recorded under."""
        if manager.__dict__.get(_ENDED) and event_type is not redriven:
            return True
        manager.__dict__[_ENDED] = event_type in last
        return False

    def _add_event(
        self: Any,
        context: Any,
        event_type: Any,
        event_details: Any = None,
        timestamp: Any = None,
        update_source_event_id: bool = True,
    ) -> int:
        if self._cloud_watch_logging_session is not None:  # moto's way also logs the event
            with self._mutex:
                if ended(self, event_type) or context.__dict__.get(ABORTED):
                    return int(context.last_published_event_id or 0)
                return int(
                    add_event(self, context, event_type, event_details, timestamp, update_source_event_id)
                )
        # moto's add_event without CloudWatch logging, in one call instead of four (its helpers
        # took a third of recording an event, and a Map records hundreds)
        with self._mutex:
            if ended(self, event_type) or context.__dict__.get(ABORTED):
                return int(context.last_published_event_id or 0)
            event_id: int = self._event_id_gen.get()
            event = dict(event_details) if event_details else {}
            event["id"] = event_id
            event["previousEventId"] = context.source_event_id
            event["type"] = event_type
            event["timestamp"] = iso_millis(timestamp or self._get_current_timestamp())
            context.last_published_event_id = event_id
            if update_source_event_id:
                context.source_event_id = event_id
            self._history_event_list.append(event)
            return event_id

    return _add_event


def _wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
    wait_until_deadline(env, wait_seconds)


def _seconds_until_timestamp(self: Any, env: Any) -> float:
    # moto truncates to whole seconds (and compares with local time): wait until the timestamp
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException

    self.string.eval(env=env)
    text = env.stack.pop()
    moment = self._from_timestamp_string(text)
    if moment is None:
        raise FailureEventException(self._create_failure_event(env, text))
    return max(0.0, (moment - CLOCK.now(None)).total_seconds())


def _remember_execution(make_env: Any, sync_worker: type) -> Any:
    def get_evaluation_environment(self: Any) -> Any:
        env = make_env(self)
        communication = self._execution_communication
        execution = getattr(communication, "execution", None)
        typ = getattr(getattr(execution, "state_machine", None), "type", None)
        # moto's worker calls it when the program ends: the same once-only call as the watcher's
        communication.terminated = _once(communication.terminated)
        _executions[_key(env)] = _Execution(
            str(typ or "STANDARD"), communication.terminated, isinstance(self, sync_worker)
        )
        return env

    return get_evaluation_environment


def _once(terminated: Callable[[], None]) -> Callable[[], None]:
    """The execution's end recorded once: by the watcher at the deadline, or when the program ends
    (moto's worker records it then, and would otherwise move the stop date)."""
    lock = threading.Lock()
    done = False

    def terminated_once() -> None:
        nonlocal done
        with lock:
            if not done:
                done = True
                terminated()

    return terminated_once


def install() -> None:
    _, _, program_cls = _hooks.resolve(f"{_PARSER}.asl.component.program.program:Program")
    _hooks.resolve(f"{_PARSER}.asl.eval.environment:Environment.set_timed_out")
    _hooks.patch(
        f"{_PARSER}.asl.component.program.program:Program.eval", lambda _o: _make_program_eval(program_cls)
    )
    _hooks.patch(
        f"{_PARSER}.asl.component.state.wait.wait_function.wait_function:WaitFunction._wait_interval",
        lambda _orig: _wait_interval,
    )
    _, _, sync_worker = _hooks.resolve(f"{_PARSER}.backend.execution_worker:SyncExecutionWorker")
    _hooks.patch(
        f"{_PARSER}.backend.execution_worker:ExecutionWorker._get_evaluation_environment",
        lambda make_env: _remember_execution(make_env, sync_worker),
    )
    _hooks.patch(f"{_EVENTS}.__init__", _reentrant)
    _hooks.patch(f"{_EVENTS}.add_event", _nothing_after_the_end)
    _hooks.resolve(f"{_WAIT}.timestamp:Timestamp._from_timestamp_string")
    _hooks.patch(f"{_WAIT}.timestamp:Timestamp._get_wait_seconds", lambda _orig: _seconds_until_timestamp)
