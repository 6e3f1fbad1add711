"""The engine clock: Wait states and Retry backoff in virtual time, histories stamped consistently."""

from __future__ import annotations

import datetime
import random

from localcloud.engine import clock
from tests.engine.conftest import Runner


def test_instant_clock_sleeps_in_virtual_time_only() -> None:
    with clock.instant() as c:
        before = c.time()
        c.sleep(3600)
        assert c.time() - before >= 3600


def test_speed_restores_the_previous_factor() -> None:
    with clock.speed(1000):
        assert clock.CLOCK.factor == 1000
        with clock.instant():
            assert clock.CLOCK.factor == float("inf")
        assert clock.CLOCK.factor == 1000
    assert clock.CLOCK.factor == 1


def test_aws_iso_text() -> None:
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC)
    assert clock.aws_iso(moment) == "2024-01-02T03:04:05.678Z"


def test_a_clock_reading_is_written_as_its_datetime_would_be() -> None:
    """Event timestamps are written from the clock's float reading without making a datetime: the
    text must be the datetime's, at millisecond and second boundaries too."""
    rng = random.Random(7)
    readings = [1_733_400_000 + rng.random() * 86_400 for _ in range(20_000)]
    readings += [
        1_733_400_000 + k + edge for k in range(50) for edge in (0.0, 0.0009995, 0.9994999, 0.9999996)
    ]
    for reading in readings:
        expected = clock.iso_millis(datetime.datetime.fromtimestamp(reading, datetime.UTC))
        assert clock.iso_millis(reading) == expected, reading
    entered = clock._EnteredTime.now(tz=datetime.UTC)  # $$.State.EnteredTime's
    assert entered.isoformat() == clock.iso_millis(
        datetime.datetime.fromtimestamp(entered.epoch, datetime.UTC)
    )


def test_readings_one_after_another_in_a_millisecond_keep_their_own_text() -> None:
    # the text of the last millisecond is kept: readings in it, then past it, across the rounding
    # up to the next second, and back in time (a clock reset), each still read as their datetime
    base = 1_733_400_000
    readings = [base + 0.0101, base + 0.0104, base + 0.0109, base + 0.011, base + 0.0101]
    readings += [base + 0.9994999, base + 0.9999996, base + 1.0, base + 0.9999996, base + 0.9999994]
    readings += [base - 86_400 + 0.9999996, base + 0.0101]
    texts = [clock.iso_millis(reading) for reading in readings]
    assert texts == [
        clock.iso_millis(datetime.datetime.fromtimestamp(reading, datetime.UTC)) for reading in readings
    ]
    assert texts[:3] == ["2024-12-05T12:00:00.010Z"] * 3 and texts[6:8] == ["2024-12-05T12:00:01.000Z"] * 2


def test_a_long_wait_state_shows_its_duration_in_the_history(
    run_definition: Runner, instant_clock: None
) -> None:
    run = run_definition({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 7200, "End": True}}})
    assert run.status == "SUCCEEDED"
    entered, exited = run.event("WaitStateEntered"), run.event("WaitStateExited")
    assert (exited["timestamp"] - entered["timestamp"]).total_seconds() >= 7200


def test_retry_backoff_takes_clock_time(run_definition: Runner, instant_clock: None) -> None:
    # A missing function fails at once; each retry waits IntervalSeconds * BackoffRate^n on the clock.
    run = run_definition(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "engine-no-such-function"},
                    "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 500, "MaxAttempts": 2}],
                    "End": True,
                }
            },
        }
    )
    assert run.status == "FAILED"
    assert run.types.count("TaskScheduled") == 3
    failed = [e["timestamp"] for e in run.events if e["type"] == "TaskFailed"]
    assert (failed[-1] - failed[0]).total_seconds() >= 500 + 1000


def test_wait_until_a_timestamp_uses_the_clock(run_definition: Runner, instant_clock: None) -> None:
    target = clock.now() + datetime.timedelta(days=2)
    run = run_definition(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.at", "End": True}}},
        {"at": target.strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    assert run.status == "SUCCEEDED"
    assert run.event("WaitStateExited")["timestamp"] >= target.replace(microsecond=0)
