"""Engine threads reused instead of started for every use.

moto starts a thread for each execution, each Task attempt, each Parallel branch and each Map
worker; here each is a PooledThread (localcloud.thread_pool), run by an idle worker. moto also
keeps every thread it started in a list it never reads (`TMP_THREADS`), which grew for as long as
the server ran: here it keeps none.

A Task, Parallel or Map attempt runs on a thread of its own only so that its caller can stop
waiting at the state's TimeoutSeconds. With no TimeoutSeconds (moto's default, 99999999 s, longer
than any execution may run) the caller would only wait for it to end, so it runs in the caller's
thread: the same steps, without a hand-over to another thread and back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks
from localcloud.thread_pool import HandshakeThread, PooledThread

_PARSER = "moto.stepfunctions.parser"

# modules that do `threading.Thread(...)` / `Thread(...)` for engine work
_THREADING_USERS = (
    "asl.component.program.program",
    "asl.component.state.exec.state_map.iteration.inline_iteration_component",
    "asl.component.state.exec.state_task.service.state_task_service_callback",
)
_BRANCHES = "asl.component.state.exec.state_parallel.branch_worker"  # branches begin together
_ATTEMPTS = "asl.component.state.exec.execute_state"  # a Task, Parallel or Map attempt
_WORKER = "backend.execution_worker"  # an execution
_TIMEOUT_SECONDS = f"{_PARSER}.asl.component.common.timeouts.timeout:TimeoutSeconds"
_TMP_THREADS_USERS = (
    *_THREADING_USERS,
    _ATTEMPTS,
    _WORKER,
    _BRANCHES,
    "asl.component.test_state.program.test_state_program",
)


_unbounded = threading.local()  # set while an attempt with no TimeoutSeconds is being started


class AttemptThread(PooledThread):
    """An attempt's thread: a pooled one, or the caller's own when the attempt has no timeout."""

    def start(self) -> None:
        if not getattr(_unbounded, "next", False):
            super().start()
            return
        _unbounded.next = False  # for this attempt only: the states inside it decide for themselves
        self._started = True
        self._run_here(threading.current_thread())  # as a pooled worker runs it, in this thread


def _in_caller_when_unbounded(evaluate: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    timeout_seconds = _hooks.resolve(_TIMEOUT_SECONDS)[2]
    unbounded = timeout_seconds.DEFAULT_TIMEOUT_SECONDS

    def _evaluate_with_timeout(self: Any, env: Any) -> None:
        timeout = self.timeout
        if type(timeout) is not timeout_seconds or timeout.timeout_seconds != unbounded:
            evaluate(self, env)
            return
        _unbounded.next = True
        try:
            evaluate(self, env)
        finally:
            _unbounded.next = False

    return _evaluate_with_timeout


class _Forget(list[Any]):
    """A list that keeps nothing appended to it."""

    def append(self, _item: Any) -> None:
        pass


def install() -> None:
    shim = _hooks.module_with(threading, Thread=PooledThread)
    for module in _THREADING_USERS:
        _hooks.patch(f"{_PARSER}.{module}:threading", lambda _orig: shim)
    branches = _hooks.module_with(threading, Thread=HandshakeThread)
    _hooks.patch(f"{_PARSER}.{_BRANCHES}:threading", lambda _orig: branches)
    _hooks.resolve(f"{_TIMEOUT_SECONDS}.DEFAULT_TIMEOUT_SECONDS")
    _hooks.patch(f"{_PARSER}.{_ATTEMPTS}:Thread", lambda _orig: AttemptThread)
    _hooks.patch(f"{_PARSER}.{_WORKER}:Thread", lambda _orig: PooledThread)
    _hooks.patch(f"{_PARSER}.{_ATTEMPTS}:ExecutionState._evaluate_with_timeout", _in_caller_when_unbounded)
    forget = _Forget()
    for module in _TMP_THREADS_USERS:
        _hooks.patch(f"{_PARSER}.{module}:TMP_THREADS", lambda _orig: forget)
