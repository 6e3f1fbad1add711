"""A CloudWatch alarm per state machine: an execution that timed out alerts the environment's topic;
one per route function: it failed; and one on the environment's schedule group: a scheduled start
that Scheduler gave up on.

A failed execution has alerted already, from the workflow's own failure path (Alert Failure, with
the error and cause), and some workflows end a rejected request in a Fail state on purpose; an
alarm on ExecutionsFailed would page twice for the one and wrongly for the other. A timed-out
execution runs no further state, so only this alarm reports it.

A batch a pipe gave up on (its start kept failing: a record too large for StartExecution, the role
refused) never started an execution, so no failure path could tell anyone either: the pipe describes
it in its dead-letter queue, and the alarm on that queue's visible messages says so.

A route's function alerts what fails in its handler (tasks/shared/api.py's @route). One that fails
outside it (its import, a timeout, out of memory, a crash) answers the caller 500 from API Gateway
and tells no one: Lambda counts it in the function's Errors, and an alarm per route function says
so.

A scheduled run whose start Scheduler dropped (its retry policy ran out: Step Functions throttled
or unavailable, the role refused) never ran, so no failure path could tell anyone: Scheduler counts
it as InvocationDroppedCount of the schedule group, and that alarm says so.
"""

from __future__ import annotations

from typing import Any

from infra.environments import Environment
from infra.names import dead_letter_queue
from infra.parameters import aws_cli
from infra.plan import UNDECLARED, Action, Context, owned, tag_dict, tag_list
from workflows.registry import StreamTrigger, Workflow

# every alarm deploy makes: one or more in five minutes; none counted is no alarm
ON_ANY = {
    "Statistic": "Sum",
    "Period": 300,
    "EvaluationPeriods": 1,
    "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "TreatMissingData": "notBreaching",
}


def _on_any(
    ctx: Context, name: str, description: str, namespace: str, metric: str, dimension: tuple[str, str]
) -> dict[str, Any]:
    """An alarm that alerts the environment's topic when the metric counts one or more in five minutes."""
    return {
        "AlarmName": name,
        "AlarmDescription": description,
        "Namespace": namespace,
        "MetricName": metric,
        "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
        **ON_ANY,
        "AlarmActions": [ctx.names.alerts_topic_arn()],
    }


def desired(ctx: Context, wf: Workflow) -> dict[str, Any]:
    return _on_any(
        ctx,
        ctx.env.resource_name(wf.name, "timed-out"),
        f"An execution of {ctx.names.state_machine(wf)} timed out",
        "AWS/States",
        "ExecutionsTimedOut",
        ("StateMachineArn", ctx.names.state_machine_arn(wf)),
    )


def dropped_name(env: Environment) -> str:
    return env.resource_name("schedules", "dropped")


def dropped(ctx: Context, group: str) -> dict[str, Any]:
    return _on_any(
        ctx,
        dropped_name(ctx.env),
        f"A scheduled start of a workflow in {group} was dropped after its retries: "
        "that run never started (python -m workflows start, as the README says, makes it good)",
        "AWS/Scheduler",
        "InvocationDroppedCount",
        ("ScheduleGroup", group),
    )


def dead_letters_name(env: Environment, wf: Workflow, trigger: StreamTrigger) -> str:
    return dead_letter_queue(env, wf.name, trigger.stream)


def dead_letters(ctx: Context, wf: Workflow, trigger: StreamTrigger) -> dict[str, Any]:
    queue = ctx.names.dead_letter_queue(wf, trigger)
    return _on_any(
        ctx,
        dead_letters_name(ctx.env, wf, trigger),
        f"The pipe from {trigger.stream} to {ctx.names.state_machine(wf)} gave up on a batch: its "
        f"records started no execution (queue {queue} says which; workflows/README.md says how to recover them)",
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        ("QueueName", queue),
    )


