"""Runs deployed Lambda zips in warm Python worker processes, in place of moto's Docker path.

moto calls `LambdaFunction._invoke_lambda(event) -> (payload, errored, logs)` for every Invoke,
whether it comes from `lambda.invoke`, a Step Functions `lambda:invoke` task or a Task whose
Resource is a function ARN (qualified or not): moto resolves the qualifier to the version object
before calling it. Replacing that one method puts every path through this runtime.

A pool of workers per function version and code hash: the first invoke extracts the zip and
starts a worker (cold start), later ones reuse an idle worker; one invocation per worker at a
time, a new worker when all are busy, up to a cap (the function's current reserved
concurrency, which throttles like AWS, or `max_workers`, which queues).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from localcloud import execution_roles, pins
from localcloud.lambda_names import qualifier_of

LOG = logging.getLogger(__name__)
_WORKER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lambda_worker.py")
_INIT_TIMEOUT = 30.0  # seconds a worker may take to import its handler
# Host variables a worker keeps; everything else comes from the function, as on AWS.
_HOST_VARS = ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "HOME")
# How long a caller polls for a worker's answer before it sleeps on the pipe. On a virtual
# machine, a thread asleep on an idle CPU takes 0.1-0.3 ms to wake, longer than a warm handler
# such as a Task's add-one takes to answer; polling keeps the caller on its CPU.
_ANSWER_POLL = 0.0005

# The hook point, checked at import: a moto that moved it fails here, naming it.
_LAMBDA_FUNCTION = pins.resolve("moto.awslambda.models", "LambdaFunction")
pins.resolve("moto.awslambda.models", "LambdaFunction", "_invoke_lambda")
pins.resolve("moto.awslambda.models", "LambdaFunction", "invoke")
_LAMBDA_BACKENDS = pins.resolve("moto.awslambda.models", "lambda_backends")
_LAMBDA_BACKEND = pins.resolve("moto.awslambda.models", "LambdaBackend")
_LAMBDA_RESPONSE = pins.resolve("moto.awslambda.responses", "LambdaResponse")
pins.resolve("moto.core.responses", "BaseResponse", "_enrich_response")
pins.resolve("moto.awslambda.responses", "LambdaResponse", "invoke")
pins.resolve("moto.awslambda.models", "LambdaBackend", "invoke")
pins.resolve("moto.logs.models", "LogStream", "put_log_events")

# The qualifier the caller used (alias or version), for context.invoked_function_arn: moto hands the
# runtime the resolved version object only.
_invoked = threading.local()


def _caller_qualifier(function_name: str, qualifier: str | None) -> str | None:
    return qualifier or qualifier_of(function_name)


_DEFAULT_ACCOUNT = pins.resolve("moto.core", "DEFAULT_ACCOUNT_ID")

FAULTS = ("error", "service_error", "throttle", "timeout", "latency", "hold")
# how long a "hold" fault holds an invocation that nobody releases: a test that fails before
# releasing it must not leave a worker waiting for ever
HOLD_LIMIT_SECONDS = 300.0


_lifeline_lock = threading.Lock()
_lifeline: tuple[int, int] | None = None


def _lifeline_fd() -> int:
    """The read end of a pipe whose write end this process alone holds, open until it ends.

    Each worker reads it in a thread and ends itself at EOF, so no worker outlives this process,
    however it ends (an exception, SIGTERM, SIGKILL): an orphan busy in its handler would never read
    EOF on its stdin, and would hold this process's stderr, a pipe to a `| tail` say, open meanwhile.
    (PR_SET_PDEATHSIG fires when the thread that started the worker ends: an execution's, a
    request's, long before the process.)"""
    global _lifeline
    with _lifeline_lock:
        if _lifeline is None:
            _lifeline = os.pipe()  # not inheritable: only pass_fds hands the read end on
        return _lifeline[0]


def _forget_lifeline() -> None:
    """In a forked child: the parent's workers end with the parent, not with this copy of it."""
    global _lifeline, _lifeline_lock
    _lifeline_lock = threading.Lock()
    if _lifeline is not None:
        for fd in _lifeline:
            os.close(fd)
        _lifeline = None


os.register_at_fork(after_in_child=_forget_lifeline)


class WorkerTimeout(Exception):
    pass


class WorkerDied(Exception):
    pass


_STOPPED = "signal: killed"  # an invocation the runtime's stop ended, as its sandbox's death


def _moto_error_class() -> type[Exception]:
    base: type[Exception] = pins.resolve("moto.core.exceptions", "JsonRESTError")
    return base


class LambdaApiError(_moto_error_class()):  # type: ignore[misc]
    """An error of the Invoke API itself (not of the function), rendered by moto as AWS does."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.code = status
        super().__init__(code, message)


@dataclass
class Fault:
    kind: str
    rate: float = 1.0
    times: int | None = None
    latency: float = 0.0
    error_type: str = "InjectedError"
    message: str = "Fault injected by localcloud"
    # a "hold" fault's end: what it held, and would hold, runs on (set before an invocation comes
    # to it, it holds nothing)
    released: threading.Event = field(default_factory=threading.Event)


@dataclass
class InvokeResult:
    payload: str
    errored: bool
    logs: str
    request_id: str
    worker_pid: int | None = None
    cold: bool = False


def _error_doc(kind: str, request_id: str, detail: str) -> dict[str, Any]:
    """What Lambda answers when the sandbox, not the handler, fails."""
    return {"errorType": kind, "errorMessage": f"RequestId: {request_id} Error: {detail}"}


class _Worker:
    """One sandbox process and the line protocol of lambda_worker.py."""

    def __init__(self, code_dir: str, handler: str, env: dict[str, str]) -> None:
        """Starts the process, which then imports the handler (wait_ready)."""
        self.log_stream = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        lifeline = _lifeline_fd()
        self.proc = subprocess.Popen(
            [sys.executable, _WORKER_SCRIPT, code_dir, handler, str(lifeline)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=code_dir,
            close_fds=True,
            pass_fds=(lifeline,),
            # Ctrl-C on the server must not hit the sandboxes; and a sandbox's process group is
            # what ends with it, the processes its handler started included
            start_new_session=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin
        self._fd = self.proc.stdout.fileno()
        os.set_blocking(self._fd, False)  # select() says when a blocking read would not block
        self._buf = bytearray()
        self.pid = self.proc.pid
        self.init_ms, self.init_logs = 0.0, ""

    def wait_ready(self) -> None:
        """Until the handler is imported: WorkerDied when the import ends the process (or end()
        does), WorkerTimeout when it takes too long."""
        ready = self._read(time.monotonic() + _INIT_TIMEOUT)
        self.init_ms = ready["init_ms"]
        self.init_logs = ready.get("logs", "")

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        try:
            self._in.write(json.dumps(request).encode() + b"\n")
            self._in.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerDied(self._exit_status()) from exc
        self._poll(min(deadline, time.monotonic() + _ANSWER_POLL))
        return self._read(deadline)

    def _poll(self, until: float) -> None:
        """Reads what the worker answers without sleeping, until `until`."""
        while self._buf.find(b"\n") < 0 and time.monotonic() < until:
            with contextlib.suppress(BlockingIOError):
                self._receive()

    def _read(self, deadline: float) -> dict[str, Any]:
        while (end := self._buf.find(b"\n")) < 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._fd], [], [], remaining)[0]:
                raise WorkerTimeout()
            self._receive()
        line = bytes(self._buf[:end])
        del self._buf[: end + 1]
        result: dict[str, Any] = json.loads(line)
        return result

    def _receive(self) -> None:
        """What the pipe holds, into the buffer (BlockingIOError when it holds nothing yet)."""
        chunk = os.read(self._fd, 1 << 16)
        if not chunk:
            raise WorkerDied(self._exit_status())
        self._buf += chunk

    def _exit_status(self) -> str:
        """As Lambda's runtime reports a process's end ("exit status 3", "signal: killed")."""
        try:
            code = self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return "unknown"
        if code >= 0:
            return f"exit status {code}"
        # Go's names, which Lambda's runtime gives, are the C library's in lower case: an
        # out-of-memory kill is "signal: killed", a crash in native code "signal: segmentation fault"
        return f"signal: {(signal.strsignal(-code) or f'signal {-code}').lower()}"

    def end(self) -> None:
        """SIGKILL to the sandbox's process group: the worker and what its handler started, even
        once the worker itself has died (a crash leaves its children running). The group's id
        stays taken while any member lives; once none does, only a pid wrapping round within
        these milliseconds could give it to another group. Safe while another thread is in call():
        that one reads EOF."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    def kill(self) -> None:
        self.end()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


_ABSENT = object()


@dataclass
class _Spec:
    """What a worker needs from a moto LambdaFunction, read once per invoke."""

    name: str
    version: str
    arn: str
    handler: str
    code: bytes
    code_sha: str
    timeout: int
    memory: int
    env: dict[str, str]
    runtime: str
    reserved: int | None
    logs_backend: Any
    log_group: str
    role: str

    @classmethod
    def of(cls, fn: Any) -> _Spec:
        def attr(name: str) -> Any:
            value = getattr(fn, name, _ABSENT)
            if value is _ABSENT:
                raise pins.MotoHookMissing(f"moto LambdaFunction has no attribute {name!r}")
            return value

        reserved = attr("reserved_concurrency")
        return cls(
            name=attr("function_name"),
            version=str(attr("version")),
            arn=attr("function_arn"),
            handler=attr("handler") or "",
            code=attr("code_bytes"),
            code_sha=attr("code_sha_256"),
            timeout=int(attr("timeout")),
            memory=int(attr("memory_size")),
            env={str(k): str(v) for k, v in (attr("environment_vars") or {}).items()},
            runtime=attr("run_time") or "python3.11",
            reserved=int(reserved) if reserved not in (None, "") else None,
            logs_backend=attr("logs_backend"),
            log_group=attr("logs_group_name"),
            role=attr("role"),
        )

    def pool_key(self) -> tuple[Any, ...]:
        return (self.arn, self.version, self.code_sha, self.handler, self.memory, *sorted(self.env.items()))


@dataclass
class _Pool:
    spec: _Spec
    code_dir: str
    cap: int
    idle: list[_Worker] = field(default_factory=list)
    busy: set[_Worker] = field(default_factory=set)  # in an invocation, for stop() to end
    size: int = 0
    closed: bool = False
    stopped: bool = False  # by the runtime's stop (closed: replaced or evicted, busy ones run on)
    cond: threading.Condition = field(default_factory=threading.Condition)


class LambdaRuntime:
    """Warm worker pools for the functions deployed to one local cloud."""

    def __init__(
        self,
        endpoint: str,
        region: str = "us-east-1",
        cache_dir: str | None = None,
        max_workers: int = 8,
        max_pools: int = 64,
    ) -> None:
        self.endpoint = endpoint
        self.region = region
        self.max_workers = max_workers  # per function version, when it has no reserved concurrency
        self.max_pools = max_pools  # function versions kept warm; the least recently used goes first
        self._own_cache = cache_dir is None
        self.cache_dir = cache_dir or tempfile.mkdtemp(prefix="localcloud-lambda-")
        self._pools: OrderedDict[tuple[Any, ...], _Pool] = OrderedDict()
        self._lock = threading.Lock()
        self._faults: dict[str, list[Fault]] = {}
        self._original: Any = None
        self._original_invoke: Any = None
        self._original_backend_invoke: Any = None
        self._original_api_invoke: Any = None

    # -- hook -------------------------------------------------------------------------------

    def install(self) -> None:
        """Route moto's Lambda invocations through this runtime (one runtime per process)."""
        cls = _LAMBDA_FUNCTION
        original = cls._invoke_lambda
        runtime = self
        self._original = pins.original(original)

        def _invoke_lambda(fn: Any, event: Any = None) -> tuple[str, bool, str]:
            result = runtime.invoke_function(fn, event)
            _invoked.request_id = result.request_id
            return result.payload, result.errored, result.logs

        _invoke_lambda.__localcloud_original__ = self._original  # type: ignore[attr-defined]
        cls._invoke_lambda = _invoke_lambda

        # InvocationType=Event: answer 202 at once and run in the background, as Lambda does
        # (moto would run it before answering, blocking the caller for the whole invocation).
        sync_invoke = pins.original(cls.invoke)

        def invoke(fn: Any, body: str, request_headers: Any, response_headers: Any) -> str | bytes:
            if request_headers.get("x-amz-invocation-type") != "Event":
                result: str | bytes = sync_invoke(fn, body, request_headers, response_headers)
                # moto says Handled; Lambda's Python runtime reports every function error, a
                # raised exception as much as a timeout, as Unhandled
                if "x-amz-function-error" in response_headers:
                    response_headers["x-amz-function-error"] = "Unhandled"
                return result
            qualifier = getattr(_invoked, "qualifier", None)
            # the 202 answer names the request id the background invocation runs and logs with
            _invoked.request_id = str(uuid.uuid4())
            threading.Thread(
                target=runtime._run_event,
                args=(sync_invoke, fn, body, qualifier, _invoked.request_id),
                name="lambda-event",
                daemon=True,
            ).start()
            return b""

        invoke.__localcloud_original__ = sync_invoke  # type: ignore[attr-defined]
        cls.invoke = invoke
        self._original_invoke = sync_invoke
        self._install_invoke_api()

    def _install_invoke_api(self) -> None:
        """The Invoke API's answer as Lambda gives it: the version asked for is the one that runs,
        and the answer names it and the invocation's request id."""
        backend_invoke = pins.original(_LAMBDA_BACKEND.invoke)

        def invoke_api(
            backend: Any,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> Any:
            # The version that runs, which Lambda answers with (for an alias, the version it points at)
            version = str(backend.get_function(function_name, qualifier).version)
            _invoked.qualifier, _invoked.request_id = _caller_qualifier(function_name, qualifier), None
            try:
                payload = backend_invoke(backend, function_name, qualifier, body, headers, response_headers)
            finally:
                _invoked.qualifier = None
            if headers.get("x-amz-invocation-type") != "Event":
                response_headers["x-amz-executed-version"] = version
            # Lambda answers with the invocation's request id, the one its logs and context show
            if _invoked.request_id:
                response_headers["x-amzn-requestid"] = _invoked.request_id
            return payload

        invoke_api.__localcloud_original__ = backend_invoke  # type: ignore[attr-defined]
        _LAMBDA_BACKEND.invoke = invoke_api
        self._original_backend_invoke = backend_invoke

        # The Invoke API's query parameter is `Qualifier`; moto reads `qualifier`, and so ran
        # $LATEST whatever version or alias the caller asked for.
        api_invoke = pins.original(_LAMBDA_RESPONSE.invoke)

        def invoke_response(response: Any) -> Any:
            if "Qualifier" in response.querystring:
                response.querystring.setdefault("qualifier", response.querystring["Qualifier"])
            return api_invoke(response)

        invoke_response.__localcloud_original__ = api_invoke  # type: ignore[attr-defined]
        _LAMBDA_RESPONSE.invoke = invoke_response
        self._original_api_invoke = api_invoke

        # moto gives every response a new request id; an Invoke keeps its invocation's
        enrich = pins.original(_LAMBDA_RESPONSE._enrich_response)

        def keep_request_id(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
            request_id = headers.get("x-amzn-requestid")
            headers, body = enrich(headers, body)
            if request_id:
                headers["x-amzn-requestid"] = request_id
            return headers, body

        keep_request_id.__localcloud_original__ = enrich  # type: ignore[attr-defined]
        _LAMBDA_RESPONSE._enrich_response = staticmethod(keep_request_id)

    @staticmethod
    def _run_event(sync_invoke: Any, fn: Any, body: str, qualifier: str | None, request_id: str) -> None:
        _invoked.qualifier, _invoked.assigned_request_id = qualifier, request_id
        try:
            sync_invoke(fn, body, {"x-amz-invocation-type": "Event"}, {})
        except Exception:  # nobody waits for an Event invocation: its failure is only logged
            LOG.exception("asynchronous invocation of %s failed", getattr(fn, "function_name", "?"))

    def uninstall(self) -> None:
        if self._original is not None:
            _LAMBDA_FUNCTION._invoke_lambda = self._original
            _LAMBDA_FUNCTION.invoke = self._original_invoke
            _LAMBDA_BACKEND.invoke = self._original_backend_invoke
            _LAMBDA_RESPONSE.invoke = self._original_api_invoke
            del _LAMBDA_RESPONSE._enrich_response  # back to BaseResponse's
            self._original = None

    # -- faults -----------------------------------------------------------------------------

    def inject(
        self,
        function_name: str,
        fault: str,
        rate: float = 1.0,
        times: int | None = None,
        latency: float = 0.0,
        error_type: str = "InjectedError",
        message: str = "Fault injected by localcloud",
    ) -> None:
        """Make invocations of `function_name` fail (or slow down) at `rate`, `times` times at most.

        fault: "error" (the handler fails with `error_type`), "service_error" (Invoke answers 500
        ServiceException: SFN sees Lambda.ServiceException), "throttle" (429
        TooManyRequestsException: Lambda.TooManyRequestsException), "timeout" (Sandbox.Timedout
        at once, without waiting), "latency" (adds `latency` seconds, then runs normally), "hold"
        (waits until release(), then runs normally: a test decides when, not a clock)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; expected one of {', '.join(FAULTS)}")
        with self._lock:
            self._faults.setdefault(function_name, []).append(
                Fault(fault, rate, times, latency, error_type, message)
            )

    def clear_faults(self, function_name: str | None = None) -> None:
        """Inject no more faults (into `function_name`, or any); invocations held are released."""
        self.release(function_name)
        with self._lock:
            if function_name is None:
                self._faults.clear()
            else:
                self._faults.pop(function_name, None)

    def release(self, function_name: str | None = None) -> None:
        """End the "hold" faults (of `function_name`, or any): what they hold runs on, and an
        invocation that had yet to come to one is not held."""
        with self._lock:
            names = list(self._faults) if function_name is None else [function_name]
            for fault in (f for name in names for f in self._faults.get(name, [])):
                fault.released.set()

    def _draw_fault(self, name: str) -> Fault | None:
        with self._lock:
            for fault in self._faults.get(name, []):
                if fault.times is not None and fault.times <= 0:
                    continue
                if random.random() < fault.rate:
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    # -- invoke -----------------------------------------------------------------------------

    def invoke(self, function_name: str, event: Any, qualifier: str | None = None) -> InvokeResult:
        """Invoke a deployed function in-process (no HTTP): what the Invoke API does, for benches."""
        fn = _LAMBDA_BACKENDS[_DEFAULT_ACCOUNT][self.region].get_function(function_name, qualifier)
        _invoked.qualifier = _caller_qualifier(function_name, qualifier)
        try:
            return self.invoke_function(fn, event)
        finally:
            _invoked.qualifier = None

    def invoke_function(self, fn: Any, event: Any) -> InvokeResult:
        """Run one invocation of a moto LambdaFunction (a version object when a qualifier was used)."""
        spec = _Spec.of(fn)
        request_id = getattr(_invoked, "assigned_request_id", None) or str(uuid.uuid4())
        _invoked.assigned_request_id = None  # one invocation's only
        if isinstance(event, bytes):
            event = json.loads(event or b"{}")
        elif event == "{}":  # moto's stand-in for an empty body; any other str is a JSON string payload
            event = {}
        fault = self._draw_fault(spec.name)
        if fault is not None:
            if fault.kind == "hold":
                fault.released.wait(HOLD_LIMIT_SECONDS)
            elif fault.kind != "latency":
                return self._fault_result(spec, fault, request_id)
            time.sleep(fault.latency)
        pool = self._pool(spec)
        try:
            worker, cold = self._acquire(pool)
        except WorkerDied as died:  # the import exited the process
            doc = _error_doc("Runtime.ExitError", request_id, f"Runtime exited with error: {died}")
            return InvokeResult(json.dumps(doc), True, "", request_id)
        except WorkerTimeout:  # the import hung
            doc = _error_doc("Sandbox.Timedout", request_id, "Init timed out")
            return InvokeResult(json.dumps(doc), True, "", request_id)
        started = time.perf_counter()
        qualifier = getattr(_invoked, "qualifier", None)
        invoked_arn = ":".join(spec.arn.split(":")[:7]) + (f":{qualifier}" if qualifier else "")
        request = {
            "id": request_id,
            "event": event,
            "arn": invoked_arn,
            "deadline": time.time() + spec.timeout,
        }
        try:
            answer = worker.call(request, spec.timeout)
        except WorkerTimeout:
            self._discard(pool, worker)
            timed_out = f"Task timed out after {spec.timeout:.2f} seconds"
            doc = _error_doc("Sandbox.Timedout", request_id, timed_out)
            logs = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ} {request_id} {timed_out}\n"
            return self._finish(spec, worker, request_id, doc, True, logs, started, cold, "timeout")
        except WorkerDied as died:
            self._discard(pool, worker)
            doc = _error_doc("Runtime.ExitError", request_id, f"Runtime exited with error: {died}")
            return self._finish(spec, worker, request_id, doc, True, "", started, cold, "error")
        self._release(pool, worker)
        logs = (worker.init_logs if cold else "") + answer.get("logs", "")
        return self._finish(
            spec,
            worker,
            request_id,
            answer["payload"],
            not answer["ok"],
            logs,
            started,
            cold,
            None,
            answer.get("max_memory_mb"),
        )

    def _fault_result(self, spec: _Spec, fault: Fault, request_id: str) -> InvokeResult:
        if fault.kind == "throttle":
            raise LambdaApiError(429, "TooManyRequestsException", "Rate Exceeded.")
        if fault.kind == "service_error":
            raise LambdaApiError(500, "ServiceException", fault.message)
        doc: dict[str, Any]
        if fault.kind == "timeout":
            doc = _error_doc(
                "Sandbox.Timedout", request_id, f"Task timed out after {spec.timeout:.2f} seconds"
            )
        else:
            doc = {"errorType": fault.error_type, "errorMessage": fault.message, "stackTrace": []}
        return InvokeResult(json.dumps(doc), True, "", request_id)

    def _finish(
        self,
        spec: _Spec,
        worker: _Worker,
        request_id: str,
        payload: str | dict[str, Any],
        errored: bool,
        logs: str,
        started: float,
        cold: bool,
        status: str | None,
        max_memory_mb: int | None = None,  # as the worker measured it; None when it did not answer
    ) -> InvokeResult:
        duration = (time.perf_counter() - started) * 1000
        if not isinstance(payload, str):
            payload = json.dumps(payload)
        report = f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
        report += f"Billed Duration: {int(duration) + 1} ms\tMemory Size: {spec.memory} MB\t"
        report += f"Max Memory Used: {max_memory_mb or spec.memory} MB"
        if cold:
            report += f"\tInit Duration: {worker.init_ms:.2f} ms"
        if status:
            report += f"\tStatus: {status}"
        lines = [f"START RequestId: {request_id} Version: {spec.version}"]
        lines += logs.splitlines()
        lines += [f"END RequestId: {request_id}", report]
        self._write_logs(spec, worker.log_stream, lines)
        return InvokeResult(payload, errored, "\n".join(lines), request_id, worker.pid, cold)

    @staticmethod
    def _write_logs(spec: _Spec, stream: str, lines: list[str]) -> None:
        now = int(time.time() * 1000)
        backend = spec.logs_backend
        # ensure_* are cheap dict look-ups; a moto reset may have dropped the group meanwhile.
        backend.ensure_log_group(spec.log_group)
        backend.ensure_log_stream(spec.log_group, stream)
        # Put to the stream itself: the backend's put_log_events would only check, at half the
        # cost of the call, that events stamped now are neither 14 days old nor 2 hours ahead.
        events = [{"timestamp": now, "message": m} for m in lines]
        backend.groups[spec.log_group].streams[stream].put_log_events(events)

    # -- pools ------------------------------------------------------------------------------

    def _pool(self, spec: _Spec) -> _Pool:
        key = spec.pool_key()
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                pool.spec = spec  # timeout may have changed without a new worker
                self._set_cap(pool, self._cap(spec))  # and so may the reserved concurrency
                self._pools.move_to_end(key)
                return pool
            # A new version of the code or configuration retires the older pools of the function.
            for old_key, old in list(self._pools.items()):
                if old.spec.arn == spec.arn and old.spec.version == spec.version:
                    del self._pools[old_key]
                    self._close_pool(old)
            while len(self._pools) >= self.max_pools:
                self._close_pool(self._pools.popitem(last=False)[1])
            pool = _Pool(spec, self._extract(spec), self._cap(spec))
            self._pools[key] = pool
            return pool

    def _extract(self, spec: _Spec) -> str:
        if not spec.code:
            raise LambdaApiError(400, "InvalidParameterValueException", f"{spec.name} has no zip code")
        target = os.path.join(self.cache_dir, spec.code_sha.replace("/", "_").replace("+", "-"))
        if not os.path.isdir(target):
            staging = tempfile.mkdtemp(dir=self.cache_dir)
            with zipfile.ZipFile(io.BytesIO(spec.code)) as archive:
                archive.extractall(staging)
            try:
                os.rename(staging, target)
            except OSError:  # extracted by a concurrent cold start
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def _cap(self, spec: _Spec) -> int:
        return spec.reserved if spec.reserved is not None else self.max_workers

    @staticmethod
    def _set_cap(pool: _Pool, cap: int) -> None:
        with pool.cond:
            pool.cap = cap
            while pool.size > cap and pool.idle:  # idle workers above a lowered cap retire
                pool.size -= 1
                pool.idle.pop(0).kill()

    def _acquire(self, pool: _Pool) -> tuple[_Worker, bool]:
        with pool.cond:
            while pool.size - len(pool.idle) >= pool.cap and not pool.stopped:  # as many running as allowed
                if pool.spec.reserved is not None:
                    raise LambdaApiError(429, "TooManyRequestsException", "Rate Exceeded.")
                pool.cond.wait()
            if pool.stopped:  # the runtime stopped since the pool was found
                raise WorkerDied(_STOPPED)
            if pool.idle:
                warm = pool.idle.pop()
                pool.busy.add(warm)
                return warm, False
            pool.size += 1
        worker: _Worker | None = None
        try:
            worker = _Worker(pool.code_dir, pool.spec.handler, self._worker_env(pool))
            with pool.cond:  # busy while its import runs: stop() ends it too
                pool.busy.add(worker)
                if pool.stopped:
                    worker.end()
            worker.wait_ready()
            if pool.stopped:  # stopped as its import ended: it ends now, as the busy ones did
                raise WorkerDied(_STOPPED)
        except BaseException:
            with pool.cond:
                if worker is not None:  # None: it never started
                    pool.busy.discard(worker)
                pool.size -= 1
                pool.cond.notify()
            if worker is not None:
                worker.kill()
            raise
        return worker, True

    def _release(self, pool: _Pool, worker: _Worker) -> None:
        with pool.cond:
            pool.busy.discard(worker)
            if pool.closed or pool.size > pool.cap:
                pool.size -= 1
                worker.kill()
            else:
                pool.idle.append(worker)
            pool.cond.notify()

    def _discard(self, pool: _Pool, worker: _Worker) -> None:
        worker.kill()
        with pool.cond:
            pool.busy.discard(worker)
            pool.size -= 1
            pool.cond.notify()

    @staticmethod
    def _close_pool(pool: _Pool, busy_too: bool = False) -> None:
        """Ends the idle workers; a busy one ends when its invocation does, or now with busy_too
        (its invocation then fails as its sandbox's death, "signal: killed")."""
        with pool.cond:
            pool.closed = True
            for worker in pool.idle:
                pool.size -= 1
                worker.kill()
            pool.idle.clear()
            if busy_too:
                pool.stopped = True
                for worker in pool.busy:
                    worker.end()
                pool.cond.notify_all()  # an invocation waiting for a worker is ended too

    def _worker_env(self, pool: _Pool) -> dict[str, str]:
        spec = pool.spec
        env = {k: os.environ[k] for k in _HOST_VARS if k in os.environ}
        env.update(spec.env)
        now = datetime.now(UTC)
        env.update(execution_roles.credentials(spec.role, spec.name))  # its calls act as its role
        env.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",  # see LocalCloud.env()
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout),
                "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
                "AWS_LAMBDA_LOG_STREAM_NAME": f"{now:%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}",
                "LAMBDA_TASK_ROOT": pool.code_dir,
                "_HANDLER": spec.handler,
                "TZ": ":UTC",
            }
        )
        return env

    # -- introspection and shutdown ---------------------------------------------------------

    def worker_pids(self, function_name: str) -> list[int]:
        """Pids of the idle workers of a function (all versions)."""
        with self._lock:
            pools = [p for p in self._pools.values() if p.spec.name == function_name]
        return [w.pid for p in pools for w in list(p.idle)]

    def stop(self) -> None:
        self.uninstall()
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            # a handler still running (its caller gone, a Step Functions Task that timed out
            # first, say) ends with the cloud, as its sandbox would
            self._close_pool(pool, busy_too=True)
        if self._own_cache:
            shutil.rmtree(self.cache_dir, ignore_errors=True)
