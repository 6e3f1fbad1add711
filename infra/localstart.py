"""`--env local`: start the local cloud in the background when nothing answers at its endpoint,
let one deploy at a time into it, and point the settings at the fakes it serves."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from infra.environments import LOOPBACK, ConfigError, Environment
from localcloud.fakes import LOCAL_PORTS, default_url
from localcloud.run_files import LOG, RUN_DIR, fake_urls, pid_file
from workflows.registry import ROOT

COMMAND = [sys.executable, "-m", "localcloud"]  # and --port


def answers(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _host_port(env: Environment) -> tuple[str, int]:
    url = urlparse(env.endpoint or "")
    return url.hostname or "", url.port or 80


def endpoint_port(env: Environment) -> int:
    """The port of `env`'s endpoint, which its local cloud serves (and `--stop --port` names)."""
    return _host_port(env)[1]


def fake_url(env: Environment, name: str) -> str:
    """Where the fake external API `name` serves `env`: where the local cloud at its endpoint
    records it (another port, when its own was taken or chosen), else its default address."""
    host, port = _host_port(env)
    served = fake_urls(port) if env.is_local and host in LOOPBACK else {}
    return served.get(name, default_url(name))


def setting_values(env: Environment) -> dict[str, str]:
    """The values deploy writes for `env`'s settings: environments.toml's, those that point at a
    fake's default address pointed at where that fake serves."""
    moved = {default_url(name): fake_url(env, name) for name in LOCAL_PORTS}
    return {name: _moved(value, moved) for name, value in env.parameters.items()}


def _moved(value: str, moved: dict[str, str]) -> str:
    for default, actual in moved.items():
        if value == default or value.startswith(f"{default}/"):
            return actual + value[len(default) :]
    return value


@contextmanager
def one_at_a_time(env: Environment, out: Callable[[str], None] = print) -> Iterator[None]:
    """Hold the local environment while deploying (or destroying, or seeding) it: another deploy
    waits here until this one ends, then finds the local cloud up and nothing left to change.
    Side by side, both would start a local cloud and create the same resources."""
    RUN_DIR.mkdir(exist_ok=True)
    with (RUN_DIR / f"deploy-{_host_port(env)[1]}.lock").open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip()
            by = f" (pid {holder})" if holder else ""
            out(f"Another deploy into {env.endpoint} is running{by}: waiting for it to end")
            fcntl.flock(lock, fcntl.LOCK_EX)
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield
        finally:
            lock.truncate(0)  # released when closed


def _serving(pid: int, port: int) -> bool:
    """Whether the local cloud `pid` serves `port`: it notes its pid once it has the port."""
    try:
        return pid_file(port).read_text().strip() == str(pid)
    except OSError:
        return False


def ensure_running(env: Environment, out: Callable[[str], None] = print, timeout: float = 60.0) -> int | None:
    """The pid of the local cloud it had to start (detached: it outlives this command), else None."""
    host, port = _host_port(env)
    if answers(host, port):
        return None
    if host not in LOOPBACK:
        raise ConfigError(f"environment {env.name!r}: nothing answers at {env.endpoint}")
    LOG.parent.mkdir(exist_ok=True)
    with LOG.open("ab") as log:
        process = subprocess.Popen(
            [*COMMAND, "--port", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # not killed with this terminal's Ctrl-C
        )
    shown = LOG.relative_to(ROOT) if LOG.is_relative_to(ROOT) else LOG
    out(f"Starting the local cloud at {env.endpoint} (pid {process.pid}, log {shown})")
    deadline = time.monotonic() + timeout
    # What answers may be another local cloud that took the port first (ours then exits).
    while not (answers(host, port) and _serving(process.pid, port)):
        if process.poll() is not None:
            if answers(host, port):
                out(
                    f"Another local cloud took port {port} first and serves {env.endpoint}: deploying into it."
                )
                return None
            raise ConfigError(f"the local cloud exited with status {process.returncode}; see {LOG}")
        if time.monotonic() > deadline:
            raise ConfigError(
                f"the local cloud did not answer at {env.endpoint} within {timeout:.0f}s; see {LOG}"
            )
        time.sleep(0.1)
    out("Local cloud is up.")
    return process.pid