def route_functions(wf: Workflow) -> dict[str, list[str]]:
    """The workflow's functions behind a route, each with its routes ("POST /ride")."""
    found: dict[str, list[str]] = {}
    for route in wf.routes:
        found.setdefault(route.function, []).append(f"{route.method} {route.path}")
    return found


def errors_name(env: Environment, wf: Workflow, function: str) -> str:
    return env.resource_name(wf.name, function, "errors")


def route_errors(ctx: Context, wf: Workflow, function: str, routes: list[str]) -> dict[str, Any]:
    name = ctx.names.function(wf, wf.function(function))
    log_group = ctx.names.function_log_group(wf, wf.function(function))
    return _on_any(
        ctx,
        errors_name(ctx.env, wf, function),
        f"{', '.join(routes)} answered 500: its function {name} failed outside its own code (its "
        f"import, a timeout, out of memory, a crash), which could not alert. Its logs say why: "
        f"{aws_cli(ctx.env)} logs tail {log_group} --since 1h",
        "AWS/Lambda",
        "Errors",
        ("FunctionName", name),
    )


def count(wf: Workflow) -> int:
    """The alarms deploy makes for `wf` (each billed by the month): its timed-out one, one per
    route function, one per stream's dead-letter queue."""
    streams = sum(isinstance(trigger, StreamTrigger) for trigger in wf.triggers)
    return 1 + len(route_functions(wf)) + streams


def ensure(ctx: Context, wf: Workflow) -> None:
    _ensure(ctx, desired(ctx, wf))
    for function, routes in route_functions(wf).items():
        _ensure(ctx, route_errors(ctx, wf, function, routes))


def ensure_dead_letters(ctx: Context, wf: Workflow, trigger: StreamTrigger) -> None:
    _ensure(ctx, dead_letters(ctx, wf, trigger))


def ensure_dropped(ctx: Context, group: str) -> None:
    _ensure(ctx, dropped(ctx, group))


def _ensure(ctx: Context, alarm: dict[str, Any]) -> None:
    cloudwatch, name = ctx.client("cloudwatch"), alarm["AlarmName"]
    found = [a for a in [ctx.inventory("alarms", lambda: _alarms(ctx)).get(name)] if a]
    if not found:
        action = Action.CREATE
    elif any(found[0].get(key) != value for key, value in alarm.items()):
        action = Action.UPDATE
    else:
        ctx.same("alarm", name)
        return
    if ctx.change("alarm", name, action):
        cloudwatch.put_metric_alarm(**alarm, Tags=tag_list(ctx.env.tags()))


def _alarms(ctx: Context) -> dict[str, Any]:
    pages = ctx.client("cloudwatch").get_paginator("describe_alarms")
    prefix = ctx.env.resource_name("")
    return {
        a["AlarmName"]: a for page in pages.paginate(AlarmNamePrefix=prefix) for a in page["MetricAlarms"]
    }


def _mine(ctx: Context, alarms: dict[str, Any], keep: set[str]) -> list[str]:
    """The names of the environment's alarms among `alarms`, but those in `keep`."""
    cloudwatch = ctx.client("cloudwatch")
    return [
        name
        for name, alarm in sorted(alarms.items())
        if name not in keep
        and owned(ctx.env, tag_dict(cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]))
    ]


def remove_undeclared(ctx: Context, keep: set[str]) -> None:
    """Delete the environment's alarms not in `keep`: one on a state machine or function deleted with
    them."""
    for name in _mine(ctx, ctx.inventory("alarms", lambda: _alarms(ctx)), keep):
        if ctx.change("alarm", name, Action.DELETE, UNDECLARED):
            ctx.client("cloudwatch").delete_alarms(AlarmNames=[name])


def destroy(ctx: Context) -> None:
    for name in _mine(ctx, _alarms(ctx), set()):
        if ctx.change("alarm", name, Action.DELETE):
            ctx.client("cloudwatch").delete_alarms(AlarmNames=[name])
