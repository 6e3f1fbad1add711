"""Step Functions engine speed: the local cloud next to moto's engine alone, on the five shared
definitions of ../shared/bench (pass100, choice-loop, parallel4, map100, task-chain).

    python bench/engine.py [--runs 30] [--warmup 3] [--only pass100,map100] [--bench-dir DIR]

"moto alone" is moto's interpreter unpatched, in-process (mock_aws, no HTTP), in a child process
so that none of the local cloud's patches apply; its task-chain Task is moto's stub Lambda (it
echoes the input: moto runs real code only in Docker). "local cloud" is LocalCloud on 127.0.0.1
with localcloud.engine installed, driven over HTTP with boto3, and task-chain calls a deployed
Python function `addone` in the Lambda runtime. Both measure one execution at a time, after
warm-up runs, three ways: through the API (StartExecution to the first DescribeExecution that is no
longer RUNNING; the client, the server and the engine share one process and its GIL), as the
engine recorded it (the execution's startDate to stopDate, read from moto's backend in the
measuring process to the microsecond; the API gives them in whole ms, as AWS does), and as the
engine recorded a second execution that the client does not poll while it runs: every poll is a
request served in the engine's process, which takes the GIL from the running engine, on either
side. That one shows the engine's own speed.
task-chain also runs on the local cloud with its Tasks mocked (Step Functions Local's mock
configuration answers each Task; no code runs), the like of moto alone's echo stub.
Both also run a one-state Pass machine: the floor, what StartExecution and the DescribeExecution
polls cost each side whatever the definition. The two sides take turns, one execution each (moto
alone's child process runs one when asked): this machine's speed drifts within seconds, and each
pair of executions then sees the same speed.
A second table puts the local cloud's recorded figures beside those of the other engines that the
bench directory's README.md quotes (among them aws-local-stepfunctions, a Node engine): quoted as
measured there, not in this run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BENCH = REPO.parent / "shared" / "bench"
BENCHES = {"pass100": 100, "choice-loop": 101, "parallel4": 21, "map100": 301, "task-chain": 5}
ROLE = "arn:aws:iam::123456789012:role/bench"
ADDONE = "def handler(event, context):\n    return {**event, 'n': event.get('n', 0) + 1}\n"
_POLL = 0.0002
MOCKED = "task-chain, Tasks mocked"  # the local cloud's like of moto alone's echo stub
HOW = ("api", "recorded", "unpolled")  # the three measures, as below
Timings = dict[str, dict[str, list[float]]]  # definition -> a measure of HOW -> seconds per execution
# runs one execution, polled (True) or left alone: (through the API, recorded) seconds
Execute = Callable[[bool], tuple[float, float]]
# one Pass state: what an execution costs through the API before the engine does any work
FLOOR = ('{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}', "{}")


def _load(bench_dir: Path, name: str) -> tuple[str, str]:
    if name == "floor":
        return FLOOR
    return (bench_dir / f"{name}.asl.json").read_text(), (bench_dir / f"{name}.input.json").read_text()


def _missing(bench_dir: Path, names: list[str]) -> str | None:
    """The first of the files the definitions `names` need that `bench_dir` lacks."""
    for name in names:
        for kind in ("asl", "input"):
            if not (bench_dir / f"{name}.{kind}.json").is_file():
                return f"{name}.{kind}.json"
    return None


def _executor(sfn: Any, arn: str, inpt: str) -> Execute:
    """Runs one execution, in seconds: polled, through the API and as the engine recorded it; or left
    alone until it should have ended, as recorded (and the time until the client saw it end)."""
    # how long an execution left alone should take: at first the last polled one through the API,
    # then the last one left alone, as recorded
    expected = [0.0]

    def start() -> str:
        execution: str = sfn.start_execution(stateMachineArn=arn, name=uuid.uuid4().hex, input=inpt)[
            "executionArn"
        ]
        return execution

    def until_ended(exec_arn: str, pause: float) -> None:
        while (described := sfn.describe_execution(executionArn=exec_arn))["status"] == "RUNNING":
            time.sleep(pause)
        if described["status"] != "SUCCEEDED":
            raise RuntimeError(
                f"{arn}: {described['status']} {described.get('error')} {described.get('cause')}"
            )

    def one(polled: bool) -> tuple[float, float]:
        started = time.perf_counter()
        exec_arn = start()
        if polled:
            until_ended(exec_arn, _POLL)
            elapsed = time.perf_counter() - started
            expected[0] = elapsed
            return elapsed, _recorded(exec_arn)
        # a little longer than it took last time: seldom a poll while it runs, and then near its end
        time.sleep(1.5 * expected[0] + 0.001)
        until_ended(exec_arn, expected[0] / 4)
        expected[0] = _recorded(exec_arn)
        return time.perf_counter() - started, expected[0]

    return one


def _timed(executes: list[Execute], runs: int, warmup: int) -> list[dict[str, list[float]]]:
    """Each in turn, one execution at a time: the n-th executions of all run within milliseconds of
    each other, so a change in the machine's speed reaches them alike. All polled first, then all
    left alone (whose waits would otherwise change the rhythm of the polled ones)."""
    for _ in range(warmup):
        for execute in executes:
            execute(True)
    samples: list[dict[str, list[float]]] = [{how: [] for how in HOW} for _ in executes]
    for polled in (True, False):
        for _ in range(runs):
            for execute, taken in zip(executes, samples, strict=True):
                api, recorded = execute(polled)
                if polled:
                    taken["api"].append(api)
                    taken["recorded"].append(recorded)
                else:
                    taken["unpolled"].append(recorded)
    return samples


def _recorded(exec_arn: str) -> float:
    """The execution's startDate to stopDate as the engine recorded them, read from moto's backend in
    this process at the microseconds it keeps (the API gives whole milliseconds)."""
    from moto.stepfunctions.responses import get_backend

    region, account = exec_arn.split(":")[3:5]
    execution = get_backend(account, region).describe_execution(exec_arn)
    if execution.stop_date is None:
        raise RuntimeError(f"{exec_arn} has no stop date: it is still running")
    return float((execution.stop_date - execution.start_date).total_seconds())


def serve_moto_alone(bench_dir: Path, names: list[str]) -> None:
    """The child process: moto's engine unpatched, in-process. Each line of stdin, [definition,
    polled], runs one execution; the answer is its two durations as a JSON line."""
    import boto3
    from moto import mock_aws

    config: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    with mock_aws(config=config):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        if "task-chain" in names:
            _deploy_addone(
                boto3.client("lambda", region_name="us-east-1"), boto3.client("iam", region_name="us-east-1")
            )
        executes = {name: _executor(sfn, *_created(sfn, bench_dir, name)) for name in names}
        print("ready", flush=True)
        for line in sys.stdin:
            name, polled = json.loads(line)
            print(json.dumps(executes[name](polled)), flush=True)


@contextmanager
def moto_alone(bench_dir: Path, names: list[str]) -> Iterator[Callable[[str], Execute]]:
    """moto alone in a child process (none of the local cloud's patches apply there); the function
    gives what runs one execution of a definition in it."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--moto-alone", "--only", ",".join(names), "--bench-dir", str(bench_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        # moto alone answers in-process: an AWS_ENDPOINT_URL (a running local cloud's) would take
        # its requests elsewhere
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")},
            "PYTHONPATH": str(REPO),
        },
    )
    assert child.stdin is not None and child.stdout is not None
    stdin, stdout = child.stdin, child.stdout

    def executor(name: str) -> Execute:
        def one(polled: bool) -> tuple[float, float]:
            stdin.write(json.dumps([name, polled]) + "\n")
            stdin.flush()
            answer = stdout.readline()
            if not answer:
                raise RuntimeError(f"moto alone's process ended (exit {child.wait()}) running {name}")
            api, recorded = json.loads(answer)
            return float(api), float(recorded)

        return one

    try:
        if stdout.readline().strip() != "ready":
            raise RuntimeError(f"moto alone's process did not start (exit {child.wait()})")
        yield executor
    finally:
        stdin.close()
        child.wait(timeout=60)


