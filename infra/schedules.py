"""EventBridge Scheduler: a workflow's Schedule triggers start its state machine.

Schedules cannot be tagged, so they live in a schedule group per environment, which is tagged
(and deleting the group deletes its schedules). `schedules = false` creates them DISABLED.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from infra import iam
from infra.plan import UNDECLARED, Action, Context, error_code, owned, tag_dict, tag_list
from infra.waits import ROLE_NOT_READY, retry
from workflows.registry import Schedule, Workflow


def group(ctx: Context) -> str:
    return ctx.env.resource_name("schedules")


def schedules(wf: Workflow) -> list[Schedule]:
    return [t for t in wf.triggers if isinstance(t, Schedule)]


def ensure_group(ctx: Context) -> None:
    scheduler, name = ctx.client("scheduler"), group(ctx)
    try:
        scheduler.get_schedule_group(Name=name)
        ctx.same("schedule group", name)
    except scheduler.exceptions.ResourceNotFoundException:
        if ctx.change("schedule group", name, Action.CREATE):
            scheduler.create_schedule_group(Name=name, Tags=tag_list(ctx.env.tags()))


def ensure(ctx: Context, wf: Workflow) -> None:
    found = schedules(wf)
    _remove_dropped(ctx, wf, len(found))
    if not found:
        return
    role = iam.ensure_role(
        ctx,
        ctx.names.role(wf.name, "scheduler"),
        "scheduler",
        iam.start_policy(ctx.names, [wf], "states:StartExecution"),
        f"EventBridge Scheduler starts {ctx.names.state_machine(wf)}",
    )
    for number, schedule in enumerate(found, 1):
        _ensure_one(ctx, wf, f"{wf.name}-{number}", schedule, role)


def _ensure_one(ctx: Context, wf: Workflow, name: str, schedule: Schedule, role: str) -> None:
    scheduler = ctx.client("scheduler")
    desired: dict[str, Any] = {
        "ScheduleExpression": schedule.expression,
        "ScheduleExpressionTimezone": schedule.timezone,
        "State": "ENABLED" if ctx.env.schedules else "DISABLED",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": ctx.names.state_machine_arn(wf),
            "RoleArn": role,
            "Input": json.dumps(dict(schedule.input), sort_keys=True),
            # Scheduler's default, 185 attempts over a day, would start a run a day late
            "RetryPolicy": {
                "MaximumEventAgeInSeconds": schedule.max_event_age_seconds,
                "MaximumRetryAttempts": schedule.retry_attempts,
            },
        },
    }
    try:
        current = scheduler.get_schedule(Name=name, GroupName=group(ctx))
    except scheduler.exceptions.ResourceNotFoundException:
        action = Action.CREATE
    else:
        drift = [k for k, v in desired.items() if _seen(current, k) != v]
        if not drift:
            ctx.same("schedule", name)
            return
        action = Action.UPDATE
    call = scheduler.create_schedule if action is Action.CREATE else scheduler.update_schedule
    detail = f"{schedule.expression} {desired['State'].lower()}"
    if ctx.change("schedule", name, action, detail):
        retry(lambda: call(Name=name, GroupName=group(ctx), **desired), ROLE_NOT_READY, sleep=ctx.sleep)


def _remove_dropped(ctx: Context, wf: Workflow, kept: int) -> None:
    """Delete the workflow's schedules numbered past the registry's: a schedule the registry no
    longer has would go on starting the workflow (on AWS, where schedules are enabled)."""
    numbered = _numbered(wf)
    for name in _listed(ctx, f"{wf.name}-"):
        match = numbered.fullmatch(name)
        if match and int(match.group(1)) > kept:
            _delete(ctx, name, "dropped")


def remove_undeclared(ctx: Context, workflows: Iterable[Workflow]) -> None:
    """Delete the schedules of workflows no longer declared (a declared one's dropped schedules
    are its own ensure's): they would go on starting a state machine about to be deleted."""
    if not _group_owned(ctx):
        return
    declared = [_numbered(wf) for wf in workflows]
    for name in _listed(ctx):
        if not any(numbered.fullmatch(name) for numbered in declared):
            _delete(ctx, name, UNDECLARED)


def _group_owned(ctx: Context) -> bool:
    """Schedules cannot be tagged: their group is, and only this environment's is searched."""
    scheduler = ctx.client("scheduler")
    try:
        arn = scheduler.get_schedule_group(Name=group(ctx))["Arn"]
    except scheduler.exceptions.ResourceNotFoundException:
        return False
    return owned(ctx.env, tag_dict(scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"]))


def _numbered(wf: Workflow) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(wf.name)}-(\d+)")


def _listed(ctx: Context, prefix: str = "") -> list[str]:
    """The names of the environment's schedules starting with `prefix`, sorted."""
    scheduler = ctx.client("scheduler")
    try:
        pages = scheduler.get_paginator("list_schedules").paginate(
            GroupName=group(ctx), **({"NamePrefix": prefix} if prefix else {})
        )
        return sorted(s["Name"] for page in pages for s in page["Schedules"])
    except scheduler.exceptions.ResourceNotFoundException:
        return []  # no group yet: nothing to remove


def _delete(ctx: Context, name: str, detail: str) -> None:
    if ctx.change("schedule", name, Action.DELETE, detail):
        ctx.client("scheduler").delete_schedule(Name=name, GroupName=group(ctx))


def _seen(current: dict[str, Any], key: str) -> Any:
    if key == "Target":
        return {k: current["Target"].get(k) for k in ("Arn", "RoleArn", "Input", "RetryPolicy")}
    if key == "FlexibleTimeWindow":
        return {"Mode": current["FlexibleTimeWindow"]["Mode"]}
    return current.get(key)


def destroy(ctx: Context) -> None:
    scheduler, name = ctx.client("scheduler"), group(ctx)
    if not _group_owned(ctx):
        return
    if ctx.change("schedule group", name, Action.DELETE, "and its schedules"):
        for page in scheduler.get_paginator("list_schedules").paginate(GroupName=name):
            for schedule in page["Schedules"]:
                scheduler.delete_schedule(Name=schedule["Name"], GroupName=name)
        try:
            scheduler.delete_schedule_group(Name=name)
        except Exception as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
