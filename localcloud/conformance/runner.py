"""Run the AWS-recorded conformance cases on the local cloud and score them.

A case is a state machine, an input and what AWS recorded (status, output or error and cause,
history event types). Each is run for real: its Lambda functions are deployed, the fixtures it
names are created, the state machine is created and executed, the history is read and compared
with the corpus's own rules (`compare.py` beside the cases).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from localcloud import execution_roles
from localcloud.engine import clock

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = REPO.parent / "shared" / "conformance"
CORPUS_ENV = "LOCALCLOUD_CONFORMANCE_DIR"
BASELINE = Path(__file__).with_name("baseline.json")
ROLE_ARN = "arn:aws:iam::123456789012:role/conformance"
# LocalStack's generated resource names end in c0000001-like counters; they are made unique per
# case so that cases can run side by side (expected values hold placeholders for them).
_TOKEN_RE = re.compile(r"[A-Za-z0-9_\-]+")  # whole tokens: a pattern around c\d{7} backtracks badly
_COUNTER_RE = re.compile(r"c\d{7}")
_POLL_SECONDS = 0.01
_CASE_TIMEOUT = 60.0


def corpus_dir(path: str | os.PathLike[str] | None = None) -> Path:
    return Path(path or os.environ.get(CORPUS_ENV) or DEFAULT_CORPUS)


def load_compare(corpus: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("conformance_compare", corpus / "compare.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(corpus / "compare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Outcome:
    case: dict[str, Any]
    actual: dict[str, Any] = field(default_factory=dict)
    verdict: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # the case could not be run
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return str(self.case["_file"])

    @property
    def feature(self) -> str:
        return str(self.case["feature"])

    @property
    def result_ok(self) -> bool:
        return self.error is None and bool(self.verdict.get("result"))

    @property
    def has_events(self) -> bool:
        return "event_types" in self.case["expected"]

    @property
    def events_ok(self) -> bool:
        return self.error is None and bool(self.verdict.get("events"))

    def reason(self) -> str:
        if self.error:
            return f"not run: {self.error}"
        return "; ".join(self.verdict.get("diffs", [])) or "?"


@dataclass
class Prepared:
    """A case with its resource names made unique where cases could interfere."""

    case: dict[str, Any]
    index: int
    definition: str
    input: str
    lambdas: dict[str, str]  # deployed function name -> code
    names: dict[str, str]  # corpus name -> name used


class Namer:
    """Names for the resources of a run.

    A Lambda function keeps its corpus name when every case that uses the name has the same code
    (cases then share it; the name also appears in recorded payloads and their Content-Length);
    other code variants get a suffix. Everything else (tables, target state machines, event detail
    types, ...) gets a per-case name, since cases run side by side.
    """

    def __init__(self, cases: list[dict[str, Any]], token: str) -> None:
        self.token = token
        self.variants: dict[tuple[str, str], str] = {}
        for case in cases:
            for name, spec in case.get("lambdas", {}).items():
                key = (name, spec["code"])
                if key not in self.variants:
                    n = sum(1 for other in self.variants if other[0] == name)
                    self.variants[key] = name if n == 0 else f"{name}-v{n + 1}{token}"

    def prepare(self, case: dict[str, Any], index: int) -> Prepared:
        names: dict[str, str] = {}
        for name, spec in case.get("lambdas", {}).items():
            names[name] = self.variants[(name, spec["code"])]

        def unique(match: re.Match[str]) -> str:
            original = match.group(0)
            if not _COUNTER_RE.search(original):
                return original
            return names.setdefault(original, f"{original}-{self.token}{index}")

        definition = _TOKEN_RE.sub(unique, json.dumps(case["definition"]))
        inpt = _TOKEN_RE.sub(unique, json.dumps(case["input"]))
        lambdas = {names[name]: spec["code"] for name, spec in case.get("lambdas", {}).items()}
        return Prepared(case, index, definition, inpt, lambdas, names)


class Runner:
    def __init__(self, cloud: Any, compare: ModuleType, workers: int = 8) -> None:
        self.cloud = cloud
        self.compare = compare
        self.workers = workers
        self.sfn = cloud.client("stepfunctions")
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.token = uuid.uuid4().hex[:3]
        self._role_ready = False
        self._shared: set[str] = set()

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.cloud.client(service)
            return self._clients[service]

    # -- resources ------------------------------------------------------------------------------

    def _ensure_role(self) -> None:
        if self._role_ready:
            return
        # the recorded runs' roles could do what their definitions ask
        execution_roles.unrestricted_role(self.client("iam"), ROLE_ARN.rsplit("/", 1)[1])
        self._role_ready = True

    def deploy_lambda(self, name: str, code: str) -> None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("handler.py", code)
        self.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE_ARN,
            Handler="handler.handler",
            Code={"ZipFile": buf.getvalue()},
            Timeout=30,
        )

    def create_fixtures(self, p: Prepared) -> None:
        needs = set(p.case.get("needs", []))
        inpt = json.loads(p.input)
        if "fixture:dynamodb_create_table" in needs and isinstance(inpt, dict) and "TableName" in inpt:
            self.client("dynamodb").create_table(
                TableName=inpt["TableName"],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        for original, name in p.names.items():
            # the target of the sfn:startExecution cases: any state machine will do
            if (
                original.startswith("statemachine_create_and_record_execution")
                and "NoSuchArn" not in original
            ):
                self._ensure_state_machine(name)

    def _ensure_state_machine(self, name: str) -> None:
        with self._lock:
            if name in self._shared:
                return
            self._shared.add(name)
        self.sfn.create_state_machine(
            name=name,
            definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
            roleArn=ROLE_ARN,
        )

    # -- one case -------------------------------------------------------------------------------

    def run_case(self, p: Prepared) -> Outcome:
        outcome = Outcome(p.case)
        started = time.perf_counter()
        try:
            self.create_fixtures(p)
            outcome.actual = self._execute(p)
            outcome.verdict = self.compare.compare(p.case, outcome.actual)
        except Exception as exc:  # a case that cannot run is a miss, with the reason
            outcome.error = f"{type(exc).__name__}: {str(exc)[:300]}"
        outcome.seconds = time.perf_counter() - started
        return outcome

    def _execute(self, p: Prepared) -> dict[str, Any]:
        case = p.case
        kwargs: dict[str, Any] = {}
        if "loggingConfiguration" in case["hints"].get("sm_extra_args", []):
            kwargs["loggingConfiguration"] = {"level": "OFF", "includeExecutionData": False}
        sm_arn = self.sfn.create_state_machine(
            name=f"conf-{self.token}{p.index}",
            definition=p.definition,
            roleArn=ROLE_ARN,
            type=case.get("state_machine_type", "STANDARD"),
            **kwargs,
        )["stateMachineArn"]
        if case.get("mode") == "sync":
            res = self.sfn.start_sync_execution(stateMachineArn=sm_arn, input=p.input)
            return {k: res.get(k) for k in ("status", "output", "error", "cause")}
        exec_arn = self.sfn.start_execution(stateMachineArn=sm_arn, name=f"e{p.index}", input=p.input)[
            "executionArn"
        ]
        interaction = [n for n in case.get("needs", []) if n.startswith("interaction:")]
        if "interaction:stop_execution" in interaction:
            self._wait_for_event(exec_arn, "WaitStateEntered")
            self.sfn.stop_execution(executionArn=exec_arn)
        describe = self._wait_done(exec_arn)
        events = self._history(exec_arn)
        return dict(self.compare.history_to_actual(events, describe))

    def _wait_done(self, exec_arn: str) -> dict[str, Any]:
        deadline = time.monotonic() + _CASE_TIMEOUT
        while True:
            describe: dict[str, Any] = self.sfn.describe_execution(executionArn=exec_arn)
            if describe["status"] != "RUNNING":
                return describe
            if time.monotonic() > deadline:
                raise TimeoutError(f"still RUNNING after {_CASE_TIMEOUT:.0f}s")
            time.sleep(_POLL_SECONDS)

    def _wait_for_event(self, exec_arn: str, event_type: str) -> None:
        deadline = time.monotonic() + _CASE_TIMEOUT
        while not any(e["type"] == event_type for e in self._history(exec_arn)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event_type} after {_CASE_TIMEOUT:.0f}s")
            time.sleep(_POLL_SECONDS)

    def _history(self, exec_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": exec_arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    # -- all cases ------------------------------------------------------------------------------

    def run(
        self, cases: list[dict[str, Any]], progress: Callable[[Outcome], None] | None = None
    ) -> list[Outcome]:
        namer = Namer(cases, self.token)
        prepared = [namer.prepare(c, i) for i, c in enumerate(cases)]
        self._ensure_role()
        functions = {name: code for p in prepared for name, code in p.lambdas.items()}
        deploy_errors: dict[str, str] = {}
        with ThreadPoolExecutor(self.workers) as pool:
            for name, err in zip(functions, pool.map(self._try_deploy, functions.items()), strict=True):
                if err:
                    deploy_errors[name] = err
        # cases that interact with a running execution need real time; the rest run on an instant clock
        live = [p for p in prepared if any(n.startswith("interaction:") for n in p.case.get("needs", []))]
        batch = [p for p in prepared if p not in live]
        results: dict[int, Outcome] = {}

        def one(p: Prepared) -> Outcome:
            failed = [n for n in p.lambdas if n in deploy_errors]
            if failed:
                out = Outcome(p.case, error=f"deploying {failed[0]}: {deploy_errors[failed[0]]}")
            else:
                out = self.run_case(p)
            if progress:
                progress(out)
            return out

        with clock.instant(), ThreadPoolExecutor(self.workers) as pool:
            for p, out in zip(batch, pool.map(one, batch), strict=True):
                results[p.index] = out
        for p in live:
            results[p.index] = one(p)
        return [results[i] for i in range(len(prepared))]

    def _try_deploy(self, item: tuple[str, str]) -> str | None:
        try:
            self.deploy_lambda(*item)
            return None
        except Exception as exc:
            return f"{type(exc).__name__}: {str(exc)[:200]}"


@contextmanager
def local_cloud() -> Iterator[Any]:
    from localcloud.server import LocalCloud

    with LocalCloud() as cloud:
        yield cloud


def select(
    cases: list[dict[str, Any]], feature: str | None = None, match: str | None = None
) -> list[dict[str, Any]]:
    out = cases
    if feature:
        wanted = set(feature.split(","))
        out = [c for c in out if c["feature"] in wanted]
    if match:
        out = [c for c in out if match in c["_file"]]
    return out


# -- scoring ------------------------------------------------------------------------------------


def score(outcomes: list[Outcome]) -> dict[str, Any]:
    def block(items: list[Outcome]) -> dict[str, int]:
        with_events = [o for o in items if o.has_events]
        return {
            "cases": len(items),
            "result": sum(o.result_ok for o in items),
            "with_events": len(with_events),
            "events": sum(o.events_ok for o in with_events),
        }

    features = sorted({o.feature for o in outcomes})
    return {
        "total": block(outcomes),
        "features": {f: block([o for o in outcomes if o.feature == f]) for f in features},
    }


def pct(n: int, d: int) -> str:
    return f"{100.0 * n / d:5.1f}%" if d else "   n/a"


def report(outcomes: list[Outcome], seconds: float, command: str) -> str:
    s = score(outcomes)
    lines = [
        f"{'feature':<22} {'cases':>5} {'result':>7} {'%':>6}   {'events':>6}/{'rec':<4} {'%':>6}",
    ]
    for name, b in [*s["features"].items(), ("TOTAL", s["total"])]:
        if name == "TOTAL":
            lines.append("-" * len(lines[0]))
        lines.append(
            f"{name:<22} {b['cases']:>5} {b['result']:>7} {pct(b['result'], b['cases'])}   "
            f"{b['events']:>6}/{b['with_events']:<4} {pct(b['events'], b['with_events'])}"
        )
    misses = [o for o in outcomes if not o.result_ok or (o.has_events and not o.events_ok)]
    if misses:
        lines.append("")
        lines.append(f"misses ({len(misses)}):")
        for o in misses:
            what = (
                "result+events"
                if not o.result_ok and o.has_events and not o.events_ok
                else ("result" if not o.result_ok else "events")
            )
            lines.append(f"  [{o.feature}] {o.name} ({what}): {o.reason()[:400]}")
    slow = sorted(outcomes, key=lambda o: o.seconds, reverse=True)[:5]
    lines.append("")
    lines.append("slowest: " + ", ".join(f"{o.name[:60]} {o.seconds:.1f}s" for o in slow))
    lines.append(f"{len(outcomes)} cases in {seconds:.1f}s: {command}")
    return "\n".join(lines)


def load_baseline(path: Path = BASELINE) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def write_baseline(outcomes: list[Outcome], path: Path = BASELINE) -> None:
    s = score(outcomes)
    payload = {
        "comment": "last recorded conformance figures; tests/fidelity fails when a run scores below them",
        "total": s["total"],
        "features": s["features"],
        "misses": sorted(o.name for o in outcomes if not o.result_ok),
        "event_misses": sorted(o.name for o in outcomes if o.has_events and not o.events_ok),
    }
    path.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
