"""What the end-to-end and cost benchmarks print of a workflow they were not written for: e2e's
table aligned whatever the names, cost's volume named as assumed when nothing gives one, and the
command that measured it; and what cost makes of the logs a run writes and of X-Ray's traces."""

from __future__ import annotations

import dataclasses
import datetime
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import cost  # noqa: E402 (bench/ is not a package)
import e2e  # noqa: E402

import infra  # noqa: E402
from infra import environments  # noqa: E402
from infra.api import ACCESS_LOG_FORMAT  # noqa: E402
from localcloud import LocalCloud, metering  # noqa: E402
from workflows import WORKFLOWS  # noqa: E402

# a name longer than every one the tables were first laid out for
EXPENSES = dataclasses.replace(WORKFLOWS["lottery"], name="expense-approval-by-managers")


def test_e2e_table_columns_line_up_for_a_long_workflow_name() -> None:
    rows = []
    for wf in (WORKFLOWS["lottery"], EXPENSES):
        figures = e2e.Figures(wf, "start", cold_first=e2e.Sample(1100.0, "SUCCEEDED", "arn"))
        figures.warm = [e2e.Sample(40.0, "SUCCEEDED", "arn")]
        figures.states = [9]
        rows.append(figures)

    lines = e2e.table(rows, 4)

    bars = {tuple(i for i, c in enumerate(line) if c == "|") for line in lines}
    assert len(bars) == 1, "\n".join(lines)
    assert lines[3].startswith("| expense-approval-by-managers | STANDARD |")


def test_cost_names_the_workflows_it_assumed_a_volume_for() -> None:
    assert cost.monthly_volume(EXPENSES, {}) == (cost.UNKNOWN_VOLUME, None)
    assert cost.monthly_volume(EXPENSES, {"expense-approval-by-managers": 200}) == (
        200,
        "given on the command line",
    )
    lottery = cost.monthly_volume(WORKFLOWS["lottery"], {})

    lines = cost.volume_lines([("lottery", *lottery), (EXPENSES.name, cost.UNKNOWN_VOLUME, None)])

    assert (
        lines[2] == f"  expense-approval-by-managers: {cost.UNKNOWN_VOLUME}/month, assumed: no volume known"
    )
    assert lines[-1] == (
        f"No volume known for expense-approval-by-managers: costed at {cost.UNKNOWN_VOLUME} executions "
        "a month. Give one with --volume NAME=EXECUTIONS_PER_MONTH, or add it to VOLUMES in bench/cost.py."
    )
    assert not any("No volume known" in line for line in cost.volume_lines([("lottery", *lottery)]))


def test_cost_gives_the_command_with_the_volumes_and_environment_it_was_given() -> None:
    assert cost.measured_with(3, []) == "Measured with: python bench/cost.py --runs 3"
    assert cost.measured_with(5, ["lottery=10", "etf-signal=30"]) == (
        "Measured with: python bench/cost.py --runs 5 --volume lottery=10 --volume etf-signal=30"
    )
    assert (
        cost.measured_with(2, [], "staging") == "Measured with: python bench/cost.py --runs 2 --env staging"
    )


PRICES = json.loads((REPO / "bench" / "prices.json").read_text())
LOTTERY = WORKFLOWS["lottery"]
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:pyflows-prod-lottery"


def _logging(env: str) -> Any:
    return cost.logging_of(infra.load(env))


def test_the_logs_a_run_writes_are_priced_from_prices_json_and_in_the_total() -> None:
    """1,048,576 runs of 1 KiB each are 1 GB a month, ingested once and held compressed (15%) for
    the days kept, out of a month of hours_per_month / 24 days; 20 KiB more a run, 20 GB more."""
    volume = 2**20
    quiet = cost.Usage(log_bytes={"functions": 1024})
    talkative = cost.Usage(log_bytes={"functions": 16 * 1024, "state machine": 5 * 1024})

    bills = [cost.cost(LOTTERY, usage, volume, "STANDARD", 90) for usage in (quiet, talkative)]

    ingested, stored = (
        PRICES["cloudwatch_logs_per_gb_ingested"],
        PRICES["cloudwatch_logs_per_gb_month_stored"],
    )
    month_days = PRICES["hours_per_month"] / 24
    assert bills[0]["CloudWatch Logs"] == pytest.approx(ingested + 0.15 * 90 / month_days * stored)
    assert bills[1]["CloudWatch Logs"] == pytest.approx(21 * bills[0]["CloudWatch Logs"])
    added = bills[1]["CloudWatch Logs"] - bills[0]["CloudWatch Logs"]
    assert sum(bills[1].values()) - sum(bills[0].values()) == pytest.approx(added) and added > 0
    kept_a_year = cost.cost(LOTTERY, quiet, volume, "STANDARD", 365)["CloudWatch Logs"]
    assert kept_a_year == pytest.approx(ingested + 0.15 * 365 / month_days * stored)


