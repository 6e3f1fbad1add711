"""Reading an execution's whole history, as the console and `boto3`'s paginator do, for executions
of a few to thousands of events.

    .venv/bin/python bench/history.py [--items 10,100,1500] [--reads 5]

Each execution is an inline Map over N items of one Pass state (4 N + 6 events). Its history is
read through boto3 and HTTP, every page (GetExecutionHistory's default of 100 events, and 1,000,
the most a page may hold), and the median of the reads is printed per read and per event.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localcloud import LocalCloud
from localcloud.server import ACCOUNT_ID

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/bench"
MAP = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Item",
                "States": {"Item": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    },
}


def _read_all(sfn: Any, arn: str, page_size: int) -> int:
    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=arn, PaginationConfig={"PageSize": page_size}
    )
    return sum(len(page["events"]) for page in pages)


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--items", default="10,100,1500")
    parser.add_argument("--reads", type=int, default=5)
    args = parser.parse_args()

    print("| Map items | events | pages of 100: ms | pages of 1,000: ms | µs per event (pages of 1,000) |")
    print("|---|---|---|---|---|")
    with LocalCloud() as cloud:
        sfn = cloud.client("stepfunctions")
        machine = sfn.create_state_machine(name="history", definition=json.dumps(MAP), roleArn=ROLE)
        for items in (int(n) for n in args.items.split(",")):
            arn = sfn.start_execution(
                stateMachineArn=machine["stateMachineArn"], input=json.dumps(list(range(items)))
            )["executionArn"]
            while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                time.sleep(0.01)
            timings: dict[int, float] = {}
            for page_size in (100, 1000):
                samples = []
                for _ in range(args.reads):
                    started = time.perf_counter()
                    events = _read_all(sfn, arn, page_size)
                    samples.append(time.perf_counter() - started)
                timings[page_size] = statistics.median(samples) * 1e3
            per_event = timings[1000] * 1e3 / events
            print(f"| {items:,} | {events:,} | {timings[100]:.1f} | {timings[1000]:.1f} | {per_event:.0f} |")
    print(f"\ncommand: python bench/history.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
