"""Latency of the local cloud's Lambda runtime next to a direct in-process call of the same handler.

    .venv/bin/python bench/lambda_runtime.py [--invokes 500]

Rows: the direct call (import the handler, call it); the runtime's invoke without HTTP (what moto
calls: pool, pipe to the warm worker, JSON both ways, CloudWatch log lines); the whole Invoke API
through boto3 and moto's HTTP server; and cold starts (zip extraction, process start, import).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import statistics
import sys
import time
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localcloud import LocalCloud

HANDLER = """
def handler(event, context):
    return {"ok": True, "echo": event, "function": context.function_name}
"""
EVENT = {"order": 42, "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}


class _Context:
    function_name = "bench"
    memory_limit_in_mb = "128"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


def _timed(call: Callable[[], Any], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _row(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"| {name:<44} | {len(samples):>6} | {statistics.median(samples):>9.4f} | {p95:>9.4f} |"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument("--invokes", type=int, default=500)
    parser.add_argument("--cold", type=int, default=5, help="cold starts to measure (one function each)")
    args = parser.parse_args()
    n = args.invokes

    with LocalCloud() as cloud:
        iam = cloud.client("iam")
        role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = cloud.client("lambda")
        runtime = cloud.lambda_runtime
        assert runtime is not None
        code = _zip()
        cold = []
        for i in range(args.cold):
            # Distinct code per function, so each first invoke extracts and spawns afresh.
            source = _zip_with(code, f"# {i}\n")
            lam.create_function(
                FunctionName=f"cold-{i}",
                Runtime="python3.11",
                Role=role,
                Handler="app.handler",
                Code={"ZipFile": source},
            )
            cold += _timed(partial(runtime.invoke, f"cold-{i}", EVENT), 1)
        lam.create_function(
            FunctionName="bench",
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": code},
        )
        payload = json.dumps(EVENT).encode()
        runtime.invoke("bench", EVENT)  # cold start out of the way

        spec = importlib.util.spec_from_loader("bench_app", loader=None)
        assert spec is not None
        module = importlib.util.module_from_spec(spec)
        exec(HANDLER, module.__dict__)
        context = _Context()

        def direct() -> Any:
            return module.handler(EVENT, context)

        rows = [
            _row("direct in-process call", _timed(direct, n)),
            _row("runtime warm invoke (no HTTP)", _timed(lambda: runtime.invoke("bench", EVENT), n)),
            _row(
                "Invoke API: boto3 -> moto HTTP -> runtime",
                _timed(lambda: lam.invoke(FunctionName="bench", Payload=payload), n),
            ),
            _row(
                "HTTP floor: boto3 -> moto GetFunctionConfig.",
                _timed(lambda: lam.get_function_configuration(FunctionName="bench"), n),
            ),
            _row("cold start (extract, spawn, import, invoke)", cold),
        ]
    print(f"Lambda runtime latency (ms), Python {sys.version.split()[0]}\n")
    print(f"| {'path':<44} | {'n':>6} | {'median':>9} | {'p95':>9} |")
    print(f"|{'-' * 46}|{'-' * 8}|{'-' * 11}|{'-' * 11}|")
    print("\n".join(rows))
    print(f"\ncommand: {' '.join([Path(sys.executable).name, *sys.argv])}")


def _zip_with(code: bytes, prefix: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(code)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            target.writestr(item, prefix.encode() + source.read(item))
    return buffer.getvalue()


if __name__ == "__main__":
    main()
