"""Time `python deploy.py --env local`: a first deploy into a fresh local cloud, then a no-op redeploy.

    .venv/bin/python bench/deploy.py [--runs 3]

Starts its own local cloud on a free port (a separate process, as `deploy.py` would), runs the
real command line against it and prints wall-clock figures, then stops that cloud.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra import localstart  # noqa: E402
from infra.environments import load  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(command: list[str], env: dict[str, str], cloud: int) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds of the command, CPU seconds of the local cloud, and the output.
    On a busy machine wall time mostly measures the others: the CPU figures do not."""
    before, cloud_before = resource.getrusage(resource.RUSAGE_CHILDREN), cpu_of(cloud)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, cpu_of(cloud) - cloud_before, done.stdout


def report(label: str, figures: tuple[float, float, float, str]) -> None:
    wall, cpu, cloud, output = figures
    summary = next(line for line in output.splitlines() if "resources" in line)
    print(f"{label:<18} wall {wall:5.2f}s  cpu: deploy {cpu:4.2f}s + local cloud {cloud:4.2f}s  | {summary}")


def main() -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="no-op redeploys to time")
    args = parser.parse_args()
    endpoint = f"http://127.0.0.1:{free_port()}"
    pid = localstart.ensure_running(
        dataclasses.replace(load("local"), endpoint=endpoint), out=lambda line: None
    )
    env = {**os.environ, "PYFLOWS_ENDPOINT": endpoint}
    command = [sys.executable, "deploy.py", "--env", "local", "--no-seed"]
    assert pid is not None, f"something already answers at {endpoint}"
    try:
        print(
            f"command: PYFLOWS_ENDPOINT={endpoint} python {' '.join(command[1:])}   (load {os.getloadavg()[0]:.1f})"
        )
        report("first deploy", timed(command, env, pid))
        for run in range(args.runs):
            report(f"no-op redeploy {run + 1}", timed(command, env, pid))
    finally:
        os.kill(pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
