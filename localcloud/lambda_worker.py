"""One warm Lambda sandbox: a Python process that imports a handler once and serves invocations.

Started by `lambda_runtime` as `python lambda_worker.py CODE_DIR HANDLER [LIFELINE_FD]` with the
function's environment. Standard library only, so it imports nothing the deployed zip does not ask
for. LIFELINE_FD is a pipe only the runtime's process writes to: at its EOF (that process ended,
however) the worker ends, with the processes its handler started.

Protocol (one JSON object per line): the worker writes {"ready": pid, "init_ms": float} once, then
for each request line {"id", "event", "arn", "deadline"} answers one line {"ok", "payload", "logs",
"max_memory_mb"} (the process's peak resident set so far, REPORT's "Max Memory Used").
`payload` is the handler's result as the AWS Python runtime marshals it (bytes as they are, else
JSON), or Lambda's error document when ok is false. The protocol
runs on the process's original stdout; fd 1 and sys.stdout are redirected so that a print in the
handler cannot corrupt it, and what the handler prints is captured per invocation as `logs`.
"""

from __future__ import annotations

import decimal
import importlib
import io
import json
import os
import resource
import signal
import sys
import threading
import time
import traceback
from typing import Any


class _Capture(io.TextIOBase):
    """sys.stdout/sys.stderr for the handler: collects text for the current invocation.

    Loggers that keep a reference to sys.stdout from import time (Powertools does) still write
    here, because the object stays the same and only its buffer is swapped per invocation."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self.parts.append(s)
        return len(s)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts = []
        return text


class LambdaContext:
    """The attributes and method of the AWS Python runtime's context object."""

    def __init__(self, request_id: str, arn: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        # A string, as in the AWS runtime.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _error(kind: str, message: str, request_id: str, stack: list[str] | None = None) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": kind, "requestId": request_id, "stackTrace": stack or []}


def _marshal(value: Any) -> str:
    """The response payload as the AWS Python runtime makes it: bytes as they are, anything else as
    JSON, with a Decimal (what boto3's DynamoDB resource gives) written as a number."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:  # the line protocol carries text
            raise ValueError(f"the local cloud's runtime passes only UTF-8 bytes: {exc}") from None
    return json.dumps(value, default=_decimal_as_number)


def _decimal_as_number(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _status_file() -> int | None:
    try:  # Linux; kept open: opening and reading it took 40% of a warm add-one invocation
        return os.open("/proc/self/status", os.O_RDONLY)
    except OSError:
        return None


_STATUS = _status_file()


def _peak_memory_mb() -> int:
    """The process's peak resident set, as REPORT's "Max Memory Used"."""
    try:  # Linux: since the exec (ru_maxrss would count the forked server process before it)
        status = os.pread(_STATUS, 1 << 14, 0) if _STATUS is not None else b""
    except OSError:  # the handler closed it
        status = b""
    start = status.find(b"VmHWM:")
    if start >= 0:
        return int(status[start + 6 : status.find(b"kB", start)]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1 << 20)  # macOS: bytes


TASK_ROOT = "/var/task"  # where AWS unpacks the zip: stack traces name the user's files there
_code_dirs: list[str] = []  # where this worker unpacked it (as given, and resolved)


def _exception_doc(exc: BaseException, request_id: str) -> dict[str, Any]:
    # Frames inside this file are the runtime's, not the user's: AWS does not show them either.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    for frame in frames:
        for code_dir in _code_dirs:
            if frame.filename.startswith(code_dir + os.sep):
                frame.filename = TASK_ROOT + frame.filename[len(code_dir) :]
                break
    return _error(type(exc).__name__, str(exc), request_id, traceback.format_list(frames))


def _isolate(code_dir: str) -> None:
    """sys.path = the zip, then the interpreter's own libraries (the venv's packages stand in for
    Lambda's runtime and layers). The project's checkout is left out, even when it is installed in
    editable mode: code the zip does not carry must fail to import here as it would on AWS."""
    prefixes = {
        os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)
    }

    def inside(path: str) -> bool:
        real = os.path.realpath(path)
        return any(real == p or real.startswith(p + os.sep) for p in prefixes)

    sys.path[:] = [code_dir, *(p for p in sys.path if p and inside(p))]
    sys.meta_path[:] = [
        f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")
    ]


def _trace_header() -> str:
    ids = os.urandom(20).hex()  # the root's 12 bytes and the parent's 8, from one system call
    return f"Root=1-{int(time.time()):08x}-{ids[:24]};Parent={ids[24:]};Sampled=0"


def _load(handler_spec: str) -> tuple[Any, dict[str, Any] | None]:
    module_name, _, func_name = handler_spec.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:  # the runtime reports any import failure as ImportModuleError
        return None, _error(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}", ""
        )
    handler = getattr(module, func_name, None)
    if handler is None:
        msg = f"Handler '{func_name}' missing on module '{module_name}'"
        return None, _error("Runtime.HandlerNotFound", msg, "")
    return handler, None


def _end_with_runtime(lifeline: int) -> None:
    """Ends this process (and its group) once the runtime's process has: a handler busy past that
    must not run on as an orphan, nor hold that process's stderr open."""

    def watch() -> None:
        try:
            while os.read(lifeline, 1):
                pass
        except OSError:  # the handler closed it: nothing left to watch
            return
        if os.getpgrp() == os.getpid():  # its own session (the runtime starts it so)
            os.killpg(0, signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def main() -> None:
    code_dir, handler_spec = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:  # before the import: one that hangs must end with the runtime too
        _end_with_runtime(int(sys.argv[3]))
    proto_out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    proto_in = sys.stdin
    # Anything written to fd 1 at C level goes to stderr, never into the protocol.
    os.dup2(2, 1)
    capture = _Capture()
    sys.stdout = sys.stderr = capture
    _isolate(code_dir)
    os.chdir(code_dir)
    _code_dirs[:] = sorted({code_dir.rstrip(os.sep), os.path.realpath(code_dir)}, key=len, reverse=True)

    started = time.perf_counter()
    handler, init_error = _load(handler_spec)
    init_ms = (time.perf_counter() - started) * 1000
    proto_out.write(json.dumps({"ready": os.getpid(), "init_ms": init_ms, "logs": capture.take()}) + "\n")

    for line in proto_in:
        request = json.loads(line)
        request_id = request["id"]
        if init_error is not None:
            result = {"ok": False, "payload": json.dumps({**init_error, "requestId": request_id})}
        else:
            context = LambdaContext(request_id, request["arn"], request["deadline"])
            # The AWS runtime sets a trace header per invoke; the X-Ray SDK (Powertools Tracer) needs it.
            os.environ["_X_AMZN_TRACE_ID"] = _trace_header()
            try:
                value = handler(request["event"], context)
                try:
                    result = {"ok": True, "payload": _marshal(value)}
                except (TypeError, ValueError) as exc:
                    doc = _error("Runtime.MarshalError", f"Unable to marshal response: {exc}", request_id)
                    result = {"ok": False, "payload": json.dumps(doc)}
            except Exception as exc:
                doc = _exception_doc(exc, request_id)
                # The runtime logs the error document as the function's last words, like AWS.
                capture.write(f"[ERROR] {doc['errorType']}: {doc['errorMessage']}\n")
                result = {"ok": False, "payload": json.dumps(doc)}
        result["logs"] = capture.take()
        result["max_memory_mb"] = _peak_memory_mb()
        proto_out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
