"""Step Functions API gaps in moto: StartSyncExecution, alias/version ARNs, unnamed executions.

- StartSyncExecution: moto's parser already has `SyncExecution` (its worker runs the program in
  the calling thread) but no API action. We add the action to moto's StepFunctionResponse (moto
  dispatches an X-Amz-Target action to the method of the same snake_case name).
- start_execution on an alias ARN: resolved to a version by the alias's routing weights.
- start_execution on a version ARN: moto files the execution under the version, where
  DescribeExecution cannot find it; we file it under the state machine too.
- an Express execution's ARN is AWS's `express:<machine>:<name>:<id>`, its own whatever its name
  (Express names need not be unique, and a start is never answered with an earlier execution);
  moto gave every execution `execution:<machine>:<name>`, so a second Express start with a name
  shared the first's ARN and could not be found. DescribeExecution and the APIs that take an
  execution ARN accept both shapes.
- start_execution without a name: AWS generates a UUID; moto would use the name "None". A name
  is checked as AWS checks it (no whitespace, brackets, wildcards or special characters, at most
  80 characters), which moto's parser backend skipped.
- an input longer than 262,144 characters (the API's limit on StartExecution's and
  StartSyncExecution's `input`, the 256 KiB execution input quota): ValidationException, as AWS
  answers it; moto started the execution.
- create_state_machine with a name in use: idempotent, as on AWS, only for the same definition,
  type, logging, tracing and encryption configurations (a different role or tags are ignored);
  else StateMachineAlreadyExists. moto answered with the existing machine whatever the
  definition, so a changed definition was silently not the one that ran.
"""

from __future__ import annotations

import copy
import datetime
import json
import random
import re
import uuid
from typing import Any

from localcloud import pins
from localcloud.engine import execution_index

# The hook points, checked at import: a moto that moved one fails here, naming it.
_RESPONSE = pins.resolve("moto.stepfunctions.responses", "StepFunctionResponse")
_ACTION_RESULT = pins.resolve("moto.core.responses", "ActionResult")
_BACKEND = pins.resolve("moto.stepfunctions.parser.models", "StepFunctionsParserBackend")
pins.resolve("moto.stepfunctions.parser.models", "StepFunctionsParserBackend", "start_execution")
pins.resolve("moto.stepfunctions.parser.models", "StepFunctionsParserBackend", "create_state_machine")
pins.resolve("moto.stepfunctions.models", "StepFunctionBackend", "_validate_name")
_EXECUTION = pins.resolve("moto.stepfunctions.parser.backend.execution", "Execution")
_SYNC_EXECUTION = pins.resolve("moto.stepfunctions.parser.backend.execution", "SyncExecution")
_INVALID_INPUT = pins.resolve("moto.stepfunctions.parser.api", "InvalidExecutionInput")
_EXECUTION_ARN = pins.resolve("moto.stepfunctions.models", "StepFunctionBackend", "accepted_exec_arn_format")
pins.resolve("moto.stepfunctions.parser.backend.execution", "SyncExecution", "to_start_sync_execution_output")
pins.resolve("moto.stepfunctions.models", "StepFunctionBackend", "describe_state_machine_alias")
_VERSION = pins.resolve("moto.stepfunctions.models", "StateMachineVersion")
_STATE_MACHINE = pins.resolve("moto.stepfunctions.models", "StateMachine")
pins.resolve("moto.stepfunctions.models", "StateMachine", "_handle_name_input_idempotency")
_installed = False


