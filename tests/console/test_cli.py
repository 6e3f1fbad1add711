"""`python -m workflows list|start|executions|describe|history|graph` against the lottery on the local cloud."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import infra
from console.errors import BadRequest
from console.service import ExecutionService
from infra.environments import Environment
from localcloud import LocalCloud, mock_config
from tasks.lottery import announce
from tests.console.conftest import ROLE, fail_the_lottery, wait_for
from workflows import WORKFLOWS
from workflows.cli import main, parser
from workflows.registry import ROOT


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list(lottery: Environment, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--env", "local")
    assert code == 0
    assert any(line.split()[:3] == ["lottery", "STANDARD", "yes"] for line in out.splitlines())
    code, out, _ = run(capsys, "list", "--json")
    assert {w["name"]: w["deployed"] for w in json.loads(out)}["lottery"] is True
    code, before, _ = run(capsys, "--json", "--env", "local", "list")  # the options before the command
    assert json.loads(before) == json.loads(out)


def test_start_wait_describe_history_graph(
    lottery: Environment, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(
        capsys, "start", "lottery", "--input", '{"winners": 2, "seed": 11}', "--wait", "--json"
    )
    assert code == 0
    execution = json.loads(out)
    assert execution["status"] == "SUCCEEDED"
    assert len(execution["output"]["winners"]) == 2
    arn = execution["executionArn"]

    code, out, _ = run(capsys, "describe", arn)
    assert code == 0 and "SUCCEEDED" in out
    code, out, _ = run(capsys, "history", arn, "--json")
    assert json.loads(out)[-1]["type"] == "ExecutionSucceeded"
    code, out, _ = run(capsys, "history", arn)  # each state's input and output, on one line each
    entered = next(line for line in out.splitlines() if "TaskStateEntered" in line and "Draw Winners" in line)
    assert '"seed":11' in entered  # compact JSON, whatever spacing the event has
    succeeded = [line for line in out.splitlines() if "TaskSucceeded" in line]
    assert succeeded and not any("SdkHttpMetadata" in line for line in succeeded)  # a Task's Payload
    exited = next(line for line in out.splitlines() if "TaskStateExited" in line and "Draw Winners" in line)
    shown = exited.split("  ")[-1]
    assert shown.startswith('{"seed":11,"winners":2,"draw":') and shown.endswith("…") and len(shown) == 60
    code, out, _ = run(capsys, "executions", "lottery")
    assert code == 0 and execution["name"] in out

    svg = tmp_path / "run.svg"
    code, out, _ = run(capsys, "graph", arn, "--out", str(svg))
    assert code == 0 and svg.read_text().startswith("<svg")
    code, out, _ = run(capsys, "graph", "lottery", "--json")
    assert json.loads(out)["states"]["Draw Winners"]["status"] == "not_reached"
    code, out, _ = run(capsys, "graph", arn)  # an execution: how each state ended, in flow order
    assert out.splitlines()[:2] == ["succeeded    Validate Request", "succeeded    Draw Winners"]


def test_a_workflows_graph_as_text_is_its_states_and_transitions(
    lottery: Environment, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "graph", "lottery")
    rows = [re.split(r"\s{2,}", line) for line in out.splitlines()]
    assert code == 0 and rows[0] == ["state", "type", "transitions"]
    transitions = {row[0]: row[1:] for row in rows[1:]}
    assert transitions["Validate Request"] == [
        "Task",
        "-> Draw Winners; catch InvalidInput, NotEnoughEligibleEmployees -> Request Rejected; "
        "catch States.ALL -> Alert Window",
    ]
    assert transitions["Any Past Winner?"] == [
        "Choice",
        "$.check.eligible == true -> Record Winners; $.draw.attempt >= 5 -> Redraw Limit Reached; "
        "Default -> Count Redraw",
    ]
    assert transitions["Record Winners"] == ["Task", "-> Notify Winners; catch States.ALL -> Alert Window"]
    assert transitions["Alert Window"] == [
        "Task",
        "-> Alert Failure; catch DynamoDB.ConditionalCheckFailedException -> Alert Failure; "
        "catch States.ALL -> Alert Failure",
    ]
    assert transitions["Alert Failure"] == [
        "Task",
        "-> Failed; catch States.ALL -> Release Alert Window",
    ]
    assert transitions["Draw Complete"] == ["Pass", "-> end"]
    assert "not_reached" not in out  # nothing ran: a workflow has no status


def test_a_graph_that_cannot_be_written_is_invalid_input_and_prints_nothing(
    lottery: Environment, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-dir" / "x.svg"
    code, out, err = run(capsys, "graph", "lottery", "--out", str(missing))
    assert (code, out, err.strip()) == (2, "", f"error: --out {missing}: No such file or directory")
    code, out, _ = run(capsys, "graph", "lottery", "--out", str(missing), "--json")
    assert code == 2 and json.loads(out) == {
        "error": "BadInput",
        "message": f"--out {missing}: No such file or directory",
    }  # the error only, not the graph before it
    assert not missing.parent.exists()


def test_a_graph_is_written_in_the_format_its_files_extension_names(
    lottery: Environment, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Not SVG bytes in a .png: PNG and PDF as Graphviz draws them; another extension (or none) is
    refused before anything is read or written."""
    for name, magic in (("l.png", b"\x89PNG"), ("l.PDF", b"%PDF"), ("l.svg", b"<svg")):
        code, out, _ = run(capsys, "graph", "lottery", "--out", str(tmp_path / name))
        assert (code, out) == (0, f"wrote {tmp_path / name}\n")
        assert (tmp_path / name).read_bytes().startswith(magic), name
    for name in ("l.jpg", "graph"):
        code, out, err = run(capsys, "graph", "no-such-execution", "--out", str(tmp_path / name))
        assert (code, out) == (2, "")
        assert err == (
            f"error: --out {tmp_path / name}: the file must end in .svg, .png or .pdf "
            "(the format the graph is drawn in)\n"
        )
        assert not (tmp_path / name).exists()