@contextmanager
def local_cloud(bench_dir: Path, names: list[str]) -> Iterator[dict[str, Execute]]:
    """A LocalCloud with every definition created: what runs one execution of each (task-chain
    also with its Tasks mocked)."""
    from localcloud import mock_config
    from localcloud.server import LocalCloud

    with LocalCloud() as cloud:
        sfn = cloud.client("stepfunctions")
        executes = {}
        for name in names:
            if name == "task-chain":
                _deploy_addone(cloud.client("lambda"), cloud.client("iam"))
                _mock_addone(*_load(bench_dir, name))
            arn, inpt = _created(sfn, bench_dir, name)
            executes[name] = _executor(sfn, arn, inpt)
            if name == "task-chain":
                executes[MOCKED] = _executor(sfn, f"{arn}#NoCode", inpt)
        try:
            yield executes
        finally:
            mock_config.clear()


def _created(sfn: Any, bench_dir: Path, name: str) -> tuple[str, str]:
    """The definition's state machine ARN, and its input."""
    definition, inpt = _load(bench_dir, name)
    return sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE)["stateMachineArn"], inpt


def _mock_addone(definition: str, inpt: str) -> None:
    """task-chain's Tasks answered by mocked responses (Step Functions Local's mock configuration):
    no code runs, as with moto alone's echo stub. Only executions started as `<arn>#NoCode` use it."""
    from localcloud import mock_config

    start = json.loads(inpt)
    tasks = list(json.loads(definition)["States"])
    mock_config.load(
        {
            "StateMachines": {
                "task-chain": {"TestCases": {"NoCode": {t: f"AddOne{i}" for i, t in enumerate(tasks)}}}
            },
            "MockedResponses": {
                f"AddOne{i}": {
                    "0": {"Return": {"StatusCode": 200, "Payload": {**start, "n": start.get("n", 0) + i + 1}}}
                }
                for i in range(len(tasks))
            },
        }
    )


