"""No Lambda worker outlives the process of the local cloud that started it, busy or not."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localcloud import LocalCloud
from tests.localcloud.helpers import deploy_source, invoke, run_python

ROOT = Path(__file__).resolve().parents[2]

# A local cloud whose function is busy in a handler sleeping long past the end of the process, as an
# invocation whose Step Functions Task timed out first is: nobody waits for its answer any more.
SCRIPT = """
import os, signal, sys, threading, time

from localcloud import LocalCloud
from tests.localcloud.helpers import deploy_source, invoke
from tests.localcloud.test_lambda_worker_lifetime import _ended

how, pid_file = sys.argv[1], sys.argv[2]
source = '''
import os, time

def handler(event, context):
    with open(event["pid_file"], "w") as out:
        out.write(str(os.getpid()))
    time.sleep(600)
'''
cloud = LocalCloud(port=0).start()
os.environ.update(cloud.env())
deploy_source(cloud, "sleeper", source, timeout=900)
event = {"pid_file": pid_file}
threading.Thread(target=invoke, args=(cloud, "sleeper", event), daemon=True).start()
while not (os.path.exists(pid_file) and open(pid_file).read()):
    time.sleep(0.01)
worker = int(open(pid_file).read())
print("worker", worker, flush=True)
if how == "stop":  # stop() ends it, not this process's end
    cloud.stop()
    print("stopped; worker", "ended" if _ended(worker) else "running", flush=True)
else:
    os.kill(os.getpid(), getattr(signal, how))
"""


def _running(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for a parent to reap it does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _ended(pid: int, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while _running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("how", ["stop", "SIGTERM", "SIGKILL"])
def test_a_busy_worker_ends_with_its_local_cloud(how: str, tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, how, str(pid_file)],
        # the worker's stderr is this pipe's: reading it to its end waits for every holder
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    worker = 0
    try:
        if proc.wait(timeout=120) != (0 if how == "stop" else -getattr(signal, how)):
            pytest.fail(f"the local cloud ended with {proc.returncode}")
        worker = int(pid_file.read_text())
        assert _ended(worker), f"worker {worker} outlived its local cloud ({how})"
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the local cloud's output pipe is still held after {how}")
        assert f"worker {worker}\n" in out
        if how == "stop":
            assert "stopped; worker ended" in out
    finally:
        if proc.poll() is None:
            proc.kill()
        if not worker and pid_file.exists() and pid_file.read_text():
            worker = int(pid_file.read_text())
        if worker and _running(worker):  # this test's own worker, left by a failure
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker, signal.SIGKILL)


def test_what_a_crashed_handler_started_ends_with_its_sandbox(cloud: LocalCloud, tmp_path: Path) -> None:
    """The worker died (its handler exited), yet the process its handler started still ran: the
    sandbox's whole process group ends, not only the worker."""
    source = (
        "import os, subprocess\n"
        "def handler(event, context):\n"
        "    child = subprocess.Popen(['sleep', '600'])\n"
        "    with open(event['pid_file'], 'w') as out:\n"
        "        out.write(str(child.pid))\n"
        "    os._exit(3)\n"
    )
    deploy_source(cloud, "spawns-and-exits", source)
    pid_file = tmp_path / "child.pid"
    payload, error = invoke(cloud, "spawns-and-exits", {"pid_file": str(pid_file)})
    assert error == "Unhandled" and "exit status 3" in payload["errorMessage"]
    child = int(pid_file.read_text())
    try:
        assert _ended(child), f"the handler's child {child} outlived its sandbox"
    finally:
        if _running(child):
            os.kill(child, signal.SIGKILL)


# A cold start (an import that would take minutes) under way when the local cloud stops: the worker it
# starts ends, and the invocation answers as one whose sandbox died.
COLD_SCRIPT = """
import os, sys, threading, time

from localcloud import LocalCloud
from tests.localcloud.helpers import deploy_source, invoke
from tests.localcloud.test_lambda_worker_lifetime import _ended

pid_file = sys.argv[1]
source = (
    "import os, sys, time\\n"
    f"open({pid_file!r}, 'w').write(str(os.getpid()))\\n"
    "time.sleep(600)\\n"
    "def handler(event, context):\\n"
    "    return 'ran'\\n"
)
cloud = LocalCloud(port=0).start()
os.environ.update(cloud.env())
deploy_source(cloud, "slow-import", source, timeout=60)
answers = []
caller = threading.Thread(target=lambda: answers.append(invoke(cloud, "slow-import")))
caller.start()
while not (os.path.exists(pid_file) and open(pid_file).read()):
    time.sleep(0.01)
worker = int(open(pid_file).read())
cloud.stop()
caller.join(60)
print("answer", answers, flush=True)
print("worker", "ended" if _ended(worker, within=2) else "running", flush=True)
"""


def test_a_worker_starting_when_the_local_cloud_stops_ends_with_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    done = run_python(COLD_SCRIPT, str(pid_file), timeout=120)
    assert done.returncode == 0, done.stderr
    assert "signal: killed" in done.stdout and "'Unhandled'" in done.stdout, done.stdout
    assert "worker ended" in done.stdout, done.stdout
