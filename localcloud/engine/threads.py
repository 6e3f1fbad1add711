"""Engine threads reused instead of started for every use.

moto starts a thread for each execution, each Task attempt, each Parallel branch and each Map
worker; here each is a PooledThread (localcloud.thread_pool), run by an idle worker. moto also
keeps every thread it started in a list it never reads (`TMP_THREADS`), which grew for as long as
the server ran: here it keeps none.
"""

from __future__ import annotations

import threading
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
_THREAD_USERS = ("asl.component.state.exec.execute_state", "backend.execution_worker")
_TMP_THREADS_USERS = (
    *_THREADING_USERS,
    *_THREAD_USERS,
    _BRANCHES,
    "asl.component.test_state.program.test_state_program",
)


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
    for module in _THREAD_USERS:
        _hooks.patch(f"{_PARSER}.{module}:Thread", lambda _orig: PooledThread)
    forget = _Forget()
    for module in _TMP_THREADS_USERS:
        _hooks.patch(f"{_PARSER}.{module}:TMP_THREADS", lambda _orig: forget)
