"""Engine threads are reused workers: jobs run, join and fail as threads do, and nothing piles up."""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from localcloud import LocalCloud, thread_pool
from tests.engine.conftest import ROLE_ARN, Runner, inline_map, only


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


def test_a_join_with_a_timeout_returns_while_the_job_runs_and_every_joiner_sees_its_end() -> None:
    released = threading.Event()
    job = PooledThread(target=released.wait, args=(5,))
    job.start()
    job.join(0.01)
    assert job.is_alive()
    joiners = [threading.Thread(target=job.join) for _ in range(3)]
    for joiner in joiners:
        joiner.start()
    released.set()
    for joiner in joiners:
        joiner.join(5)
    assert not job.is_alive() and not any(joiner.is_alive() for joiner in joiners)
    job.join()  # after the end too


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
    # each execution runs an engine job (the execution, whose thread runs the program and both
    # branches) and its requests: started threads, that would be over 30
    assert len(started) <= 3
    assert len(execute_state.TMP_THREADS) == 0


@pytest.mark.parametrize("sync", [False, True], ids=["start", "start-sync"])
def test_an_execution_s_thread_runs_its_program_unless_a_caller_waits_for_it(
    local_cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, sync: bool
) -> None:
    """Only StartSyncExecution's program has a thread of its own: its caller answers at the
    deadline, whatever the program is still waiting for."""
    from moto.stepfunctions.parser.asl.component.state.state_pass.state_pass import StatePass
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    threads: dict[str, int] = {}

    def recording(role: str, method: Callable[..., None]) -> Callable[..., None]:
        def record(self: Any, *args: Any) -> None:
            threads[role] = threading.get_ident()
            method(self, *args)

        return record

    monkeypatch.setattr(
        ExecutionWorker, "_execution_logic", recording("execution", ExecutionWorker._execution_logic)
    )
    monkeypatch.setattr(StatePass, "_eval_state", recording("state", StatePass._eval_state))
    sfn = local_cloud.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"threads-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(only({"Type": "Pass", "Result": 1})),
        roleArn=ROLE_ARN,
        type="EXPRESS" if sync else "STANDARD",
    )["stateMachineArn"]
    if sync:
        assert sfn.start_sync_execution(stateMachineArn=arn)["output"] == "1"
    else:
        execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            time.sleep(0.005)
    assert (threads["state"] != threads["execution"]) is sync


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


DOUBLE = {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($, $)"}, "End": True}
NEVER_WAITS = {"StartAt": "Double", "States": {"Double": DOUBLE}}
WAITS = {
    "StartAt": "Pause",
    "States": {"Pause": {"Type": "Wait", "Seconds": 0, "Next": "Double"}, "Double": DOUBLE},
}


def _record_threads(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[int]]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel import StateParallel
    from moto.stepfunctions.parser.asl.component.state.state_pass.state_pass import StatePass

    threads: dict[str, set[int]] = {"Map": set(), "Parallel": set(), "Pass": set()}
    for role, cls in (("Map", StateMap), ("Parallel", StateParallel), ("Pass", StatePass)):

        def record(self: Any, env: Any, _role: str = role, _eval: Any = cls._eval_state) -> None:
            threads[_role].add(threading.get_ident())
            _eval(self, env)

        monkeypatch.setattr(cls, "_eval_state", record)
    return threads


def test_map_iterations_that_never_wait_run_in_order_in_the_map_s_thread(
    run_definition: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _record_threads(monkeypatch)
    run = run_definition(only(inline_map(NEVER_WAITS, max_concurrency=10)), list(range(30)))
    assert (run.status, run.output) == ("SUCCEEDED", [{"n": 2 * i} for i in range(30)])
    assert threads["Pass"] == threads["Map"]
    iterations = [e for e in run.types if e.startswith("MapIteration") or e.startswith("Pass")]
    assert (
        iterations
        == ["MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded"] * 30
    )
    started = [
        e["mapIterationStartedEventDetails"]["index"]
        for e in run.events
        if e["type"] == "MapIterationStarted"
    ]
    assert started == list(range(30))


def test_map_iterations_that_wait_keep_threads_of_their_own(
    run_definition: Runner, monkeypatch: pytest.MonkeyPatch, instant_clock: None
) -> None:
    threads = _record_threads(monkeypatch)
    run = run_definition(only(inline_map(WAITS, max_concurrency=10)), list(range(30)))
    assert (run.status, run.output) == ("SUCCEEDED", [{"n": 2 * i} for i in range(30)])
    assert threads["Map"].isdisjoint(threads["Pass"])


@pytest.mark.parametrize("branch", [NEVER_WAITS, WAITS], ids=["never-waits", "waits"])
def test_parallel_branches_run_in_the_parallel_s_thread_only_when_they_never_wait(
    run_definition: Runner,
    monkeypatch: pytest.MonkeyPatch,
    instant_clock: None,
    branch: dict[str, Any],
) -> None:
    threads = _record_threads(monkeypatch)
    run = run_definition(only({"Type": "Parallel", "Branches": [branch] * 4}), 3)
    assert (run.status, run.output) == ("SUCCEEDED", [{"n": 6}] * 4)
    assert (threads["Pass"] == threads["Parallel"]) is (branch is NEVER_WAITS)


def test_a_failing_branch_that_never_waits_fails_the_parallel_after_its_siblings_ran(
    run_definition: Runner,
) -> None:
    branches = [
        {"StartAt": "Bad", "States": {"Bad": {"Type": "Fail", "Error": "Bad", "Cause": "first"}}},
        {"StartAt": "Good", "States": {"Good": {"Type": "Pass", "End": True}}},
    ]
    run = run_definition(only({"Type": "Parallel", "Branches": branches}))
    assert (run.status, run.error, run.cause) == ("FAILED", "Bad", "first")
    assert run.types.count("PassStateExited") == 1 and "ParallelStateFailed" in run.types


@pytest.mark.parametrize("iterator", [NEVER_WAITS, WAITS], ids=["never-waits", "waits"])
def test_a_map_of_more_items_than_the_recursion_limit_allows_frames_completes(
    run_definition: Runner, instant_clock: None, iterator: dict[str, Any]
) -> None:
    """moto's Map worker called itself for each next item: past the recursion limit it died and
    left the execution RUNNING."""
    items = 1500
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        run = run_definition(only(inline_map(iterator, max_concurrency=1)), list(range(items)))
    finally:
        sys.setrecursionlimit(limit)
    assert run.status == "SUCCEEDED"
    assert run.output == [{"n": 2 * i} for i in range(items)]
