"""What a workflow test shows when an execution did not end as the test expected, and what the
session's path coverage summary says."""

from __future__ import annotations

import datetime
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

import pytest

from tests import counters
from tests.conftest import coverage_summary
from tests.workflows.conftest import Run, deploy_workflows, pytest_assertrepr_compare
from workflows import WORKFLOWS

EVENTS: list[dict[str, Any]] = [
    {"id": 1, "previousEventId": 0, "type": "ExecutionStarted"},
    {
        "id": 2,
        "previousEventId": 1,
        "type": "TaskStateEntered",
        "stateEnteredEventDetails": {"name": "Find Unicorn"},
    },
    {
        "id": 3,
        "previousEventId": 2,
        "type": "TaskFailed",
        "taskFailedEventDetails": {"error": "KeyError", "cause": "'eta'"},
    },
    {
        "id": 4,
        "previousEventId": 3,
        "type": "TaskStateExited",
        "stateExitedEventDetails": {"name": "Find Unicorn"},
    },
    {
        "id": 5,
        "previousEventId": 4,
        "type": "FailStateEntered",
        "stateEnteredEventDetails": {"name": "Failed"},
    },
    {
        "id": 6,
        "previousEventId": 5,
        "type": "ExecutionFailed",
        "executionFailedEventDetails": {"error": "KeyError", "cause": "'eta'"},
    },
]


def test_a_failed_run_compared_with_succeeded_names_the_state_error_and_cause() -> None:
    run = Run("arn:x", "FAILED", None, "KeyError", "'eta'", EVENTS)

    explained = pytest_assertrepr_compare("==", run.status, "SUCCEEDED")

    assert explained is not None
    assert explained[-1] == "the execution ended FAILED in 'Find Unicorn': KeyError: 'eta'"
    assert run.status == "FAILED" and run.status != "SUCCEEDED"


def test_a_run_that_succeeded_is_compared_as_pytest_compares_strings() -> None:
    run = Run("arn:x", "SUCCEEDED", {}, None, None, EVENTS[:1])
    assert pytest_assertrepr_compare("==", run.status, "FAILED") is None


def test_a_workflow_the_registry_does_not_list_is_named_with_those_it_does() -> None:
    """Not a bare KeyError: a new workflow left out of WORKFLOWS is the likely cause."""
    with pytest.raises(KeyError, match=r"unknown workflow 'greting'; known: .*lottery"):
        deploy_workflows(None, "greting")  # never reaches a cloud


class Reporter:
    """What the session's summary writes, and the exit status it sets."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._session = SimpleNamespace(exitstatus=0)

    def section(self, title: str) -> None:
        self.lines.append(title)

    def write_line(self, line: str) -> None:
        self.lines.append(line)


def summary(monkeypatch: pytest.MonkeyPatch, gate: str, ran: list[str]) -> Reporter:
    """The summary of a session that ran tests of the workflows `ran` (none of their edges reached)."""
    monkeypatch.setattr(counters, "HISTORIES", defaultdict(list, {name: [] for name in ran}))
    monkeypatch.setenv("PYFLOWS_COVERAGE_GATE", gate)
    reporter = Reporter()
    coverage_summary(reporter)
    return reporter


def test_a_workflow_the_gate_holds_that_no_test_ran_fails_the_session_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reporter = summary(monkeypatch, "1", ["lottery"])

    assert f"no workflow test ran: {', '.join(sorted(set(WORKFLOWS) - {'lottery'}))}" in reporter.lines
    assert reporter.lines[-1].startswith(f"FAILED ({', '.join(sorted(WORKFLOWS))}): ")
    assert reporter._session.exitstatus == 1


def test_a_gate_naming_one_workflow_says_nothing_of_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its own test file run alone (PYFLOWS_COVERAGE_GATE=lottery): the others' tests were not meant to run."""
    reporter = summary(monkeypatch, "lottery", ["lottery"])
    untested = summary(monkeypatch, "lottery", [])

    assert not any(line.startswith("no workflow test ran") for line in reporter.lines)
    assert reporter.lines[-1].startswith("FAILED (lottery): ")  # its edges missed
    assert untested.lines[-2:-1] == ["no workflow test ran: lottery"]
    assert untested.lines[-1].startswith("FAILED (lottery): ")


def test_the_records_of_two_pytest_xdist_workers_make_one_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each worker hands its counts and histories over as text (their timestamps included); the
    controller adds them up, and its coverage summary counts every worker's executions."""
    stamped = [{**EVENTS[0], "timestamp": datetime.datetime(2026, 12, 8, tzinfo=datetime.UTC)}, *EVENTS[1:]]

    def worker(inputs: int, faults: int, histories: dict[str, list[Any]], checks: list[str]) -> str:
        """This process's records set as a worker's would be, and given as it hands them over."""
        monkeypatch.setattr(counters, "inputs_tried", inputs)
        monkeypatch.setattr(counters, "faults_injected", faults)
        monkeypatch.setattr(counters, "records_lost", 0)
        monkeypatch.setattr(counters, "loss_checks", checks)
        monkeypatch.setattr(counters, "reports", [f"figures of {', '.join(checks)}"] if checks else [])
        monkeypatch.setattr(counters, "HISTORIES", defaultdict(list, histories))
        return counters.state()

    first = worker(3, 0, {"lottery": [stamped]}, [])
    second = worker(4, 2, {"lottery": [stamped], "ride-request": [EVENTS]}, ["load test"])
    worker(0, 0, {}, [])  # the controller, which ran no test
    counters.merge(first)
    counters.merge(second)

    assert (counters.inputs_tried, counters.faults_injected, counters.loss_checks) == (7, 2, ["load test"])
    assert counters.reports == ["figures of load test"]
    assert counters.HISTORIES["lottery"][0][0]["timestamp"] == "2026-12-08 00:00:00+00:00"
    monkeypatch.setenv("PYFLOWS_COVERAGE_GATE", "")
    reporter = Reporter()
    coverage_summary(reporter)
    counted = {line.split()[0]: line.rsplit("(", 1)[1] for line in reporter.lines if "executions)" in line}
    assert counted == {"lottery": "2 executions)", "ride-request": "1 executions)"}