def install() -> None:
    """Patch moto's Step Functions (idempotent). Raises pins.MotoHookMissing if moto moved."""
    global _installed
    if _installed:
        return
    # Wrap what is there now, which may already be another patch (the engine's, say).
    original_start = _BACKEND.start_execution

    # A version lacks what the parser's start_execution reads from a state machine: it gets the
    # state machine's, as it is now (the engine's, when installed).
    if not hasattr(_VERSION, "_handle_name_input_idempotency"):
        _VERSION._handle_name_input_idempotency = _STATE_MACHINE._handle_name_input_idempotency

    def start_execution(
        backend: Any, state_machine_arn: str, name: str | None = None, execution_input: Any = None, **kw: Any
    ) -> Any:
        if name:  # the parser's start_execution skips moto's name check (AWS: InvalidName)
            backend._validate_name(name)
        _check_input_length(execution_input)
        arn = _resolve_alias(backend, state_machine_arn)
        _attach_backend(backend, arn)
        state_machine = backend.describe_state_machine(arn)
        if is_express(state_machine):
            return _start(backend, _EXECUTION, state_machine, name, execution_input, kw.get("trace_header"))
        execution = original_start(backend, arn, name or str(uuid.uuid4()), execution_input, **kw)
        _file_under_base(backend, arn, execution)
        return execution

    def start_sync_execution(response: Any) -> Any:
        backend = response.stepfunction_backend
        if not hasattr(backend, "start_sync_execution"):
            raise RuntimeError("StartSyncExecution needs stepfunctions.execute_state_machine switched on")
        arn = response._get_param("stateMachineArn")
        output = backend.start_sync_execution(
            arn, response._get_param("name"), response._get_param("input", if_none="{}")
        )
        return _ACTION_RESULT(output)

    def start_sync_execution_backend(
        backend: Any, state_machine_arn: str, name: str | None, execution_input: str
    ) -> dict[str, Any]:
        if name:
            backend._validate_name(name)
        _check_input_length(execution_input)
        return _run_sync(backend, _SYNC_EXECUTION, state_machine_arn, name, execution_input)

    original_create = _BACKEND.create_state_machine

    def create_state_machine(backend: Any, name: str, definition: str, **kw: Any) -> Any:
        arn = f"arn:{backend.partition}:states:{backend.region_name}:{backend.account_id}:stateMachine:{name}"
        existing = next((m for m in backend.state_machines if m.arn == arn), None)
        asked = _configuration(
            definition,
            kw.get("sm_type"),
            kw.get("loggingConfiguration"),
            kw.get("tracingConfiguration"),
            kw.get("encryptionConfiguration"),
        )
        if existing is not None and asked != _configuration(
            existing.definition,
            existing.type,
            existing.loggingConfiguration,
            existing.tracingConfiguration,
            existing.encryptionConfiguration,
        ):
            raise _api_error("StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'")
        return original_create(backend, name=name, definition=definition, **kw)

    _BACKEND.create_state_machine = create_state_machine
    # moto's check of an execution ARN knows `execution:` only; an Express one is `express:`
    _BACKEND.accepted_exec_arn_format = _both_arn_shapes(_EXECUTION_ARN)
    _BACKEND.start_execution = start_execution
    _BACKEND.start_sync_execution = start_sync_execution_backend
    _RESPONSE.start_sync_execution = start_sync_execution
    _installed = True


# StartExecution's `input`: at most this many characters, or AWS refuses the start
MAX_INPUT = 262_144


def _check_input_length(execution_input: Any) -> None:
    if isinstance(execution_input, str) and len(execution_input) > MAX_INPUT:
        raise _api_error(
            "ValidationException",
            "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must "
            f"have length less than or equal to {MAX_INPUT}",
        )


def is_express(state_machine: Any) -> bool:
    """moto's parser keeps every machine's sm_type STANDARD; its `type` is the one created."""
    return getattr(state_machine, "type", "STANDARD") == "EXPRESS"


def _is_qualified(arn: str) -> bool:
    parts = arn.split(":")
    return len(parts) == 8 and parts[5] == "stateMachine"


def _resolve_alias(backend: Any, arn: str) -> str:
    if not _is_qualified(arn) or arn.rsplit(":", 1)[1].isdigit():
        return arn
    alias = backend.describe_state_machine_alias(arn)
    routes = alias.routing_configuration
    chosen = random.choices(routes, weights=[int(r.get("weight", 100)) for r in routes])[0]
    version_arn: str = chosen["stateMachineVersionArn"]
    return version_arn


def _attach_backend(backend: Any, arn: str) -> None:
    if _is_qualified(arn):
        version = backend.describe_state_machine(arn)
        if not hasattr(version, "backend"):
            version.backend = backend


