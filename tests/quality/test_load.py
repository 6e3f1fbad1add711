"""The load test (bench/load.py) on the session's local cloud: 500 lottery draws started through
the console's HTTP API and 500 ride requests through POST /ride over HTTP (plus 50 replays of
them), 20 at a time. Every execution is correct and every record is there exactly once. Also the
race of two concurrent draws of the same employee: the claim makes the loser redraw.

Slow (about 2 minutes on a loaded 2-core machine). The table it prints is in the session's summary.
"""

from __future__ import annotations

import pytest

from bench.load import run_lottery, run_rides, seed_employees, table
from localcloud.engine import clock
from tests import counters
from tests.quality.conftest import Quality

DRAWS = RIDES = 500
REPLAYS = 50
CONCURRENCY = 20
EMPLOYEES = 600  # each draw has one winner and nobody wins twice: room for 500 draws


def test_concurrent_draws_of_the_same_employee_announce_only_recorded_winners(quality: Quality) -> None:
    app = quality.app
    seed_employees(quality.env, 50)
    announcements = app.inbox(app.resource("lottery", "announcements"))
    record = app.outputs["lottery"]["functions"]["record-winners"]["name"]
    # both draws pass Check Past Winners before either records: the same seed picks the same employee
    runtime = app.cloud.lambda_runtime
    assert runtime is not None
    runtime.inject(record, "latency", latency=5.0, times=2)
    with clock.instant():
        arns = [app.start("lottery", {"winners": 1, "seed": 11}) for _ in range(2)]
        runs = [app.wait(arn, "lottery") for arn in arns]
    winners = app.client("dynamodb").scan(TableName=app.resource("lottery", "winners"))["Items"]
    succeeded = [r for r in runs if r.status == "SUCCEEDED"]

    assert len(succeeded) == 2 and len(winners) == 2  # the draw that lost the race drew someone else
    assert len(announcements.messages()) == 2, [(r.status, r.error) for r in runs]


@pytest.mark.slow
def test_500_draws_and_500_rides_20_at_a_time_lose_and_duplicate_nothing(quality: Quality) -> None:
    seed_employees(quality.env, EMPLOYEES)
    lottery = run_lottery(quality.env, quality.url, DRAWS, CONCURRENCY, EMPLOYEES)
    rides = run_rides(quality.env, quality.url, quality.token, RIDES, CONCURRENCY, REPLAYS)
    command = (
        f"pytest tests/quality/test_load.py  (= python bench/load.py --lottery {DRAWS} --rides {RIDES} "
        f"--replays {REPLAYS} --concurrency {CONCURRENCY} --employees {EMPLOYEES})"
    )
    counters.report(table([lottery, rides], command))
    counters.lost(len(lottery.lost) + len(rides.lost), "load test")

    assert lottery.executions == DRAWS and rides.executions == RIDES + REPLAYS
    for result in (lottery, rides):
        assert result.errors == [], result.errors[:5]
        assert result.lost == [], result.lost[:5]
        assert result.duplicated == [], result.duplicated[:5]
