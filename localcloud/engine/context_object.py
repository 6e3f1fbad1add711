"""The context object `$$` holds only JSON values, with AWS's timestamp text.

moto puts the execution's start time into `$$.Execution.StartTime` as a datetime object; reading
`$$` (or `$$.Execution`) then fails when it is encoded to JSON, and the text differs from AWS's.
AWS's `$$.Execution` also has `RedriveCount`, which moto lacks.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks
from localcloud.engine.clock import aws_iso


def _json_context(make_env: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def get_evaluation_environment(self: Any) -> Any:
        env = make_env(self)
        execution = env.states.context_object.context_object_data["Execution"]
        start = execution.get("StartTime")
        if isinstance(start, datetime.datetime):
            execution["StartTime"] = aws_iso(start)
        execution.setdefault("RedriveCount", 0)  # AWS always has it; moto has no redrive
        return env

    return get_evaluation_environment


def install() -> None:
    _hooks.resolve("moto.stepfunctions.parser.asl.eval.states:ContextObject")
    _hooks.patch(
        "moto.stepfunctions.parser.backend.execution_worker:ExecutionWorker._get_evaluation_environment",
        _json_context,
    )
