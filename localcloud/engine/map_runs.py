"""A Distributed Map's Map Run as AWS runs it: its failure threshold, its counts, its child executions.

The developer guide's "Using Map state in Distributed mode for large-scale parallel workloads"
(state-map-distributed) runs each item in a child workflow execution, and its "Tolerated failure
threshold for Distributed Map state" (maprun-fail-threshold) says when they fail the Map: "your Map
Run fails automatically if it exceeds the threshold", with the States.ExceedToleratedFailureThreshold
error (the cause AWS gives with it: "The specified tolerated failure threshold was exceeded"),
which a Catch may catch. The failed items are those "failed or timed out"; the percentage is of
"the total number of items". The default is zero: "the workflow fails if any one of its child
workflow executions fails or times out"; at 100 it never fails; "if you specify both values, the
workflow fails when it exceeds either value". The same page notes that "Step Functions may continue
to run child workflows in a Map Run even after the tolerated failure threshold is exceeded, but
before the Map Run fails": here the children running then finish, no other starts (the items left
stay pending), and the Map Run fails. moto counted a failed child and let the Map succeed, with null
for its item; it also refused an integer ToleratedFailurePercentage (`10`: InvalidDefinition, its
grammar wants `10.0`), and read a JSONata ToleratedFailureCount as a percentage.

DescribeMapRun (API reference) gives `itemCounts` and `executionCounts` by status: total, pending
("items to process in child workflow executions that haven't started running yet"), running,
succeeded, failed, timedOut, aborted ("stopped by the user or by Step Functions, because the Map
Run failed"), resultsWritten ("whose results were written by ResultWriter": 0 without one; with
one, each item that succeeded, as moto counts it). moto kept a
failed child RUNNING in executionCounts and counted items only once started. They are counted here
from the child executions; a Map Run whose execution was stopped is ABORTED (moto: SUCCEEDED).

UpdateMapRun (API reference) "updates an in-progress Map Run's configuration to include changes to
the settings that control maximum concurrency and Map Run failure": a toleratedFailureCount or
toleratedFailurePercentage it sets applies from then on, as if the definition had declared it
(moto stored the value, but only the thresholds the definition declared were ever checked).

ListExecutions (API reference) "lists all executions of a state machine or a Map Run ... those
related to a Map Run by specifying a Map Run ARN", newest first, each with its `mapRunArn` and
`itemCount`; "you can specify either a mapRunArn or a stateMachineArn, but not both". moto read
only stateMachineArn and answered a Map Run's ARN with HTTP 500. Each child here is an execution
of the Map Run's state machine (`...:stateMachine:<machine>/<label>`, as ListMapRuns names it),
`...:execution:<machine>/<label>:<name>`, served by ListExecutions in pages (maxResults,
nextToken, statusFilter). moto runs a child inside its parent's program: DescribeExecution and
GetExecutionHistory do not find it.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localcloud.engine import _hooks
from localcloud.engine.clock import CLOCK

EXCEEDED_CAUSE = "The specified tolerated failure threshold was exceeded"
DEFAULT_PAGE, MAX_PAGE = 100, 1000
_PARSER = "moto.stepfunctions.parser"
_MAP = f"{_PARSER}.asl.component.state.exec.state_map"
_ITERATION = f"{_MAP}.iteration"
_RECORD = f"{_ITERATION}.itemprocessor.map_run_record:MapRunRecord"
_CHILD_JOBS = (  # each Distributed Map worker's evaluation of one item
    f"{_ITERATION}.itemprocessor.distributed_item_processor_worker:DistributedItemProcessorWorker._eval_job",
    f"{_ITERATION}.iterator.distributed_iterator_worker:DistributedIteratorWorker._eval_job",
)
_DECLARED = "_localcloud_thresholds_declared"  # on a Distributed Map's iteration component
_WRITES = "_localcloud_writes_results"  # likewise: whether the Map declares a ResultWriter
_CHILDREN = "_localcloud_children"  # on a MapRunRecord, once its items are known
_COUNTED = (  # DescribeMapRun's count of each status of a child execution
    ("running", "RUNNING"),
    ("succeeded", "SUCCEEDED"),
    ("failed", "FAILED"),
    ("timedOut", "TIMED_OUT"),
    ("aborted", "ABORTED"),
)


@dataclass
class Child:
    """One item's child workflow execution."""

    name: str
    arn: str
    start_date: datetime.datetime
    status: str = "RUNNING"
    stop_date: datetime.datetime | None = None


