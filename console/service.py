"""Executions of the registry's workflows in one environment, through the Step Functions API.

The same code serves the local cloud and AWS: the environment gives the boto3 client. Errors
come out as the small exception family below, which the HTTP API and the CLI map to statuses
and exit codes.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from console import validation
from console.errors import (
    BadRequest,
    Conflict,
    FutileRedrive,
    InvalidInput,
    NameUsed,
    NotDeployed,
    NotFound,
    NotSupported,
)
from console.graph import runs
from infra.environments import Environment
from workflows import definitions
from workflows.asl import StateMachineType
from workflows.registry import HttpRoute, Schedule, StreamTrigger, Workflow

# StartExecution's rules for an execution's name (its API reference), checked before the call to
# say which one a name breaks: Step Functions answers "Invalid Name" alone
NAME_LENGTH = 80
_NAME_CHARACTERS = (
    ("brackets < > { } [ ]", set("<>{}[]")),
    ("wildcard characters ? *", set("?*")),
    ('special characters " # % \\ ^ | ~ ` $ & , ; : /', set('"#%\\^|~`$&,;:/')),
)
_NOT_FOUND = {"ExecutionDoesNotExist", "StateMachineDoesNotExist", "InvalidArn", "ResourceNotFound"}
_ARN_CACHE_SECONDS = 5.0
# how many failed executions' endings are kept (an ended run's does not change until it is redriven)
_ENDINGS_KEPT = 10_000


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _parse(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _shaped(execution: dict[str, Any], workflow: str | None) -> dict[str, Any]:
    """An execution as the console answers it: JSON values, its input and output parsed."""
    found: dict[str, Any] = _jsonable(execution)
    found["input"] = _parse(found.get("input"))
    found["output"] = _parse(found.get("output"))
    found["workflow"] = workflow
    return found


def _execution_arn(machine_arn: str, name: str) -> str:
    """The ARN of a (Standard) execution of the machine, by its name."""
    return machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


def _forbidden(char: str) -> str | None:
    """Which kind of character StartExecution refuses in a name `char` is; None when it takes it."""
    if char.isspace():
        return "whitespace"
    code = ord(char)  # control characters, surrogates and non-characters
    if code <= 0x1F or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF, 0x10FFFF):
        return "control characters"
    return next((kind for kind, chars in _NAME_CHARACTERS if char in chars), None)


def name_problem(name: str) -> str | None:
    """Which of Step Functions' rules the execution name `name` breaks, in a line; None when none."""
    refused = f"invalid execution name {name!r}: Step Functions takes"
    if not 1 <= len(name) <= NAME_LENGTH:
        return f"{refused} 1 to {NAME_LENGTH} characters (it has {len(name)})"
    for char in name:
        kind = _forbidden(char)
        if kind:
            return f"{refused} no {kind} (it has {char!r})"
    return None


def _raise_if_input_refused(error: ClientError) -> None:
    """A start Step Functions refused for its name or input: the caller's mistake, a 400."""
    code = error.response["Error"]["Code"]
    if code in ("InvalidName", "ValidationException", "InvalidExecutionInput"):
        raise BadRequest(error.response["Error"].get("Message", code)) from None


def _trigger(trigger: Any, schedules_on: bool) -> dict[str, Any]:
    if isinstance(trigger, HttpRoute):
        return {"kind": "http", "method": trigger.method, "path": trigger.path, "sync": trigger.sync}
    if isinstance(trigger, Schedule):
        # the environment's `schedules` setting: deploy creates them disabled when it is off
        # with its time zone: etf-signal's 17:30 is Shanghai's, not UTC's
        return {
            "kind": "schedule",
            "expression": trigger.expression,
            "timezone": trigger.timezone,
            "enabled": schedules_on,
        }
    if isinstance(trigger, StreamTrigger):
        return {"kind": "stream", "stream": trigger.stream}
    return {"kind": type(trigger).__name__}