def _deploy_addone(lam: Any, iam: Any) -> None:
    # the role of addone and of the state machines, which may invoke it (the local cloud checks);
    # not localcloud.execution_roles.unrestricted_role: moto alone's process must not import localcloud
    principals = ["lambda.amazonaws.com", "states.amazonaws.com"]
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": principals}, "Action": "sts:AssumeRole"}]
    }
    iam.create_role(RoleName="bench", AssumeRolePolicyDocument=json.dumps(trust))
    invoke = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="bench", PolicyName="invoke", PolicyDocument=json.dumps(invoke))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", ADDONE)
    lam.create_function(
        FunctionName="addone",
        Runtime="python3.12",
        Role=ROLE,
        Handler="handler.handler",
        Code={"ZipFile": buf.getvalue()},
    )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _speed_ups(moto: dict[str, list[float]], local: dict[str, list[float]]) -> dict[str, float]:
    """Median per execution, moto alone over the local cloud, by each measure."""
    return {how: statistics.median(moto[how]) / statistics.median(local[how]) for how in HOW}


def _against_ten_times(speed_ups: dict[str, dict[str, float]]) -> list[str]:
    """The issue's bar, ten times faster by median per execution, row by row, both ways."""
    lines = []
    labels = ("through the API", "by recorded duration", "by recorded duration, not polled")
    for how, label in zip(HOW, labels, strict=True):
        met = [name for name, s in speed_ups.items() if s[how] >= 10]
        short = [f"{name} ({s[how]:.1f}x)" for name, s in speed_ups.items() if s[how] < 10]
        lines.append(
            f"10x or more {label}: {' / '.join(met) or 'none'}; below: {' / '.join(short) or 'none'}"
        )
    return lines