class Children:
    """A Map Run's child executions, in the order they started, and its failure threshold."""

    def __init__(self, run: Any, items: int, declared: tuple[bool, bool], writes_results: bool) -> None:
        self.run, self.items, self.writes_results = run, items, writes_results
        self._set_count, self._set_percentage = declared  # by the definition, or by UpdateMapRun
        self.started: list[Child] = []
        self.stopped = False  # its execution stopped (or ended) while it ran
        self._statuses: Counter[str] = Counter()
        self._lock = threading.Lock()

    def start(self) -> Child:
        name = str(uuid.uuid4())
        machine = self.run.map_state_machine_arn
        child = Child(name, f"{machine.replace(':stateMachine:', ':execution:', 1)}:{name}", _now())
        with self._lock:
            self.started.append(child)
            self._statuses["RUNNING"] += 1
        return child

    def end(self, child: Child, status: str) -> None:
        with self._lock:
            child.status, child.stop_date = status, _now()
            self._statuses["RUNNING"] -= 1
            self._statuses[status] += 1

    def at_once(self, index: int) -> bool:
        """Whether the item is among those the Map Run starts together, as it starts: the others
        wait for a child to end, and then for the threshold."""
        concurrency = self.run.max_concurrency
        return not concurrency or index < concurrency  # MaxConcurrency 0: all of them

    def thresholds_set(self, count: bool, percentage: bool) -> None:
        """UpdateMapRun set these while the Map Run runs: from now on they apply."""
        self._set_count, self._set_percentage = self._set_count or count, self._set_percentage or percentage

    def exceeded(self) -> bool:
        failed = self._statuses["FAILED"] + self._statuses["TIMED_OUT"]
        if not failed:
            return False
        by_count = self._set_count or not self._set_percentage  # neither set: the count, 0, applies
        return (by_count and failed > self.run.tolerated_failure_count) or (
            self._set_percentage and failed * 100 > self.run.tolerated_failure_percentage * self.items
        )

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """(itemCounts, executionCounts): an item a child, the items not started pending."""
        with self._lock:
            executions = {key: self._statuses[status] for key, status in _COUNTED}
            started = len(self.started)
        written = executions["succeeded"] if self.writes_results else 0
        executions.update(total=started, pending=0, resultsWritten=written)
        return {**executions, "total": self.items, "pending": self.items - started}, executions


def _now() -> datetime.datetime:
    moment = CLOCK.now(datetime.UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # as the history's


def _children(run: Any) -> Children | None:
    return run.__dict__.get(_CHILDREN)


# --- the definition ---------------------------------------------------------------------------


def _integer_percentages(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """moto's grammar takes a ToleratedFailurePercentage with a fraction only (`10.0`, not `10`)."""

    def parse_numbers(definition: str) -> Any:
        if '"ToleratedFailurePercentage"' in definition:
            try:
                document = json.loads(definition)
            except ValueError:
                return parse(definition)  # moto's parser says what is wrong with it
            if _as_fractions(document.get("States") if isinstance(document, dict) else None):
                definition = json.dumps(document, ensure_ascii=False)
        return parse(definition)

    return parse_numbers


def _as_fractions(states: Any) -> bool:
    """Write each Map's integer ToleratedFailurePercentage, at any depth, as a float; True if any."""
    changed = False
    for state in states.values() if isinstance(states, dict) else ():
        if not isinstance(state, dict):
            continue
        percentage = state.get("ToleratedFailurePercentage")
        if state.get("Type") == "Map" and isinstance(percentage, int) and not isinstance(percentage, bool):
            state["ToleratedFailurePercentage"] = float(percentage)
            changed = True
        for inner in (state.get("ItemProcessor"), state.get("Iterator"), *(state.get("Branches") or ())):
            changed = _as_fractions(inner.get("States") if isinstance(inner, dict) else None) or changed
    return changed


def _jsonata_count(_visit: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (
        ToleratedFailureCountStringJSONata,
    )

    def visitTolerated_failure_count_string_jsonata(self: Any, ctx: Any) -> Any:
        return ToleratedFailureCountStringJSONata(
            string_jsonata=self.visitString_jsonata(ctx=ctx.string_jsonata())
        )

    return visitTolerated_failure_count_string_jsonata


def _thresholds_declared(from_state_props: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Which of ToleratedFailureCount(Path) and ToleratedFailurePercentage(Path) the Map declares:
    moto gives the other its default, 0, which does not apply."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (
        ToleratedFailureCountDecl,
        ToleratedFailurePercentageDecl,
    )

    def _from_state_props(self: Any, state_props: Any) -> None:
        from_state_props(self, state_props)
        declared = tuple(
            state_props.get(d) is not None
            for d in (ToleratedFailureCountDecl, ToleratedFailurePercentageDecl)
        )
        self.iteration_component.__dict__[_DECLARED] = declared
        self.iteration_component.__dict__[_WRITES] = self.result_writer is not None

    return _from_state_props


# --- the run -----------------------------------------------------------------------------------


def _failing_beyond_threshold(map_run: Callable[[Any, Any, Any], None]) -> Callable[[Any, Any, Any], None]:
    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        run = eval_input.map_run_record
        declared = self.__dict__.get(_DECLARED, (False, False))
        children = Children(run, len(env.stack[-1]), declared, self.__dict__.get(_WRITES, False))
        run.__dict__[_CHILDREN] = children
        map_run(self, env, eval_input)
        if not env.is_running():
            children.stopped = True
        elif children.exceeded():
            env.stack.pop()  # the outputs
            raise _exceeded(env)  # moto's Map Run records MapRunFailed with its error and cause

    return _map_run


def _exceeded(env: Any) -> Exception:
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )

    name = StatesErrorNameType.StatesExceedToleratedFailureThreshold
    # moto's EventDetails is a TypedDict of every kind of detail: one kind is a plain dict
    details: Any = {
        "executionFailedEventDetails": ExecutionFailedEventDetails(error=name.to_name(), cause=EXCEEDED_CAUSE)
    }
    return FailureEventException(
        FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=name),
            event_type=HistoryEventType.MapRunFailed,
            event_details=details,
        )
    )


