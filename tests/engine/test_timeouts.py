"""State machine TimeoutSeconds and AWS's maximum execution duration, on the engine clock."""

from __future__ import annotations

from tests.engine.conftest import Runner


def test_state_machine_timeout_cuts_a_wait(run_definition: Runner, instant_clock: None) -> None:
    run = run_definition(
        {
            "TimeoutSeconds": 5,
            "StartAt": "W",
            "States": {"W": {"Type": "Wait", "Seconds": 60, "Next": "P"}, "P": {"Type": "Pass", "End": True}},
        }
    )
    assert run.status == "TIMED_OUT"
    assert "PassStateEntered" not in run.types


def test_a_wait_longer_than_a_year_times_the_execution_out(
    run_definition: Runner, instant_clock: None
) -> None:
    # AWS: a Standard execution lasts at most one year
    run = run_definition(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 99999999, "End": True}}}
    )
    assert run.status == "TIMED_OUT"


def test_an_express_execution_lasts_at_most_five_minutes(run_definition: Runner, instant_clock: None) -> None:
    run = run_definition(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 301, "End": True}}}, sm_type="EXPRESS"
    )
    assert run.status == "TIMED_OUT"


def test_a_wait_within_the_limits_completes(run_definition: Runner, instant_clock: None) -> None:
    run = run_definition({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86400, "End": True}}})
    assert run.status == "SUCCEEDED"
