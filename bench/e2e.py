"""End-to-end latency and throughput of each workflow on the local cloud, cold and warm.

    .venv/bin/python bench/e2e.py [--runs 20] [--concurrency 4] [--cold 3] [--workflow lottery ...]
                                        [--profile]

Deploys every workflow into an in-process local cloud (bench/harness.py: the fake broker, market
data and flight-price APIs answering) and starts each one as it is started for real: Standard
workflows with StartExecution (then DescribeExecution until it ends), ride-request with
StartSyncExecution (its HTTP API's call), flight-deals by putting a batch of 100 records on its
Kinesis stream for its pipe to deliver (the pipe starts the execution; we wait for its end). The
engine's clock is instant, so Wait and Retry backoff take no real time. Latency is wall time from
the start call to the end seen by the caller.

- cold 1st: the first execution after deploy (definition parsed, zips extracted, workers started)
- cold: median of --cold executions after retiring the workflow's Lambda workers and extracted
  code (fresh sandboxes; the engine's per-version caches stay warm), the first one included
- warm p50/p95: --runs sequential executions after two warm-ups; ms/state is p50 over the states
  entered; cpu ms is the CPU of this process (server + client) and of the Lambda workers per run.
  The caller polls DescribeExecution every 5 ms (20 ms for cold runs and waves), from 0.8 times
  the quickest run so far: each poll costs the server CPU.
- exec/s @K: waves of K concurrent executions, after warm-up waves until one starts no new Lambda
  worker (up to 5); p50 @K is the latency of an execution inside a wave (polled every 20 ms)

--profile runs cProfile (CPU time) in the server's threads during five warm executions of each
selected workflow and prints where their CPU goes (file:function, self and cumulative).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import math
import os
import pstats
import shutil
import statistics
import sys
import sysconfig
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import WORKFLOWS, Bench  # noqa: E402

import infra  # noqa: E402
from localcloud.engine import clock  # noqa: E402
from localcloud.thread_pool import WORKER_NAME, PooledThread  # noqa: E402
from workflows.registry import Workflow  # noqa: E402

# Seconds between DescribeExecution calls: often enough to time an execution alone to a few ms, but
# each call costs the server CPU, so the first comes at EXPECT times the quickest run so far.
POLL = 0.005
COLD_POLL = 0.02  # cold runs take seconds
WAVE_POLL = 0.02  # K pollers at once
EXPECT = 0.8
MAX_WARM_UP_WAVES = 5


@dataclass
class Sample:
    ms: float
    status: str
    execution_arn: str
    delivery_ms: float = 0.0  # flight-deals: put on the stream until the pipe started the execution


@dataclass
class Figures:
    wf: Workflow
    start: str
    cold_first: Sample | None = None
    cold: list[Sample] = field(default_factory=list)
    warm: list[Sample] = field(default_factory=list)
    states: list[int] = field(default_factory=list)
    state_ms: dict[str, list[float]] = field(default_factory=dict)  # leaf state -> ms per execution
    cpu_ms: float = math.nan
    wave: list[Sample] = field(default_factory=list)
    wave_seconds: float = 0.0
    wave_cold_starts: int = 0  # workers started during the measured waves

    def failed(self) -> list[Sample]:
        every = [*self.cold, *self.warm, *self.wave]  # cold_first is cold[0]
        return [s for s in every if s.status != "SUCCEEDED"]


# -- starting an execution the way it is started for real -----------------------------------------


def start_kind(wf: Workflow) -> str:
    if wf.streams:
        return "stream"
    return "sync" if str(wf.type) == "EXPRESS" else "start"


def execute(bench: Bench, wf: Workflow, poll: float = POLL, expect: float = 0.0) -> Sample:
    """One execution of the workflow's typical work, timed from the start call to its end (polled
    every `poll` seconds from `expect` seconds after the start)."""
    arn = bench.state_machine(wf)
    started = time.perf_counter()
    if wf.streams:
        (execution,) = bench.run_from_stream(wf)
        delivered = time.perf_counter()
        bench.wait(execution, poll, started + expect)
        ms = (time.perf_counter() - started) * 1000
        return Sample(ms, status(bench, execution), execution, (delivered - started) * 1000)
    body = json.dumps(wf.fresh_input())
    if str(wf.type) == "EXPRESS":
        answer = bench.sfn.start_sync_execution(stateMachineArn=arn, input=body)
        return Sample((time.perf_counter() - started) * 1000, answer["status"], answer["executionArn"])
    execution = bench.sfn.start_execution(stateMachineArn=arn, name=uuid.uuid4().hex, input=body)[
        "executionArn"
    ]
    bench.wait(execution, poll, started + expect)
    return Sample((time.perf_counter() - started) * 1000, status(bench, execution), execution)


def execute_wave(
    bench: Bench, wf: Workflow, pool: ThreadPoolExecutor, k: int, expect: float = 0.0
) -> list[Sample]:
    """K executions at once; for flight-deals, K batches on the stream, which the pipe delivers one
    after the other, starting each execution without waiting for it: the executions overlap."""
    if not wf.streams:
        return list(pool.map(lambda _: execute(bench, wf, WAVE_POLL, expect), range(k)))
    started = time.perf_counter()
    executions = bench.run_from_stream(wf, batches=k)
    delivered = (time.perf_counter() - started) * 1000

    def finish(execution: str) -> Sample:
        bench.wait(execution, WAVE_POLL, started + expect)
        return Sample((time.perf_counter() - started) * 1000, status(bench, execution), execution, delivered)

    return list(pool.map(finish, executions))


def status(bench: Bench, execution_arn: str) -> str:
    answer: str = bench.sfn.describe_execution(executionArn=execution_arn)["status"]
    return answer


def reset_between_runs(bench: Bench, wf: Workflow) -> None:
    """Keep each execution typical: the workflow's demo data restored (`deploy.py --seed-only`),
    which empties the lottery's winners: its 20 employees run out of non-winners after ten draws of
    two, and every draw would then be redrawn, then refused."""
    if any(t.reset_with_demo for t in wf.tables):
        infra.seed(bench.env, [wf], out=lambda line: None, restore=True)


# -- cold starts ----------------------------------------------------------------------------------


def function_names(bench: Bench, wf: Workflow) -> list[str]:
    return [f["name"] for f in bench.outputs[wf.name]["functions"].values()]


def retire_workers(bench: Bench, wf: Workflow) -> None:
    """Stop the workflow's warm Lambda workers and delete their extracted code, so that the next
    invocation of each function is a cold start. The runtime has no public call for it: this reaches
    into its pools (a redeploy with new code would do the same, far more slowly)."""
    runtime = bench.cloud.lambda_runtime
    assert runtime is not None
    names = set(function_names(bench, wf))
    with runtime._lock:
        retired = [(key, pool) for key, pool in runtime._pools.items() if pool.spec.name in names]
        for key, _pool in retired:
            del runtime._pools[key]
    for _key, pool in retired:
        runtime._close_pool(pool)
        shutil.rmtree(pool.code_dir, ignore_errors=True)


def warm_up_engine(bench: Bench) -> None:
    """Run a one-state machine once, so that the server's own first-use costs (imports, parser
    set-up) do not land on the cold start of whichever workflow is measured first."""
    definition = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "End": True}}}
    arn = bench.sfn.create_state_machine(
        name=f"bench-warm-up-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/bench-warm-up",
    )["stateMachineArn"]
    execution = bench.sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    bench.wait(execution)
    bench.sfn.delete_state_machine(stateMachineArn=arn)


# -- what the history says ------------------------------------------------------------------------

CONTAINERS = ("Parallel", "Map")


def states_entered(events: list[dict[str, Any]]) -> int:
    return sum(1 for e in events if e["type"].endswith("StateEntered"))


def leaf_state_ms(events: list[dict[str, Any]]) -> dict[str, float]:
    """Milliseconds spent in each state that is not a Parallel or Map (summed over its entries:
    Map iterations, redraw loops), from the history's timestamps."""
    entered: dict[str, list[datetime]] = collections.defaultdict(list)
    spent: dict[str, float] = collections.defaultdict(float)
    for event in events:
        kind = event["type"]
        if kind.startswith(CONTAINERS) or not kind.endswith(("StateEntered", "StateExited")):
            continue
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
        name = details.get("name", "?")
        if kind.endswith("StateEntered"):
            entered[name].append(event["timestamp"])
        elif entered[name]:
            spent[name] += (event["timestamp"] - entered[name].pop()).total_seconds() * 1000
    return dict(spent)


