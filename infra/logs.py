"""CloudWatch log groups of functions, state machines and the HTTP API's access log, created by deploy so they are tagged
and expire (a group Lambda creates by itself is untagged and kept for ever)."""

from __future__ import annotations

from typing import Any

from infra.environments import Environment
from infra.plan import Action, Context, owned

RETENTION_DAYS = {"prod": 90}
DEFAULT_RETENTION_DAYS = 30


def retention_days(env: Environment) -> int:
    """How long the environment's log groups keep what is put to them."""
    return RETENTION_DAYS.get(env.name, DEFAULT_RETENTION_DAYS)


def prefixes(ctx: Context) -> tuple[str, ...]:
    mine = ctx.env.resource_name("")
    return (f"/aws/lambda/{mine}", f"/aws/vendedlogs/states/{mine}", f"/aws/apigateway/{mine}")


def _groups(ctx: Context) -> dict[str, Any]:
    paginator = ctx.client("logs").get_paginator("describe_log_groups")
    return {
        group["logGroupName"]: group
        for prefix in prefixes(ctx)
        for page in paginator.paginate(logGroupNamePrefix=prefix)
        for group in page["logGroups"]
    }


def ensure(ctx: Context, name: str) -> None:
    logs = ctx.client("logs")
    days = retention_days(ctx.env)
    found = ctx.inventory("log groups", lambda: _groups(ctx)).get(name)
    if found is None:
        if ctx.change("log group", name, Action.CREATE, f"{days} days"):
            logs.create_log_group(logGroupName=name, tags=ctx.env.tags())
            logs.put_retention_policy(logGroupName=name, retentionInDays=days)
    elif found.get("retentionInDays") == days:
        ctx.same("log group", name)
    elif ctx.change("log group", name, Action.UPDATE, f"{days} days"):
        logs.put_retention_policy(logGroupName=name, retentionInDays=days)


def undeclared(ctx: Context, keep: set[str]) -> list[str]:
    """The environment's log groups not in `keep`: what removed functions and state machines
    logged, kept by a deploy until they expire."""
    return _mine(ctx, ctx.inventory("log groups", lambda: _groups(ctx)), keep)


def _mine(ctx: Context, groups: dict[str, Any], keep: set[str]) -> list[str]:
    """The names of the environment's log groups among `groups`, but those in `keep`."""
    logs = ctx.client("logs")
    return [
        name
        for name in sorted(groups)
        if name not in keep and owned(ctx.env, logs.list_tags_log_group(logGroupName=name)["tags"])
    ]


def destroy(ctx: Context) -> None:
    for name in _mine(ctx, _groups(ctx), set()):
        if ctx.change("log group", name, Action.DELETE):
            ctx.client("logs").delete_log_group(logGroupName=name)