class ExecutionService:
    def __init__(self, env: Environment, workflows: Mapping[str, Workflow], client: Any = None) -> None:
        self.env = env
        self.workflows = workflows
        self.sfn = client or env.client("stepfunctions")
        self._arns: dict[str, str] = {}
        self._arns_at = 0.0
        self._lock = threading.Lock()
        self._endings: dict[tuple[str, str | None, int], dict[str, Any]] = {}
        self._endings_lock = threading.Lock()

    # -- workflows --------------------------------------------------------------------------

    def workflow(self, name: str) -> Workflow:
        if name not in self.workflows:
            close = self.close_workflow(name)
            known = (
                f"did you mean {close!r}?" if close else f"the workflows: {', '.join(sorted(self.workflows))}"
            )
            raise NotFound(f"unknown workflow {name!r}; {known}")
        return self.workflows[name]

    def close_workflow(self, name: str) -> str | None:
        """The workflow `name` is likely a misspelling of."""
        close = difflib.get_close_matches(name, self.workflows, n=1)
        return close[0] if close else None

    def execution_arn(self, execution: str) -> str:
        """An execution's ARN, from its ARN or its name (looked for among the deployed workflows';
        a name two executions have, two workflows' or an Express workflow's started twice with it,
        is refused, naming their ARNs)."""
        if execution.startswith("arn:"):
            return execution
        found = []
        for name in sorted(self.workflows):
            machine = self.state_machine_arn(name)
            if machine is not None:
                found += self._named(name, machine, execution)
        if not found:
            raise NotFound(f"no execution named {execution!r} in {self.env.name}")
        if len(found) > 1:
            raise Conflict(
                f"{len(found)} executions are named {execution!r}; give its ARN: {', '.join(found)}"
            )
        return found[0]

    def _named(self, workflow: str, machine: str, execution: str) -> list[str]:
        """The ARNs of the machine's executions named `execution`: a Standard one's ARN is made of
        its name, an Express one's has an id of its own (its names may repeat), so those are listed."""
        if self.workflow(workflow).type != StateMachineType.EXPRESS:
            arn = _execution_arn(machine, execution)
            try:
                self._call("describe_execution", executionArn=arn)
            except (NotFound, NotSupported):
                return []
            return [arn]
        pages = self.sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
        try:
            return [e["executionArn"] for page in pages for e in page["executions"] if e["name"] == execution]
        except ClientError as error:  # AWS keeps no Express execution to list
            if error.response["Error"]["Code"] == "StateMachineTypeNotSupported":
                return []
            raise

    def state_machine_name(self, workflow: str) -> str:
        return self.env.resource_name(workflow)

    def _deployed(self) -> dict[str, str]:
        """State machine name -> ARN, listed at most every few seconds (a deploy may add one)."""
        with self._lock:
            if time.monotonic() - self._arns_at > _ARN_CACHE_SECONDS:
                found: dict[str, str] = {}
                for page in self.sfn.get_paginator("list_state_machines").paginate():
                    found.update((m["name"], m["stateMachineArn"]) for m in page["stateMachines"])
                self._arns, self._arns_at = found, time.monotonic()
            return self._arns

    def forget_deployed(self) -> None:
        """The next question lists the deployed state machines anew."""
        with self._lock:
            self._arns_at = 0.0  # as when made

    def state_machine_arn(self, workflow: str) -> str | None:
        return self._deployed().get(self.state_machine_name(self.workflow(workflow).name))

    def require_arn(self, workflow: str) -> str:
        arn = self.state_machine_arn(workflow)
        if arn is None:
            name = self.state_machine_name(workflow)
            raise NotDeployed(
                f"workflow {workflow!r} is not deployed in {self.env.name} (no state machine {name}): "
                f"run {self.env.deploy_command}"
            )
        return arn

    def describe_workflow(self, name: str) -> dict[str, Any]:
        wf = self.workflow(name)
        arn = self.state_machine_arn(name)
        return {
            "name": wf.name,
            "description": wf.description,
            "type": str(getattr(wf.type, "value", wf.type)),
            "stateMachineName": self.state_machine_name(wf.name),
            "stateMachineArn": arn,
            "deployed": arn is not None,
            "inputSchema": dict(wf.input_schema),
            "exampleInput": copy.deepcopy(wf.example_input),
            "triggers": [_trigger(t, self.env.schedules) for t in wf.triggers],
            "routes": [
                {"method": r.method, "path": r.path, "function": r.function, "auth": r.auth}
                for r in wf.routes
            ],
        }

    def list_workflows(self) -> list[dict[str, Any]]:
        return [self.describe_workflow(name) for name in sorted(self.workflows)]

    def definition(self, name: str) -> dict[str, Any]:
        """The deployed definition when there is one (what runs), else the generated file."""
        arn = self.state_machine_arn(name)
        if arn is not None:
            return dict(json.loads(self.sfn.describe_state_machine(stateMachineArn=arn)["definition"]))
        return self._file_definition(self.workflow(name))

    @staticmethod
    def _file_definition(workflow: Workflow) -> dict[str, Any]:
        return (
            definitions.load(workflow) if workflow.definition_path.exists() else definitions.built(workflow)
        )

    def execution_definition(self, execution: dict[str, Any]) -> dict[str, Any]:
        """The definition the execution ran (its state machine's; the registry's if that is gone)."""
        try:
            found = self.sfn.describe_state_machine_for_execution(executionArn=execution["executionArn"])
            return dict(json.loads(found["definition"]))
        except ClientError:
            name = execution.get("workflow")
            if name is None:
                raise
            return self._file_definition(self.workflow(name))

    def workflow_of(self, execution_arn: str) -> str | None:
        """arn:aws:states:region:account:execution:<app>-<env>-<workflow>:<name> (Standard) or
        ...:express:<app>-<env>-<workflow>:<name>:<id> (Express) -> workflow."""
        parts = execution_arn.split(":")
        if len(parts) < 8 or parts[5] not in ("execution", "express"):
            return None
        prefix = self.env.resource_name("")
        machine = parts[6]
        name = machine[len(prefix) :] if machine.startswith(prefix) else machine
        return name if name in self.workflows else None

    # -- executions -------------------------------------------------------------------------

    def validate(self, name: str, document: Any) -> None:
        found = validation.errors(self.workflow(name).input_schema, document)
        if found:
            raise InvalidInput(found)

    def start(
        self,
        name: str,
        document: Any,
        execution_name: str | None = None,
        case: str | None = None,
        how_to_rename: str = "another name",
        how_to_redrive: str = "POST /api/executions/{arn}/redrive",
    ) -> tuple[dict[str, Any], bool]:
        """Start `name` with `document`; (execution, created). A client-supplied name makes a
        Standard start idempotent, as on AWS: while the execution of that name runs with the same
        input, it is that execution; one that ended, or has another input, is NameUsed (nothing
        started; the message says `how_to_rename`, and `how_to_redrive`, with the execution's
        {arn} and {name}, when a redrive would run it on). An Express start is a new execution
        whatever its name, as on AWS. `case` runs a mocked test case of the local cloud's mock
        configuration (Step Functions Local's `arn#case`)."""
        self.validate(name, document)
        problem = None if execution_name is None else name_problem(execution_name)
        if problem:
            raise BadRequest(problem)
        if case and not self.env.is_local:
            raise BadRequest("a mocked test case runs on the local cloud only (its SFN_MOCK_CONFIG)")
        arn = self.require_arn(name)
        text = json.dumps(document, separators=(",", ":"), sort_keys=True)
        started_on = f"{arn}#{case}" if case else arn
        args = {
            "stateMachineArn": started_on,
            "input": text,
            **({"name": execution_name} if execution_name else {}),
        }
        if self.workflow(name).type == StateMachineType.EXPRESS:
            return self._run_express(name, args), True
        hints = (how_to_rename, how_to_redrive)
        if execution_name:
            existing = self._existing(arn, execution_name, document, *hints)
            if existing is not None:
                return existing, False
        try:
            started = self.sfn.start_execution(**args)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionAlreadyExists" and execution_name:
                existing = self._existing(arn, execution_name, document, *hints)  # started meanwhile
                if existing is not None:
                    return existing, False
            _raise_if_input_refused(error)
            raise
        return self.describe(started["executionArn"]), True

    def _run_express(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """An Express execution runs to its end in the call: AWS keeps no execution to describe
        later (DescribeExecution and GetExecutionHistory refuse Express executions), nor
        deduplicates names."""
        try:
            ended = self.sfn.start_sync_execution(**args)
        except ClientError as error:
            _raise_if_input_refused(error)
            raise
        return _shaped(ended, name)

    def _existing(
        self, machine_arn: str, execution_name: str, document: Any, how_to_rename: str, how_to_redrive: str
    ) -> dict[str, Any] | None:
        """The running execution of that name and input, which Step Functions answers a start
        with; None when there is none; NameUsed when the name is not free (Step Functions refuses
        a name it has used, for 90 days)."""
        arn = _execution_arn(machine_arn, execution_name)
        try:
            found = self.describe(arn)
        except NotFound:
            return None
        status = found["status"]
        if status in runs.CLOSED:
            redrive = ""
            if found.get("redriveStatus") == "REDRIVABLE" and not runs.futile_redrive(
                found, lambda: self.history(arn)
            ):
                redrive = f", or redrive it ({how_to_redrive.format(arn=arn, name=execution_name)})"
            raise NameUsed(
                f"not started: the name {execution_name!r} was used by an execution that ended "
                f"{status} at {found.get('stopDate')}, and Step Functions refuses a name it has used; "
                f"give {how_to_rename}{redrive}"
            )
        if found["input"] != document:
            raise NameUsed(
                f"not started: the name {execution_name!r} is used by an execution ({status}) with "
                f"another input; give {how_to_rename}"
            )
        return found

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.sfn, operation)(**kwargs)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in _NOT_FOUND:
                raise NotFound(error.response["Error"].get("Message") or code) from None
            if code == "StateMachineTypeNotSupported":
                raise NotSupported(error.response["Error"].get("Message") or code) from None
            raise

    def describe(self, arn: str) -> dict[str, Any]:
        found = _shaped(self._call("describe_execution", executionArn=arn), self.workflow_of(arn))
        if found["status"] == "ABORTED" and not found.get("error"):
            found.update(self._stop_reason(arn))
        warning = found["workflow"] and self.workflow(found["workflow"]).fresh_start_warning(found)
        if warning:  # the console offers no Start again, describe says why
            found["freshStartWarning"] = warning
        return found

    def explain(self, arn: str) -> dict[str, Any]:
        """The execution, with what its history says of it (runs.explained): as the HTTP API and
        `describe --json` give it."""
        execution = self.describe(arn)
        self._if_made_good(execution)
        return {**execution, **runs.explained(execution, functools.cache(lambda: self.history(arn)))}

    def _if_made_good(self, execution: dict[str, Any]) -> None:
        """A fresh start's warning whose advice was followed since (a draw announced by hand) says
        so instead: asked only of a run its workflow says may have been (made_good_by_hand)."""
        if not execution.get("freshStartWarning"):
            return
        made_good = self.workflow(execution["workflow"]).made_good_by_hand.get(str(execution.get("error")))
        if made_good is None:
            return
        try:
            instead = made_good(self.env, execution)
        except (BotoCoreError, ClientError):  # not readable (no access to the table?): the advice stands
            return
        if instead:
            execution["freshStartWarning"] = instead

    def _stop_reason(self, arn: str) -> dict[str, str]:
        """The error and cause a stop was given, which its ExecutionAborted event keeps (the last)."""
        [last] = self._call("get_execution_history", executionArn=arn, reverseOrder=True, maxResults=1)[
            "events"
        ]
        details = last.get("executionAbortedEventDetails", {})
        return {key: details[key] for key in ("error", "cause") if details.get(key)}

    def history(self, arn: str) -> list[dict[str, Any]]:
        # a clean 404 for an unknown execution, whatever the backend says (the bare call: a
        # stopped run's describe would read the history for its reason)
        self._call("describe_execution", executionArn=arn)
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self._call(
                "get_execution_history",
                executionArn=arn,
                maxResults=1000,
                **({"nextToken": token} if token else {}),
            )
            events.extend(_jsonable(page["events"]))
            token = page.get("nextToken")
            if not token:
                return events

    def executions(
        self, name: str, status: str | None = None, limit: int = 100, rejected: bool | None = None
    ) -> list[dict[str, Any]]:
        """The workflow's executions, newest first, each FAILED one with its error and whether it
        was rejected (`ending`); `rejected` keeps only the rejections (True) or leaves them out
        (False). NotDeployed when it is not deployed: no list to read, rather than an empty one."""
        arn = self.require_arn(name)
        if rejected:  # a rejection is a FAILED execution
            if status not in (None, "FAILED"):
                return []
            status = "FAILED"
        args: dict[str, Any] = {"stateMachineArn": arn}
        if status:
            args["statusFilter"] = status
        found: list[dict[str, Any]] = []
        pages = self.sfn.get_paginator("list_executions").paginate(
            **args, PaginationConfig={"PageSize": min(max(limit, 1), 1000)}
        )
        try:
            for page in pages:
                listed = _jsonable(page["executions"])
                if rejected is not None:  # the rejection filter needs each one's ending now
                    listed = [e for e in map(self._with_ending, listed) if e["rejected"] == rejected]
                found.extend(listed)
                if len(found) >= limit:
                    break
        except ClientError as error:
            code = error.response["Error"]["Code"]
            # AWS keeps no list of EXPRESS executions (they live in CloudWatch Logs).
            if code == "StateMachineTypeNotSupported":
                return []
            if code == "StateMachineDoesNotExist":  # deleted since the deployed ones were listed
                self.forget_deployed()
                self.require_arn(name)  # NotDeployed, as the list read anew no longer names it
            raise
        found.sort(key=lambda e: e["startDate"], reverse=True)
        shown = found[:limit]
        for execution in shown:
            execution["workflow"] = name
            if rejected is None:  # the endings of those shown only: a history request each
                self._with_ending(execution)
        return shown

    def _with_ending(self, execution: dict[str, Any]) -> dict[str, Any]:
        """A listed execution marked rejected or not; a FAILED one with its error, which
        ListExecutions does not give."""
        execution["rejected"] = False
        if execution["status"] == "FAILED":
            ending = self.ending(execution)
            execution["rejected"] = ending["rejected"]
            if ending["error"]:
                execution["error"] = ending["error"]
        return execution

    def ending(self, execution: Mapping[str, Any]) -> dict[str, Any]:
        """How a FAILED execution ended: its error and cause, and whether it was rejected
        (runs.rejected), from the last two events of its history. One request, made once for each
        time it ends: kept by its ARN, stop date and redrives, which a redrive changes."""
        arn = execution["executionArn"]
        key = (arn, execution.get("stopDate"), int(execution.get("redriveCount") or 0))
        with self._endings_lock:
            found = self._endings.get(key)
        if found is not None:
            return found
        try:
            page = self._call(
                "get_execution_history",
                executionArn=arn,
                reverseOrder=True,
                maxResults=2,
                includeExecutionData=False,  # its state's input, which may be large, is not needed
            )
        except (NotFound, NotSupported):  # gone with its state machine; an Express one on AWS
            return {"error": None, "cause": None, "rejected": False}
        except ClientError as error:
            if error.response["Error"]["Code"] != "ThrottlingException":
                raise
            # still throttled after botocore's retries: the list is shown without this one's ending
            # (not kept: the next listing asks again)
            return {"error": None, "cause": None, "rejected": False}
        events = page["events"][::-1]
        ended = runs.event_details(events[-1]) if events and events[-1]["type"] == "ExecutionFailed" else {}
        found = {"error": ended.get("error"), "cause": ended.get("cause"), "rejected": runs.rejected(events)}
        with self._endings_lock:
            self._endings[key] = found
            if len(self._endings) > _ENDINGS_KEPT:
                del self._endings[next(iter(self._endings))]  # the oldest kept
        return found

    def stop(self, arn: str, error: str | None = None, cause: str | None = None) -> dict[str, Any]:
        if ":express:" in arn:  # Step Functions answers InvalidArn, which would read as not found
            raise Conflict("an Express execution cannot be stopped: it runs to its end, within its timeout")
        execution = self.describe(arn)
        if execution["status"] != "RUNNING":
            raise Conflict(f"execution is {execution['status']}, not RUNNING")
        args = {
            "executionArn": arn,
            **({"error": error} if error else {}),
            **({"cause": cause} if cause else {}),
        }
        self._call("stop_execution", **args)
        return self.describe(arn)

    def redrive(self, arn: str, force: bool = False, how_to_force: str = "force") -> dict[str, Any]:
        """Redrive the execution; Conflict when nothing was redriven: it cannot be, or (unless
        `force`) it would only run its Fail state again (FutileRedrive, saying `how_to_force`)."""
        execution = self.describe(arn)
        if execution.get("redriveStatus") == "NOT_REDRIVABLE":
            raise Conflict(execution.get("redriveStatusReason") or "execution cannot be redriven")
        if execution["status"] not in ("FAILED", "ABORTED", "TIMED_OUT"):  # a cloud without redriveStatus
            raise Conflict(
                f"execution is {execution['status']}: only a failed, aborted or timed-out one redrives"
            )
        fail_state = None if force else runs.futile_redrive(execution, lambda: self.history(arn))
        if fail_state:
            raise FutileRedrive(
                f"not redriven: {runs.only_fails_again(fail_state)} ({how_to_force} redrives it anyway)"
            )
        try:
            self.sfn.redrive_execution(executionArn=arn)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("ExecutionNotRedrivable", "ExecutionLimitExceeded"):
                raise Conflict(error.response["Error"].get("Message") or code) from None
            if status in (500, 501) or code in ("UnknownOperationException", "NotImplemented"):
                raise NotSupported(
                    f"this {self.env.name} cloud does not implement RedriveExecution"
                ) from None
            raise
        return self.describe(arn)