# -- CPU ------------------------------------------------------------------------------------------


def worker_cpu(bench: Bench, wf: Workflow) -> dict[int, float]:
    """CPU seconds used so far by each idle Lambda worker of the workflow, by pid."""
    runtime = bench.cloud.lambda_runtime
    assert runtime is not None
    return {pid: cpu_of(pid) for name in function_names(bench, wf) for pid in runtime.worker_pids(name)}


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the measurement ------------------------------------------------------------------------------


def measure(bench: Bench, wf: Workflow, runs: int, k: int, colds: int, pool: ThreadPoolExecutor) -> Figures:
    figures = Figures(wf, start_kind(wf))
    reset_between_runs(bench, wf)
    figures.cold_first = execute(bench, wf, COLD_POLL)
    figures.cold.append(figures.cold_first)
    for _ in range(colds - 1):
        reset_between_runs(bench, wf)
        retire_workers(bench, wf)
        figures.cold.append(execute(bench, wf, COLD_POLL))
    quickest = math.inf
    for _ in range(2):
        reset_between_runs(bench, wf)
        quickest = min(quickest, execute(bench, wf).ms / 1000)

    cpu = 0.0
    for _ in range(runs):
        reset_between_runs(bench, wf)
        workers_before, before = worker_cpu(bench, wf), time.process_time()
        sample = execute(bench, wf, POLL, EXPECT * quickest)
        cpu += time.process_time() - before
        cpu += sum(c - workers_before.get(pid, 0.0) for pid, c in worker_cpu(bench, wf).items())
        figures.warm.append(sample)
        quickest = min(quickest, sample.ms / 1000)
    figures.cpu_ms = cpu / max(runs, 1) * 1000
    for sample in figures.warm:  # histories read after the timed runs
        events = bench.history(sample.execution_arn)
        figures.states.append(states_entered(events))
        for name, ms in leaf_state_ms(events).items():
            figures.state_ms.setdefault(name, []).append(ms)

    for _ in range(MAX_WARM_UP_WAVES):  # until a wave starts no new worker: K per function, or enough
        reset_between_runs(bench, wf)
        workers = set(worker_cpu(bench, wf))
        execute_wave(bench, wf, pool, k, EXPECT * quickest)
        if set(worker_cpu(bench, wf)) <= workers:
            break
    for _ in range(max(2, math.ceil(runs / k))):
        reset_between_runs(bench, wf)
        workers = set(worker_cpu(bench, wf))
        started = time.perf_counter()
        figures.wave += execute_wave(bench, wf, pool, k, EXPECT * quickest)
        figures.wave_seconds += time.perf_counter() - started
        figures.wave_cold_starts += len(set(worker_cpu(bench, wf)) - workers)
    return figures


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def table(rows: list[Figures], k: int) -> list[str]:
    name = max([len("workflow"), *(len(f.wf.name) for f in rows)])
    header = (
        f"| {'workflow':<{name}} | {'type':<8} | {'start':<6} | {'states':>6} | {'cold 1st':>8} | {'cold':>7} "
        f"| {'warm p50':>8} | {'warm p95':>8} | {'ms/state':>8} | {'cpu ms':>7} | {f'p50 @{k}':>8} "
        f"| {f'exec/s @{k}':>10} |"
    )
    lines = [header, "|" + "|".join("-" * len(c) for c in header.split("|")[1:-1]) + "|"]
    for f in rows:
        warm = [s.ms for s in f.warm]
        p50 = statistics.median(warm) if warm else math.nan
        states = statistics.median(f.states) if f.states else math.nan
        throughput = len(f.wave) / f.wave_seconds if f.wave_seconds else math.nan
        first = f.cold_first.ms if f.cold_first else math.nan
        cold = statistics.median(s.ms for s in f.cold) if f.cold else math.nan
        wave_p50 = statistics.median(s.ms for s in f.wave) if f.wave else math.nan
        lines.append(
            f"| {f.wf.name:<{name}} | {f.wf.type!s:<8} | {f.start:<6} | {states:>6.0f} | {first:>8.0f} "
            f"| {cold:>7.0f} | {p50:>8.1f} | {percentile(warm, 0.95):>8.1f} | {p50 / states:>8.2f} "
            f"| {f.cpu_ms:>7.0f} | {wave_p50:>8.0f} | {throughput:>10.2f} |"
        )
    return lines


