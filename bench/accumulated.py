"""StartExecution and DescribeExecution latency as executions pile up in one state machine, as in
a local cloud left running or after a load test.

    .venv/bin/python bench/accumulated.py [--counts 0,10000,30000] [--calls 200]

Executions of a one-state Pass machine are added through moto's backend (no HTTP) up to each
count, then timed through boto3 and HTTP: DescribeExecution of the newest execution, and
StartExecution with a new name (which checks the name against every earlier execution's).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localcloud import LocalCloud
from localcloud.server import ACCOUNT_ID, REGION

PASS = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/bench"


def _median_ms(call: Callable[[int], object], times: int) -> float:
    samples = []
    for i in range(times):
        started = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3


def _row(sfn: Any, arn: str, newest: str, count: int, calls: int) -> str:
    describe = _median_ms(lambda _: sfn.describe_execution(executionArn=newest), calls)
    start = _median_ms(lambda i: sfn.start_execution(stateMachineArn=arn, name=f"timed-{count}-{i}"), calls)
    return f"| {count:,} | {describe:.2f} | {start:.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="0,10000,30000")
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]

    from moto.stepfunctions.responses import get_backend

    print("| executions already run | DescribeExecution ms | StartExecution ms |\n|---|---|---|")
    with LocalCloud() as cloud:
        sfn = cloud.client("stepfunctions")
        arn = sfn.create_state_machine(name="accumulated", definition=PASS, roleArn=ROLE)["stateMachineArn"]
        backend = get_backend(ACCOUNT_ID, REGION)
        state_machine = backend.describe_state_machine(arn)
        newest = sfn.start_execution(stateMachineArn=arn, name="first")["executionArn"]
        for count in counts:
            while len(state_machine.executions) < count:
                newest = backend.start_execution(
                    arn, f"run-{len(state_machine.executions)}", "{}"
                ).execution_arn
            while sfn.describe_execution(executionArn=newest)["status"] == "RUNNING":
                time.sleep(0.01)
            print(_row(sfn, arn, newest, count, args.calls), flush=True)
    print(
        f"\nmedians of {args.calls} calls each; command: python bench/accumulated.py --counts {args.counts} --calls {args.calls}"
    )


if __name__ == "__main__":
    main()
