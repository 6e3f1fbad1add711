"""`python -m localcloud` serves until interrupted and says how to use it."""

from __future__ import annotations

import importlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from localcloud.run_files import fake_urls, fakes_file
from tests.localcloud.helpers import run_python

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("verbose", [False, True], ids=["quiet", "verbose"])
def test_serves_prints_the_endpoint_and_stops_on_ctrl_c(verbose: bool) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        # the fakes on free ports too: 4571-4573 may be a user's local cloud's
        [
            sys.executable,
            "-m",
            "localcloud",
            "--port",
            "0",
            "--fakes-port",
            "0",
            *(["--verbose"] if verbose else []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(3)]
        endpoint = banner[0].split()[3]
        assert endpoint.startswith("http://127.0.0.1:")
        assert f"export AWS_ENDPOINT_URL={endpoint}" in banner[2]
        while "Ctrl-C" not in banner[-1] and banner[-1]:  # the banner's last line
            banner.append(proc.stdout.readline())
        assert any(f"export PYFLOWS_ENDPOINT={endpoint}" in line for line in banner)
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 0}),
        )
        assert sfn.list_state_machines()["stateMachines"] == []
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "localcloud stopped" in out
    assert ('"POST / HTTP/1.1" 200' in err) is verbose  # --verbose logs every request


