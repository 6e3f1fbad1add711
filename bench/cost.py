"""Monthly AWS cost of each workflow, from its definition and from measured local runs.

    python bench/cost.py [--runs 5] [--volume lottery=10 ...]

Deploys every workflow into an in-process local cloud, runs each one's typical work `--runs`
times and measures, per execution: state transitions (retries included), Lambda invocations and
GB-seconds, Express duration, and the requests every AWS service answered (DynamoDB request
units: item sizes and index writes, as on-demand pricing counts them; SNS publishes, S3 requests,
Kinesis records). Multiplied by the monthly volume and the prices in
bench/prices.json, that gives each process's monthly bill, with the Standard and Express prices
side by side since every one of them is short enough for either.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import WORKFLOWS, Bench  # noqa: E402

from localcloud import metering  # noqa: E402
from localcloud.engine import clock  # noqa: E402
from workflows.definitions import starts_synchronously  # noqa: E402
from workflows.registry import Schedule, Workflow  # noqa: E402

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
# Executions a month of a workflow that neither VOLUMES, a schedule nor --volume gives one for: the
# report names each such workflow.
UNKNOWN_VOLUME = 1000
EMAIL_SUBSCRIBERS = 1  # each SNS message is also one email delivery


@dataclass
class Usage:
    """What one execution used, averaged over the measured runs."""

    transitions: float = 0
    lambda_invocations: float = 0
    lambda_gb_seconds: float = 0
    express_seconds: float = 0
    requests: dict[str, float] = field(default_factory=dict)  # "service:Operation" -> units


def monthly_volume(wf: Workflow, overrides: dict[str, int]) -> tuple[int, str | None]:
    """Executions a month, and where that comes from (None: nowhere, UNKNOWN_VOLUME assumed)."""
    if wf.name in overrides:
        return overrides[wf.name], "given on the command line"
    for trigger in wf.triggers:
        if isinstance(trigger, Schedule):
            return runs_per_month(trigger.expression), f"schedule {trigger.expression}"
    return VOLUMES.get(wf.name, (UNKNOWN_VOLUME, None))


def volume_lines(volumes: list[tuple[str, int, str | None]]) -> list[str]:
    """Each workflow's volume and where it comes from (name, volume, why); those nothing gives a
    volume for are named again at the end, with how to give one."""
    lines = ["Volumes:"]
    lines += [
        f"  {name}: {volume}/month, {why or 'assumed: no volume known'}" for name, volume, why in volumes
    ]
    unknown = [name for name, _volume, why in volumes if why is None]
    if unknown:
        lines.append(
            f"No volume known for {', '.join(unknown)}: costed at {UNKNOWN_VOLUME} executions a month. "
            "Give one with --volume NAME=EXECUTIONS_PER_MONTH, or add it to VOLUMES in bench/cost.py."
        )
    return lines


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
    bill["DynamoDB"] = volume * (
        r.get("dynamodb:WriteRequestUnits", 0) * p["dynamodb_per_write_request_unit"]
        + r.get("dynamodb:ReadRequestUnits", 0) * p["dynamodb_per_read_request_unit"]
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
    # a route whose function starts the workflow and waits for it (POST /ride): that function is
    # billed for the whole execution
    starters = [f for f in (wf.function(r.function) for r in wf.routes) if starts_synchronously(f)]
    for fn in starters:
        bill["Lambda"] += volume * (
            p["lambda_per_request"] + usage.express_seconds * fn.memory / 1024 * p["lambda_per_gb_second"]
        )
    if "HttpRoute" in triggers or starters:
        bill["API Gateway"] = volume * p["apigateway_http_per_request"]
    bill["CloudWatch alarm"] = p["cloudwatch_alarm_per_month"]
    return bill


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


def measured_with(runs: int, volumes: list[str]) -> str:
    """The command that gives these figures again, the volumes given included."""
    return f"Measured with: python bench/cost.py --runs {runs}" + "".join(f" --volume {v}" for v in volumes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="measured executions per workflow")
    parser.add_argument("--volume", action="append", default=[], help="NAME=EXECUTIONS_PER_MONTH")
    args = parser.parse_args(argv)
    overrides = {k: int(v) for k, v in (item.split("=", 1) for item in args.volume)}
    bench = Bench()
    metering.count_capacity()
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
    name = max([len("workflow"), *(len(wf.name) for wf, *_ in rows)])
    print(
        f"{'workflow':<{name}} {'runs/month':>10} {'type':<9} {'trans':>6} {'λ inv':>6} {'λ GB-s':>8} "
        f"{'Standard':>10} {'Express':>10} {'chosen':>10}  largest item"
    )
    for wf, usage, volume, _why, standard, express, chosen in rows:
        total = sum(chosen.values())
        largest = max(chosen, key=lambda k: chosen[k])
        flag = "" if total < 1 else "  over $1"
        print(
            f"{wf.name:<{name}} {volume:>10} {wf.type:<9} {usage.transitions:>6.0f} "
            f"{usage.lambda_invocations:>6.0f} {usage.lambda_gb_seconds:>8.3f} {standard:>10.4f} "
            f"{express:>10.4f} {total:>10.4f}  {largest} ${chosen[largest]:.4f}{flag}"
        )
    print()
    print("\n".join(volume_lines([(wf.name, volume, why) for wf, _usage, volume, why, *_ in rows])))
    print(f"\n{measured_with(args.runs, args.volume)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
