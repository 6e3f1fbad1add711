"""Record Winners: confirm the draw's winners, exactly once, whatever retries or redrives happen.

The winners were claimed for this draw by Check Past Winners; recording stamps `won_at` under the
same condition (tasks.lottery.winners), so a winner of another draw is never overwritten and a
repeat changes nothing. A transaction cancelled for a moment raises WinnersContended, retried by
the workflow: only a failed condition means a winner of another draw.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from tasks.lottery.schemas import CLAIM
from tasks.lottery.winners import write
from tasks.shared.errors import TaskError
from tasks.shared.handler import task
from tasks.shared.powertools import metrics


class WinnerAlreadyRecorded(TaskError):
    """An employee of this draw was recorded as the winner of another draw."""


@task(CLAIM)
def handler(record: dict[str, Any]) -> dict[str, Any]:
    winners = record["winners"]
    taken = write(record["draw_id"], winners, stamp="won_at")
    if taken:
        raise WinnerAlreadyRecorded(f"recorded by another draw: {', '.join(taken)}")
    metrics.add_metric(name="WinnersRecorded", unit=MetricUnit.Count, value=len(winners))
    return {"recorded": [w["employee_id"] for w in winners]}
