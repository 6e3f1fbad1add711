"""Monthly AWS cost of each workflow, from its definition and from measured local runs.

    python bench/cost.py [--runs 5] [--volume lottery=10 ...]

Deploys every workflow into an in-process local cloud, runs each one's typical work `--runs`
times and measures, per execution: state transitions (retries included), Lambda invocations and
GB-seconds, Express duration, and the requests every AWS service answered (DynamoDB items,
SNS publishes, S3 requests, Kinesis records). Multiplied by the monthly volume and the prices in
bench/prices.json, that gives each process's monthly bill, with the Standard and Express prices
side by side since every one of them is short enough for either.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import infra  # noqa: E402
from localcloud import LocalCloud, metering  # noqa: E402
from localcloud.engine import clock  # noqa: E402
from localcloud.fakes.aviasales import FakeAviasales  # noqa: E402
from localcloud.fakes.ticket_broker import FakeTicketBroker  # noqa: E402
from localcloud.fakes.tushare import FakeTushare  # noqa: E402
from tasks.flight_deals.aviasales import AviasalesClient  # noqa: E402
from tasks.flight_deals.producer import encode, fetch_records, put_records  # noqa: E402
from workflows import WORKFLOWS  # noqa: E402
from workflows.registry import Schedule, StreamTrigger, Workflow  # noqa: E402

PRICES = json.loads((ROOT / "bench" / "prices.json").read_text())
HOURS = PRICES["hours_per_month"]

# Executions a month. Scheduled workflows take theirs from the schedule; the others from their
# seed article where it says, else the stated assumption.
VOLUMES = {
    "lottery": (10, "assumed: a few draws at each monthly company event (the seed gives none)"),
    "flight-deals": (
        450,
        "assumed: 45,000 price records a month (50 routes, daily month matrices) in batches of 100",
    ),
    "ride-request": (10_000, "assumed: 10,000 rides a month (the seed is a workshop with no volume)"),
}
EMAIL_SUBSCRIBERS = 1  # each SNS message is also one email delivery


@dataclass
class Usage:
    """What one execution used, averaged over the measured runs."""

    transitions: float = 0
    lambda_invocations: float = 0
    lambda_gb_seconds: float = 0
    express_seconds: float = 0
    requests: dict[str, float] = field(default_factory=dict)  # "service:Operation" -> units


def monthly_volume(wf: Workflow, overrides: dict[str, int]) -> tuple[int, str]:
    if wf.name in overrides:
        return overrides[wf.name], "given on the command line"
    for trigger in wf.triggers:
        if isinstance(trigger, Schedule):
            return runs_per_month(trigger.expression), f"schedule {trigger.expression}"
    return VOLUMES.get(wf.name, (1000, "assumed"))


def runs_per_month(expression: str) -> int:
    """Approximate firings a month of a `rate(...)` or `cron(...)` expression."""
    body = expression[expression.index("(") + 1 : -1]
    if expression.startswith("rate"):
        amount, unit = body.split()
        per_hour = {"minute": 60, "minutes": 60, "hour": 1, "hours": 1, "day": 1 / 24, "days": 1 / 24}[unit]
        return int(HOURS * per_hour / int(amount))
    minutes, hours, _day, _month, weekdays, _year = body.split()
    per_day = len(minutes.split(",")) * len(hours.split(","))
    days = 22 if weekdays.upper() in ("MON-FRI", "2-6") else 30
    return per_day * days


def measure_execution(events: list[dict[str, Any]], memory_mb: dict[str, int]) -> Usage:
    """Transitions, Lambda invocations and GB-seconds, and duration of one execution's history."""
    usage = Usage()
    by_id = {e["id"]: e for e in events}
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            usage.transitions += 1
        elif kind == "TaskScheduled" and event["taskScheduledEventDetails"]["resourceType"] == "lambda":
            usage.lambda_invocations += 1
        elif kind in ("TaskSucceeded", "TaskFailed"):
            scheduled = by_id.get(by_id.get(event["previousEventId"], {}).get("previousEventId", -1), {})
            details = scheduled.get("taskScheduledEventDetails", {})
            if details.get("resourceType") != "lambda":
                continue
            function = str(json.loads(details["parameters"]).get("FunctionName", "")).split(":")[6]
            seconds = (
                math.ceil(max((event["timestamp"] - scheduled["timestamp"]).total_seconds(), 0.001) * 1000)
                / 1000
            )
            usage.lambda_gb_seconds += seconds * memory_mb.get(function, 128) / 1024
    # Each retry is one more transition on AWS's bill.
    entered = sum(1 for e in events if e["type"] == "TaskStateEntered")
    usage.transitions += max(sum(1 for e in events if e["type"] == "TaskScheduled") - entered, 0)
    usage.express_seconds = (events[-1]["timestamp"] - events[0]["timestamp"]).total_seconds()
    return usage