def test_stop_ends_the_local_cloud_this_checkout_serves_on_a_port() -> None:
    command = [sys.executable, "-m", "localcloud", "--port", "0", "--no-fakes"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().split()[3].rsplit(":", 1)[1]
        pid_file = ROOT / ".localcloud" / f"localcloud-{port}.pid"
        assert pid_file.read_text() == str(proc.pid)
        stopped = subprocess.run(
            [sys.executable, "-m", "localcloud", "--stop", "--port", port],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
        )  # fmt: skip
        assert (stopped.returncode, stopped.stdout.strip()) == (
            0,
            f"stopped the local cloud on port {port} (pid {proc.pid})",
        )
        assert proc.wait(timeout=30) == 0 and not pid_file.exists()
        again = subprocess.run(
            [sys.executable, "-m", "localcloud", "--stop", "--port", port],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
        )  # fmt: skip
        assert again.returncode == 2  # nothing done: the command must change, as the README's table
        # (then the ports its other local clouds serve, a demo's among them)
        assert again.stderr.startswith(f"no local cloud of this checkout serves port {port} (no {pid_file})")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_fake_whose_port_is_taken_takes_a_free_one() -> None:
    import socket

    from localcloud.fakes import start_local

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = start_local(port - 1)  # the ticket broker asks for port - 1, Tushare for port
        try:
            assert set(started) == {"ticket-broker", "tushare", "aviasales"}
            tushare = int(started["tushare"].url.rsplit(":", 1)[1])
            assert tushare not in (0, port)
            with socket.create_connection(("127.0.0.1", tushare), timeout=10):
                pass  # it listens there
        finally:
            for fake in started.values():
                fake.stop()


def test_the_fakes_ports_are_chosen_said_and_recorded_for_a_deploy_while_it_serves() -> None:
    command = [sys.executable, "-m", "localcloud", "--port", "0", "--fakes-port", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline()]
        while "Ctrl-C" not in banner[-1] and banner[-1]:
            banner.append(proc.stdout.readline())
        port = int(banner[0].split()[3].rsplit(":", 1)[1])
        said = dict(re.findall(r"^Fake (\S+) API on (http://127\.0\.0\.1:\d+)$", "".join(banner), re.M))
        assert set(said) == {"ticket-broker", "tushare", "aviasales"}
        assert not {url.rsplit(":", 1)[1] for url in said.values()} & {"4571", "4572", "4573"}
        assert fake_urls(port) == said
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert fake_urls(port) == {} and not fakes_file(port).exists()


def test_a_background_tick_in_flight_ends_before_the_local_cloud_stops_answering() -> None:
    """Closed under it, a scheduler tick would fail with a connection refused and log a traceback."""
    script = """
import threading, time
from localcloud import LocalCloud
cloud = LocalCloud(port=0).start(background=True)
ticking, answers = threading.Event(), []
def tick():
    ticking.set()
    time.sleep(0.3)  # still firing when stop() is called
    try:
        answers.append(len(cloud.client("stepfunctions").list_state_machines()["stateMachines"]))
    except Exception as exc:
        answers.append(type(exc).__name__)
cloud.scheduler._ticker._tick = tick
assert ticking.wait(10)
cloud.stop()
print(answers)
"""
    done = run_python(script, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[0]"]


def test_a_port_in_use_says_how_to_stop_what_serves_it_or_to_take_another() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = subprocess.run(
            [sys.executable, "-m", "localcloud", "--port", str(port), "--no-fakes"],
            capture_output=True, text=True, cwd=ROOT, timeout=60,
        )  # fmt: skip
    assert refused.returncode == 2  # nothing served: the command must change
    assert refused.stderr.strip() == (
        f"cannot serve the local cloud on 127.0.0.1:{port}: Address already in use (is a local cloud "
        f"already running? stop it with python -m localcloud --stop --port {port}, or serve on another --port)"
    )


def test_stop_on_a_port_not_served_names_the_ports_this_checkout_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--stop` without --port means 4566, even with PYFLOWS_ENDPOINT exported for another port."""
    import localcloud.__main__ as main
    from localcloud import run_files

    monkeypatch.setattr(run_files, "RUN_DIR", tmp_path)
    (tmp_path / "localcloud-4600.pid").write_text(str(os.getpid()))  # a process that runs
    (tmp_path / "localcloud-4601.pid").write_text("999999999")  # left behind: no such process
    with pytest.raises(main.NotServed) as refused:
        main.stop(4566)
    assert str(refused.value) == (
        f"no local cloud of this checkout serves port 4566 (no {tmp_path / 'localcloud-4566.pid'}); "
        "it serves another port: python -m localcloud --stop --port 4600"
    )


def test_stop_of_a_local_cloud_that_had_stopped_removes_its_pid_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pid file left by a local cloud killed without its clean-up names another process now."""
    import localcloud.__main__ as main
    from localcloud import run_files

    monkeypatch.setattr(run_files, "RUN_DIR", tmp_path)
    left = tmp_path / "localcloud-4566.pid"
    other = subprocess.Popen(["sleep", "60"])  # not a local cloud: not to be stopped
    try:
        left.write_text(str(other.pid))
        assert main.stop(4566) == f"the local cloud on port 4566 (pid {other.pid}) had already stopped"
        assert not left.exists() and other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_the_console_on_a_port_in_use_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from console.__main__ import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--env", "local", "--port", str(port)]) == 2
    assert f"Port {port} is in use by another program" in capsys.readouterr().err


@pytest.mark.parametrize(("command", "flag"), [("localcloud", "--sto"), ("console", "--verb")])
def test_a_shortened_flag_is_refused_not_taken_for_the_one_it_begins(
    command: str, flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main = importlib.import_module(f"{command}.__main__").main
    with pytest.raises(SystemExit) as refused:
        main([flag])
    assert refused.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"python -m {command}: error: unrecognized arguments: {flag}"
    )


@pytest.mark.parametrize("command", ["localcloud", "console"])
@pytest.mark.parametrize(
    ("port", "refusal"),
    [
        ("99999", "99999 is not a port: 0 (any free port) to 65535"),
        ("-1", "-1 is not a port: 0 (any free port) to 65535"),
        ("x", "not a port number: 'x'"),
    ],
)
def test_a_port_out_of_range_is_bad_usage_in_one_line(
    command: str, port: str, refusal: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not bind()'s OverflowError with a traceback, nor (the console's server) 99999 taken as 34463."""
    main = importlib.import_module(f"{command}.__main__").main
    with pytest.raises(SystemExit) as refused:
        main([f"--port={port}"])
    assert refused.value.code == 2
    assert (
        capsys.readouterr().err.splitlines()[-1] == f"python -m {command}: error: argument --port: {refusal}"
    )
