"""Schedules fire their target state machine when the test's clock says they are due."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localcloud import LocalCloud
from localcloud.schedule_expr import At, Cron, Rate, ScheduleExpressionError, parse
from tests.localcloud.helpers import deploy, on_demand_table, role, state_machine, wait

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def _schedule(cloud: LocalCloud, name: str, expression: str, target: str, payload: str, **extra: Any) -> None:
    cloud.client("scheduler").create_schedule(
        Name=name,
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": target, "RoleArn": role(cloud), "Input": payload},
        **extra,
    )


# a schedule's StartDate, ahead of the wall clock (AWS refuses a cron schedule's start in the past)
START = datetime(datetime.now(UTC).year + 1, 1, 1, tzinfo=UTC)
NINE = START.replace(hour=9)


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


def test_a_schedule_enabled_fires_nothing_it_missed_while_disabled(cloud: LocalCloud) -> None:
    # Scheduler invokes nothing for the time a schedule spent disabled: enabled, it waits for its
    # next occurrence, where a look at it since its start would take one missed while disabled as due.
    machine = state_machine(cloud, "scheduled", PASS)
    now = datetime.now(UTC)
    started = now - timedelta(hours=3, minutes=30)  # occurrences at -2:30, -1:30, -0:30, +0:30
    _schedule(cloud, "hourly", "rate(1 hour)", machine, "{}", StartDate=started, State="DISABLED")
    assert cloud.scheduler.fire_due(at=now) == []
    cloud.client("scheduler").update_schedule(
        Name="hourly",
        ScheduleExpression="rate(1 hour)",
        StartDate=started,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": machine, "RoleArn": role(cloud), "Input": "{}"},
        State="ENABLED",
    )

    assert cloud.scheduler.fire_due(at=now + timedelta(minutes=1)) == []
    [firing] = cloud.scheduler.fire_due(at=now + timedelta(minutes=31))
    assert firing.scheduled == started + timedelta(hours=4)


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


@pytest.mark.parametrize(
    "bad",
    [
        "cron(0 18 * * MON *)",
        "cron(0 18 * *)",
        "rate(0 minutes)",
        "every day",
        "cron(0 24 * * ? *)",
        "cron(60 9 * * ? *)",
        "cron(0 9 32 * ? *)",
        "cron(0 9 ? * 8 *)",
        "cron(0 9 ? 13 MON *)",
    ],
)
def test_bad_expressions_are_rejected(bad: str) -> None:
    with pytest.raises(ScheduleExpressionError):
        parse(bad)


def test_a_rate_schedule_fires_from_its_start_date_on_the_dot(cloud: LocalCloud) -> None:
    machine = state_machine(cloud, "scheduled", PASS)
    _schedule(cloud, "from-start", "rate(5 minutes)", machine, "{}", StartDate=START)

    assert cloud.scheduler.fire_due(at=START + timedelta(minutes=4, seconds=59)) == []
    assert len(cloud.scheduler.fire_due(at=START + timedelta(minutes=5))) == 1


def test_a_schedule_past_its_end_date_does_not_fire(cloud: LocalCloud) -> None:
    machine = state_machine(cloud, "scheduled", PASS)
    end = START + timedelta(hours=1)
    _schedule(cloud, "ended", "rate(5 minutes)", machine, "{}", StartDate=START, EndDate=end)

    assert len(cloud.scheduler.fire_due(at=end - timedelta(minutes=1))) == 1
    assert cloud.scheduler.fire_due(at=end + timedelta(minutes=6)) == []


def test_a_one_time_schedule_fires_once_and_deletes_itself_when_asked(cloud: LocalCloud) -> None:
    machine = state_machine(cloud, "scheduled", PASS)
    once = f"at({NINE:%Y-%m-%dT%H:%M:%S})"
    _schedule(cloud, "once", once, machine, "{}")
    _schedule(cloud, "once-then-gone", once, machine, "{}", ActionAfterCompletion="DELETE")

    assert cloud.scheduler.fire_due(at=NINE - timedelta(seconds=1)) == []
    assert len(cloud.scheduler.fire_due(at=NINE)) == 2
    assert cloud.scheduler.fire_due(at=NINE + timedelta(days=1)) == []
    names = [s["Name"] for s in cloud.client("scheduler").list_schedules()["Schedules"]]
    assert names == ["once"]


def test_a_schedule_s_cron_runs_in_its_time_zone(cloud: LocalCloud) -> None:
    machine = state_machine(cloud, "scheduled", PASS)
    _schedule(
        cloud,
        "new-york-nine",
        "cron(0 9 * * ? *)",
        machine,
        "{}",
        StartDate=START,
        ScheduleExpressionTimezone="America/New_York",
    )

    # 9:00 in New York on 1 January is 14:00 UTC
    assert cloud.scheduler.fire_due(at=NINE + timedelta(minutes=30)) == []
    assert len(cloud.scheduler.fire_due(at=NINE + timedelta(hours=5))) == 1


def test_a_schedule_invokes_its_lambda_target_with_its_input(cloud: LocalCloud) -> None:
    function = deploy(cloud, "putter", "puts")
    dynamodb = cloud.client("dynamodb")
    on_demand_table(cloud, "items")
    event = {"table": "items", "pk": "scheduled", "value": "1"}
    _schedule(cloud, "to-lambda", "rate(1 hour)", function, json.dumps(event), StartDate=START)

    [firing] = cloud.scheduler.fire_due(at=START + timedelta(hours=1))

    assert firing.result == "invoked"
    key = {"pk": {"S": "scheduled"}}
    for _ in range(500):  # an asynchronous invocation: it runs after the call answers
        if "Item" in dynamodb.get_item(TableName="items", Key=key):
            break
        time.sleep(0.01)
    assert dynamodb.get_item(TableName="items", Key=key)["Item"]["value"] == {"S": "1"}


def test_cron_fields_for_the_nth_weekday_the_month_and_the_year() -> None:
    february = datetime(2025, 2, 1, tzinfo=UTC)  # its first Friday is the 7th
    assert parse("cron(0 12 ? * 6#1 *)").next_after(february, february) == datetime(
        2025, 2, 7, 12, 0, tzinfo=UTC
    )
    assert parse("cron(0 12 ? * 6#2 *)").next_after(february, february) == datetime(
        2025, 2, 14, 12, 0, tzinfo=UTC
    )
    assert parse("cron(0 9 1 JUN ? *)").next_after(february, february) == datetime(
        2025, 6, 1, 9, 0, tzinfo=UTC
    )
    assert parse("cron(0 9 1 * ? 2027)").next_after(february, february) == datetime(
        2027, 1, 1, 9, 0, tzinfo=UTC
    )
    assert parse("cron(0 9 L * ? *)").next_after(february, february) == datetime(
        2025, 2, 28, 9, 0, tzinfo=UTC
    )


def test_rate_units_and_one_time_expressions_in_a_time_zone() -> None:
    assert parse("rate(1 minute)") == Rate(timedelta(minutes=1))
    assert parse("rate(3 hours)") == Rate(timedelta(hours=3))
    assert parse("rate(2 days)") == Rate(timedelta(days=2))
    at = parse("at(2030-01-01T09:00:00)", "America/New_York")
    assert isinstance(at, At) and at.when == datetime(2030, 1, 1, 14, 0, tzinfo=UTC)


def test_a_schedule_fires_once_for_the_latest_missed_occurrence_naming_it_in_its_input(
    cloud: LocalCloud,
) -> None:
    # Scheduler's context attributes are filled in: the scheduled time is the occurrence's, not the
    # time the local cloud got round to it (asleep over three of them).
    machine = state_machine(cloud, "scheduled", PASS)
    payload = '{"at": "<aws.scheduler.scheduled-time>", "attempt": "<aws.scheduler.attempt-number>"}'
    _schedule(
        cloud,
        "weekdays",
        "cron(30 17 ? * MON-FRI *)",
        machine,
        payload,
        StartDate=START,
        ScheduleExpressionTimezone="Asia/Shanghai",
    )
    monday = START + timedelta(days=(7 - START.weekday()) % 7)  # the first Monday from START
    thursday_noon = monday + timedelta(days=3, hours=4)  # 12:00 in Shanghai

    [firing] = cloud.scheduler.fire_due(at=thursday_noon)

    wednesday = monday + timedelta(days=2, hours=9, minutes=30)  # 17:30 in Shanghai
    assert firing.scheduled == wednesday
    output = json.loads(wait(cloud, firing.result)["output"])
    assert output == {"at": f"{wednesday:%Y-%m-%d}T09:30:00Z", "attempt": "1"}
    assert cloud.scheduler.fire_due(at=thursday_noon + timedelta(hours=1)) == []


def test_the_last_occurrence_up_to_a_time() -> None:
    friday = datetime(2025, 1, 3, 18, 0, tzinfo=UTC)
    monday_noon = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
    weekdays_at_18 = parse("cron(0 18 ? * MON-FRI *)")
    assert weekdays_at_18.last_until(friday - timedelta(days=2), monday_noon, friday) == friday
    assert weekdays_at_18.last_until(friday, monday_noon, friday) is None  # the weekend has none
    every_5 = parse("rate(5 minutes)")
    assert every_5.last_until(friday, friday + timedelta(minutes=17), friday) == friday + timedelta(
        minutes=15
    )
    assert every_5.last_until(friday, friday + timedelta(minutes=4), friday) is None
    once = parse("at(2025-01-04T09:00:00)")
    assert once.last_until(friday, monday_noon, friday) == datetime(2025, 1, 4, 9, 0, tzinfo=UTC)
