"""States.Runtime ends the execution, as on AWS.

AWS documents it as not retriable, and not caught by `States.ALL` (a JSONPath that selects
nothing, an intrinsic function given bad arguments): no Retrier retries it, even one naming it. moto's `States.ALL` matches every error, so a
workflow whose catch-all leads to an alert looked, locally, as if it alerted on these too, where
on AWS the execution fails without its Catch. (AWS documents States.DataLimitExceeded alike, but
a recorded execution shows `States.ALL` catching it from a Task's result: it is left matched.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks

_ERROR_NAME = "moto.stepfunctions.parser.asl.component.common.error_name"
_TERMINAL = ("States.Runtime",)


def _wildcard_spares_terminal(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _eval_body(self: Any, env: Any) -> None:
        error_name = env.stack[-1]
        if self._STATE_ALL_ERROR in self.error_names and getattr(error_name, "error_name", None) in _TERMINAL:
            env.stack.pop()
            env.stack.append(False)
            return
        eval_body(self, env)

    return _eval_body


def _never_retried(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierOutcome

    def _eval_body(self: Any, env: Any) -> None:
        if getattr(env.stack[-1], "error_name", None) in _TERMINAL:
            env.stack.pop()
            env.stack.append(RetrierOutcome.Skipped)
            return
        eval_body(self, env)

    return _eval_body


def install() -> None:
    _hooks.resolve(f"{_ERROR_NAME}.error_equals_decl:ErrorEqualsDecl._STATE_ALL_ERROR")
    _hooks.patch(f"{_ERROR_NAME}.error_equals_decl:ErrorEqualsDecl._eval_body", _wildcard_spares_terminal)
    _hooks.resolve("moto.stepfunctions.parser.asl.component.common.retry.retrier_decl:RetrierOutcome")
    _hooks.patch(
        "moto.stepfunctions.parser.asl.component.common.retry.retrier_decl:RetrierDecl._eval_body",
        _never_retried,
    )