def slowest_states(f: Figures, top: int = 3) -> str:
    runs = max(len(f.warm), 1)
    mean = {name: sum(ms) / runs for name, ms in f.state_ms.items()}
    total = sum(mean.values()) or 1.0
    best = sorted(mean.items(), key=lambda item: -item[1])[:top]
    return ", ".join(f"{name} {ms:.0f} ms ({ms / total:.0%})" for name, ms in best)


# -- a CPU profile of the server's threads --------------------------------------------------------

STDLIB = Path(sysconfig.get_paths()["stdlib"])


class ThreadProfiles:
    """cProfile, timing CPU (time.thread_time), in every thread started while it is active and in
    every job run on the local cloud's pooled threads (HTTP connections, executions, Parallel
    branches, Map iterations), so that is nearly all of its work."""

    def __init__(self) -> None:
        self._by_thread: dict[int, cProfile.Profile] = {}
        self._lock = threading.Lock()

    @property
    def profiles(self) -> list[cProfile.Profile]:
        with self._lock:
            return list(self._by_thread.values())

    def _profiler(self) -> cProfile.Profile:
        with self._lock:
            return self._by_thread.setdefault(threading.get_ident(), cProfile.Profile(time.thread_time))

    def _start(self, frame: FrameType, event: str, arg: Any) -> None:
        if threading.current_thread().name != WORKER_NAME:  # those profile each job they run
            self._profiler().enable()  # replaces this hook, for this thread
        else:
            sys.setprofile(None)

    @contextmanager
    def active(self) -> Iterator[None]:
        run_here = PooledThread._run_here

        def run_profiled(job: PooledThread, thread: threading.Thread) -> None:
            profiler = self._profiler()
            profiler.enable()
            try:
                run_here(job, thread)
            finally:
                profiler.disable()

        threading.setprofile(self._start)
        PooledThread._run_here = run_profiled  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            threading.setprofile(None)
            PooledThread._run_here = run_here  # type: ignore[method-assign]

    def stats(self) -> dict[tuple[str, int, str], tuple[int, int, float, float, Any]]:
        """pstats' table: (file, line, function) -> (calls, primitive calls, self, cumulative, callers)."""
        profiles = self.profiles
        merged = pstats.Stats(profiles[0])
        for profiler in profiles[1:]:
            merged.add(profiler)
        table: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = merged.stats  # type: ignore[attr-defined]
        return table


