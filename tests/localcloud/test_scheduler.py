"""Schedules fire their target state machine when the test's clock says they are due."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from localcloud import LocalCloud
from localcloud.schedule_expr import Cron, ScheduleExpressionError, parse
from tests.localcloud.helpers import role, state_machine, wait

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def _schedule(cloud: LocalCloud, name: str, expression: str, target: str, payload: str) -> None:
    cloud.client("scheduler").create_schedule(
        Name=name,
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": target, "RoleArn": role(cloud), "Input": payload},
    )


def test_rate_schedule_starts_the_state_machine_when_due(cloud: LocalCloud) -> None:
    machine = state_machine(cloud, "scheduled", PASS)
    _schedule(cloud, "every-5", "rate(5 minutes)", machine, '{"from": "schedule"}')
    now = datetime.now(UTC)

    assert cloud.scheduler.fire_due(at=now) == []
    fired = cloud.scheduler.fire_due(at=now + timedelta(minutes=6))

    assert len(fired) == 1
    execution = wait(cloud, fired[0].result)
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"from": "schedule"}
    # Already fired for this period: nothing more until the next one.
    assert cloud.scheduler.fire_due(at=now + timedelta(minutes=7)) == []
    assert len(cloud.scheduler.fire_due(at=now + timedelta(minutes=11))) == 1


def test_disabled_schedule_does_not_fire(cloud: LocalCloud) -> None:
    machine = state_machine(cloud, "scheduled", PASS)
    _schedule(cloud, "off", "rate(1 minute)", machine, "{}")
    cloud.client("scheduler").update_schedule(
        Name="off",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": machine, "RoleArn": role(cloud)},
        State="DISABLED",
    )
    assert cloud.scheduler.fire_due(at=datetime.now(UTC) + timedelta(hours=1)) == []


def test_scheduled_eventbridge_rule_fires_its_target(cloud: LocalCloud) -> None:
    machine = state_machine(cloud, "ruled", PASS)
    events = cloud.client("events")
    events.put_rule(Name="hourly", ScheduleExpression="rate(1 hour)", State="ENABLED")
    events.put_targets(Rule="hourly", Targets=[{"Id": "sm", "Arn": machine, "RoleArn": role(cloud)}])
    now = datetime.now(UTC)

    cloud.scheduler.fire_due(at=now)  # first look starts the rule's clock
    fired = cloud.scheduler.fire_due(at=now + timedelta(hours=1, minutes=1))

    assert [f.target for f in fired] == [machine]
    event = json.loads(wait(cloud, fired[0].result)["output"])
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"


def test_cron_next_occurrence() -> None:
    weekdays_at_18 = parse("cron(0 18 ? * MON-FRI *)")
    friday = datetime(2025, 1, 3, 18, 0, tzinfo=UTC)
    assert isinstance(weekdays_at_18, Cron)
    assert weekdays_at_18.next_after(friday, friday) == datetime(2025, 1, 6, 18, 0, tzinfo=UTC)
    every_15 = parse("cron(0/15 * * * ? *)")
    assert every_15.next_after(friday, friday) == datetime(2025, 1, 3, 18, 15, tzinfo=UTC)
    last_day = parse("cron(30 9 L * ? *)")
    assert last_day.next_after(friday, friday) == datetime(2025, 1, 31, 9, 30, tzinfo=UTC)
    third_friday = parse("cron(0 12 ? * 6#3 *)")
    assert third_friday.next_after(friday, friday) == datetime(2025, 1, 17, 12, 0, tzinfo=UTC)
    in_new_york = parse("cron(0 9 * * ? *)", "America/New_York")
    assert in_new_york.next_after(friday, friday) == datetime(2025, 1, 4, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["cron(0 18 * * MON *)", "cron(0 18 * *)", "rate(0 minutes)", "every day"])
def test_bad_expressions_are_rejected(bad: str) -> None:
    with pytest.raises(ScheduleExpressionError):
        parse(bad)
