"""A state whose failure ends its Parallel branch is recorded as aborted, as on AWS.

AWS's history shows `TaskStateAborted` after the `TaskFailed` of a Task that fails, uncaught,
inside a Parallel branch (the branch, and with it the Parallel state, then fails); moto records
no such event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks

_EXEC = "moto.stepfunctions.parser.asl.component.state.exec"
_MARK = "_localcloud_parallel_branch"


def _mark_branch(init: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: Any, branch_worker_comm: Any, program: Any, env: Any) -> None:
        init(self, branch_worker_comm, program, env)
        setattr(env, _MARK, True)

    return __init__


def _record_abort(handle_uncaught: Callable[[Any, Any, Any], None]) -> Callable[[Any, Any, Any], None]:
    def _handle_uncaught(self: Any, env: Any, failure_event: Any) -> None:
        if getattr(env, _MARK, False):
            from moto.stepfunctions.parser.api import HistoryEventType

            aborted = str(self.state_entered_event_type.value).replace("Entered", "Aborted")
            if aborted in HistoryEventType.__members__:
                env.event_manager.add_event(
                    context=env.event_history_context, event_type=HistoryEventType[aborted]
                )
        handle_uncaught(self, env, failure_event)

    return _handle_uncaught


def install() -> None:
    _hooks.resolve("moto.stepfunctions.parser.api:HistoryEventType.TaskStateAborted")
    _hooks.patch(f"{_EXEC}.state_parallel.branch_worker:BranchWorker.__init__", _mark_branch)
    _hooks.patch(f"{_EXEC}.execute_state:ExecutionState._handle_uncaught", _record_abort)
