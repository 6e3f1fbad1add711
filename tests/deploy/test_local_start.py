"""`--env local` starts the local cloud in the background when nothing answers."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
from pathlib import Path
from typing import Any

import pytest

from infra import localstart
from infra.environments import ConfigError, load


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
    port = free_port()
    env = dataclasses.replace(load("local"), endpoint=f"http://127.0.0.1:{port}")
    lines: list[str] = []
    pid = localstart.ensure_running(env, out=lines.append)
    assert pid is not None
    try:
        assert localstart.answers("127.0.0.1", port)
        assert f"Starting the local cloud at http://127.0.0.1:{port}" in lines[0]
        assert env.client("sts").get_caller_identity()["Account"]
    finally:
        os.kill(pid, signal.SIGTERM)


def test_a_remote_endpoint_is_never_started() -> None:
    env = dataclasses.replace(load("local"), endpoint="http://192.0.2.1:4566")  # TEST-NET: unroutable
    with pytest.raises(ConfigError, match=re.escape("nothing answers at http://192.0.2.1:4566")):
        localstart.ensure_running(env, out=lambda line: None)
