"""The announcement by hand of a draw recorded but not announced: which draws it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.lottery.announce import NOT_ANNOUNCED, refusal

FAILED = {"workflow": "lottery", "status": "FAILED", "error": NOT_ANNOUNCED}


def item(employee_id: str, **stamps: str) -> dict[str, Any]:
    """A winners table item of draw d1, as DynamoDB gives it."""
    return {
        "employee_id": {"S": employee_id},
        "draw_id": {"S": "d1"},
        "employee_name": {"S": f"name of {employee_id}"},
        **{stamp: {"S": value} for stamp, value in stamps.items()},
    }


RECORDED = [item("E001", claimed_at="t0", won_at="t1"), item("E002", claimed_at="t0", won_at="t1")]


def test_a_draw_recorded_and_not_announced_is_announced() -> None:
    assert refusal(FAILED, RECORDED, "d1") is None


@pytest.mark.parametrize(
    ("execution", "said"),
    [
        (None, "no lottery draw 'd1'"),
        ({**FAILED, "workflow": "ride-request"}, "no lottery draw 'd1'"),
        (
            {"workflow": "lottery", "status": "SUCCEEDED"},
            "draw d1 SUCCEEDED, not DrawNotAnnounced: only a draw recorded and not announced",
        ),
        (
            {**FAILED, "error": "SNS.AuthorizationErrorException"},
            "FAILED with SNS.AuthorizationErrorException",
        ),
        ({**FAILED, "status": "RUNNING", "error": None}, "draw d1 RUNNING, not DrawNotAnnounced"),
    ],
)
def test_a_draw_whose_run_did_not_fail_unannounced_is_refused(execution: Any, said: str) -> None:
    """The workflow announced it, failed before recording it, or is still running."""
    assert said in str(refusal(execution, RECORDED, "d1"))


def test_a_draw_without_recorded_winners_is_refused() -> None:
    assert refusal(FAILED, [], "d1") == "draw d1 has no recorded winners in the winners table"
    claimed_only = [RECORDED[0], item("E002", claimed_at="t0")]
    assert refusal(FAILED, claimed_only, "d1") == "draw d1 has no recorded winners in the winners table"


def test_a_draw_announced_before_is_refused_saying_when() -> None:
    announced = [{**w, "announced_at": {"S": "2026-12-01T10:00:00+00:00"}} for w in RECORDED]
    assert refusal(FAILED, announced, "d1") == "draw d1 was announced already, at 2026-12-01T10:00:00+00:00"
