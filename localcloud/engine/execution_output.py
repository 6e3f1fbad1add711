"""DescribeExecution returns the output as JSON text, whatever its type.

moto keeps an execution's output as the Python value and sends a `str` as it is, so an
execution whose output is the JSON string "big" is described with output `big` (not JSON).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks


def _json_output(describe: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def describe_execution(self: Any) -> Any:
        result = describe(self)
        response = getattr(result, "result", None)
        if isinstance(response, dict) and "output" in response:
            execution = self.stepfunction_backend.describe_execution(response["executionArn"])
            if isinstance(execution.output, str):
                response["output"] = json.dumps(execution.output, separators=(",", ":"), ensure_ascii=False)
        return result

    return describe_execution


def install() -> None:
    _hooks.resolve("moto.core.responses:ActionResult.result")
    _hooks.patch("moto.stepfunctions.responses:StepFunctionResponse.describe_execution", _json_output)
