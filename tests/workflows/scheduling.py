"""Fire a workflow's deployed schedule in the local cloud, at a chosen time.

The local environment deploys schedules DISABLED (`schedules = false`); this enables the
workflow's schedule just for the firing, then disables it again.
"""

from __future__ import annotations

from datetime import datetime

from tests.workflows.conftest import Deployed

UPDATABLE = ("ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow", "Target")


def fire_schedule(app: Deployed, workflow: str, at: datetime, start: datetime | None = None) -> list[str]:
    """Execution ARNs the workflow's schedule started when the scheduler ran at `at` (counting
    its occurrences from `start` when given, from its creation otherwise)."""
    scheduler, group = app.client("scheduler"), app.env.resource_name("schedules")
    machine = app.outputs[workflow]["state_machine_arn"]
    mine = [
        scheduler.get_schedule(Name=s["Name"], GroupName=group)
        for s in scheduler.list_schedules(GroupName=group)["Schedules"]
    ]
    [schedule] = [s for s in mine if s["Target"]["Arn"] == machine]
    fields = {k: schedule[k] for k in UPDATABLE if k in schedule}
    if start is not None:
        fields["StartDate"] = start
    scheduler.update_schedule(Name=schedule["Name"], GroupName=group, State="ENABLED", **fields)
    try:
        assert app.cloud.scheduler is not None
        fired = app.cloud.scheduler.fire_due(at=at)
    finally:
        scheduler.update_schedule(Name=schedule["Name"], GroupName=group, State="DISABLED", **fields)
    return [f.result for f in fired if f.target == machine]