def where(key: tuple[str, int, str]) -> str:
    filename, _line, function = key
    if filename == "~":  # a built-in
        return function
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        short = "/".join(parts[parts.index("site-packages") + 1 :])
    elif path.is_relative_to(STDLIB):
        short = f"stdlib/{path.relative_to(STDLIB)}"
    elif path.is_relative_to(ROOT):
        short = str(path.relative_to(ROOT))
    else:
        short = filename
    return f"{short}:{function}"


def profile(bench: Bench, wf: Workflow, executions: int = 5) -> list[str]:
    profiles = ThreadProfiles()
    process, client = time.process_time(), time.thread_time()
    with profiles.active():
        for _ in range(executions):
            reset_between_runs(bench, wf)
            execute(bench, wf, poll=0.05)  # slow polling: the profile is of the execution, not of us
    process, client = time.process_time() - process, time.thread_time() - client
    stats = profiles.stats()
    total = sum(row[2] for row in stats.values()) or math.nan
    lines = [
        f"{wf.name}, {executions} warm executions: CPU per execution {process * 1000 / executions:.0f} ms "
        f"in this process (profiled), {client * 1000 / executions:.0f} ms of it the client's thread, "
        f"{total * 1000 / executions:.0f} ms in {len(profiles.profiles)} server threads",
        f"  {'self':>6}  {'cumul':>6}  {'calls':>7}  function",
    ]
    rows = sorted(stats.items(), key=lambda item: -item[1][2])[:10]
    for key, (_cc, calls, own, cumulative, _callers) in rows:
        lines.append(f"  {own / total:>6.1%}  {cumulative / total:>6.1%}  {calls:>7}  {where(key)}")
    lines.append("  largest cumulative shares in the project, moto and werkzeug:")
    outside = [
        (key, row)
        for key, row in stats.items()
        if where(key).startswith(("localcloud/", "moto/", "werkzeug/"))
        and not where(key).startswith("moto/moto_server/threaded_moto_server.py")
    ]
    for key, (_cc, calls, own, cumulative, _callers) in sorted(outside, key=lambda item: -item[1][3])[:10]:
        lines.append(f"  {own / total:>6.1%}  {cumulative / total:>6.1%}  {calls:>7}  {where(key)}")
    return lines