def _file_under_base(backend: Any, arn: str, execution: Any) -> None:
    if not _is_qualified(arn):
        return
    base = backend.describe_state_machine(arn.rsplit(":", 1)[0])
    if execution_index.find(base.executions, execution.execution_arn) is not execution:
        base.executions.append(execution)


def _both_arn_shapes(execution_arn: re.Pattern[str]) -> re.Pattern[str]:
    """moto's execution ARN pattern, accepting `express:` where it says `execution:`."""
    if ":execution:" not in execution_arn.pattern:  # else Express ARNs would be refused as invalid
        raise pins.MotoHookMissing(
            f"moto's execution ARN pattern has no ':execution:': {execution_arn.pattern}"
        )
    return re.compile(execution_arn.pattern.replace(":execution:", ":(?:execution|express):", 1))


def _run_sync(
    backend: Any, sync_cls: Any, arn: str, name: str | None, execution_input: str
) -> dict[str, Any]:
    """An Express execution, run to its end in the call, answered as StartSyncExecution answers."""
    arn = _resolve_alias(backend, arn)
    _attach_backend(backend, arn)
    state_machine = backend.describe_state_machine(arn)
    if not is_express(state_machine):
        raise _api_error(
            "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine"
        )
    execution = _start(backend, sync_cls, state_machine, name, execution_input)
    output: dict[str, Any] = dict(execution.to_start_sync_execution_output())
    output["stateMachineArn"] = arn
    millis = int((execution.stop_date - execution.start_date).total_seconds() * 1000)
    output["billingDetails"] = {
        "billedMemoryUsedInMB": 64,
        "billedDurationInMilliseconds": max(100, -(-millis // 100) * 100),
    }
    return output


def _start(
    backend: Any,
    execution_cls: Any,
    state_machine: Any,
    name: str | None,
    execution_input: str | None,
    trace_header: str | None = None,
) -> Any:
    """What the parser backend's start_execution does, for an Express machine (aliases resolved): no
    name is looked up, and the execution gets an ARN of its own. A SyncExecution runs to its end in
    `start`, an Execution in a thread of its own."""
    execution_input = "{}" if execution_input is None else execution_input
    try:
        json.loads(execution_input)
    except ValueError as error:
        raise _INVALID_INPUT(str(error)) from None
    name = name or str(uuid.uuid4())
    # The execution runs on a snapshot of the definition, sharing the backend (as moto does).
    snapshot = copy.deepcopy(
        state_machine, {id(state_machine.executions): [], id(state_machine.backend): state_machine.backend}
    )
    execution = execution_cls(
        name=name,
        sm_type=snapshot.sm_type,
        role_arn=snapshot.roleArn,
        exec_arn=f"arn:{backend.partition}:states:{backend.region_name}:{backend.account_id}:express:"
        f"{state_machine.name}:{name}:{uuid.uuid4()}",
        account_id=backend.account_id,
        region_name=backend.region_name,
        state_machine=snapshot,
        start_date=datetime.datetime.now(tz=datetime.UTC),
        cloud_watch_logging_session=None,
        input_data=execution_input,
        trace_header=trace_header,
        activity_store={},
    )
    # Kept in the list so that DescribeExecution and GetExecutionHistory work for tests and the console.
    state_machine.executions.append(execution)
    _file_under_base(backend, state_machine.arn, execution)
    execution.start()
    return execution


def _configuration(
    definition: str, kind: Any, logging: Any, tracing: Any, encryption: Any
) -> tuple[Any, ...]:
    """What CreateStateMachine's idempotency compares (AWS: the definition, type, logging, tracing and
    encryption configurations; not the role or tags), with the defaults filled in as moto does."""
    return (
        definition,
        kind or "STANDARD",
        logging or {"level": "OFF"},
        tracing or {"enabled": False},
        encryption or {"type": "AWS_OWNED_KEY"},
    )


def _api_error(code: str, message: str) -> Exception:
    cls = pins.resolve("moto.core.exceptions", "JsonRESTError")
    error: Exception = cls(code, message)
    return error