def _api_bound(moto: Timings, names: list[str], local_overhead_ms: float) -> str:
    """Through the API, the speed-up of a local engine that took no time at all: moto alone's
    median over what the local floor spends outside its engine (StartExecution, the polls)."""
    bounds = [
        f"{name} {statistics.median(moto[name]['api']) * 1000 / local_overhead_ms:.1f}x" for name in names
    ]
    return (
        "through the API, the most an engine taking no time could show (moto alone / the local floor "
        "less its recorded run): " + " / ".join(bounds)
    )


def _row(name: str, moto: dict[str, list[float]], local: dict[str, list[float]]) -> str:
    states = BENCHES["task-chain" if name == MOCKED else name]
    m_med, l_med = statistics.median(moto["api"]) * 1000, statistics.median(local["api"]) * 1000
    m_p95, l_p95 = _p95(moto["api"]) * 1000, _p95(local["api"]) * 1000
    m_rec, l_rec = statistics.median(moto["recorded"]) * 1000, statistics.median(local["recorded"]) * 1000
    m_alone, l_alone = statistics.median(moto["unpolled"]) * 1000, statistics.median(local["unpolled"]) * 1000
    return (
        f"| {name} | {states} | {m_med:.1f} | {m_p95:.1f} | {m_rec:.1f} | {m_alone:.1f} | {l_med:.1f} | "
        f"{l_p95:.1f} | {l_rec:.1f} | {l_alone:.1f} | {m_med / states:.3f} | {l_med / states:.3f} | "
        f"**{m_med / l_med:.1f}x** | {m_p95 / l_p95:.1f}x | **{m_rec / l_rec:.1f}x** | **{m_alone / l_alone:.1f}x** |"
    )


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Each markdown table in text: its lines (header, rule, rows), each as its stripped cells."""
    tables: list[list[list[str]]] = [[]]
    for line in text.splitlines():
        if line.startswith("|"):
            tables[-1].append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif tables[-1]:
            tables.append([])
    return [table for table in tables if table]


def quoted_engines(bench_dir: Path) -> tuple[list[str], dict[str, list[float]]]:
    """The other engines' figures that bench_dir's README.md gives (ms per execution): the column
    names, and each definition's figures. A row named like "task-chain (stub task)" is the
    definition "task-chain"."""
    readme = bench_dir / "README.md"
    tables = markdown_tables(readme.read_text()) if readme.is_file() else []
    for header, _rule, *rows in (table for table in tables if len(table) > 2):
        try:
            figures = {row[0].split(" (")[0]: [float(cell) for cell in row[1:]] for row in rows}
        except ValueError:
            continue  # a table, but not of figures
        if header[0] == "definition" and set(BENCHES) <= set(figures):
            return header[1:], figures
    return [], {}


def _beside_other_engines(bench_dir: Path, names: list[str], local: Timings) -> list[str]:
    columns, figures = quoted_engines(bench_dir)
    readme = os.path.relpath(bench_dir / "README.md", REPO)
    if not columns:
        return [f"(no other engines' figures: {readme} has none)"]
    # the fastest engine a user could pick instead, when the table has it
    node = next((i for i, column in enumerate(columns) if column.startswith("aws-local-stepfunctions")), None)
    ratio = [f"local cloud not polled / {columns[node].split(' (')[0]}"] if node is not None else []
    lines = [
        f"Beside the other engines quoted from {readme} (measured there, not in this run; ms per execution):",
        "",
        "| "
        + " | ".join(
            ["definition", "local cloud recorded", "local cloud recorded, not polled", *columns, *ratio]
        )
        + " |",
        "|---" * (3 + len(columns) + len(ratio)) + "|",
    ]
    for name in names:
        for row in [name, MOCKED] if name == "task-chain" else [name]:
            recorded, alone = (statistics.median(local[row][how]) * 1000 for how in ("recorded", "unpolled"))
            quoted = figures[name]
            cells = [row, f"{recorded:.1f}", f"{alone:.1f}", *(f"{q:g}" for q in quoted)]
            if node is not None:
                cells.append(f"{alone / quoted[node]:.1f}x")
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        allow_abbrev=False, prog="python bench/engine.py", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--only", help="comma-separated subset of " + ",".join(BENCHES))
    ap.add_argument("--bench-dir", default=str(DEFAULT_BENCH))
    ap.add_argument("--moto-alone", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = ap.parse_args(argv)
    bench_dir = Path(args.bench_dir)
    names = args.only.split(",") if args.only else list(BENCHES)
    if args.moto_alone:  # the child: given the names its parent checked, and the floor
        serve_moto_alone(bench_dir, names)
        return 0
    unknown = [name for name in names if name not in BENCHES]
    if unknown:
        ap.error(f"--only: unknown definition {', '.join(unknown)}; the definitions: {', '.join(BENCHES)}")
    missing = _missing(bench_dir, names)
    if missing:  # before moto alone's process starts: its traceback, then ours, would say it less plainly
        print(
            f"no engine bench definitions at {bench_dir}: {missing} missing (set --bench-dir)",
            file=sys.stderr,
        )
        return 2

    measured = [*names, "floor"]
    moto: Timings = {}
    local: Timings = {}
    with moto_alone(bench_dir, measured) as in_moto_alone, local_cloud(bench_dir, measured) as in_local_cloud:
        for name in measured:
            variants = [v for v in (name, MOCKED if name == "task-chain" else None) if v]
            timed = _timed(
                [in_moto_alone(name), *(in_local_cloud[v] for v in variants)], args.runs, args.warmup
            )
            moto[name] = timed[0]
            local.update(zip(variants, timed[1:], strict=True))

    print(
        f"Step Functions engine: ms per execution ({args.runs} runs after {args.warmup} warm-ups, one at a time)"
    )
    print()
    print(
        "| definition | states | moto alone median | moto alone p95 | moto alone recorded "
        "| moto alone recorded, not polled | local cloud median | local cloud p95 | local cloud recorded "
        "| local cloud recorded, not polled | moto ms/state | local ms/state "
        "| speed-up (median) | speed-up (p95) | speed-up (recorded) | speed-up (recorded, not polled) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    speed_ups = {}
    for name in names:
        for row in [name, MOCKED] if name == "task-chain" else [name]:
            print(_row(row, moto[name], local[row]))
            speed_ups[row] = _speed_ups(moto[name], local[row])
    floor = {
        side: {k: statistics.median(v) * 1000 for k, v in m["floor"].items()}
        for side, m in [("moto", moto), ("local", local)]
    }
    print()
    print(
        f"floor (a one-state Pass machine, median through the API): moto alone {floor['moto']['api']:.1f} ms, "
        f"local cloud {floor['local']['api']:.1f} ms; recorded: {floor['moto']['recorded']:.1f} ms and "
        f"{floor['local']['recorded']:.1f} ms; not polled: {floor['moto']['unpolled']:.1f} ms and "
        f"{floor['local']['unpolled']:.1f} ms"
    )
    print()
    for line in _against_ten_times(speed_ups):
        print(line)
    print(_api_bound(moto, names, floor["local"]["api"] - floor["local"]["recorded"]))
    print()
    for line in _beside_other_engines(bench_dir, names, local):
        print(line)
    print()
    print("median, p95: StartExecution to the DescribeExecution that sees it end; recorded: the median of")
    print("startDate to stopDate as the engine recorded them (read from moto's backend to the microsecond;")
    print("the API gives whole ms); not polled: the same for a second execution, which the client leaves")
    print("alone until it should have ended (each poll is a request served in the engine's process).")
    print("moto alone: moto's interpreter unpatched, in-process (task-chain: moto's echo stub Lambda);")
    print(
        "local cloud: HTTP to LocalCloud with localcloud.engine (task-chain: real `addone` in the Lambda runtime;"
        " Tasks mocked: each Task answered from a Step Functions Local mock configuration, no code runs)."
    )
    print("command: python bench/engine.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