def failure_reasons(bench: Bench, rows: list[Figures]) -> list[str]:
    lines = []
    for f in rows:
        failed = f.failed()
        if failed:
            last = bench.sfn.describe_execution(executionArn=failed[-1].execution_arn)
            cause = str(last.get("cause", ""))[:300]
            lines.append(f"  {f.wf.name}: {len(failed)}; the last: {last.get('error')}: {cause}")
    return lines


# -- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20, help="warm sequential executions per workflow")
    parser.add_argument("--concurrency", type=int, default=4, help="K: executions at once for throughput")
    parser.add_argument(
        "--cold", type=int, default=3, help="cold executions (the first after deploy included)"
    )
    parser.add_argument(
        "--workflow", action="append", choices=sorted(WORKFLOWS), help="only these (repeatable; default all)"
    )
    parser.add_argument("--profile", action="store_true", help="sample the server's threads (see above)")
    args = parser.parse_args(argv)
    selected = [WORKFLOWS[name] for name in args.workflow or WORKFLOWS]
    load_before = os.getloadavg()
    deploy_started = time.perf_counter()
    bench = Bench()
    deploy_seconds = time.perf_counter() - deploy_started
    rows, profiles = [], []
    try:
        with clock.instant(), ThreadPoolExecutor(args.concurrency, "bench-client") as pool:
            warm_up_engine(bench)
            for wf in selected:
                rows.append(measure(bench, wf, args.runs, args.concurrency, max(args.cold, 1), pool))
                print(f"  measured {wf.name}", file=sys.stderr, flush=True)
            if args.profile:
                for wf in selected:
                    profiles += [*profile(bench, wf), ""]
        reasons = failure_reasons(bench, rows)
    finally:
        bench.stop()
    load_after = os.getloadavg()

    print(f"Workflows end to end on the local cloud (ms unless said), Python {sys.version.split()[0]}\n")
    print("\n".join(table(rows, args.concurrency)))
    print("\nSlowest states (warm, ms per execution summed over a state's entries, which overlap in")
    print("a Map or Parallel; share of the sum over all states but Map and Parallel):")
    for f in rows:
        print(f"  {f.wf.name}: {slowest_states(f)}")
    stream = [f for f in rows if f.start == "stream"]
    for f in stream:
        delivery = statistics.median(s.delivery_ms for s in f.warm) if f.warm else math.nan
        print(f"  {f.wf.name}: of its warm p50, {delivery:.0f} ms is the put and the pipe's delivery")
    cold_in_waves = {f.wf.name: f.wave_cold_starts for f in rows if f.wave_cold_starts}
    if cold_in_waves:
        print(f"  Lambda cold starts during the measured waves (in p50 @K and exec/s): {cold_in_waves}")
    if reasons:
        print("\nNOT SUCCEEDED (the figures include them):")
        print("\n".join(reasons))
    if profiles:
        print("\nWhere the server's threads spend the CPU (cProfile on CPU time in each thread the server")
        print("starts; self = in the function itself, cumul = with what it calls; shares of their CPU):\n")
        print("\n".join(profiles))
    print(
        f"\nload average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
        f"({os.cpu_count()} CPUs); deploy + seed took {deploy_seconds:.0f} s"
    )
    command = ["python", "bench/e2e.py", f"--runs {args.runs}", f"--concurrency {args.concurrency}"]
    command += [f"--cold {args.cold}"] + [f"--workflow {w}" for w in args.workflow or []]
    command += ["--profile"] if args.profile else []
    print(f"command: {' '.join(command)}")
    return 1 if reasons else 0


if __name__ == "__main__":
    sys.exit(main())
