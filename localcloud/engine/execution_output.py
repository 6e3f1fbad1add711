"""DescribeExecution returns the output as JSON text, whatever its type, and a SUCCEEDED
execution always with its output.

moto keeps an execution's output as the Python value and sends a `str` as it is, so an
execution whose output is the JSON string "big" is described with output `big` (not JSON).

moto marked an execution SUCCEEDED and then copied its output into it: a DescribeExecution
between the two (the copy of a large output takes milliseconds) saw SUCCEEDED with no output.
The output is now in place before the status says so.

moto gave a TIMED_OUT execution no stopDate, in DescribeExecution and ListExecutions, where AWS
gives when it timed out: the console and the CLI then counted its duration up to now.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks
from localcloud.engine.clock import CLOCK


def _json_output(describe: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def describe_execution(self: Any) -> Any:
        result = describe(self)
        response = getattr(result, "result", None)
        if isinstance(response, dict) and "output" in response:
            execution = self.stepfunction_backend.describe_execution(response["executionArn"])
            if isinstance(execution.output, str):
                response["output"] = json.dumps(execution.output, separators=(",", ":"), ensure_ascii=False)
        if isinstance(response, dict):
            _with_stop_date(self, response)
        return result

    return describe_execution


def _with_stop_date(responses: Any, execution: dict[str, Any]) -> None:
    """A TIMED_OUT execution's stopDate, as AWS gives it."""
    if execution.get("status") == "TIMED_OUT" and "stopDate" not in execution:
        found = responses.stepfunction_backend.describe_execution(execution["executionArn"])
        execution["stopDate"] = found.stop_date


def _stop_dates_listed(list_executions: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def listed(self: Any) -> Any:
        result = list_executions(self)
        for execution in (getattr(result, "result", None) or {}).get("executions", []):
            _with_stop_date(self, execution)
        return result

    return listed


def _output_first(reflect: Callable[[Any], None]) -> Callable[[Any], None]:
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded

    def _reflect_execution_status(self: Any) -> None:
        execution = self.execution
        env = execution.exec_worker.env
        if not isinstance(env.program_state(), ProgramEnded):
            reflect(self)  # no output to wait for
            return
        execution.output = env.states.get_input()
        execution.stop_date = CLOCK.now(datetime.UTC)  # moto's, read from the engine's clock
        execution.exec_status = ExecutionStatus.SUCCEEDED

    return _reflect_execution_status


def install() -> None:
    _hooks.resolve("moto.core.responses:ActionResult.result")
    _hooks.patch("moto.stepfunctions.responses:StepFunctionResponse.describe_execution", _json_output)
    _hooks.patch("moto.stepfunctions.responses:StepFunctionResponse.list_executions", _stop_dates_listed)
    _hooks.resolve("moto.stepfunctions.parser.asl.eval.program_state:ProgramEnded")
    _hooks.patch(
        "moto.stepfunctions.parser.backend.execution:BaseExecutionWorkerCommunication._reflect_execution_status",
        _output_first,
    )
