"""`--env local`: start the local cloud in the background when nothing answers at its endpoint."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from urllib.parse import urlparse

from infra.environments import ConfigError, Environment
from workflows.registry import ROOT

LOG = ROOT / ".localcloud" / "localcloud.log"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def answers(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_running(env: Environment, out: Callable[[str], None] = print, timeout: float = 60.0) -> int | None:
    """The pid of the local cloud it had to start (detached: it outlives this command), else None."""
    url = urlparse(env.endpoint or "")
    host, port = url.hostname or "", url.port or 80
    if answers(host, port):
        return None
    if host not in LOOPBACK:
        raise ConfigError(f"environment {env.name!r}: nothing answers at {env.endpoint}")
    LOG.parent.mkdir(exist_ok=True)
    with LOG.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "localcloud", "--port", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # not killed with this terminal's Ctrl-C
        )
    shown = LOG.relative_to(ROOT) if LOG.is_relative_to(ROOT) else LOG
    out(f"Starting the local cloud at {env.endpoint} (pid {process.pid}, log {shown})")
    deadline = time.monotonic() + timeout
    while not answers(host, port):
        if process.poll() is not None:
            raise ConfigError(f"the local cloud exited with status {process.returncode}; see {LOG}")
        if time.monotonic() > deadline:
            raise ConfigError(
                f"the local cloud did not answer at {env.endpoint} within {timeout:.0f}s; see {LOG}"
            )
        time.sleep(0.1)
    out("Local cloud is up.")
    return process.pid