class _Bench:
    def state_machine(self, wf: Any) -> str:
        return MACHINE


def test_a_run_that_logs_more_costs_more(local_cloud: LocalCloud) -> None:
    """The functions' logs of a run are what metering counted put to their log groups since its
    reset. (The session's local cloud, not emptied: what other tests deployed stays.)"""
    group = f"/aws/lambda/cost-test-{uuid.uuid4().hex}"
    logs = local_cloud.client("logs")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    metering.install()
    metering.count_logs()
    bills = []
    try:
        for lines in (3, 30):
            metering.reset()
            events = [{"timestamp": int(time.time() * 1000), "message": "x" * 74} for _ in range(lines)]
            logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
            written = cost.run_logs(_Bench(), LOTTERY, [], _logging("prod"))
            assert written == {"functions": lines * 100, "state machine": 0}
            bills.append(cost.cost(LOTTERY, cost.Usage(log_bytes=written), 10_000, "STANDARD", 90))
    finally:
        metering.count_logs(False)
    assert bills[1]["CloudWatch Logs"] > bills[0]["CloudWatch Logs"] > 0
    assert sum(bills[1].values()) > sum(bills[0].values())


def _event(event_id: int, kind: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    at = datetime.datetime(2026, 12, 7, 14, 30, event_id, tzinfo=datetime.UTC)
    event = {"id": event_id, "previousEventId": event_id - 1, "type": kind, "timestamp": at}
    key = kind[0].lower() + kind[1:] + "EventDetails"
    return {**event, key: details} if details is not None else event


HISTORY = [
    _event(1, "ExecutionStarted", {"input": json.dumps({"draw": "x" * 500}), "roleArn": "arn:role"}),
    _event(2, "TaskStateEntered", {"name": "Draw", "input": json.dumps({"draw": "x" * 500})}),
    _event(3, "TaskFailed", {"error": "Lambda.ServiceException", "cause": "busy", "resource": "invoke"}),
    _event(4, "TaskStateExited", {"name": "Draw", "output": "{}"}),
    _event(5, "ExecutionSucceeded", {"output": "{}"}),
]


def test_execution_logs_follow_the_level_and_the_data_deploy_configures() -> None:
    """prod logs errors only, without execution data, and keeps logs 90 days; elsewhere every event
    is logged with its data, kept 30 days. The local cloud writes no execution log: it is computed."""
    prod, staging = _logging("prod"), _logging("staging")
    assert (prod.function_level, prod.execution_level, prod.execution_data, prod.retention_days) == (
        "INFO",
        "ERROR",
        False,
        90,
    )
    assert (staging.execution_level, staging.execution_data, staging.retention_days) == ("ALL", True, 30)

    every_event = cost.execution_log_bytes(HISTORY, MACHINE, staging)
    without_data = cost.execution_log_bytes(
        HISTORY, MACHINE, dataclasses.replace(staging, execution_data=False)
    )
    errors = cost.execution_log_bytes(HISTORY, MACHINE, prod)

    assert errors == cost.execution_log_bytes([HISTORY[2]], MACHINE, prod) > 0
    assert cost.execution_log_bytes([e for e in HISTORY if e["id"] != 3], MACHINE, prod) == 0
    assert every_event > without_data + 2 * 500 > errors
    assert cost.execution_log_bytes(HISTORY, MACHINE, dataclasses.replace(prod, execution_level="OFF")) == 0


def test_the_access_log_line_is_the_format_deploy_configures_with_every_variable_filled() -> None:
    line = cost.access_log_line("POST /ride")

    logged = json.loads(line)
    assert logged.keys() == json.loads(ACCESS_LOG_FORMAT).keys()
    assert logged["routeKey"] == "POST /ride" and logged["integrationError"] == "-"
    assert "$context" not in line
    assert cost.start_route(WORKFLOWS["ride-request"]) == "POST /ride"
    assert cost.start_route(LOTTERY) is None


def test_x_ray_traces_are_priced_while_tracing_is_on_and_said_to_cost_nothing_when_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bill = cost.cost(LOTTERY, cost.Usage(), 1000, "STANDARD", 30)
    assert bill["X-Ray"] == pytest.approx(1000 * PRICES["xray_per_trace_recorded"])

    monkeypatch.setattr(environments, "TRACED", False)

    assert "X-Ray" not in cost.cost(LOTTERY, cost.Usage(), 1000, "STANDARD", 30)
    assert cost.tracing_lines() == ["X-Ray: tracing is off (infra/environments.py TRACED): it costs nothing."]
