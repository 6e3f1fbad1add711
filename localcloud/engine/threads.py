"""Engine threads reused instead of started for every use.

moto starts a thread for each execution, each Task attempt, each Parallel branch and each Map
worker; here each is a PooledThread (localcloud.thread_pool), run by an idle worker. moto also
keeps every thread it started in a list it never reads (`TMP_THREADS`), which grew for as long as
the server ran: here it keeps none.

Two kinds of work run in the thread that starts them instead, the same steps without a hand-over
to another thread and back:
- A Task, Parallel or Map attempt with no TimeoutSeconds (moto's default, 99999999 s, longer than
  any execution may run). Its thread served only to let the caller stop waiting at the timeout.
- The iterations of an inline Map and the branches of a Parallel made only of states that never
  wait (Pass, Choice, Succeed, Fail, and Parallel or Map states of those without Retry): one after
  another, in order. On threads of their own they could only take turns under the GIL, paying for
  every switch, and their events interleaved at random; on AWS the order is unspecified.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from localcloud.engine import _hooks
from localcloud.thread_pool import HandshakeThread, PooledThread

_PARSER = "moto.stepfunctions.parser"

# modules that do `threading.Thread(...)` / `Thread(...)` for engine work
_THREADING_USERS = (
    "asl.component.program.program",
    "asl.component.state.exec.state_task.service.state_task_service_callback",
)
_BRANCHES = "asl.component.state.exec.state_parallel.branch_worker"  # branches begin together
_MAP_WORKERS = "asl.component.state.exec.state_map.iteration.inline_iteration_component"
_ATTEMPTS = "asl.component.state.exec.execute_state"  # a Task, Parallel or Map attempt
_WORKER = "backend.execution_worker"  # an execution
_TIMEOUT_SECONDS = f"{_PARSER}.asl.component.common.timeouts.timeout:TimeoutSeconds"
_TMP_THREADS_USERS = (
    *_THREADING_USERS,
    _MAP_WORKERS,
    _ATTEMPTS,
    _WORKER,
    _BRANCHES,
    "asl.component.test_state.program.test_state_program",
)


_here = threading.local()  # set while a start that is to run in the starting thread is on its way


@contextmanager
def _next_start_here() -> Iterator[None]:
    _here.next = True
    try:
        yield
    finally:
        _here.next = False


class _RunsHereWhenAsked:
    """A pooled thread whose start() runs the job in the starting thread under _next_start_here()."""

    def start(self) -> None:
        if not getattr(_here, "next", False):
            super().start()  # type: ignore[misc]
            return
        _here.next = False  # for this start only: the work inside decides for itself
        self._started = True
        self._run_here(threading.current_thread())  # type: ignore[attr-defined]


class CallerThread(_RunsHereWhenAsked, PooledThread):
    """Task, Parallel and Map attempts, and Map workers."""


class BranchThread(_RunsHereWhenAsked, HandshakeThread):
    """Parallel branches."""


def _in_caller_when_unbounded(evaluate: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    timeout_seconds = _hooks.resolve(_TIMEOUT_SECONDS)[2]
    unbounded = timeout_seconds.DEFAULT_TIMEOUT_SECONDS

    def _evaluate_with_timeout(self: Any, env: Any) -> None:
        timeout = self.timeout
        if type(timeout) is not timeout_seconds or timeout.timeout_seconds != unbounded:
            evaluate(self, env)
            return
        with _next_start_here():
            evaluate(self, env)

    return _evaluate_with_timeout


def _in_caller_when_it_never_waits(never_waits: Callable[[Any], bool]) -> Callable[..., Any]:
    """Wraps a start (a Map worker's launch, a branch's start) to run it in the caller's thread
    when `never_waits(self)`. For a Map, the first worker then takes every item in turn and the
    others find none left."""

    def wrap(start: Callable[..., Any]) -> Callable[..., Any]:
        def start_in_caller_when_it_never_waits(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not never_waits(self):
                return start(self, *args, **kwargs)
            with _next_start_here():
                return start(self, *args, **kwargs)

        return start_in_caller_when_it_never_waits

    return wrap


def _branch_never_waits(branch_worker: Any) -> bool:
    return _never_waits(branch_worker._program.states)


_NEVER_WAITS = "_localcloud_never_waits"


def _never_waits(states: Any) -> bool:
    """Whether a branch's or a Map iteration's States are all states that never wait: no Task, Wait
    or distributed Map, and no Retry (its backoff waits). Kept on the parsed States, which every
    execution of a parsed definition reuses."""
    known = states.__dict__.get(_NEVER_WAITS)
    if known is None:
        try:
            known = all(_state_never_waits(state) for state in states.states.values())
        except AttributeError:  # a moto that names its parsed states' parts otherwise: threads, as moto
            known = False
        setattr(states, _NEVER_WAITS, known)
    return known


def _state_never_waits(state: Any) -> bool:
    from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel import StateParallel
    from moto.stepfunctions.parser.asl.component.state.fail.state_fail import StateFail
    from moto.stepfunctions.parser.asl.component.state.state_pass.state_pass import StatePass
    from moto.stepfunctions.parser.asl.component.state.state_succeed.state_succeed import StateSucceed

    if isinstance(state, StatePass | StateChoice | StateSucceed | StateFail):
        return True
    if isinstance(state, StateParallel):
        return state.retry is None and all(_never_waits(branch.states) for branch in state.branches.programs)
    if isinstance(state, StateMap):
        return (
            state.retry is None
            and state.item_reader is None
            and state.result_writer is None
            and _inline_map_never_waits(state.iteration_component)
        )
    return False


def _inline_map_never_waits(iteration: Any) -> bool:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent,
    )

    return not isinstance(iteration, DistributedIterationComponent) and _never_waits(iteration._states)


class _Forget(list[Any]):
    """A list that keeps nothing appended to it."""

    def append(self, _item: Any) -> None:
        pass


def install() -> None:
    shim = _hooks.module_with(threading, Thread=PooledThread)
    for module in _THREADING_USERS:
        _hooks.patch(f"{_PARSER}.{module}:threading", lambda _orig: shim)
    map_workers = _hooks.module_with(threading, Thread=CallerThread)
    _hooks.patch(f"{_PARSER}.{_MAP_WORKERS}:threading", lambda _orig: map_workers)
    branches = _hooks.module_with(threading, Thread=BranchThread)
    _hooks.patch(f"{_PARSER}.{_BRANCHES}:threading", lambda _orig: branches)
    _hooks.resolve(f"{_TIMEOUT_SECONDS}.DEFAULT_TIMEOUT_SECONDS")
    _hooks.patch(f"{_PARSER}.{_ATTEMPTS}:Thread", lambda _orig: CallerThread)
    _hooks.patch(
        f"{_PARSER}.{_MAP_WORKERS}:InlineIterationComponent._launch_worker",
        _in_caller_when_it_never_waits(_inline_map_never_waits),
    )
    _hooks.patch(
        f"{_PARSER}.{_BRANCHES}:BranchWorker.start", _in_caller_when_it_never_waits(_branch_never_waits)
    )
    _hooks.patch(f"{_PARSER}.{_WORKER}:Thread", lambda _orig: PooledThread)
    _hooks.patch(f"{_PARSER}.{_ATTEMPTS}:ExecutionState._evaluate_with_timeout", _in_caller_when_unbounded)
    forget = _Forget()
    for module in _TMP_THREADS_USERS:
        _hooks.patch(f"{_PARSER}.{module}:TMP_THREADS", lambda _orig: forget)
