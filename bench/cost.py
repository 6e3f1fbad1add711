"""Monthly AWS cost of each workflow, from its definition and from measured local runs.

    python bench/cost.py [--runs 5] [--volume lottery=10 ...] [--env staging]

Deploys every workflow into an in-process local cloud, runs each one's typical work `--runs`
times and measures, per execution: state transitions (retries included), Lambda invocations and
GB-seconds, Express duration, the requests every AWS service answered (DynamoDB request
units: item sizes and index writes, as on-demand pricing counts them; SNS publishes, S3 requests,
Kinesis records), and the bytes put to CloudWatch Logs as `--env` (prod unless given) configures
its logs: what the functions log at its log level, measured; the execution events its state
machines log, and the HTTP API's access log line, computed (the local cloud writes neither).
Multiplied by the monthly volume and the prices in bench/prices.json, that gives each process's
monthly bill, X-Ray's traces included, with the Standard and Express prices side by side since
every one of them is short enough for either.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import WORKFLOWS, Bench  # noqa: E402

import infra  # noqa: E402
from infra import alarms, environments, logs, statemachines  # noqa: E402
from infra.api import ACCESS_LOG_FORMAT  # noqa: E402
from infra.environments import Environment  # noqa: E402
from localcloud import metering  # noqa: E402
from localcloud.engine import clock  # noqa: E402
from workflows.definitions import starts_synchronously  # noqa: E402
from workflows.registry import HttpRoute, Route, Schedule, Workflow  # noqa: E402

PRICES = json.loads((ROOT / "bench" / "prices.json").read_text())
HOURS = PRICES["hours_per_month"]
COSTED_ENV = "prod"  # whose logging the bill follows, unless --env says another
GB = 2**30  # bytes, as AWS bills a GB
# CloudWatch Logs stores logs compressed: to 15% of their size, as AWS's Pricing Calculator assumes
STORED_FRACTION = 0.15
# Every execution is one trace (its Lambda invocations are segments of it), and every one is
# recorded: X-Ray's default sampling records the first request of each second, which none of
# these volumes (ride-request's is one every four minutes) goes past.
TRACES_PER_EXECUTION = 1
# Execution events Step Functions logs at each level below ALL (OFF: none)
ERROR_EVENTS = ("Failed", "Aborted", "TimedOut")  # endings, and FailStateEntered
FATAL_EVENTS = ("ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut")
EXECUTION_DATA = ("input", "output")
MAX_LOGGED_DATA = 248 * 1024  # Step Functions truncates a logged input or output past this
# What API Gateway writes for each $context variable of the access log for a ride booked from a
# phone: example values of the lengths AWS gives them ("-" for one with no value, as AWS writes)
ACCESS_LOG_VALUES = {
    "$context.requestId": "Jb0rviCsIAMEMgQ=",
    "$context.identity.sourceIp": "198.51.100.23",
    "$context.identity.userAgent": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
    ),
    "$context.requestTime": "07/Dec/2026:14:30:00 +0000",
    "$context.status": "201",
    "$context.responseLength": "268",
    "$context.responseLatency": "184",
}
CONTEXT_VARIABLE = re.compile(r"\$context\.[A-Za-z.]+")

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
    log_bytes: dict[str, float] = field(default_factory=dict)  # what wrote them -> bytes


@dataclass(frozen=True)
class Logging:
    """What deploy configures of an environment's logs: the functions' log level, the level of
    the state machines' execution logs and whether they hold execution data, and how long the
    log groups keep what is put to them."""

    env: str
    function_level: str
    execution_level: str
    execution_data: bool
    retention_days: int


def logging_of(env: Environment) -> Logging:
    level, with_data = statemachines.execution_logging(env)
    return Logging(env.name, env.log_level, level, with_data, logs.retention_days(env))


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


def logged_at(level: str, event_type: str) -> bool:
    """Whether a state machine logging at `level` logs an execution event of that type."""
    if level == "ALL":
        return True
    if level == "ERROR":
        return event_type.endswith(ERROR_EVENTS) or event_type == "FailStateEntered"
    return level == "FATAL" and event_type in FATAL_EVENTS


def execution_log_bytes(events: list[dict[str, Any]], execution_arn: str, logging: Logging) -> int:
    """Bytes one execution puts to its state machine's log group: each event of its history
    logged at the level, one JSON log event as Step Functions writes it, without the input and
    output unless execution data is logged."""
    total = 0
    for event in events:
        if not logged_at(logging.execution_level, event["type"]):
            continue
        details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        if logging.execution_data:
            details = {k: v[:MAX_LOGGED_DATA] if k in EXECUTION_DATA else v for k, v in details.items()}
        else:
            details = {k: v for k, v in details.items() if k not in EXECUTION_DATA}
        record = {
            "id": str(event["id"]),
            "type": event["type"],
            "details": details,
            "previous_event_id": str(event.get("previousEventId", 0)),
            "event_timestamp": str(int(event["timestamp"].timestamp() * 1000)),
            "execution_arn": execution_arn,
            "redrive_count": "0",
        }
        total += metering.event_bytes(json.dumps(record, separators=(",", ":"), default=str))
    return total


def execution_arn(state_machine_arn: str, kind: str) -> str:
    """An execution's ARN, as long as AWS makes it (an Express one also has its run's id)."""
    name = uuid.uuid4().hex
    if kind == "EXPRESS":
        return state_machine_arn.replace(":stateMachine:", ":express:") + f":{name}:{uuid.uuid4()}"
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


def access_log_line(route_key: str) -> str:
    """The line API Gateway writes to the access log for one request to the route, in the format
    deploy configures, with the example values of ACCESS_LOG_VALUES."""
    values = {**ACCESS_LOG_VALUES, "$context.routeKey": route_key}
    return CONTEXT_VARIABLE.sub(lambda m: values.get(m.group(0), "-"), ACCESS_LOG_FORMAT)


def starter_routes(wf: Workflow) -> list[Route]:
    """The routes whose function starts the workflow and waits for its end (POST /ride)."""
    return [r for r in wf.routes if starts_synchronously(wf.function(r.function))]


def start_route(wf: Workflow) -> str | None:
    """The route (its key) of the API request that starts each execution, if one does."""
    routes = [t for t in wf.triggers if isinstance(t, HttpRoute)] + starter_routes(wf)
    return f"{routes[0].method} {routes[0].path}" if routes else None


def logs_bill(usage: Usage, volume: int, retention_days: int) -> float:
    """Monthly dollars of CloudWatch Logs: what `volume` executions put, ingested, and held
    compressed for the retention."""
    gb = volume * sum(usage.log_bytes.values()) / GB
    stored_gb = gb * STORED_FRACTION * retention_days / (HOURS / 24)
    return (
        gb * PRICES["cloudwatch_logs_per_gb_ingested"]
        + stored_gb * PRICES["cloudwatch_logs_per_gb_month_stored"]
    )


def cost(wf: Workflow, usage: Usage, volume: int, kind: str, retention_days: int) -> dict[str, float]:
    """Monthly dollars by service for `volume` executions of `kind` (STANDARD or EXPRESS), its
    logs kept `retention_days`."""
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
    for fn in (wf.function(r.function) for r in starter_routes(wf)):
        bill["Lambda"] += volume * (
            p["lambda_per_request"] + usage.express_seconds * fn.memory / 1024 * p["lambda_per_gb_second"]
        )
    if start_route(wf):
        bill["API Gateway"] = volume * p["apigateway_http_per_request"]
    bill["CloudWatch alarm"] = alarms.count(wf) * p["cloudwatch_alarm_per_month"]
    bill["CloudWatch Logs"] = logs_bill(usage, volume, retention_days)
    if environments.TRACED:
        bill["X-Ray"] = volume * TRACES_PER_EXECUTION * p["xray_per_trace_recorded"]
    return bill


def run_logs(bench: Bench, wf: Workflow, events: list[dict[str, Any]], logging: Logging) -> dict[str, float]:
    """Bytes one run put to CloudWatch Logs, by what wrote them: the functions (every line the
    Lambda runtime writes, as metering counted them since its reset), the function that started
    the run from its route, the state machine and the access log."""
    put = metering.logged()
    written = {"functions": float(sum(n for group, n in put.items() if group.startswith("/aws/lambda/")))}
    arn = execution_arn(bench.state_machine(wf), str(wf.type))
    written["state machine"] = execution_log_bytes(events, arn, logging)
    for route in starter_routes(wf):
        written[f"{route.method} {route.path} function"] = starter_log_bytes(bench, wf, route)
    route_key = start_route(wf)
    if route_key:
        written["access log"] = metering.event_bytes(access_log_line(route_key))
    return written


def starter_log_bytes(bench: Bench, wf: Workflow, route: Route) -> float:
    """Bytes the route's function logs for one request that starts the workflow: the request made
    as API Gateway makes it (the execution it runs goes uncounted: the run measured is that one)."""
    metering.reset()
    with clock.instant():
        answer = bench.call_route(wf, route)
    if not 200 <= int(answer.get("statusCode", 500)) < 300:
        raise RuntimeError(f"{route.method} {route.path} answered {answer}: its logs would not be a ride's")
    name = bench.outputs[wf.name]["functions"][route.function]["name"]
    return float(metering.logged().get(f"/aws/lambda/{name}", 0))


def measure(bench: Bench, wf: Workflow, runs: int, logging: Logging) -> Usage:
    memory, samples, requests, written = bench.memory(), [], [], []
    for _ in range(runs):
        metering.reset()
        with clock.instant():
            events = bench.run(wf)
        samples.append(measure_execution(events, memory))
        requests.append({f"{s}:{o}": n for (s, o), n in metering.counts().items()})
        written.append(run_logs(bench, wf, events, logging))
    average = Usage(
        transitions=statistics.mean(u.transitions for u in samples),
        lambda_invocations=statistics.mean(u.lambda_invocations for u in samples),
        lambda_gb_seconds=statistics.mean(u.lambda_gb_seconds for u in samples),
        express_seconds=statistics.mean(u.express_seconds for u in samples),
    )
    for key in {k for r in requests for k in r}:
        average.requests[key] = statistics.mean(r.get(key, 0) for r in requests)
    for key in written[0]:
        average.log_bytes[key] = statistics.mean(w[key] for w in written)
    return average


def measured_with(runs: int, volumes: list[str], env: str = COSTED_ENV) -> str:
    """The command that gives these figures again, the volumes and environment given included."""
    given = "".join(f" --volume {v}" for v in volumes) + (f" --env {env}" if env != COSTED_ENV else "")
    return f"Measured with: python bench/cost.py --runs {runs}{given}"


def log_lines(rows: list[tuple[str, Usage]], logging: Logging) -> list[str]:
    """Each workflow's bytes a run logs, by what wrote them, and how they are measured and priced."""
    lines = [
        f"Logs a run writes ({logging.env}: functions at log level {logging.function_level}, "
        f"state machines at {logging.execution_level} "
        f"{'with' if logging.execution_data else 'without'} execution data, kept {logging.retention_days} days):"
    ]
    for name, usage in rows:
        parts = ", ".join(f"{what} {n:,.0f} B" for what, n in usage.log_bytes.items())
        lines.append(f"  {name}: {parts}")
    ingested, stored = (
        PRICES["cloudwatch_logs_per_gb_ingested"],
        PRICES["cloudwatch_logs_per_gb_month_stored"],
    )
    lines += [
        "The functions' lines (START, END, REPORT, the handlers' JSON logs and EMF metrics) are measured as",
        "the Lambda runtime writes them, those of a route's function that starts its workflow (POST /ride) on",
        "a request made as API Gateway makes it. The state machine's (each history event its level logs, as",
        "Step Functions writes it) and the access log's (a line a request, in the format of infra/api.py with",
        "example values) are computed: the local cloud writes neither. An event counts its UTF-8 bytes and 26",
        "more, as PutLogEvents sizes a batch; on AWS each REPORT also carries the invocation's X-Ray trace id",
        "(about 90 B), which the local runtime does not write.",
        f"CloudWatch Logs: ${ingested:.2f}/GB ingested (1 GB = 2^30 bytes), ${stored:.2f}/GB-month stored for "
        f"the {logging.retention_days} days kept,",
        f"compressed to {STORED_FRACTION:.0%} of the size ingested (the AWS Pricing Calculator's assumption).",
    ]
    return lines


