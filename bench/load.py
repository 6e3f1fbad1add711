"""Load test on the local cloud: lottery draws and ride requests, N at a time, checked record by record.

    .venv/bin/python bench/load.py [--lottery 500] [--rides 500] [--concurrency 20] [--employees 1000]

Bounded and loopback only: it starts a local cloud on 127.0.0.1, deploys lottery and ride-request
with the project's deploy code, and serves the web console (with the workflows' routes) on
127.0.0.1. Then:

- lottery: `--lottery` draws of one winner, started through the console's HTTP API
  (POST /api/workflows/lottery/executions, the execution name is the draw id) and waited on.
  Each draw gets a seed whose first pick differs from every other draw's, so that concurrent
  draws seldom race for the same employee (when they do, the later claim fails and that draw
  redraws). Checked: every execution SUCCEEDED naming one winner, and
  the winners table holds each draw's winner once, under its draw id.
- rides: `--rides` POST /ride over HTTP with a rider's token (Cognito of the local cloud), then
  `--replays` of them sent again with the same request id. Checked: every answer 201, and the
  rides table holds exactly one ride per request id.

Prints one row per workflow: executions, concurrency, throughput, p50/p95 latency (seconds, from
the request to the observed end), errors, records lost and duplicated, and the command.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import statistics
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import infra
from console import authorizer
from console.graph.runs import CLOSED
from infra.environments import Environment
from tasks.lottery.draw import draw_order

# -- HTTP ------------------------------------------------------------------------------------


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 (a free port), threaded; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="console", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """(status, JSON body or text) of one request; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


# -- results ---------------------------------------------------------------------------------


@dataclass
class Result:
    workflow: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)

    @property
    def executions(self) -> int:
        return len(self.latencies)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0

    def row(self) -> list[str]:
        throughput = self.executions / self.seconds if self.seconds else 0.0
        return [
            self.workflow,
            str(self.executions),
            str(self.concurrency),
            f"{throughput:.1f}",
            f"{statistics.median(self.latencies) if self.latencies else 0:.3f}",
            f"{self.percentile(0.95):.3f}",
            str(len(self.errors)),
            str(len(self.lost)),
            str(len(self.duplicated)),
        ]


HEADER = ["workflow", "executions", "concurrency", "throughput/s", "p50 s", "p95 s", "errors", "lost", "dup"]