def test_a_graph_without_graphviz_says_to_install_it_in_one_line(
    lottery: Environment, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    svg = tmp_path / "run.svg"
    code, out, err = run(capsys, "graph", "lottery", "--out", str(svg))
    assert (code, out) == (2, "")  # the machine lacks a program: bad environment, as the README's table
    assert err == "error: Graphviz's dot is not installed (Debian: apt-get install graphviz)\n"
    assert not svg.exists()
    code, _, _ = run(capsys, "graph", "lottery")  # as text, the graph needs no Graphviz
    assert code == 0


def test_start_runs_a_mocked_test_case_by_name(
    lottery: Environment, capsys: pytest.CaptureFixture[str]
) -> None:
    """--case runs one of the local cloud's mocked test cases; a misspelt one is named, exit 2."""
    machine = ExecutionService(lottery, WORKFLOWS).state_machine_name("lottery")
    request = '{"winners": 1}'
    config = {
        "StateMachines": {machine: {"TestCases": {"NobodyLeft": {"Validate Request": "NoneEligible"}}}},
        "MockedResponses": {
            "NoneEligible": {"0": {"Throw": {"Error": "NotEnoughEligibleEmployees", "Cause": "mocked"}}}
        },
    }
    with mock_config.loaded(config):
        code, out, err = run(capsys, "start", "lottery", "--input", request, "--case", "NobodyLeft", "--wait")
        assert code == 1 and "FAILED" in out and "error: NotEnoughEligibleEmployees: mocked" in err
        code, _, err = run(capsys, "start", "lottery", "--input", request, "--case", "NobodyLfet")
    assert code == 2 and "no mocked test case 'NobodyLfet'" in err
    on_aws = ExecutionService(dataclasses.replace(lottery, endpoint=None), WORKFLOWS)
    with pytest.raises(BadRequest, match="runs on the local cloud only"):
        on_aws.start("lottery", {"winners": 1}, case="NobodyLeft")


def test_describe_says_a_draw_recorded_but_not_announced_is_not_to_be_started_again(
    lottery: Environment,
    lottery_app: Flask,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its error marks it: a fresh start would draw other winners; its cause says how to announce it.
    Once announced, describe (and the console's page) says when, and no longer to announce it."""
    machine = ExecutionService(lottery, WORKFLOWS).state_machine_name("lottery")
    config = {
        "StateMachines": {machine: {"TestCases": {"NotAnnounced": {"Notify Winners": "SnsDenied"}}}},
        "MockedResponses": {
            "SnsDenied": {"0": {"Throw": {"Error": "SNS.AuthorizationErrorException", "Cause": "denied"}}}
        },
    }
    name = f"unannounced-{uuid.uuid4().hex[:6]}"
    with mock_config.loaded(config):
        code, _, err = run(
            capsys,
            "start",
            "lottery",
            "--input",
            '{"winners": 1}',
            "--case",
            "NotAnnounced",
            "--wait",
            "--name",
            name,
        )
    assert code == 1 and "error: DrawNotAnnounced: " in err

    code, out, _ = run(capsys, "describe", name)
    warning = WORKFLOWS["lottery"].fresh_start_warnings["DrawNotAnnounced"]
    assert f"\nstart      not again: {warning}\n" in out
    assert warning.startswith("its draw is recorded: a new one would draw other winners")
    assert f"announce it with: python -m tasks.lottery.announce --env local --draw {name} " in out
    code, out, _ = run(capsys, "describe", name, "--json")
    assert json.loads(out)["freshStartWarning"] == warning

    assert announce.main(["--env", "local", "--draw", name]) == 0
    capsys.readouterr()
    at = announce.when_announced(lottery, name)
    assert at is not None
    scans: list[str] = []
    read = announce.draw_items
    monkeypatch.setattr(announce, "draw_items", lambda *args: scans.append(args[2]) or read(*args))
    code, out, _ = run(capsys, "describe", name)
    said = (
        f"its draw is recorded, and was announced at {at} (python -m tasks.lottery.announce): "
        "a new one would draw other winners."
    )
    assert f"\nstart      not again: {said}\n" in out and "Announce this one" not in out
    assert scans == [name]  # one read of the winners table
    with lottery_app.test_client() as console:
        assert console.get(f"/api/executions/{name}").get_json()["freshStartWarning"] == said
    rejected = f"rejected-{uuid.uuid4().hex[:6]}"  # a run of another error reads no table
    assert run(capsys, "start", "lottery", "--input", '{"winners": 99}', "--wait", "--name", rejected)[0] == 1
    code, out, _ = run(capsys, "describe", rejected)
    assert code == 0 and "\nstart " not in out and scans == [name, name]


def test_start_from_a_file_that_fails_exits_non_zero(
    lottery: Environment, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    request = tmp_path / "input.json"
    request.write_text(json.dumps({"winners": 99}))  # more than the employees who can win
    name = f"too-many-{uuid.uuid4().hex[:6]}"
    code, out, err = run(capsys, "start", "lottery", "--input", f"@{request}", "--wait", "--name", name)
    assert code == 1
    assert "FAILED" in out
    assert "NotEnoughEligibleEmployees" in err

    # where and why, readable: the Lambda's message, not its error document; the state it failed in
    code, out, _ = run(capsys, "describe", name)
    lines = dict(line.split(None, 1) for line in out.splitlines() if line[:1].isalpha() and " " in line)
    assert lines["error"] == "NotEnoughEligibleEmployees"
    assert lines["cause"].startswith("99 winners requested but only ") and "Traceback" not in out
    assert "failed in  Validate Request" in out
    assert "\nstart " not in out  # rejected: started again with another input, it may succeed
    code, out, _ = run(capsys, "history", name)  # each failure with its reason, not its name alone
    failed = next(line for line in out.splitlines() if "LambdaFunctionFailed" in line or "TaskFailed" in line)
    assert "NotEnoughEligibleEmployees: 99 winners requested but only" in failed
    # caught and ended in Request Rejected: a redrive restarts there, which describe says
    only_failed = "possible, but it would only run Request Rejected again, and fail as this run did"
    assert lines["redrive"] == only_failed
    code, out, _ = run(capsys, "graph", name, "--json")  # the console warns from the same rule
    assert json.loads(out)["execution"]["redriveRerunsOnly"] == "Request Rejected"
    # refused, saying why, with an exit of its own: nothing ran, unlike a run that failed
    code, out, err = run(capsys, "redrive", name, "--wait")
    assert (code, out) == (3, "")
    assert err == (
        "error: not redriven: it would only run Request Rejected again, and fail as this run did"
        " (--force redrives it anyway)\n"
    )
    code, out, _ = run(capsys, "redrive", name, "--json")
    assert code == 3 and json.loads(out)["error"] == "FutileRedrive"
    code, out, _ = run(capsys, "describe", name, "--json")
    described = json.loads(out)
    assert "redriveCount" not in described  # not redriven
    # what the text says, for scripts: where it failed, and that a redrive would only fail again
    assert (described["failedIn"], described["redriveRerunsOnly"]) == ("Validate Request", "Request Rejected")
    code, out, err = run(capsys, "redrive", name, "--wait", "--force")  # it fails again, and says why
    assert code == 1 and "error: NotEnoughEligibleEmployees: 99 winners requested" in err
    code, out, _ = run(capsys, "describe", name)
    assert f"redrive    {only_failed}" in out  # failed again: it may be redriven again, as uselessly
    # started again under its name once the cause is fixed: Step Functions refuses a name it has
    # used, so nothing starts (exit 2, with --wait or without), and the line says how that one ended
    stop_date = json.loads(run(capsys, "describe", name, "--json")[1])["stopDate"]
    for wait in ((), ("--wait",)):
        code, out, err = run(capsys, "start", "lottery", "--input", f"@{request}", *wait, "--name", name)
        assert (code, out) == (2, "")
        assert err == (
            f"error: not started: the name '{name}' was used by an execution that ended FAILED at "
            f"{stop_date}, and Step Functions refuses a name it has used; give another --name\n"
        )  # not "or redrive it": it would only fail again


def test_a_name_in_use_starts_nothing_unless_it_runs_with_the_same_input(
    service: ExecutionService, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """While it runs, the same name and input is that run (exit 0: it is started); another input,
    or a name of a run that ended, starts nothing (exit 2), and a run that a redrive would run on
    is named with the command that redrives it."""
    monkeypatch.setattr("console.cli._service", lambda args: service)  # the slow test workflow
    name = f"named-{uuid.uuid4().hex[:6]}"
    code, out, _ = run(capsys, "start", "slow", "--input", '{"count": 1}', "--name", name)
    assert code == 0 and out.startswith("started ")
    arn = out.split()[1]
    code, out, err = run(capsys, "start", "slow", "--input", '{"count": 1}', "--name", name)
    assert (code, err) == (0, "")
    assert (
        out == f"already running {arn} (started earlier with this name and input; nothing new was started)\n"
    )
    code, out, err = run(capsys, "start", "slow", "--input", '{"count": 2}', "--name", name)
    assert (code, out) == (2, "")
    assert err == (
        f"error: not started: the name '{name}' is used by an execution (RUNNING) with another input; "
        "give another --name\n"
    )
    code, _, _ = run(capsys, "stop", name, "--error", "Cancelled")
    assert code == 0
    code, out, err = run(capsys, "start", "slow", "--input", '{"count": 1}', "--name", name, "--json")
    assert code == 2 and json.loads(out)["error"] == "NameUsed"
    assert "that ended ABORTED at " in err
    assert err.endswith(f"give another --name, or redrive it (python -m workflows redrive {name})\n")


def test_history_says_where_it_failed_only_of_a_run_that_ended_failed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Redriven to success, a run's history still holds its ExecutionFailed; one that failed before
    any state ran has no state to name."""

    def event(id: int, kind: str, **details: Any) -> dict[str, Any]:
        key = kind[0].lower() + kind[1:] + "EventDetails"
        return {"id": id, "type": kind, "timestamp": "t", "previousEventId": id - 1, key: details}

    failed = [
        event(1, "ExecutionStarted", input="{}"),
        event(2, "TaskStateEntered", name="Work", input="{}"),
        event(3, "ExecutionFailed", error="Boom", cause="it broke"),
    ]
    redriven = [
        *failed,
        event(4, "ExecutionRedriven"),
        event(5, "TaskStateEntered", name="Work", input="{}"),
        event(6, "TaskStateExited", name="Work", output="{}"),
        event(7, "ExecutionSucceeded", output="{}"),
    ]
    at_once = [event(1, "ExecutionStarted", input="{}"), event(2, "ExecutionFailed", error="Boom")]

    class Recorded:
        def __init__(self, events: list[dict[str, Any]]) -> None:
            self.events = events

        def execution_arn(self, execution: str) -> str:
            return execution

        def history(self, arn: str) -> list[dict[str, Any]]:
            return self.events

    for events, last in ((failed, "failed in Work"), (redriven, "7"), (at_once, "2")):
        monkeypatch.setattr("console.cli._service", lambda args, events=events: Recorded(events))
        code, out, _ = run(capsys, "history", "some-run")
        assert code == 0 and out.splitlines()[-1].startswith(last), out


def test_history_puts_every_event_of_a_map_item_in_its_item(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 0's failure is recorded after item 1 began (etf-signal, one fund's prices failing): its
    row says item 0, not only the rows of the Map's own iteration events, so that it is not read as
    item 1's."""

    def event(id: int, kind: str, previous: int, **details: Any) -> dict[str, Any]:
        key = kind[0].lower() + kind[1:] + "EventDetails"
        return {"id": id, "type": kind, "timestamp": "t", "previousEventId": previous, key: details}

    events = [
        event(1, "ExecutionStarted", 0, input="{}"),
        event(2, "MapStateEntered", 1, name="Fetch Prices", input="{}"),
        event(3, "MapStateStarted", 2),
        event(4, "MapIterationStarted", 3, name="Fetch Prices", index=0),
        event(5, "TaskStateEntered", 4, name="Fetch Fund Prices", input="{}"),
        event(6, "TaskScheduled", 5),
        event(7, "MapIterationStarted", 3, name="Fetch Prices", index=1),
        event(8, "TaskStateEntered", 7, name="Fetch Fund Prices", input="{}"),
        event(9, "TaskFailed", 6, error="TushareUnavailable", cause="fund_daily: HTTP 503"),
    ]

    class Recorded:
        def execution_arn(self, execution: str) -> str:
            return execution

        def history(self, arn: str) -> list[dict[str, Any]]:
            return events

    monkeypatch.setattr("console.cli._service", lambda args: Recorded())
    code, out, _ = run(capsys, "history", "some-run")
    assert code == 0
    assert re.search(r"TaskFailed\s+Fetch Fund Prices #0\s", out), out
    assert re.search(r"TaskScheduled\s+Fetch Fund Prices #0\s", out), out
    assert re.search(r"MapIterationStarted\s+Fetch Prices #1\s", out), out
    assert re.search(r"MapStateStarted\s+Fetch Prices\s", out), out
    # --json too: the whole events, each with its state and item, as the HTTP API gives them
    code, out, _ = run(capsys, "history", "some-run", "--json")
    shown = {e["id"]: (e["state"], e["mapItem"]) for e in json.loads(out)}
    assert shown[9] == ("Fetch Fund Prices", "0") and shown[8] == ("Fetch Fund Prices", "1")
    assert shown[1] == (None, None)


def test_invalid_input_names_the_field(lottery: Environment, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "start", "lottery", "--input", '{"winners": "two"}')
    assert code == 2
    assert err == (
        'invalid input: winners: "two" is not of type "integer"\n'
        "a valid input to start from: python -m workflows example lottery\n"
    )
    code, _, err = run(capsys, "start", "lottery", "--input", "{not json")
    assert code == 2 and "not JSON" in err
    code, _, err = run(capsys, "start", "lottery", "--input", "@/no/such/input.json")
    assert code == 2 and err.strip() == "error: --input @/no/such/input.json: No such file or directory"
    code, _, err = run(capsys, "start", "lottery", "--input", '{"winners": 1}', "--name", "bad name!")
    assert code == 2 and err.strip() == (
        "error: invalid execution name 'bad name!': Step Functions takes no whitespace (it has ' ')"
    )


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "1 to 80 characters (it has 0)"),  # not a start under a random name
        ("x" * 81, "1 to 80 characters (it has 81)"),
        ("a\tb", "no whitespace (it has '\\t')"),
        ("day[1]", "no brackets < > { } [ ] (it has '[')"),
        ("day-*", "no wildcard characters ? * (it has '*')"),
        ("2026/11/20", "no special characters \" # % \\ ^ | ~ ` $ & , ; : / (it has '/')"),
        ("a\x7fb", "no control characters (it has '\\x7f')"),
    ],
)
def test_a_name_step_functions_refuses_is_said_with_the_rule_it_breaks_before_any_call(
    name: str, rule: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_call(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Step Functions was called")

    monkeypatch.setattr(ExecutionService, "require_arn", no_call)
    code, out, err = run(capsys, "start", "lottery", "--input", '{"winners": 1}', "--name", name)
    assert (code, out) == (2, "")
    assert err == f"error: invalid execution name {name!r}: Step Functions takes {rule}\n"
    code, out, _ = run(capsys, "start", "lottery", "--input", '{"winners": 1}', "--name", name, "--json")
    assert code == 2 and json.loads(out)["error"] == "BadRequest"


def test_a_name_two_executions_share_is_bad_usage_not_a_failure(
    service: ExecutionService, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing ran: exit 2, as for an unknown name, from every command that takes one (a redrive
    too: its 3 is for a run that cannot be redriven)."""
    monkeypatch.setattr("console.cli._service", lambda args: service)  # the test workflows
    name = f"twin-{uuid.uuid4().hex[:6]}"
    shapes, _ = service.start("shapes", {"count": 1}, name)
    branchy, _ = service.start("branchy", {"count": 1}, name)
    said = f"error: 2 executions are named {name!r}; give its ARN: {branchy['executionArn']}, {shapes['executionArn']}\n"
    for command in ("describe", "history", "graph", "stop", "redrive"):
        code, out, err = run(capsys, command, name)
        assert (code, out, err) == (2, "", said), command
    code, out, _ = run(capsys, "describe", name, "--json")
    assert code == 2 and json.loads(out)["error"] == "Conflict"


def test_an_input_file_that_is_not_utf8_is_invalid_input_in_one_line(
    lottery: Environment, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """PowerShell's `>` writes UTF-16: said so, exit 2, nothing started; a UTF-8 byte order mark,
    as some editors write, is read past."""
    day = tmp_path / "day.json"
    day.write_bytes('{"winners": 1}'.encode("utf-16"))
    code, out, err = run(capsys, "start", "lottery", "--input", f"@{day}")
    assert (code, out) == (2, "")
    assert (
        err == f"error: --input @{day}: not UTF-8 text: UTF-16, as PowerShell's > writes; save it as UTF-8\n"
    )
    day.write_bytes(b'{"winners": 1, "note": "\xff"}')
    code, out, err = run(capsys, "start", "lottery", "--input", f"@{day}")
    assert (code, out) == (2, "")
    assert err == f"error: --input @{day}: not UTF-8 text (byte 0xff at offset 24: invalid start byte)\n"
    day.write_bytes('{"winners": 1}'.encode("utf-8-sig"))
    code, out, _ = run(capsys, "start", "lottery", "--input", f"@{day}", "--wait")
    assert code == 0 and "SUCCEEDED" in out


def test_unknown_execution_and_workflow(lottery: Environment, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, "describe", "arn:aws:states:us-east-1:123456789012:execution:pyflows-local-lottery:nope"
    )
    assert code == 2 and "error:" in err  # a name that names nothing: bad usage, as the README's table
    code, _, err = run(capsys, "executions", "nope")
    assert code == 2 and f"unknown workflow 'nope'; the workflows: {', '.join(sorted(WORKFLOWS))}" in err
    code, _, err = run(capsys, "start", "nope")
    assert code == 2 and f"unknown workflow 'nope'; the workflows: {', '.join(sorted(WORKFLOWS))}" in err
    code, _, err = run(capsys, "start", "lotery")
    assert code == 2 and err.strip() == "error: unknown workflow 'lotery'; did you mean 'lottery'?"
    code, _, err = run(capsys, "describe", "no-such-execution")
    assert code == 2 and err.strip() == "error: no execution named 'no-such-execution' in local"
    code, out, _ = run(capsys, "--json", "describe", "no-such-execution")  # for scripts: JSON too
    assert json.loads(out) == {
        "error": "NotFound",
        "message": "no execution named 'no-such-execution' in local",
    }
    code, _, err = run(capsys, "graph", "no-such-execution")
    assert code == 2 and err.strip() == "error: no workflow or execution named 'no-such-execution' in local"
    code, _, err = run(capsys, "graph", "lotery")
    assert (
        err.strip()
        == "error: no workflow or execution named 'lotery' in local; did you mean the workflow 'lottery'?"
    )
    code, _, err = run(capsys, "list", "--env", "nowhere")
    assert code == 2 and "unknown environment" in err


def test_an_execution_is_named_by_its_name_as_well_as_its_arn(
    lottery: Environment, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`executions` lists names: each command that takes an execution takes its name too."""
    code, out, _ = run(capsys, "start", "lottery", "--input", '{"winners": 1}', "--name", "by-name", "--wait")
    assert code == 0
    code, out, _ = run(capsys, "describe", "by-name", "--json")
    assert code == 0 and json.loads(out)["executionArn"].endswith(":execution:pyflows-local-lottery:by-name")
    code, out, _ = run(capsys, "history", "by-name", "--json")
    assert json.loads(out)[-1]["type"] == "ExecutionSucceeded"
    code, _, _ = run(capsys, "graph", "by-name", "--out", str(tmp_path / "run.svg"))
    assert code == 0 and (tmp_path / "run.svg").read_text().startswith("<svg")


def test_executions_of_a_workflow_not_deployed_and_a_status_not_known(
    lottery: Environment, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed = ExecutionService.state_machine_arn  # other tests of the session may deploy etf-signal
    monkeypatch.setattr(
        ExecutionService,
        "state_machine_arn",
        lambda svc, wf: None if wf == "etf-signal" else deployed(svc, wf),
    )
    code, _, err = run(capsys, "executions", "etf-signal")
    assert code == 2 and err.strip() == (
        "error: workflow 'etf-signal' is not deployed in local (no state machine pyflows-local-etf-signal): "
        "run python deploy.py --env local"
    )
    with pytest.raises(SystemExit) as refused:
        run(capsys, "executions", "lottery", "--status", "FAIL")
    assert refused.value.code == 2 and "invalid choice: 'FAIL'" in capsys.readouterr().err
    assert run(capsys, "start", "lottery", "--input", '{"winners": 99}', "--wait")[0] == 1  # one that failed
    code, out, _ = run(capsys, "executions", "lottery", "--status", "failed")  # any case
    header, *rows = out.splitlines()
    assert code == 0 and rows and all(" FAILED " in row for row in rows), out
    assert header.split() == ["name", "status", "started", "duration", "error"]  # why each failed
    assert any("NotEnoughEligibleEmployees: 99 winners requested but only " in row for row in rows), out
    code, out, _ = run(capsys, "executions", "lottery", "--status", "FAILED", "--json")
    assert any(
        e["error"] == "NotEnoughEligibleEmployees" and "99 winners" in e["cause"] for e in json.loads(out)
    )


def test_executions_marks_an_error_cut_to_fit_its_column(
    lottery: Environment, local_cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    """As history does: a cause cut short must not read as the whole of it (--json has it whole)."""
    runtime, draw = local_cloud.lambda_runtime, lottery.resource_name("lottery", "draw-winners")
    assert runtime is not None
    message = "the seed is not a number: " + " ".join(f"word{i}" for i in range(40))
    runtime.inject(draw, "error", times=1, error_type="InvalidInput", message=message)
    name = f"long-{uuid.uuid4().hex[:6]}"
    try:
        assert run(capsys, "start", "lottery", "--input", '{"winners": 1}', "--wait", "--name", name)[0] == 1
    finally:
        runtime.clear_faults(draw)
    code, out, _ = run(capsys, "executions", "lottery", "--status", "FAILED", "--limit", "1000")
    [row] = [line for line in out.splitlines() if line.startswith(f"{name} ")]
    shown = re.split(r"\s{2,}", row)[-1]
    assert code == 0 and shown == f"InvalidInput: {message}"[:119] + "…"
    code, out, _ = run(capsys, "executions", "lottery", "--status", "FAILED", "--limit", "1000", "--json")
    assert message in next(e["cause"] for e in json.loads(out) if e["name"] == name)


def test_executions_and_describe_mark_a_business_rejection_and_the_lists_keep_or_leave_it(
    lottery: Environment, local_cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    """More winners than can win is refused on purpose (Request Rejected, no alert); InvalidInput
    raised where the workflow alerts is a failure that needs someone, though Validate Request
    rejects with that error: both FAILED, only the first marked rejected."""
    refused = f"refused-{uuid.uuid4().hex[:6]}"
    assert run(capsys, "start", "lottery", "--input", '{"winners": 99}', "--wait", "--name", refused)[0] == 1
    runtime, draw = local_cloud.lambda_runtime, lottery.resource_name("lottery", "draw-winners")
    assert runtime is not None
    runtime.inject(draw, "error", times=1, error_type="InvalidInput", message="seed is not a number")
    broke = f"broke-{uuid.uuid4().hex[:6]}"
    try:
        code, _, _ = run(capsys, "start", "lottery", "--input", '{"winners": 1}', "--wait", "--name", broke)
    finally:
        runtime.clear_faults(draw)
    assert code == 1

    def rows(*options: str) -> dict[str, str]:
        code, out, _ = run(capsys, "executions", "lottery", "--limit", "1000", *options)
        assert code == 0
        return {line.split()[0]: line for line in out.splitlines()[1:]}

    listed = rows()
    assert "  FAILED (rejected: NotEnoughEligibleEmployees)  " in listed[refused]
    assert "  FAILED  " in listed[broke] and "rejected" not in listed[broke]
    attention = rows("--status", "FAILED", "--no-rejected")
    assert refused not in attention and "InvalidInput: seed is not a number" in attention[broke]
    rejections = rows("--rejected")
    assert (
        broke not in rejections and "NotEnoughEligibleEmployees: 99 winners requested" in rejections[refused]
    )
    assert refused in rows("--status", "FAILED") and broke in rows("--status", "FAILED")
    code, out, _ = run(capsys, "executions", "lottery", "--rejected", "--limit", "1000", "--json")
    [found] = [e for e in json.loads(out) if e["name"] == refused]
    assert (found["status"], found["rejected"], found["error"]) == (
        "FAILED",
        True,
        "NotEnoughEligibleEmployees",
    )
    assert "99 winners requested" in found["cause"]

    code, out, _ = run(capsys, "describe", refused)
    assert re.search(r"^status\s+FAILED$", out, re.MULTILINE)
    assert (
        "\nrejected   the workflow refused the request on purpose (the caller's mistake); no alert was sent\n"
        in out
    )
    assert json.loads(run(capsys, "describe", refused, "--json")[1])["rejected"] is True
    code, out, _ = run(capsys, "describe", broke)
    assert "error      InvalidInput\n" in out and "rejected" not in out
    assert json.loads(run(capsys, "describe", broke, "--json")[1])["rejected"] is False


def test_example_prints_input_that_starts_the_workflow(
    lottery: Environment, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "example", "lottery")
    assert code == 0 and json.loads(out) == {"winners": 2}
    code, out, _ = run(capsys, "start", "lottery", "--input", out, "--wait")
    assert code == 0 and "SUCCEEDED" in out


def test_tokens_are_made_only_for_the_local_cloud(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "token", "bad name")
    assert (code, err.strip()) == (2, "error: invalid user name 'bad name': 1 to 128 characters, no spaces")
    code, _, err = run(capsys, "token", "ann", "--env", "staging")
    assert code == 2
    assert (
        err.strip()
        == "error: tokens are made here only for the local cloud; in staging, sign in through the app"
    )


def test_an_unreachable_local_cloud_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYFLOWS_ENDPOINT", "http://127.0.0.1:9")
    code, _, err = run(capsys, "list")
    assert code == 2  # the environment, not a run, is what failed
    assert err.strip() == (
        "error: cannot reach http://127.0.0.1:9/: is the local cloud running? Start it with "
        "python -m localcloud --port 9, or python deploy.py --env local (which starts one and deploys)"
    )


def test_a_redrive_of_a_run_that_succeeded_redrives_nothing_exit_3(
    lottery: Environment, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"done-{uuid.uuid4().hex[:6]}"
    assert run(capsys, "start", "lottery", "--input", '{"winners": 1}', "--name", name, "--wait")[0] == 0
    code, out, err = run(capsys, "redrive", name)
    assert (code, out) == (3, "")  # as a futile redrive: nothing ran, unlike a run that failed (1)
    assert err.startswith("error: ") and "SUCCEEDED" in err
    code, out, _ = run(capsys, "describe", name, "--json")
    assert "redriveCount" not in json.loads(out)
    code, out, err = run(capsys, "stop", name)  # nothing to stop: nothing done, as the redrive
    assert (code, out, err) == (2, "", "error: execution is SUCCEEDED, not RUNNING\n")


def test_a_limit_below_1_is_refused_naming_the_range(capsys: pytest.CaptureFixture[str]) -> None:
    """Not "no executions" for 0, nor one fewer for -1 (a slice's end), nor the API's 1."""
    refusals = {
        "0": "must be 1 or more, not 0",
        "-1": "must be 1 or more, not -1",
        "two": "must be a whole number, 1 or more, not 'two'",
    }
    for limit, refusal in refusals.items():
        with pytest.raises(SystemExit) as refused:
            main(["executions", "lottery", "--limit", limit])
        assert refused.value.code == 2
        said = capsys.readouterr().err.splitlines()[-1]
        assert said == f"python -m workflows executions: error: argument --limit: {refusal}"


def test_the_help_names_the_workflows_and_what_each_option_is_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in ("start", "executions", "example"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "{" + ",".join(WORKFLOWS) + "}" in capsys.readouterr().out
    [commands] = [a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)]
    for name, command in commands.choices.items():
        for action in command._actions:
            assert action.help, f"{name} {action.dest}"  # SUPPRESS, for an option kept out, is said


@pytest.mark.parametrize(
    "argv",
    [["--js", "list"], ["start", "lottery", "--inp", "{}"], ["executions", "lottery", "--stat", "FAILED"]],
)
def test_a_shortened_flag_is_refused_not_taken_for_the_one_it_begins(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(argv)
    assert refused.value.code == 2
    assert "error: unrecognized arguments: --" in capsys.readouterr().err


def test_every_parser_of_the_projects_commands_refuses_shortened_flags() -> None:
    """argparse takes a flag's beginning for the flag unless told not to: every parser is told."""
    folders = ("workflows", "console", "localcloud", "tasks", "infra", "bench")
    sources = [*ROOT.glob("*.py"), *(path for folder in folders for path in (ROOT / folder).rglob("*.py"))]
    parsers = {}
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr in ("ArgumentParser", "add_parser"):
                parsers[f"{path.relative_to(ROOT)}:{node.lineno}"] = any(
                    k.arg == "allow_abbrev" and isinstance(k.value, ast.Constant) and k.value.value is False
                    for k in node.keywords
                )
    assert len(parsers) > 20 and [where for where, told in parsers.items() if not told] == []


def test_output_into_a_reader_that_went_away_ends_quietly() -> None:
    """`python -m workflows ... | head`: no traceback when the reader has closed the pipe."""
    command = [sys.executable, "-m", "workflows", "example", "flight-deals"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT) as child:
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()  # before the child writes
        error = child.stderr.read()
    assert (child.returncode, error) == (141, b"")  # as a command SIGPIPE ended


def test_python_m_console_serves_and_prints_its_url(lottery: Environment) -> None:
    command = [sys.executable, "-m", "console", "--env", "local", "--port", "0"]
    env = {**os.environ, "PYFLOWS_ENDPOINT": str(lottery.endpoint)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            url = re.search(r"http://127\.0\.0\.1:\d+/", line)
            assert url, line
            with urllib.request.urlopen(url[0] + "api/workflows/lottery", timeout=30) as answer:
                assert json.loads(answer.read())["deployed"] is True
            with urllib.request.urlopen(url[0], timeout=30) as page:
                assert b"pyflows console" in page.read()
        finally:
            server.terminate()


def test_python_m_console_serves_on_the_port_of_the_address_deploys_links_name(lottery: Environment) -> None:
    """PYFLOWS_CONSOLE names the console's address: without --port it serves there; on another
    port it says how to make a deploy's links name that one."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        named = sock.getsockname()[1]
    env = {
        **os.environ,
        "PYFLOWS_ENDPOINT": str(lottery.endpoint),
        "PYFLOWS_CONSOLE": f"http://127.0.0.1:{named}/",
    }
    for port, said in (([], f"on http://127.0.0.1:{named}/"), (["--port", "0"], "export PYFLOWS_CONSOLE=")):
        command = [sys.executable, "-m", "console", "--env", "local", *port]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT) as server:
            try:
                assert server.stdout is not None
                lines = [server.stdout.readline()]
                if port:
                    lines.append(server.stdout.readline())
                assert said in lines[-1], lines
            finally:
                server.terminate()


def _answer(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:  # between two of the reloader's children: nothing listens
        return 0, str(error)


def _until(url: str, wanted: Any) -> tuple[int, str]:
    """The first answer `wanted` takes (a restart takes a few seconds)."""

    def answered() -> tuple[int, str] | None:
        answer = _answer(url)
        return answer if wanted(answer) else None

    found: tuple[int, str] = wait_for(answered, timeout=60)
    return found


def test_python_m_console_reload_lists_a_workflow_new_adds_and_says_why_code_does_not_import(
    lottery: Environment, tmp_path: Path
) -> None:
    """--reload, in a copy of the project: a workflow `workflows new` adds is listed without a
    restart by hand; a workflow module that does not import is answered with its error, on the same
    port, until it is mended."""
    project = tmp_path / "project"
    skipped = (".venv", ".git", "build", "test-output", "__pycache__", ".*_cache", "*.egg-info")
    shutil.copytree(ROOT, project, ignore=shutil.ignore_patterns(*skipped))
    command = [sys.executable, "-m", "console", "--env", "local", "--port", "0", "--reload"]
    env = {**os.environ, "PYFLOWS_ENDPOINT": str(lottery.endpoint)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=project) as server:
        try:
            assert server.stdout is not None
            url = re.search(r"http://127\.0\.0\.1:\d+/", server.stdout.readline())
            assert url
            listed = url[0] + "api/workflows"

            def names(answer: tuple[int, str]) -> list[str]:
                workflows = json.loads(answer[1])["workflows"] if answer[0] == 200 else []
                return [workflow["name"] for workflow in workflows]

            assert "lottery" in names(_until(listed, names))
            new = [sys.executable, "-m", "workflows", "new", "expense-approval"]
            subprocess.run(new, cwd=project, env=env, check=True, capture_output=True, timeout=120)
            assert "expense-approval" in names(_until(listed, lambda a: "expense-approval" in names(a)))

            module = project / "workflows" / "expense_approval.py"
            module.write_text(module.read_text() + "\ndef (\n")
            status, text = _until(listed, lambda a: a[0] == 500)
            assert (status, "expense_approval.py" in text, "SyntaxError" in text) == (500, True, True)
            module.write_text(module.read_text().replace("\ndef (\n", "\n"))
            assert "expense-approval" in names(_until(listed, lambda a: a[0] == 200))
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_the_files_the_readme_and_make_demo_write_into_the_checkout_are_ignored_by_git() -> None:
    texts = (ROOT / "README.md").read_text() + (ROOT / "Makefile").read_text()
    written = sorted(set(re.findall(r"(?:--out |> )([\w.-]+\.(?:svg|png|pdf|json))\b", texts)))
    assert {"day.json", "run.svg", "lottery.svg"} <= set(written)
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", *written], cwd=ROOT, capture_output=True, text=True)
    assert ignored.stdout.split() == written


def test_describe_names_the_map_item_a_run_failed_in(
    lottery: Environment, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Map's items run side by side (a Wait makes them), their events interleaved: the failure's
    own events say which item; a failure after the Map is in no item."""
    item = {
        "StartAt": "Pause",
        "States": {
            "Pause": {"Type": "Wait", "Seconds": 0, "Next": "Check"},
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Parse"}],
                "Default": "Fine",
            },
            "Parse": {"Type": "Pass", "Parameters": {"x.$": "States.StringToJson('{')"}, "End": True},
            "Fine": {"Type": "Pass", "End": True},
        },
    }
    each = {"Type": "Map", "MaxConcurrency": 4, "ItemProcessor": item}
    after = {"Type": "Pass", "Parameters": {"x.$": "States.StringToJson('{')"}, "End": True}
    sfn = lottery.client("stepfunctions")

    def described(definition: dict[str, Any], items: list[int]) -> str:
        machine = sfn.create_state_machine(
            name=f"cli-map-{uuid.uuid4().hex[:6]}", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(items))["executionArn"]
        deadline = time.monotonic() + 30
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.05)
        return run(capsys, "describe", arn)[1] + run(capsys, "history", arn)[1]

    in_item = described({"StartAt": "Each", "States": {"Each": {**each, "End": True}}}, [0, 1, 2, 3])
    assert "failed in  Parse (item 2 of the Map Each)" in in_item  # describe
    assert in_item.endswith("failed in Parse (item 2 of the Map Each)\n")  # history's last line
    assert re.search(r"MapIterationFailed\s+Each #2 ", in_item)
    assert "would only run" not in in_item  # it did not end in a Fail state: a redrive reruns the Map
    passed_map = {"StartAt": "Each", "States": {"Each": {**each, "Next": "After"}, "After": after}}
    after_map = described(passed_map, [0, 1, 3])
    assert "failed in  After\n" in after_map and after_map.endswith("failed in After\n")


def waiting_execution(lottery: Environment, prefix: str) -> str:
    """A running execution of a new machine that waits a minute: one to stop, and redrive."""
    sfn = lottery.client("stepfunctions")
    waiting = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}}
    machine = sfn.create_state_machine(
        name=f"cli-{prefix}-{uuid.uuid4().hex[:6]}", definition=json.dumps(waiting), roleArn=ROLE
    )["stateMachineArn"]
    return str(sfn.start_execution(stateMachineArn=machine)["executionArn"])


def test_describe_of_an_alerted_failure_says_to_start_it_afresh_with_its_input(
    lottery: Environment, local_cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    """It ended in its Fail state, so a redrive would only fail again: the line to start it afresh,
    with its input, once the cause is mended (a rejection's input is what must change: no line)."""
    arn, _ = fail_the_lottery(
        lottery,
        local_cloud,
        lambda: run(capsys, "start", "lottery", "--input", '{"winners": 1}')[1].split()[-1],
    )
    _, out, _ = run(capsys, "describe", arn)
    assert re.search(
        r"^start +afresh once its cause is mended: python -m workflows start lottery --env local "
        r"""--input '\{"winners":1\}'$""",
        out,
        re.MULTILINE,
    ), out


def test_describe_says_why_a_run_was_stopped(
    lottery: Environment, capsys: pytest.CaptureFixture[str]
) -> None:
    """The error and cause a stop was given (kept by its ExecutionAborted event), not a failure."""
    arn = waiting_execution(lottery, "stop")

    code, _, _ = run(capsys, "stop", arn, "--error", "Cancelled", "--cause", "a duplicate of run 7")
    assert code == 0
    code, out, _ = run(capsys, "describe", arn)
    lines = dict(line.split(None, 1) for line in out.splitlines() if line[:1].isalpha() and " " in line)
    assert lines["status"] == "ABORTED"
    assert (lines["error"], lines["cause"]) == ("Cancelled", "a duplicate of run 7")
    assert "failed in" not in out and re.search(r"^stopped in Wait$", out, re.MULTILINE)


def test_describe_of_a_redriven_run_says_how_often_and_why_it_was_stopped_before(
    lottery: Environment, capsys: pytest.CaptureFixture[str]
) -> None:
    """A redrive makes the execution run again: its description then tells only of that run, while
    the stop it went on from is in the history."""
    arn = waiting_execution(lottery, "redriven")
    run(capsys, "stop", arn, "--error", "Cancelled", "--cause", "a duplicate of run 7")
    code, _, _ = run(capsys, "redrive", arn)
    assert code == 0

    code, out, _ = run(capsys, "describe", arn)
    lines = dict(line.split(None, 1) for line in out.splitlines() if line[:1].isalpha() and " " in line)
    date = lottery.client("stepfunctions").describe_execution(executionArn=arn)["redriveDate"].isoformat()
    assert lines["status"] == "RUNNING" and "error" not in lines
    assert lines["redriven"] == f"1 time, last at {date}"
    assert lines["stopped"] == "before redrive 1: Cancelled: a duplicate of run 7"
    code, out, _ = run(capsys, "describe", arn, "--json")  # the same, for scripts
    assert json.loads(out)["stoppedBeforeRedrives"] == [
        {"redrive": 1, "error": "Cancelled", "cause": "a duplicate of run 7"}
    ]

    # stopped again, with no reason, and redriven again: each stop stays, with its redrive
    run(capsys, "stop", arn)
    run(capsys, "redrive", arn)
    run(capsys, "stop", arn, "--error", "Done")
    code, out, _ = run(capsys, "describe", arn)
    assert re.search(r"^redriven\s+2 times, last at ", out, re.MULTILINE)
    assert re.findall(r"^stopped\s+(before redrive .*)$", out, re.MULTILINE) == [
        "before redrive 1: Cancelled: a duplicate of run 7",
        "before redrive 2",
    ]
    assert re.search(r"^error\s+Done$", out, re.MULTILINE)  # the last stop's reason, as before


def test_a_stopped_run_is_said_to_have_been_in_the_states_it_was_running(
    lottery: Environment, capsys: pytest.CaptureFixture[str]
) -> None:
    """Inside a Map, the states running in each item, not the Map; once redriven and stopped
    again, only where the last run was."""
    sfn = lottery.client("stepfunctions")
    pause = {"StartAt": "Pause", "States": {"Pause": {"Type": "Wait", "Seconds": 60, "End": True}}}
    definition = {
        "StartAt": "Each",
        "States": {"Each": {"Type": "Map", "ItemProcessor": pause, "End": True}},
    }
    machine = sfn.create_state_machine(
        name=f"cli-map-stop-{uuid.uuid4().hex[:6]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input="[1, 2]")["executionArn"]
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline
        and sum(
            e["type"] == "WaitStateEntered" for e in sfn.get_execution_history(executionArn=arn)["events"]
        )
        < 2
    ):
        time.sleep(0.05)
    run(capsys, "stop", arn)

    _, out, _ = run(capsys, "describe", arn, "--json")
    assert json.loads(out)["endedIn"] == "Pause (Map item 0), Pause (Map item 1)"
    still_running = waiting_execution(lottery, "running")
    _, out, _ = run(capsys, "describe", still_running, "--json")
    assert json.loads(out)["endedIn"] is None  # neither timed out nor stopped


def test_executions_that_were_stopped_without_a_reason_say_where_they_were(
    lottery: Environment, local_cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime, validate = local_cloud.lambda_runtime, lottery.resource_name("lottery", "validate-request")
    assert runtime is not None
    runtime.inject(validate, "hold", times=1)
    try:
        _, out, _ = run(capsys, "start", "lottery", "--input", '{"winners": 1}')
        arn = out.split()[-1]
        sfn = lottery.client("stepfunctions")
        wait_for(
            lambda: (
                "TaskStarted" in {e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]}
            )
        )
        assert run(capsys, "stop", arn)[0] == 0
    finally:
        runtime.release(validate)
        runtime.clear_faults(validate)

    _, out, _ = run(capsys, "executions", "lottery", "--status", "ABORTED")
    name = arn.split(":")[-1]
    assert re.search(rf"^{name}\s+ABORTED\s.*\sstopped in Validate Request$", out, re.MULTILINE), out


def test_a_run_that_timed_out_is_not_said_to_have_failed_in_a_state_and_its_redrive_exits_1(
    lottery: Environment, capsys: pytest.CaptureFixture[str]
) -> None:
    """A caught failure before the run timed out is not where it ended; a redrive that times out
    again is no success for a script waiting on it."""
    sfn = lottery.client("stepfunctions")
    definition = {
        "TimeoutSeconds": 1,
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "no-such-function", "Payload": {}},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Wait"}],
                "Next": "Wait",
            },
            "Wait": {"Type": "Wait", "Seconds": 60, "End": True},
        },
    }
    machine = sfn.create_state_machine(
        name=f"cli-timeout-{uuid.uuid4().hex[:6]}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)

    code, out, _ = run(capsys, "describe", arn)
    assert code == 0 and re.search(r"^status\s+TIMED_OUT$", out, re.MULTILINE)
    assert "failed in" not in out and re.search(r"^timed out in Wait$", out, re.MULTILINE)
    code, out, _ = run(capsys, "history", arn)
    assert out.endswith("\ntimed out in Wait\n")
    code, out, _ = run(capsys, "redrive", arn, "--wait")
    assert code == 1 and out.startswith(f"TIMED_OUT {arn} (redrive 1)")


def test_describe_of_a_failed_express_run_says_how_its_parked_work_is_replayed(
    console_env: Environment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No redrive runs an Express execution on: a workflow whose failures park their input (the
    registry says so, as flight-deals' does) has describe say what replays it; another says nothing."""
    parks = dataclasses.replace(WORKFLOWS["flight-deals"], name=f"parks-{uuid.uuid4().hex[:6]}")
    keeps = dataclasses.replace(parks, name=f"keeps-{uuid.uuid4().hex[:6]}", replay=None)
    sfn = console_env.client("stepfunctions")
    failing = {"StartAt": "Failed", "States": {"Failed": {"Type": "Fail", "Error": "Boom", "Cause": "bad"}}}
    arns = {}
    for workflow in (parks, keeps):
        machine = sfn.create_state_machine(
            name=console_env.resource_name(workflow.name),
            definition=json.dumps(failing),
            roleArn=ROLE,
            type="EXPRESS",
        )["stateMachineArn"]
        arns[workflow.name] = sfn.start_sync_execution(stateMachineArn=machine, input="[]")["executionArn"]
    service = ExecutionService(console_env, {parks.name: parks, keeps.name: keeps})
    monkeypatch.setattr("console.cli._service", lambda args: service)

    code, out, _ = run(capsys, "describe", arns[parks.name])
    lines = dict(line.split(None, 1) for line in out.splitlines() if line[:1].isalpha() and " " in line)
    assert code == 0 and lines["status"] == "FAILED"
    assert lines["redrive"] == "Redrive is not supported for executions of EXPRESS state machines."
    assert lines["replay"] == (
        "a batch that failed is parked to be replayed: python -m tasks.flight_deals.replay --env local"
        " --list shows the parked batches with their errors"
    )
    code, out, _ = run(capsys, "describe", arns[keeps.name])
    assert code == 0 and "redrive    Redrive is not supported" in out and "replay" not in out


def test_alerts_lists_each_failure_readably_and_keeps_it_until_acknowledged(
    lottery: Environment, local_cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "alerts", "--ack", "--limit", "1000")  # what the module's other failed runs alerted
    assert run(capsys, "alerts") == (0, "no alerts\n", "")
    # a request asking too much is the caller's mistake: rejected, it pages no one
    assert run(capsys, "start", "lottery", "--input", '{"winners": 99}', "--wait")[0] == 1
    assert run(capsys, "alerts") == (0, "no alerts\n", "")
    # an employee missing from the table is the system's failure: alerted
    runtime, draw = local_cloud.lambda_runtime, lottery.resource_name("lottery", "draw-winners")
    assert runtime is not None
    runtime.inject(
        draw, "error", times=1, error_type="EmployeeNotFound", message="no employee has lottery_serial 7"
    )
    name = f"no-employee-{uuid.uuid4().hex[:6]}"
    try:
        code, _, _ = run(capsys, "start", "lottery", "--input", '{"winners": 1}', "--wait", "--name", name)
    finally:
        runtime.clear_faults(draw)
    assert code == 1

    code, out, _ = run(capsys, "alerts")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith("  [lottery] execution failed")
    fields = dict(line.split(None, 1) for line in lines[1:-1] if not line.startswith("  failed in"))
    assert fields["execution"] == name
    assert (
        fields["link"]
        == f"{lottery.console}#/executions/{ExecutionService(lottery, WORKFLOWS).execution_arn(name)}"
    )
    assert "  failed in  Draw Winners" in lines
    assert fields["error"] == "EmployeeNotFound"
    # the Lambda's error document read: its type and message, not its JSON and stack trace
    assert fields["cause"] == "no employee has lottery_serial 7"  # its message, as describe gives it
    assert "stackTrace" not in out
    assert lines[-1] == "1 alert(s), kept in the inbox (--ack removes those shown)"

    # read again, the same alert; --json has the whole cause as the execution has it
    code, out, _ = run(capsys, "alerts", "--json")
    [alert] = json.loads(out)
    described = ExecutionService(lottery, WORKFLOWS).describe(alert["execution"])
    assert alert["name"] == name and alert["failedIn"] == "Draw Winners"
    assert alert["cause"] == described["cause"] and "stackTrace" in json.loads(alert["cause"])

    code, out, _ = run(capsys, "alerts", "--ack")
    assert code == 0 and out.splitlines()[-1] == "1 alert(s) acknowledged: removed from the inbox"
    assert run(capsys, "alerts") == (0, "no alerts\n", "")


def test_alerts_on_the_local_cloud_make_no_long_poll(
    lottery: Environment, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its SQS is one server, which a short poll reads exactly: the receive that finds the inbox
    empty answers at once, rather than after a second's wait."""
    waits: list[int | None] = []
    made = Environment.client

    def recording(env: Environment, service: str, **config: Any) -> Any:
        client = made(env, service, **config)
        if service == "sqs":
            client.meta.events.register(
                "provide-client-params.sqs.ReceiveMessage",
                lambda params, **_: waits.append(params.get("WaitTimeSeconds")),
            )
        return client

    monkeypatch.setattr(Environment, "client", recording)
    assert run(capsys, "alerts")[0] == 0
    assert waits and set(waits) == {0}


def test_alerts_reads_every_alert_newest_first_and_acknowledges_only_those_shown(
    lottery: Environment, capsys: pytest.CaptureFixture[str]
) -> None:
    """More alerts than one SQS receive returns (10), an alarm's among them: --limit shows the
    newest, --ack removes only those."""
    run(capsys, "alerts", "--ack", "--limit", "1000")
    sns, topic = lottery.client("sns"), infra.names_for(lottery).alerts_topic_arn()
    for i in range(12):
        sns.publish(TopicArn=topic, Subject=f"alert {i:02d}", Message=f"text {i}")
        time.sleep(0.002)  # SNS stamps each to the millisecond: one after another, in that order
    alarm = {
        "AlarmName": "pyflows-local-schedules-dropped",
        "NewStateValue": "ALARM",
        "NewStateReason": "1 dropped",
    }
    sns.publish(TopicArn=topic, Subject="ALARM: schedules dropped", Message=json.dumps(alarm))

    _, out, _ = run(capsys, "alerts", "--json", "--limit", "3", "--ack")
    shown = json.loads(out)
    assert [a["subject"] for a in shown] == ["ALARM: schedules dropped", "alert 11", "alert 10"]
    assert shown[0]["alarm"] == "pyflows-local-schedules-dropped" and shown[0]["reason"] == "ALARM: 1 dropped"
    _, out, _ = run(capsys, "alerts", "--limit", "1000")
    assert out.count("  message    text ") == 10 and "alert 09" in out and "alert 10" not in out
    assert out.splitlines()[-1] == "10 alert(s), kept in the inbox (--ack removes those shown)"
