"""`--env local` starts the local cloud in the background when nothing answers."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import infra
from infra import localstart
from infra.environments import ConfigError, load
from localcloud import run_files
from localcloud.fakes import default_url
from localcloud.run_files import fake_urls
from workflows import WORKFLOWS
from workflows.registry import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_answering_endpoint_is_used_as_it_is(local_cloud: Any) -> None:
    env = dataclasses.replace(load("local"), endpoint=local_cloud.endpoint)
    assert localstart.ensure_running(env, out=lambda line: None) is None


def test_a_silent_loopback_endpoint_gets_a_local_cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(localstart, "LOG", tmp_path / "localcloud.log")
    monkeypatch.setattr(localstart, "COMMAND", [*localstart.COMMAND, "--no-fakes"])  # not needed here
    port = free_port()
    env = dataclasses.replace(load("local"), endpoint=f"http://127.0.0.1:{port}")
    lines: list[str] = []
    pid = localstart.ensure_running(env, out=lines.append)
    assert pid is not None
    try:
        assert localstart.answers("127.0.0.1", port)
        assert f"Starting the local cloud at http://127.0.0.1:{port}" in lines[0]
        assert lines[1:] == ["Local cloud is up."]
        assert env.client("sts").get_caller_identity()["Account"]
    finally:
        os.kill(pid, signal.SIGTERM)


def test_a_local_cloud_that_another_one_beat_to_the_port_is_not_said_to_be_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another one takes the port between the check and the start: ours exits, the other serves."""
    monkeypatch.setattr(localstart, "LOG", tmp_path / "localcloud.log")
    monkeypatch.setattr(localstart, "COMMAND", [sys.executable, "-c", "raise SystemExit(1)"])  # port taken
    real_answers, asked = localstart.answers, []

    def answers(host: str, port: int) -> bool:  # nothing when first asked; then the other one
        asked.append(port)
        return len(asked) > 1 and real_answers(host, port)

    monkeypatch.setattr(localstart, "answers", answers)
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = dataclasses.replace(load("local"), endpoint=f"http://127.0.0.1:{port}")
        lines: list[str] = []
        assert localstart.ensure_running(env, out=lines.append) is None
    assert lines[0].startswith(f"Starting the local cloud at http://127.0.0.1:{port} (pid ")
    assert lines[1:] == [
        f"Another local cloud took port {port} first and serves http://127.0.0.1:{port}: deploying into it."
    ]


# deploy.py, starting its local cloud without the fakes (by default on the user's cloud's ports)
DEPLOY = """
import sys
import deploy
from infra import localstart
localstart.COMMAND = [*localstart.COMMAND, "--no-fakes"]
sys.exit(deploy.main(sys.argv[1:]))
"""


def test_two_deploys_at_once_into_a_stopped_local_cloud_start_it_once_and_deploy_once() -> None:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYFLOWS_ENDPOINT": endpoint, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", DEPLOY, "--env", "local", "--workflow", "lottery"]
    deploys = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        outputs = [deploy.communicate(timeout=600) for deploy in deploys]
    finally:
        with contextlib.suppress(OSError, ValueError):
            os.kill(int((ROOT / ".localcloud" / f"localcloud-{port}.pid").read_text()), signal.SIGTERM)
    assert [deploy.returncode for deploy in deploys] == [0, 0], outputs
    assert [err for _, err in outputs] == ["", ""]
    started = [out for out, _ in outputs if "Starting the local cloud" in out]
    [first] = started
    [second] = [out for out, _ in outputs if out is not first]
    assert "Local cloud is up." in first and "Another local cloud" not in first
    # it waited; the holder is named by pid once it has written it (it locks first, then writes)
    assert re.match(rf"Another deploy into {re.escape(endpoint)} is running( \(pid \d+\))?: waiting", second)
    assert "No changes: " in second and "seeded" in second


@pytest.mark.slow
def test_a_deploy_points_the_settings_at_the_fakes_its_local_cloud_serves_and_the_runs_use_them() -> None:
    """Its fakes on other ports than environments.toml's 4571-4573 (here free ones, as when those
    are taken): deploy writes where they serve, and ticket-ranking and etf-signal fetch from them."""
    command = [sys.executable, "-m", "localcloud", "--port", "0", "--fakes-port", "0"]
    cloud = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert cloud.stdout is not None
        endpoint = cloud.stdout.readline().split()[3]  # said once it has recorded its fakes
        served = fake_urls(int(endpoint.rsplit(":", 1)[1]))
        assert set(served) == {"ticket-broker", "tushare", "aviasales"}
        env = dataclasses.replace(load("local"), endpoint=endpoint)
        chosen = [WORKFLOWS["ticket-ranking"], WORKFLOWS["etf-signal"]]
        infra.deploy(env, workflows=chosen, out=lambda line: None)

        ssm = env.client("ssm")
        for fake in ("ticket-broker", "tushare"):
            written = ssm.get_parameter(Name=f"/pyflows/local/{fake}/base-url")["Parameter"]["Value"]
            assert written == served[fake] != default_url(fake)
        sfn, names = env.client("stepfunctions"), infra.names_for(env)
        for wf in chosen:
            arn = sfn.start_execution(
                stateMachineArn=names.state_machine_arn(wf), input=json.dumps(wf.example_input)
            )["executionArn"]
            while (run := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
                time.sleep(0.1)
            assert (wf.name, run["status"], run.get("cause")) == (wf.name, "SUCCEEDED", None)
    finally:
        cloud.send_signal(signal.SIGINT)
        cloud.communicate(timeout=60)


def test_setting_values_point_at_the_fakes_the_local_cloud_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only settings at a fake's default address move (a path after it kept); others, and those of a
    local cloud that records nothing (or was killed, leaving its files), stay as given."""
    monkeypatch.setattr(run_files, "RUN_DIR", tmp_path)
    env = dataclasses.replace(
        load("local"),
        endpoint="http://127.0.0.1:4600",
        parameters={
            "/a/tushare": "http://127.0.0.1:4572",
            "/a/broker": "http://127.0.0.1:4571/v2",
            "/a/other": "http://127.0.0.1:45720",
            "a/token": "fake-tushare-token",
        },
    )
    given = dict(env.parameters)
    assert localstart.setting_values(env) == given

    run_files.record_fakes(
        4600, {"tushare": "http://127.0.0.1:5001", "ticket-broker": "http://127.0.0.1:5000"}
    )
    run_files.pid_file(4600).write_text(str(os.getpid()))
    assert localstart.setting_values(env) == {
        **given,
        "/a/tushare": "http://127.0.0.1:5001",
        "/a/broker": "http://127.0.0.1:5000/v2",
    }
    assert localstart.fake_url(env, "aviasales") == default_url("aviasales")  # it serves none

    run_files.pid_file(4600).write_text("999999999")  # no such process: files left behind
    assert localstart.setting_values(env) == given
    staging = dataclasses.replace(env, endpoint=None)
    assert localstart.setting_values(staging) == given


def test_a_remote_endpoint_is_never_started() -> None:
    env = dataclasses.replace(load("local"), endpoint="http://192.0.2.1:4566")  # TEST-NET: unroutable
    with pytest.raises(ConfigError, match=re.escape("nothing answers at http://192.0.2.1:4566")):
        localstart.ensure_running(env, out=lambda line: None)