def table(results: list[Result], command: str) -> str:
    rows = [HEADER, *(r.row() for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [
        "  ".join(
            cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.append(f"command: {command}")
    for result in results:
        for kind in ("errors", "lost", "duplicated"):
            for problem in getattr(result, kind)[:5]:
                lines.append(f"  {result.workflow} {kind}: {problem}")
    return "\n".join(lines)


# A job returns an error text (None: correct) and, when it knows better than the wall clock
# around it, the latency (the execution's stop time less the request's start).
Job = Callable[[], tuple[str | None, float | None]]


def _timed_pool(result: Result, jobs: list[Job]) -> None:
    """Run jobs `result.concurrency` at a time."""
    lock = threading.Lock()

    def run(job: Job) -> None:
        started = time.perf_counter()
        try:
            problem, latency = job()
        except Exception as error:  # a load test reports every failure; it does not stop at one
            problem, latency = f"{type(error).__name__}: {error}", None
        with lock:
            result.latencies.append(latency if latency is not None else time.perf_counter() - started)
            if problem:
                result.errors.append(problem)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=result.concurrency, thread_name_prefix="load") as pool:
        list(pool.map(run, jobs))
    result.seconds = time.perf_counter() - began


def _scan(env: Environment, table_name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in env.client("dynamodb").get_paginator("scan").paginate(TableName=table_name):
        items += page["Items"]
    return items


def _empty(env: Environment, table_name: str, key: str) -> None:
    dynamodb = env.client("dynamodb")
    for item in _scan(env, table_name):
        dynamodb.delete_item(TableName=table_name, Key={key: item[key]})


# -- lottery ---------------------------------------------------------------------------------


def seed_employees(env: Environment, count: int) -> None:
    """Replace the employees (and past winners) with `count` employees numbered 1..count."""
    where = infra.outputs(env)["lottery"]["resources"]
    _empty(env, where["employees"], "employee_id")
    _empty(env, where["winners"], "employee_id")
    table = env.session.resource("dynamodb", endpoint_url=env.endpoint).Table(where["employees"])
    with table.batch_writer() as batch:
        for serial in range(1, count + 1):
            batch.put_item(
                Item={
                    "employee_id": f"L{serial:05d}",
                    "employee_name": f"Load Tester {serial}",
                    "department": "Load",
                    "lottery_serial": serial,
                }
            )


def distinct_seeds(draws: int, employees: int) -> list[int]:
    """Seeds whose first pick of one winner differs from draw to draw (see the module's doc)."""
    seeds: list[int] = []
    picked: set[int] = set()
    seed = 0
    while len(seeds) < draws:
        serial = draw_order(employees, seed, 0)[0]
        if serial not in picked:
            picked.add(serial)
            seeds.append(seed)
        seed += 1
    return seeds


def run_lottery(env: Environment, base_url: str, draws: int, concurrency: int, employees: int) -> Result:
    result = Result("lottery", concurrency)
    sfn = env.client("stepfunctions")
    outputs: dict[str, Any] = {}
    run_id = f"{time.time_ns():x}"[-8:]

    def draw(number: int, seed: int) -> Job:
        name = f"load-{run_id}-{number:04d}"

        def job() -> tuple[str | None, float | None]:
            body = json.dumps({"input": {"winners": 1, "seed": seed}, "name": name}).encode()
            requested = time.time()
            # The engine's clock runs ahead of the wall clock once a test has skipped a Wait, so
            # the latency is this request's round trip plus the execution's own duration on it.
            status, started = http("POST", f"{base_url}/api/workflows/lottery/executions", body)
            accepted = time.time()
            if status != 201:
                return f"{name}: start answered {status} {started}", None
            # Polling costs the (shared) CPU: back off; the latency comes from the stop date.
            pause = 0.05
            while (found := sfn.describe_execution(executionArn=started["executionArn"]))[
                "status"
            ] not in CLOSED:
                time.sleep(pause)
                pause = min(pause * 1.5, 0.5)
            latency = (accepted - requested) + (found["stopDate"] - found["startDate"]).total_seconds()
            if found["status"] != "SUCCEEDED":
                return (
                    f"{name}: {found['status']} {found.get('error')} {found.get('cause', '')[:200]}",
                    latency,
                )
            output = json.loads(found["output"])
            outputs[name] = output
            if output.get("draw_id") != name or len(output.get("winners", [])) != 1:
                return f"{name}: unexpected output {output}", latency
            return None, latency

        return job

    _timed_pool(result, [draw(i, seed) for i, seed in enumerate(distinct_seeds(draws, employees))])
    recorded: Counter[str] = Counter()
    winner_of: dict[str, str] = {}
    for item in _scan(env, infra.outputs(env)["lottery"]["resources"]["winners"]):
        recorded[item["draw_id"]["S"]] += 1
        winner_of[item["draw_id"]["S"]] = item["employee_id"]["S"]
    for name, output in outputs.items():
        if recorded[name] == 0 or winner_of[name] != output["winners"][0]["employee_id"]:
            result.lost.append(f"draw {name}: winner {output['winners'][0]['employee_id']} not recorded")
    result.duplicated += [f"draw {name}: {count} records" for name, count in recorded.items() if count > 1]
    return result


# -- rides -----------------------------------------------------------------------------------


def run_rides(
    env: Environment, base_url: str, token: str, requests: int, concurrency: int, replays: int = 0
) -> Result:
    result = Result("ride-request", concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    run_id = f"{time.time_ns():x}"[-8:]
    ids = [f"load-{run_id}-{i:05d}" for i in range(requests)]

    def ride(request_id: str, number: int) -> Job:
        pickup = {"latitude": 47.6 + number % 50 / 1000, "longitude": -122.3 - number % 40 / 1000}
        body = json.dumps({"request_id": request_id, "pickup": pickup}).encode()

        def job() -> tuple[str | None, float | None]:
            status, answer = http("POST", f"{base_url}/ride", body, headers)
            if status != 201:
                return f"{request_id}: {status} {answer}", None
            if answer.get("request_id") != request_id:
                return f"{request_id}: answered ride of {answer.get('request_id')}", None
            return None, None

        return job

    jobs = [ride(request_id, i) for i, request_id in enumerate(ids)]
    # a replay is the same request sent again (same id, same body): it must not record a second ride
    jobs += [ride(ids[i * requests // replays], i * requests // replays) for i in range(replays)]
    _timed_pool(result, jobs)
    recorded = Counter(
        item["request_id"]["S"]
        for item in _scan(env, infra.outputs(env)["ride-request"]["resources"]["rides"])
        if item["request_id"]["S"].startswith(f"load-{run_id}-")
    )
    result.lost += [f"ride {i}: not recorded" for i in ids if recorded[i] == 0]
    result.duplicated += [f"ride {i}: {n} records" for i, n in recorded.items() if n > 1]
    return result


# -- command ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, prog="bench/load.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--lottery", type=int, default=500, help="lottery draws (default 500)")
    parser.add_argument("--rides", type=int, default=500, help="ride requests (default 500)")
    parser.add_argument("--replays", type=int, default=0, help="ride requests sent a second time")
    parser.add_argument("--concurrency", type=int, default=20, help="at a time (default 20)")
    parser.add_argument("--employees", type=int, default=1000, help="employees to draw from")
    args = parser.parse_args(argv)
    if args.lottery > args.employees:
        parser.error("--lottery draws one winner each: it cannot exceed --employees")

    from console.app import create_app
    from localcloud import LocalCloud
    from workflows import WORKFLOWS

    with LocalCloud(port=0) as cloud:
        os.environ.update(cloud.env())
        os.environ["PYFLOWS_ENDPOINT"] = cloud.endpoint
        env = infra.load("local")
        workflows = [WORKFLOWS["lottery"], WORKFLOWS["ride-request"]]
        infra.deploy(env, workflows=workflows, out=lambda line: None)
        infra.seed(env, workflows, out=lambda line: None)
        seed_employees(env, args.employees)
        with serve(create_app(env)) as base_url:
            results = []
            if args.lottery:
                results.append(run_lottery(env, base_url, args.lottery, args.concurrency, args.employees))
            if args.rides:
                token = authorizer.local_token(env, "load-rider")
                results.append(run_rides(env, base_url, token, args.rides, args.concurrency, args.replays))
    command = shlex.join(["python", "bench/load.py", *(argv if argv is not None else sys.argv[1:])])
    print(table(results, command))
    return 1 if any(r.errors or r.lost or r.duplicated for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
