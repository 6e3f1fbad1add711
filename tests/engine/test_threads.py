"""Engine threads are reused workers: jobs run, join and fail as threads do, and nothing piles up."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from localcloud import thread_pool
from tests.engine.conftest import Runner


class PooledThread(thread_pool.PooledThread):
    """Jobs on workers of their own, which no other thread in the test process takes or adds to
    (the local cloud's HTTP requests and engines run on the shared pool)."""

    pool = thread_pool._Pool()


def _wait_idle(job: PooledThread) -> None:
    """Until the worker that ran `job` is back in the pool, next in line."""
    deadline = time.monotonic() + 5
    while not (PooledThread.pool._idle and PooledThread.pool._idle[-1].thread is job._thread):
        assert time.monotonic() < deadline, "the worker did not return to the pool"
        time.sleep(0.001)


def test_a_job_runs_with_its_arguments_and_joins() -> None:
    seen: list[tuple[int, str]] = []
    job = PooledThread(target=lambda n, s="": seen.append((n, s)), args=(1,), kwargs={"s": "x"}, daemon=True)
    assert not job.is_alive()
    job.start()
    job.join(5)
    assert seen == [(1, "x")] and not job.is_alive()
    with pytest.raises(RuntimeError, match="only be started once"):
        job.start()


def test_an_idle_worker_runs_the_next_job() -> None:
    first, second = PooledThread(target=lambda: None), PooledThread(target=lambda: None)
    first.start()
    first.join(5)
    _wait_idle(first)
    second.start()
    second.join(5)
    assert first.native_id is not None and first.native_id == second.native_id


def test_a_blocked_job_does_not_hold_up_the_next() -> None:
    released = threading.Event()
    waiting = PooledThread(target=released.wait, args=(5,))
    waiting.start()
    releasing = PooledThread(target=released.set)
    releasing.start()
    waiting.join(5)
    assert released.is_set() and not waiting.is_alive()
    assert waiting.native_id != releasing.native_id


def test_a_failing_job_is_logged_and_its_worker_lives_on(caplog: pytest.LogCaptureFixture) -> None:
    def fail() -> None:
        raise ValueError("boom")

    failing = PooledThread(target=fail, name="failing-job")
    failing.start()
    failing.join(5)
    assert "engine job failing-job failed" in caplog.text and "boom" in caplog.text
    _wait_idle(failing)
    after = PooledThread(target=lambda: None)
    after.start()
    after.join(5)
    assert after.native_id == failing.native_id


def test_executions_reuse_threads_and_moto_keeps_none(
    run_definition: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": 2, "End": True}}},
                ],
            }
        },
    }
    assert run_definition(definition).output == [1, 2]  # warms the pool up
    started: list[threading.Thread] = []
    start = threading.Thread.start

    def counting_start(self: threading.Thread) -> None:
        started.append(self)
        start(self)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    for _ in range(10):
        assert run_definition(definition).output == [1, 2]
    # each execution runs four engine jobs (execution, program, two branches) and its requests:
    # started threads, that would be over 40
    assert len(started) <= 3
    assert len(execute_state.TMP_THREADS) == 0


ADD_ONE = "def handler(event, context):\n    return {'n': event['n'] + 1}\n"


@pytest.mark.parametrize(("timeout", "own_thread"), [(None, False), (30, True)])
def test_a_task_attempt_has_a_thread_of_its_own_only_when_it_has_a_timeout_to_watch(
    run_definition: Runner,
    deploy_function: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
    timeout: int | None,
    own_thread: bool,
) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )

    threads: dict[str, int] = {}

    def recording(role: str, method: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        def record(self: Any, env: Any) -> None:
            threads[role] = threading.get_ident()
            method(self, env)

        return record

    monkeypatch.setattr(ExecutionState, "_eval_state", recording("state", ExecutionState._eval_state))
    monkeypatch.setattr(
        StateTaskLambda, "_eval_execution", recording("attempt", StateTaskLambda._eval_execution)
    )
    task: dict[str, Any] = {"Type": "Task", "Resource": deploy_function(ADD_ONE), "End": True}
    if timeout:
        task["TimeoutSeconds"] = timeout
    run = run_definition({"StartAt": "AddOne", "States": {"AddOne": task}}, {"n": 1})
    assert (run.status, run.output) == ("SUCCEEDED", {"n": 2})
    assert (threads["attempt"] != threads["state"]) is own_thread