def cost(wf: Workflow, usage: Usage, volume: int, kind: str) -> dict[str, float]:
    """Monthly dollars by service for `volume` executions of `kind` (STANDARD or EXPRESS)."""
    p, r = PRICES, usage.requests
    bill: dict[str, float] = {}
    if kind == "STANDARD":
        bill["Step Functions"] = volume * usage.transitions * p["stepfunctions_standard_per_transition"]
    else:
        billed_seconds = math.ceil(usage.express_seconds * 10) / 10
        gb = p["stepfunctions_express_min_memory_mb"] / 1024
        bill["Step Functions"] = volume * (
            p["stepfunctions_express_per_request"]
            + billed_seconds * gb * p["stepfunctions_express_per_gb_second"]
        )
    bill["Lambda"] = volume * (
        usage.lambda_invocations * p["lambda_per_request"]
        + usage.lambda_gb_seconds * p["lambda_per_gb_second"]
    )
    writes = sum(v for k, v in r.items() if k.split(":")[1] in DYNAMODB_WRITES)
    reads = sum(v for k, v in r.items() if k.split(":")[1] in DYNAMODB_READS)
    bill["DynamoDB"] = volume * (
        writes * p["dynamodb_per_write_request_unit"] + reads * p["dynamodb_per_read_request_unit"]
    )
    publishes = r.get("sns:Publish", 0) + r.get("sns:PublishBatch", 0)
    bill["SNS"] = volume * publishes * (p["sns_per_publish"] + EMAIL_SUBSCRIBERS * p["sns_per_email"])
    bill["S3"] = volume * (
        r.get("s3:PutObject", 0) * p["s3_per_put"] + r.get("s3:GetObject", 0) * p["s3_per_get"]
    )
    triggers = {type(t).__name__ for t in wf.triggers}
    if "Schedule" in triggers:
        bill["Scheduler"] = volume * p["scheduler_per_invocation"]
    if "StreamTrigger" in triggers:
        shards = sum(s.shards for s in wf.streams)
        records = r.get("kinesis:PutRecords", 0) + r.get("kinesis:PutRecord", 0)
        bill["Kinesis"] = (
            shards * HOURS * p["kinesis_per_shard_hour"]
            + volume * records * p["kinesis_per_put_payload_unit"]
        )
        bill["Pipes"] = volume * p["pipes_per_request"]
    if "HttpRoute" in triggers:
        bill["API Gateway"] = volume * p["apigateway_http_per_request"]
    bill["CloudWatch alarm"] = p["cloudwatch_alarm_per_month"]
    return bill


DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
DYNAMODB_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


class Bench:
    """The local cloud with every workflow deployed and the fake external APIs answering."""

    def __init__(self) -> None:
        self.cloud = LocalCloud(port=0).start()
        os.environ.update(self.cloud.env())
        os.environ["PYFLOWS_ENDPOINT"] = self.cloud.endpoint
        metering.install()
        self.broker = FakeTicketBroker(seed=7, performances=36).start()
        self.tushare = FakeTushare().start()
        self.env = infra.load("local")
        settings = {
            "/{app}/{env}/ticket-broker/base-url": self.broker.url,
            "{app}/{env}/ticket-broker/api-key": self.broker.api_key,
            "/{app}/{env}/tushare/base-url": self.tushare.url,
            "{app}/{env}/tushare/token": self.tushare.token,
        }
        self.env.parameters.update(
            {k.format(app=self.env.app, env=self.env.name): v for k, v in settings.items()}
        )
        infra.deploy(self.env, out=lambda line: None)
        infra.seed(self.env, out=lambda line: None)
        self.outputs = infra.outputs(self.env)
        self.sfn = self.cloud.client("stepfunctions")

    def memory(self) -> dict[str, int]:
        return {
            self.outputs[wf.name]["functions"][fn.name]["name"]: fn.memory
            for wf in WORKFLOWS.values()
            for fn in wf.functions
        }

    def run(self, wf: Workflow) -> list[dict[str, Any]]:
        """One execution of the workflow's typical work; its history."""
        arn = self.outputs[wf.name]["state_machine_arn"]
        if wf.streams:
            return self.run_from_stream(wf, arn)
        started = self.sfn.start_execution(
            stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(typical_input(wf))
        )["executionArn"]
        while self.sfn.describe_execution(executionArn=started)["status"] == "RUNNING":
            time.sleep(0.01)
        events: list[dict[str, Any]] = self.sfn.get_execution_history(executionArn=started, maxResults=1000)[
            "events"
        ]
        return events

    def run_from_stream(self, wf: Workflow, arn: str) -> list[dict[str, Any]]:
        """A batch put on the workflow's stream and delivered by its pipe, as in production."""
        before = {e["executionArn"] for e in self.sfn.list_executions(stateMachineArn=arn)["executions"]}
        stream = self.outputs[wf.name]["resources"][wf.streams[0].name].rsplit("/", 1)[-1]
        put_records(self.cloud.client("kinesis"), stream, flight_records(wf_batch_size(wf)))
        self.cloud.streams.drain()
        new = [
            e
            for e in self.sfn.list_executions(stateMachineArn=arn)["executions"]
            if e["executionArn"] not in before
        ]
        events: list[dict[str, Any]] = self.sfn.get_execution_history(
            executionArn=new[0]["executionArn"], maxResults=1000
        )["events"]
        return events

    def stop(self) -> None:
        self.broker.stop()
        self.tushare.stop()
        self.cloud.stop()


