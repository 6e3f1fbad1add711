"""CloudWatch metric alarms evaluated, and the AWS metrics they watch emitted.

moto stores alarms and metric data, but emits none of AWS's own metrics and never evaluates an
alarm: an execution that timed out left its alarm OK, and no alert came. Here:

- the metrics are put into moto's CloudWatch backend where the local cloud knows them, so that
  GetMetricStatistics and GetMetricData show them too: `AWS/States ExecutionsTimedOut`
  (StateMachineArn) when an execution times out, `AWS/Scheduler InvocationDroppedCount`
  (ScheduleGroup) when the scheduler drops a start (scheduler.py), `AWS/Lambda Errors` and
  `Throttles` (FunctionName) per invocation that errors or is throttled, and `AWS/SQS
  ApproximateNumberOfMessagesVisible` (QueueName), sampled once a minute for a queue an alarm
  watches. Each is stamped with the engine's clock, which tests may run fast.
- `evaluate(at)` evaluates every metric alarm as CloudWatch does (Statistic over each of the last
  EvaluationPeriods periods, DatapointsToAlarm of them breaching, TreatMissingData) and, on a
  change of state, records it and publishes CloudWatch's notification to the new state's actions.
  `start()` evaluates every few seconds on the wall clock (`python -m localcloud`); tests call it.
- An alarm it cannot evaluate (see `_unsupported`) is left as it is, and said once in the log.

Each period is the `Period` seconds up to the evaluation time, the latest ending at it (CloudWatch
aligns them to the minute): a datapoint counts at once, and for exactly `Period` seconds.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localcloud import pins
from localcloud.engine.clock import CLOCK
from localcloud.ticker import Ticker, Ticking, regional

LOG = logging.getLogger(__name__)

_CLOUDWATCH = pins.resolve("moto.cloudwatch.models", "cloudwatch_backends")
_SNS = pins.resolve("moto.sns.models", "sns_backends")
_SQS = pins.resolve("moto.sqs.models", "sqs_backends")
_COMMUNICATION = pins.resolve(
    "moto.stepfunctions.parser.backend.execution", "BaseExecutionWorkerCommunication"
)
pins.resolve("moto.stepfunctions.parser.backend.execution", "BaseExecutionWorkerCommunication", "terminated")
pins.resolve("moto.cloudwatch.models", "Alarm", "update_state")
_BACKEND_CLASS = pins.resolve("moto.cloudwatch.models", "CloudWatchBackend")
pins.resolve("moto.cloudwatch.models", "CloudWatchBackend", "put_metric_alarm")
_KEPT = ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "history")
# every LocalCloud of the process evaluates the same backends: one evaluation at a time
_EVALUATING = threading.Lock()

SAMPLE_SECONDS = 60.0  # SQS publishes its queues' metrics once a minute
_SAMPLED = {"ApproximateNumberOfMessagesVisible": lambda queue: len(queue.messages)}
_OPERATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}
_STATISTICS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
_MISSING = (None, "missing", "ignore", "breaching", "notBreaching")
# CloudWatch names the region in its notification's subject and Region
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-north-1": "EU (Stockholm)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "sa-east-1": "South America (Sao Paulo)",
    "ca-central-1": "Canada (Central)",
    "cn-north-1": "China (Beijing)",
    "cn-northwest-1": "China (Ningxia)",
}


# -- metrics --------------------------------------------------------------------------------------


def put(
    arn: str,
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    value: float = 1.0,
    at: float | None = None,
) -> None:
    """One datapoint of an AWS metric, in the account and region of `arn` (the resource's), at
    `at` (epoch seconds; default the engine's clock)."""
    parts = arn.split(":")
    backend = _CLOUDWATCH[parts[4]][parts[3]]
    datum = {
        "MetricName": metric,
        "Value": value,
        "Unit": "Count",
        "Timestamp": _naive(CLOCK.time() if at is None else at),
        "Dimensions": [{"Name": name, "Value": text} for name, text in dimensions.items()],
    }
    backend.put_metric_data(namespace, [datum])  # one append: safe beside the evaluator's reads


def _count_timed_out(terminated: Callable[[Any], None]) -> Callable[[Any], None]:
    def terminated_and_counted(self: Any) -> None:
        terminated(self)
        execution = self.execution
        if getattr(execution.exec_status, "value", None) == "TIMED_OUT":
            machine = ":".join(str(execution.state_machine_arn).split(":")[:7])  # a version's too
            put(machine, "AWS/States", "ExecutionsTimedOut", {"StateMachineArn": machine})

    terminated_and_counted.__localcloud_original__ = pins.original(terminated)  # type: ignore[attr-defined]
    return terminated_and_counted


def _count_invocations(invoke_function: Callable[..., Any]) -> Callable[..., Any]:
    from localcloud.lambda_runtime import LambdaApiError

    def invoke_and_count(runtime: Any, fn: Any, event: Any) -> Any:
        arn, name = str(fn.function_arn), str(fn.function_name)
        try:
            result = invoke_function(runtime, fn, event)
        except LambdaApiError as exc:
            if exc.code == 429:
                put(arn, "AWS/Lambda", "Throttles", {"FunctionName": name})
            raise
        if result.errored:  # the handler's exception as much as an import error, a timeout, a crash
            put(arn, "AWS/Lambda", "Errors", {"FunctionName": name})
        return result

    invoke_and_count.__localcloud_original__ = pins.original(invoke_function)  # type: ignore[attr-defined]
    return invoke_and_count


def _keeping_state(put_metric_alarm: Callable[..., Any]) -> Callable[..., Any]:
    """PutMetricAlarm of an alarm there is updates its settings and leaves its state, as CloudWatch
    does; moto made it anew, OK, and the next evaluation notified its ALARM again."""

    def put_keeping_state(backend: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        old = backend.alarms.get(name)
        alarm = put_metric_alarm(backend, name, *args, **kwargs)
        if old is not None:
            for attribute in _KEPT:
                setattr(alarm, attribute, getattr(old, attribute))
        return alarm

    put_keeping_state.__localcloud_original__ = pins.original(put_metric_alarm)  # type: ignore[attr-defined]
    put_keeping_state.__localcloud_counted__ = True  # type: ignore[attr-defined]
    return put_keeping_state


def install() -> None:
    from localcloud.lambda_runtime import LambdaRuntime

    if not hasattr(_BACKEND_CLASS.put_metric_alarm, "__localcloud_counted__"):
        _BACKEND_CLASS.put_metric_alarm = _keeping_state(_BACKEND_CLASS.put_metric_alarm)

    # wraps what is there (the engine's own wrappers included), once
    terminated = _COMMUNICATION.terminated
    if not hasattr(terminated, "__localcloud_counted__"):
        _COMMUNICATION.terminated = _count_timed_out(terminated)
        _COMMUNICATION.terminated.__localcloud_counted__ = True
    invoke = LambdaRuntime.invoke_function
    if not hasattr(invoke, "__localcloud_counted__"):
        LambdaRuntime.invoke_function = _count_invocations(invoke)  # type: ignore[method-assign]
        LambdaRuntime.invoke_function.__localcloud_counted__ = True  # type: ignore[attr-defined]


# -- evaluation -----------------------------------------------------------------------------------


@dataclass
class Evaluated:
    alarm: str
    state: str  # after the evaluation
    changed: bool = False
    unsupported: str | None = None  # why it was not evaluated


class Alarms(Ticking):
    interval = 5.0

    def __init__(self) -> None:
        self._sampled: dict[tuple[str, str, str, str], float] = {}  # queue, metric -> when last sampled
        self._refused: set[str] = set()  # alarm ARNs whose refusal was logged
        self._ticker = Ticker("localcloud-alarms", self.evaluate, "alarm evaluation failed")

    def evaluate(self, at: float | None = None, prefix: str = "") -> list[Evaluated]:
        """Evaluate every metric alarm (whose name starts with `prefix`) at `at` (epoch seconds;
        default the engine's clock)."""
        now = CLOCK.time() if at is None else at
        results = []
        with _EVALUATING:
            for account, region, backend in regional(_CLOUDWATCH):
                for alarm in [a for a in list(backend.alarms.values()) if a.name.startswith(prefix)]:
                    why = _unsupported(alarm)
                    if why is not None:
                        if alarm.alarm_arn not in self._refused:
                            self._refused.add(alarm.alarm_arn)
                            LOG.warning("alarm %s is not evaluated: %s", alarm.name, why)
                        results.append(Evaluated(alarm.name, alarm.state_value, unsupported=why))
                        continue
                    self._sample(account, region, alarm, now)
                    results.append(_evaluate(backend, alarm, now))
        return results

    tick = evaluate

    def reset(self) -> None:
        with _EVALUATING:
            self._sampled.clear()
            self._refused.clear()

    def _sample(self, account: str, region: str, alarm: Any, now: float) -> None:
        """A queue's metric as SQS publishes it, for an alarm that watches one: at most once a minute."""
        dimensions = {d.name: d.value for d in alarm.dimensions}
        if (
            alarm.namespace != "AWS/SQS"
            or alarm.metric_name not in _SAMPLED
            or set(dimensions) != {"QueueName"}
        ):
            return
        key = (account, region, dimensions["QueueName"], alarm.metric_name)
        if now < self._sampled.get(key, -SAMPLE_SECONDS) + SAMPLE_SECONDS:
            return
        queue = _SQS[account][region].queues.get(dimensions["QueueName"])
        if queue is None:
            return  # no queue, no metric: as missing data
        self._sampled[key] = now
        arn = f"arn:aws:sqs:{region}:{account}:{queue.name}"
        put(arn, "AWS/SQS", alarm.metric_name, dimensions, float(_SAMPLED[alarm.metric_name](queue)), now)


def _unsupported(alarm: Any) -> str | None:
    """Why the alarm cannot be evaluated here, or None."""
    if getattr(alarm, "rule", None):
        return "a composite alarm"
    if alarm.metric_data_queries:
        return "a metric math alarm (Metrics)"
    if alarm.extended_statistic:
        return f"ExtendedStatistic {alarm.extended_statistic}"
    if alarm.threshold_metric_id or alarm.comparison_operator not in _OPERATORS:
        return f"ComparisonOperator {alarm.comparison_operator}"
    if alarm.statistic not in _STATISTICS:
        return f"Statistic {alarm.statistic}"
    if alarm.treat_missing_data not in _MISSING:
        return f"TreatMissingData {alarm.treat_missing_data}"
    if not alarm.period or not alarm.evaluation_periods or alarm.threshold is None:
        return "no Period, EvaluationPeriods or Threshold"
    return None


def _values(backend: Any, alarm: Any, start: float, end: float) -> list[Any]:
    """The alarm's metric's datapoints in (start, end]: its namespace, name and dimensions exactly."""
    dimensions = {(d.name, d.value) for d in alarm.dimensions}
    low, high = _naive(start), _naive(end)
    return [
        datum
        for datum in list(backend.metric_data)
        if datum.name == alarm.metric_name
        and datum.namespace == alarm.namespace
        and low < datum.timestamp <= high
        and {(d.name, d.value) for d in datum.dimensions} == dimensions
        and (not alarm.unit or datum.unit == alarm.unit)
    ]


def _statistic(statistic: str, data: list[Any]) -> tuple[float, float]:
    """The statistic of a period's datapoints, and their sample count."""
    single = [float(d.value) for d in data if hasattr(d, "value")]
    sets = [d for d in data if not hasattr(d, "value")]  # StatisticValues put by a client
    count = float(len(single)) + sum(float(d.sample_count) for d in sets)
    total = sum(single) + sum(float(d.sum) for d in sets)
    if statistic == "Sum":
        return total, count
    if statistic == "SampleCount":
        return count, count
    if statistic == "Average":  # no samples (StatisticValues of SampleCount 0): no average
        return (total / count if count else 0.0), count
    if statistic == "Minimum":
        return min([*single, *(float(d.min) for d in sets)]), count
    return max([*single, *(float(d.max) for d in sets)]), count


def _evaluate(backend: Any, alarm: Any, now: float) -> Evaluated:
    period, periods = int(alarm.period), int(alarm.evaluation_periods)
    needed = int(alarm.datapoints_to_alarm or periods)
    compare, words = _OPERATORS[alarm.comparison_operator]
    threshold = float(alarm.threshold)
    points = []  # (period start, value, sample count), the latest first; None when missing
    for i in range(periods):
        end = now - i * period
        data = _values(backend, alarm, end - period, end)
        points.append((end - period, *_statistic(alarm.statistic, data)) if data else None)
    present = [p for p in points if p is not None]
    breaching = [p for p in present if compare(p[1], threshold)]
    missing = len(points) - len(present)
    treat = alarm.treat_missing_data or "missing"
    if treat in ("missing", "ignore"):
        if not present:  # missing: no data at all is INSUFFICIENT_DATA; ignore: the state stays
            state = "INSUFFICIENT_DATA" if treat == "missing" else alarm.state_value
        else:  # fewer datapoints than needed alarm when each of them breaches
            state = "ALARM" if len(breaching) >= min(needed, len(present)) else "OK"
        counted_missing = 0
    else:
        counted_missing = missing
        breached = len(breaching) + (missing if treat == "breaching" else 0)
        state = "ALARM" if breached >= needed else "OK"
    if state == alarm.state_value:
        return Evaluated(alarm.name, state)
    old = alarm.state_value
    reason = _reason(state, old, present, breaching, counted_missing, treat, needed, words, threshold)
    reason_data: dict[str, Any] = {
        "version": "1.0",
        "queryDate": _text(now),
        "startDate": _text(now - periods * period),
        "statistic": alarm.statistic,
        "period": period,
        "recentDatapoints": [p[1] for p in reversed(present)],
        "threshold": threshold,
        "evaluatedDatapoints": [
            {"timestamp": _text(p[0]), "sampleCount": p[2], "value": p[1]} for p in present
        ],
    }
    alarm.update_state(reason, json.dumps(reason_data), state)
    alarm.state_updated_timestamp = _naive(now)  # moto stamps the wall clock
    _notify(alarm, old, now)
    return Evaluated(alarm.name, state, changed=True)


def _reason(
    state: str,
    old: str,
    present: list[Any],
    breaching: list[Any],
    missing: int,
    treat: str,
    needed: int,
    words: str,
    threshold: float,
) -> str:
    """CloudWatch's StateReason for the new state."""
    if state == "INSUFFICIENT_DATA":
        unknown = len(present) + missing or 1
        return f"Insufficient Data: {unknown} datapoint{'s' * (unknown != 1)} {'was' if unknown == 1 else 'were'} unknown."
    shown = breaching if state == "ALARM" else present
    listed = ", ".join(f"{p[1]} ({_short(p[0])})" for p in shown)
    negation = "" if state == "ALARM" else "not "
    if shown:
        text = (
            f"Threshold Crossed: {len(shown)} out of the last {len(present) + missing} datapoints [{listed}] "
            f"{'was' if len(shown) == 1 else 'were'} {negation}{words} the threshold ({threshold})"
        )
    else:
        text = f"Threshold Crossed: no datapoints were received for {missing} period{'s' * (missing != 1)}"
    if missing:
        kind = "Breaching" if treat == "breaching" else "NonBreaching"
        text += f" and {missing} missing datapoint{'s' * (missing != 1)} {'was' if missing == 1 else 'were'} treated as [{kind}]"
    return f"{text} (minimum {needed} datapoint{'s' * (needed != 1)} for {old} -> {state} transition)."


def _notify(alarm: Any, old: str, now: float) -> None:
    """CloudWatch's notification of the change, to the SNS topics of the new state's actions."""
    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions}.get(
        alarm.state_value, alarm.insufficient_data_actions
    )
    if not alarm.actions_enabled or not actions:
        return
    region = REGION_NAMES.get(alarm.region_name, alarm.region_name)
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": alarm.alarm_arn.split(":")[4],
        "AlarmConfigurationUpdatedTimestamp": _text(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": _text(now),
        "Region": region,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic",
            "Statistic": str(alarm.statistic).upper(),
            "Unit": alarm.unit,
            "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": int(alarm.period),
            "EvaluationPeriods": int(alarm.evaluation_periods),
            "DatapointsToAlarm": int(alarm.datapoints_to_alarm or alarm.evaluation_periods),
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": float(alarm.threshold),
            "TreatMissingData": alarm.treat_missing_data or "missing",
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    subject = f'{alarm.state_value}: "{alarm.name}" in {region}'[:100]  # SNS takes no longer subject
    for action in actions:
        parts = str(action).split(":")
        if len(parts) < 6 or parts[2] != "sns":
            LOG.warning("alarm %s: action %s is not an SNS topic: not taken", alarm.name, action)
            continue
        try:
            _SNS[parts[4]][parts[3]].publish(json.dumps(message), arn=action, subject=subject)
        except Exception as exc:  # a topic deleted: CloudWatch records the failed action and goes on
            LOG.warning("alarm %s: publishing to %s failed: %s", alarm.name, action, exc)


def _naive(epoch: float) -> _dt.datetime:
    """moto's timestamps: naive UTC."""
    return _dt.datetime.fromtimestamp(epoch, _dt.UTC).replace(tzinfo=None)


def _text(moment: float | _dt.datetime) -> str:
    """CloudWatch's timestamp text in a notification: 2026-12-07T22:15:00.123+0000."""
    if isinstance(moment, _dt.datetime):
        moment = moment.replace(tzinfo=_dt.UTC) if moment.tzinfo is None else moment
    else:
        moment = _dt.datetime.fromtimestamp(moment, _dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _short(epoch: float) -> str:
    """A datapoint's time in a StateReason: 07/12/26 22:10:00."""
    return _dt.datetime.fromtimestamp(epoch, _dt.UTC).strftime("%d/%m/%y %H:%M:%S")