def _as_child_execution(eval_job: Callable[[Any, Any, Any], None]) -> Callable[[Any, Any, Any], None]:
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramStopped, ProgramTimedOut

    def status(env: Any) -> str:
        state = env.program_state()
        if isinstance(state, ProgramEnded):
            return "SUCCEEDED"
        if isinstance(state, ProgramStopped | ProgramTimedOut):  # its parent's stop or time-out
            return "ABORTED"
        return "FAILED"  # ProgramError, or an error its program did not catch

    def _eval_job(self: Any, env: Any, job: Any) -> None:
        children = _children(self._map_run_record)
        if children is None:
            eval_job(self, env, job)
            return
        if not self._env.is_running():
            children.stopped = True
        if children.stopped or (not children.at_once(job.job_index) and children.exceeded()):
            job.job_output = None  # not started: the Map Run ends without it
            return
        child = children.start()
        try:
            eval_job(self, env, job)
        finally:
            children.end(child, status(env))

    return _eval_job


def _aborted_when_stopped(set_stop: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    from moto.stepfunctions.parser.api import MapRunStatus

    def _set_stop(self: Any, status: Any) -> None:
        children = _children(self)
        set_stop(self, MapRunStatus.ABORTED if children is not None and children.stopped else status)

    return _set_stop


def _thresholds_updated(update: Callable[..., None]) -> Callable[..., None]:
    def _update(
        self: Any,
        max_concurrency: int | None,
        tolerated_failure_count: int | None,
        tolerated_failure_percentage: float | None,
    ) -> None:
        update(self, max_concurrency, tolerated_failure_count, tolerated_failure_percentage)
        children = _children(self)
        if children is not None:
            children.thresholds_set(
                tolerated_failure_count is not None, tolerated_failure_percentage is not None
            )

    return _update


def _counted(describe: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def _describe(self: Any) -> Any:
        described = describe(self)
        children = _children(self)
        if children is not None:
            described["itemCounts"], described["executionCounts"] = children.counts()
        return described

    return _describe


# --- ListExecutions(mapRunArn) -----------------------------------------------------------------


def _children_listed(list_executions: Callable[[Any], Any]) -> Callable[[Any], Any]:
    action_result = _hooks.resolve("moto.core.responses:ActionResult")[2]

    def _list_executions(self: Any) -> Any:
        from moto.stepfunctions.exceptions import InvalidToken, ResourceNotFound, ValidationException

        map_run_arn = self._get_param("mapRunArn")
        if map_run_arn is None:
            return list_executions(self)
        if self._get_param("stateMachineArn") is not None:
            raise ValidationException("Specify either a stateMachineArn or a mapRunArn, not both")
        size = self._get_int_param("maxResults") or DEFAULT_PAGE
        if not 0 < size <= MAX_PAGE:
            raise ValidationException(
                f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
                f"constraint: Member must have value less than or equal to {MAX_PAGE}"
            )
        run = _map_run(self.stepfunction_backend, map_run_arn)
        if run is None:
            raise ResourceNotFound(map_run_arn)
        children = _children(run)
        started = list(children.started) if children is not None else []
        token = self._get_param("nextToken")
        before = len(started) if token is None else _read_token(token, map_run_arn)
        if before is None or before > len(started):
            raise InvalidToken(token)
        page, more = _page(started, before, size, self._get_param("statusFilter"))
        body: dict[str, Any] = {"executions": [_listed(run, child) for child in page]}
        if more is not None:
            body["nextToken"] = _token(map_run_arn, more)
        return action_result(body)

    return _list_executions


def _map_run(backend: Any, map_run_arn: str) -> Any | None:
    """The Map Run, found as moto's DescribeMapRun finds it: in the execution that started it."""
    for machine in backend.state_machines:
        for execution in machine.executions:
            env = getattr(getattr(execution, "exec_worker", None), "env", None)
            run = env.map_run_record_pool_manager.get(map_run_arn) if env is not None else None
            if run is not None:
                return run
    return None


def _page(started: list[Child], before: int, size: int, status: str | None) -> tuple[list[Child], int | None]:
    """Up to `size` of the children started before the `before`-th, newest first; and where the next
    page starts, if one has any."""
    page: list[Child] = []
    for index in range(before - 1, -1, -1):
        child = started[index]
        if status is None or child.status == status:
            if len(page) == size:
                return page, index + 1
            page.append(child)
    return page, None


def _listed(run: Any, child: Child) -> dict[str, Any]:
    item = {
        "executionArn": child.arn,
        "stateMachineArn": run.map_state_machine_arn,
        "name": child.name,
        "status": child.status,
        "startDate": child.start_date,
        "mapRunArn": run.map_run_arn,
        "itemCount": 1,  # a child an item: moto has no ItemBatcher
    }
    if child.stop_date is not None:
        item["stopDate"] = child.stop_date
    return item


def _token(map_run_arn: str, before: int) -> str:
    fields = json.dumps({"mapRunArn": map_run_arn, "before": before}, separators=(",", ":"))
    return base64.urlsafe_b64encode(fields.encode()).decode()


def _read_token(token: str, map_run_arn: str) -> int | None:
    """Where the page goes on from; None for a token not issued for this Map Run."""
    try:
        fields = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(fields, dict) or fields.get("mapRunArn") != map_run_arn:
        return None
    before = fields.get("before")
    return before if isinstance(before, int) and before >= 0 else None


class _ThresholdsTakeEffect(logging.Filter):
    """moto warns, at every parse of a definition declaring a threshold, that it has no effect:
    here it has, and the warning would mislead whoever reads the local cloud's log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "declarations currently have no effect" not in str(record.msg)


def install() -> None:
    _hooks.resolve(f"{_MAP}.tolerated_failure:ToleratedFailureCountStringJSONata")
    preprocessor_log = logging.getLogger(f"{_PARSER}.asl.parse.preprocessor")
    if not any(isinstance(f, _ThresholdsTakeEffect) for f in preprocessor_log.filters):
        preprocessor_log.addFilter(_ThresholdsTakeEffect())
    _hooks.resolve("moto.stepfunctions.exceptions:ResourceNotFound")
    _hooks.patch(
        f"{_PARSER}.asl.parse.asl_parser:AmazonStateLanguageParser.parse",
        lambda orig: staticmethod(_integer_percentages(orig.__func__)),
    )
    _hooks.patch(
        f"{_PARSER}.asl.parse.preprocessor:Preprocessor.visitTolerated_failure_count_string_jsonata",
        _jsonata_count,
    )
    _hooks.patch(f"{_MAP}.state_map:StateMap.from_state_props", _thresholds_declared)
    _hooks.patch(
        f"{_ITERATION}.distributed_iteration_component:DistributedIterationComponent._map_run",
        _failing_beyond_threshold,
    )
    for dotted in _CHILD_JOBS:
        _hooks.patch(dotted, _as_child_execution)
    _hooks.patch(f"{_RECORD}.set_stop", _aborted_when_stopped)
    _hooks.patch(f"{_RECORD}.update", _thresholds_updated)
    _hooks.patch(f"{_RECORD}.describe", _counted)
    _hooks.patch("moto.stepfunctions.responses:StepFunctionResponse.list_executions", _children_listed)