def typical_input(wf: Workflow) -> dict[str, Any]:
    if wf.name == "ride-request":
        return {**wf.example_input, "request_id": uuid.uuid4().hex}
    return dict(wf.example_input)


def wf_batch_size(wf: Workflow) -> int:
    return next(t.batch_size for t in wf.triggers if isinstance(t, StreamTrigger))


def flight_records(count: int) -> list[tuple[bytes, str]]:
    """What the producer puts on the stream: month-matrix prices from the fake Aviasales API."""
    with FakeAviasales(seed=1) as fake:
        api = AviasalesClient(token=fake.token, base_url=fake.url)
        months = [f"2026-{m:02d}" for m in range(1, 13)]
        records = fetch_records(api, [("LED", "MOW"), ("MOW", "AER"), ("LED", "KZN")], months)
    return encode(records[:count])


def measure(bench: Bench, wf: Workflow, runs: int) -> Usage:
    memory, samples, requests = bench.memory(), [], []
    for _ in range(runs):
        metering.reset()
        with clock.instant():
            events = bench.run(wf)
        samples.append(measure_execution(events, memory))
        requests.append({f"{s}:{o}": n for (s, o), n in metering.counts().items()})
    average = Usage(
        transitions=statistics.mean(u.transitions for u in samples),
        lambda_invocations=statistics.mean(u.lambda_invocations for u in samples),
        lambda_gb_seconds=statistics.mean(u.lambda_gb_seconds for u in samples),
        express_seconds=statistics.mean(u.express_seconds for u in samples),
    )
    for key in {k for r in requests for k in r}:
        average.requests[key] = statistics.mean(r.get(key, 0) for r in requests)
    return average


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="measured executions per workflow")
    parser.add_argument("--volume", action="append", default=[], help="NAME=EXECUTIONS_PER_MONTH")
    args = parser.parse_args(argv)
    overrides = {k: int(v) for k, v in (item.split("=", 1) for item in args.volume)}
    bench = Bench()
    rows = []
    try:
        for wf in WORKFLOWS.values():
            usage = measure(bench, wf, args.runs)
            volume, why = monthly_volume(wf, overrides)
            standard = sum(cost(wf, usage, volume, "STANDARD").values())
            express = sum(cost(wf, usage, volume, "EXPRESS").values())
            chosen = cost(wf, usage, volume, str(wf.type))
            rows.append((wf, usage, volume, why, standard, express, chosen))
    finally:
        bench.stop()
    print(
        f"Monthly AWS cost per workflow ({PRICES['region']} prices of {PRICES['as_of']}, bench/prices.json)\n"
    )
    print(
        f"{'workflow':<15} {'runs/month':>10} {'type':<9} {'trans':>6} {'λ inv':>6} {'λ GB-s':>8} "
        f"{'Standard':>10} {'Express':>10} {'chosen':>10}  largest item"
    )
    for wf, usage, volume, _why, standard, express, chosen in rows:
        total = sum(chosen.values())
        largest = max(chosen, key=lambda k: chosen[k])
        flag = "" if total < 1 else "  over $1"
        print(
            f"{wf.name:<15} {volume:>10} {wf.type:<9} {usage.transitions:>6.0f} {usage.lambda_invocations:>6.0f} "
            f"{usage.lambda_gb_seconds:>8.3f} {standard:>10.4f} {express:>10.4f} {total:>10.4f}  "
            f"{largest} ${chosen[largest]:.4f}{flag}"
        )
    print("\nVolumes:")
    for wf, _usage, volume, why, *_ in rows:
        print(f"  {wf.name}: {volume}/month, {why}")
    print(f"\nMeasured with: python bench/cost.py --runs {args.runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