def tracing_lines() -> list[str]:
    if not environments.TRACED:
        return ["X-Ray: tracing is off (infra/environments.py TRACED): it costs nothing."]
    return [
        "X-Ray: tracing is on (every state machine, and every function but on the local cloud): one trace an",
        f"execution, every one recorded at these volumes, ${PRICES['xray_per_trace_recorded'] * 1e6:.2f} a "
        "million. No free tier is deducted, as for no",
        "service (X-Ray's is 100,000 traces a month; CloudWatch Logs' 5 GB ingested).",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="measured executions per workflow")
    parser.add_argument("--volume", action="append", default=[], help="NAME=EXECUTIONS_PER_MONTH")
    parser.add_argument("--env", default=COSTED_ENV, help="the environment whose logging is costed")
    args = parser.parse_args(argv)
    overrides = {k: int(v) for k, v in (item.split("=", 1) for item in args.volume)}
    logging = logging_of(infra.load(args.env))
    bench = Bench(log_level=logging.function_level)
    metering.count_capacity()
    metering.count_logs()
    rows = []
    try:
        for wf in WORKFLOWS.values():
            usage = measure(bench, wf, args.runs, logging)
            volume, why = monthly_volume(wf, overrides)
            days = logging.retention_days
            standard = sum(cost(wf, usage, volume, "STANDARD", days).values())
            express = sum(cost(wf, usage, volume, "EXPRESS", days).values())
            chosen = cost(wf, usage, volume, str(wf.type), days)
            rows.append((wf, usage, volume, why, standard, express, chosen))
    finally:
        bench.stop()
    print(
        f"Monthly AWS cost per workflow ({PRICES['region']} prices of {PRICES['as_of']}, CloudWatch Logs' "
        f"and X-Ray's of {PRICES['as_of_logs_and_traces']}, bench/prices.json)\n"
    )
    name = max([len("workflow"), *(len(wf.name) for wf, *_ in rows)])
    print(
        f"{'workflow':<{name}} {'runs/month':>10} {'type':<9} {'trans':>6} {'λ inv':>6} {'λ GB-s':>8} "
        f"{'log KB':>7} {'Standard':>10} {'Express':>10} {'chosen':>10} {'CW Logs':>8} {'X-Ray':>7}  "
        "largest item"
    )
    for wf, usage, volume, _why, standard, express, chosen in rows:
        total = sum(chosen.values())
        largest = max(chosen, key=lambda k: chosen[k])
        flag = "" if total < 1 else "  over $1"
        print(
            f"{wf.name:<{name}} {volume:>10} {wf.type:<9} {usage.transitions:>6.0f} "
            f"{usage.lambda_invocations:>6.0f} {usage.lambda_gb_seconds:>8.3f} "
            f"{sum(usage.log_bytes.values()) / 1024:>7.1f} {standard:>10.4f} {express:>10.4f} {total:>10.4f} "
            f"{chosen['CloudWatch Logs']:>8.4f} {chosen.get('X-Ray', 0):>7.4f}  "
            f"{largest} ${chosen[largest]:.4f}{flag}"
        )
    print()
    print("\n".join(volume_lines([(wf.name, volume, why) for wf, _usage, volume, why, *_ in rows])))
    print()
    print("\n".join(log_lines([(wf.name, usage) for wf, usage, *_ in rows], logging)))
    print("\n".join(tracing_lines()))
    print(f"\n{measured_with(args.runs, args.volume, args.env)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
