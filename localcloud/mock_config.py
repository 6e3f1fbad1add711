"""Mocked test cases in the format of Step Functions Local's mock configuration.

    {"StateMachines": {"<state machine name>": {"TestCases": {"<case>": {"<state>": "<response>"}}}},
     "MockedResponses": {"<response>": {"0": {"Return": {...}}, "1-2": {"Throw": {"Error": ..., "Cause": ...}}}}}

An execution started on `<state machine ARN>#<case>` (StartExecution, or StartSyncExecution for an
Express state machine) answers the named Task states with the mocked responses (one per attempt,
so Retry paths can be forced) and runs the others for real. moto's interpreter already evaluates
mocked responses; what it lacks is reading the configuration and handing the test case to the
execution, which this module does.
"""

from __future__ import annotations

import difflib
import json
import os
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from localcloud import pins

_config_module = "moto.stepfunctions.parser.mocking.mock_config"
MockTestCase = pins.resolve(_config_module, "MockTestCase")
StateMockedResponses = pins.resolve(_config_module, "StateMockedResponses")
MockedResponseReturn = pins.resolve(_config_module, "MockedResponseReturn")
MockedResponseThrow = pins.resolve(_config_module, "MockedResponseThrow")
_Backend = pins.resolve("moto.stepfunctions.parser.models", "StepFunctionsParserBackend")
_Execution = pins.resolve("moto.stepfunctions.parser.backend.execution", "Execution")
_SyncExecution = pins.resolve("moto.stepfunctions.parser.backend.execution", "SyncExecution")
_ExecutionWorker = pins.resolve("moto.stepfunctions.parser.backend.execution_worker", "ExecutionWorker")
_JsonRESTError = pins.resolve("moto.core.exceptions", "JsonRESTError")
_ServiceException = pins.resolve("moto.core.exceptions", "ServiceException")

ENV_VAR = "SFN_MOCK_CONFIG"  # the variable Step Functions Local reads the file from


class MockConfigError(ValueError):
    """The mock configuration is malformed, names a case it does not define, or a test case names
    a state its state machine does not have."""


_config: dict[str, Any] = {}
_pending = threading.local()  # the test case of the execution being started on this thread


def load(config: dict[str, Any] | str | Path) -> None:
    """Use this configuration (a dict, or a JSON file) for executions started on `arn#case`."""
    parsed: dict[str, Any] = config if isinstance(config, dict) else json.loads(Path(config).read_text())
    for key in ("StateMachines", "MockedResponses"):
        if not isinstance(parsed.get(key), dict):
            raise MockConfigError(f"mock configuration: {key} must be an object")
    _config.clear()
    _config.update(parsed)


def clear() -> None:
    _config.clear()


@contextmanager
def loaded(config: dict[str, Any] | str | Path) -> Iterator[None]:
    """`load(config)` for the block (installing the routing first), then the configuration there
    was before it (one loaded from SFN_MOCK_CONFIG stays)."""
    install()
    before = dict(_config)
    load(config)
    try:
        yield
    finally:
        _config.clear()
        _config.update(before)


def _range(text: str) -> tuple[int, int]:
    try:
        start, _, end = text.partition("-")
        return int(start), int(end or start)
    except ValueError:
        raise MockConfigError(f"mocked response range {text!r} is not N or N-M") from None


def _response(name: str, attempts: str, body: dict[str, Any]) -> Any:
    start, end = _range(attempts)
    if "Return" in body:
        return MockedResponseReturn(start, end, body["Return"])
    if "Throw" in body:
        throw = body["Throw"]
        return MockedResponseThrow(start, end, throw.get("Error", ""), throw.get("Cause", ""))
    raise MockConfigError(f"mocked response {name!r} attempt {attempts!r}: needs Return or Throw")


def state_names(definition: dict[str, Any]) -> list[str]:
    """The names of a definition's states, those of its Parallel branches and Map iterators too."""
    found = []
    for name, state in definition.get("States", {}).items():
        found.append(name)
        for inner in [*state.get("Branches", []), state.get("Iterator"), state.get("ItemProcessor")]:
            found += state_names(inner) if isinstance(inner, dict) else []
    return found


def test_case(state_machine: str, case: str, known: Collection[str] | None = None) -> Any:
    """The mocked test case `case` of `state_machine`; with `known` (its states), one naming a
    state not among them is refused: the state would run for real, failing the test far from why."""
    cases = _config.get("StateMachines", {}).get(state_machine, {}).get("TestCases", {})
    if case not in cases:
        raise MockConfigError(f"no mocked test case {case!r} for state machine {state_machine!r}")
    unknown = [state for state in cases[case] if known is not None and state not in known]
    if unknown:
        raise MockConfigError(
            f"test case {case!r} of state machine {state_machine!r} names no state of it: "
            f"{', '.join(_guess(state, known or ()) for state in unknown)}; "
            f"its states: {', '.join(map(repr, known or ()))}"
        )
    states = []
    for state, response_name in cases[case].items():
        responses = _config["MockedResponses"].get(response_name)
        if not responses:
            raise MockConfigError(f"test case {case!r}: no mocked response named {response_name!r}")
        mocked = [_response(response_name, attempts, body) for attempts, body in responses.items()]
        states.append(StateMockedResponses(state, response_name, mocked))
    return MockTestCase(state_machine, case, states)


def _guess(state: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(state, known, n=1)
    return f"{state!r} (did you mean {close[0]!r}?)" if close else repr(state)


def _states_of(backend: Any, arn: str) -> list[str] | None:
    """The state machine's states; None when there is no such machine, which the start then says."""
    try:
        return state_names(json.loads(backend.describe_state_machine(arn).definition))
    except _ServiceException:
        return None


def install() -> None:
    """Route `arn#case` starts to the mocked test case (idempotent). StartSyncExecution is routed
    when the local cloud has added it (localcloud.sync_execution, installed first)."""
    if getattr(_Backend.start_execution, "_mocks_installed", False):
        return
    if os.environ.get(ENV_VAR):
        load(os.environ[ENV_VAR])

    def routed(start: Any) -> Any:
        def start_case(self: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
            base_arn, _, case = state_machine_arn.partition("#")
            if not case:
                return start(self, state_machine_arn, *args, **kwargs)
            try:
                known = _states_of(self, base_arn)
                _pending.case = test_case(base_arn.rsplit(":", 1)[-1], case, known)
            except MockConfigError as error:
                # a client error the caller reads, not a 500 that the SDK retries
                raise _JsonRESTError("ValidationException", str(error)) from None
            try:
                return start(self, base_arn, *args, **kwargs)
            finally:
                _pending.case = None

        start_case._mocks_installed = True  # type: ignore[attr-defined]
        return start_case

    def with_case(get_worker: Any) -> Any:
        def get_start_execution_worker(self: Any) -> Any:
            worker = get_worker(self)
            case = getattr(_pending, "case", None)
            if case is not None:
                worker._mock_test_case = case
            return worker

        return get_start_execution_worker

    _Backend.start_execution = routed(_Backend.start_execution)
    if hasattr(_Backend, "start_sync_execution"):
        _Backend.start_sync_execution = routed(_Backend.start_sync_execution)
    # SyncExecution makes its worker in its own override of the method
    for execution in (_Execution, _SyncExecution):
        execution._get_start_execution_worker = with_case(execution.__dict__["_get_start_execution_worker"])
