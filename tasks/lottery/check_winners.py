"""Check Past Winners: claim the drawn employees for this draw, unless one already won.

The claim is the check: one conditional transaction, so a concurrent draw cannot pick the same
employee in between (see tasks.lottery.winners). When it fails nothing is claimed and the
workflow redraws; when DynamoDB cancelled it for a moment (WinnersContended), the workflow claims
again after a backoff.
"""

from __future__ import annotations

from typing import Any

from tasks.lottery.draw import announcement
from tasks.lottery.schemas import CLAIM
from tasks.lottery.winners import write
from tasks.shared.handler import task


@task(CLAIM)
def handler(drawn: dict[str, Any]) -> dict[str, Any]:
    winners = drawn["winners"]
    taken = write(drawn["draw_id"], winners, stamp="claimed_at")
    return {
        "eligible": not taken,
        "past_winners": taken,
        "message": announcement(w["employee_name"] for w in winners),
    }
