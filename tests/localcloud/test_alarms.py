"""CloudWatch alarms evaluated by the local cloud, on the metrics it emits as AWS does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.alarms import ON_ANY
from localcloud import LocalCloud
from localcloud.engine import clock
from tests.conftest import Inbox
from tests.localcloud.helpers import deploy, invoke, role, run, state_machine

TIMES_OUT = {
    "StartAt": "W",
    "TimeoutSeconds": 1,
    "States": {"W": {"Type": "Wait", "Seconds": 10, "End": True}},
}


def _alarm(
    cloud: LocalCloud, name: str, namespace: str, metric: str, dimension: tuple[str, str], **extra: Any
) -> None:
    """As infra/alarms.py makes them: one or more in five minutes, missing data not breaching."""
    settings: dict[str, Any] = {**ON_ANY, **extra}
    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        AlarmDescription=f"{name} says why",
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": dimension[0], "Value": dimension[1]}],
        **settings,
    )


def _described(cloud: LocalCloud, name: str) -> dict[str, Any]:
    [alarm] = cloud.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return dict(alarm)


def _sum(cloud: LocalCloud, namespace: str, metric: str, dimension: tuple[str, str]) -> float:
    now = clock.CLOCK.time()
    points = cloud.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": dimension[0], "Value": dimension[1]}],
        StartTime=datetime.fromtimestamp(now - 3600, UTC),
        EndTime=datetime.fromtimestamp(now + 60, UTC),
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    return float(sum(p["Sum"] for p in points))


def test_a_timed_out_execution_alarms_its_topic_and_the_alarm_clears_after_its_period(
    cloud: LocalCloud,
) -> None:
    topic = cloud.client("sns").create_topic(Name="alerts")["TopicArn"]
    inbox = Inbox(cloud.client, topic, raw=False)
    machine = state_machine(cloud, "slow", TIMES_OUT)
    dimension = ("StateMachineArn", machine)
    _alarm(cloud, "slow-timed-out", "AWS/States", "ExecutionsTimedOut", dimension, AlarmActions=[topic])
    assert [e.state for e in cloud.alarms.evaluate()] == ["OK"]  # no data, not breaching

    with clock.instant():  # the Wait jumps the clock past the execution's TimeoutSeconds
        assert run(cloud, machine)["status"] == "TIMED_OUT"
    timed_out = clock.CLOCK.time()
    [evaluated] = cloud.alarms.evaluate(at=timed_out + 1)

    assert evaluated.changed and evaluated.state == "ALARM"
    assert _sum(cloud, "AWS/States", "ExecutionsTimedOut", ("StateMachineArn", machine)) == 1.0
    alarm = _described(cloud, "slow-timed-out")
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [1.0 (")
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [1.0]
    assert abs(alarm["StateUpdatedTimestamp"].timestamp() - (timed_out + 1)) < 0.01  # the engine's clock
    [notification] = inbox.notifications()
    assert notification["Subject"] == 'ALARM: "slow-timed-out" in US East (N. Virginia)'
    message = json.loads(notification["Message"])
    assert {k: message[k] for k in ("AlarmName", "AlarmDescription", "NewStateValue", "OldStateValue")} == {
        "AlarmName": "slow-timed-out",
        "AlarmDescription": "slow-timed-out says why",
        "NewStateValue": "ALARM",
        "OldStateValue": "OK",
    }
    assert message["NewStateReason"] == alarm["StateReason"]
    assert (message["AWSAccountId"], message["Region"]) == ("123456789012", "US East (N. Virginia)")
    assert message["AlarmArn"] == alarm["AlarmArn"]
    assert message["Trigger"] == {
        "MetricName": "ExecutionsTimedOut",
        "Namespace": "AWS/States",
        "StatisticType": "Statistic",
        "Statistic": "SUM",
        "Unit": None,
        "Dimensions": [{"value": machine, "name": "StateMachineArn"}],
        "Period": 300,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 1.0,
        "TreatMissingData": "notBreaching",
        "EvaluateLowSampleCountPercentile": "",
    }

    # still within the five minutes: no new notification
    assert not cloud.alarms.evaluate(at=timed_out + 299)[0].changed
    [cleared] = cloud.alarms.evaluate(at=timed_out + 301)
    assert (cleared.state, cleared.changed) == ("OK", True)
    assert _described(cloud, "slow-timed-out")["StateReason"] == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated "
        "as [NonBreaching] (minimum 1 datapoint for ALARM -> OK transition)."
    )
    assert inbox.notifications() == []  # the alarm has no OKActions


def test_a_start_the_scheduler_drops_alarms_the_schedule_group(cloud: LocalCloud) -> None:
    gone = "arn:aws:states:us-east-1:123456789012:stateMachine:gone"
    cloud.client("scheduler").create_schedule(
        Name="hourly",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": gone, "RoleArn": role(cloud), "Input": "{}"},
    )
    _alarm(cloud, "dropped", "AWS/Scheduler", "InvocationDroppedCount", ("ScheduleGroup", "default"))
    at = datetime.fromtimestamp(clock.CLOCK.time(), UTC) + timedelta(hours=1, minutes=1)

    [firing] = cloud.scheduler.fire_due(at=at)

    assert firing.result.startswith("error: ")
    assert [e.state for e in cloud.alarms.evaluate(at=at.timestamp())] == ["ALARM"]


def test_a_function_error_counts_in_its_errors_and_alarms(cloud: LocalCloud) -> None:
    deploy(cloud, "raises", "raises")
    deploy(cloud, "fine", "echo")
    _alarm(cloud, "raises-errors", "AWS/Lambda", "Errors", ("FunctionName", "raises"))
    _alarm(cloud, "fine-errors", "AWS/Lambda", "Errors", ("FunctionName", "fine"))
    cloud.lambda_runtime.inject("fine", "throttle", times=1)  # type: ignore[union-attr]

    assert invoke(cloud, "raises")[1] == "Unhandled"
    with pytest.raises(ClientError, match="TooManyRequestsException"):
        invoke(cloud, "fine")
    assert invoke(cloud, "fine")[1] is None

    states = {e.alarm: e.state for e in cloud.alarms.evaluate()}
    assert states == {"raises-errors": "ALARM", "fine-errors": "OK"}
    assert _sum(cloud, "AWS/Lambda", "Errors", ("FunctionName", "raises")) == 1.0
    assert _sum(cloud, "AWS/Lambda", "Throttles", ("FunctionName", "fine")) == 1.0


def test_a_message_in_a_watched_queue_alarms_once_sampled(cloud: LocalCloud) -> None:
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName="dead-letters")["QueueUrl"]
    _alarm(
        cloud, "dead-letters", "AWS/SQS", "ApproximateNumberOfMessagesVisible", ("QueueName", "dead-letters")
    )
    now = clock.CLOCK.time()
    assert [e.state for e in cloud.alarms.evaluate(at=now)] == ["OK"]  # sampled: none

    sqs.send_message(QueueUrl=url, MessageBody="a batch given up on")

    assert [e.state for e in cloud.alarms.evaluate(at=now + 30)] == ["OK"]  # sampled once a minute
    assert [e.state for e in cloud.alarms.evaluate(at=now + 60)] == ["ALARM"]


def test_missing_data_is_treated_as_the_alarm_says(cloud: LocalCloud) -> None:
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:quiet"
    for treat in ("missing", "ignore", "breaching", "notBreaching"):
        _alarm(
            cloud,
            treat,
            "AWS/States",
            "ExecutionsTimedOut",
            ("StateMachineArn", machine),
            TreatMissingData=treat,
        )

    states = {e.alarm: e.state for e in cloud.alarms.evaluate()}

    # moto makes an alarm OK; ignore keeps whatever state it has
    assert states == {
        "missing": "INSUFFICIENT_DATA",
        "ignore": "OK",
        "breaching": "ALARM",
        "notBreaching": "OK",
    }


def test_an_alarm_it_cannot_evaluate_is_left_as_it_is(cloud: LocalCloud) -> None:
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:quiet"
    cloudwatch = cloud.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="p99",
        Namespace="AWS/States",
        MetricName="ExecutionTime",
        Dimensions=[{"Name": "StateMachineArn", "Value": machine}],
        ExtendedStatistic="p99",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="breaching",  # would alarm at once, were it evaluated
    )
    before = _described(cloud, "p99")

    [evaluated] = cloud.alarms.evaluate()

    assert evaluated.unsupported == "ExtendedStatistic p99" and not evaluated.changed
    after = _described(cloud, "p99")
    assert (after["StateValue"], after["StateReason"]) == (before["StateValue"], before["StateReason"])


def test_an_alarm_updated_keeps_its_state_and_is_not_notified_again(cloud: LocalCloud) -> None:
    """PutMetricAlarm of an alarm there is (a deploy that changed its description) updates its
    settings, not its state, as CloudWatch does."""
    topic = cloud.client("sns").create_topic(Name="alerts")["TopicArn"]
    inbox = Inbox(cloud.client, topic, raw=False)
    deploy(cloud, "raises", "raises")
    dimension = ("FunctionName", "raises")
    _alarm(cloud, "raises-errors", "AWS/Lambda", "Errors", dimension, AlarmActions=[topic])
    assert invoke(cloud, "raises")[1] == "Unhandled"
    assert [e.state for e in cloud.alarms.evaluate()] == ["ALARM"]
    assert len(inbox.notifications()) == 1
    reason = _described(cloud, "raises-errors")["StateReason"]

    cloud.client("cloudwatch").put_metric_alarm(
        AlarmName="raises-errors",
        AlarmDescription="a new description",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "raises"}],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic],
    )
    updated = _described(cloud, "raises-errors")
    assert (updated["StateValue"], updated["StateReason"], updated["AlarmDescription"]) == (
        "ALARM",
        reason,
        "a new description",
    )
    assert not cloud.alarms.evaluate()[0].changed
    assert inbox.notifications() == []
