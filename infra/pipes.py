"""EventBridge Pipes: a workflow's StreamTrigger feeds Kinesis batches to its state machine."""

from __future__ import annotations

from typing import Any

from infra import iam
from infra.plan import Action, Context, owned
from infra.waits import IN_PROGRESS, ROLE_NOT_READY, retry
from workflows.registry import StreamTrigger, Workflow


def ensure(ctx: Context, wf: Workflow) -> None:
    for trigger in (t for t in wf.triggers if isinstance(t, StreamTrigger)):
        _ensure_one(ctx, wf, trigger)


def _ensure_one(ctx: Context, wf: Workflow, trigger: StreamTrigger) -> None:
    pipes, names = ctx.client("pipes"), ctx.names
    name = names.env.resource_name(wf.name, trigger.stream)
    role = iam.ensure_role(
        ctx,
        names.role(wf.name, trigger.stream, "pipe"),
        "pipes",
        iam.stream_read_policy(names, wf, trigger.stream),
        f"Pipe from {names.resource(wf, trigger.stream)} to {names.state_machine(wf)}",
    )
    source = {
        "KinesisStreamParameters": {
            "BatchSize": trigger.batch_size,
            "MaximumBatchingWindowInSeconds": trigger.max_batching_window_seconds,
            "StartingPosition": "LATEST",
        }
    }
    desired: dict[str, Any] = {
        "RoleArn": role,
        "Target": names.state_machine_arn(wf),
        # Express workflows are started and not waited for: the batch is the execution's input.
        "TargetParameters": {"StepFunctionStateMachineParameters": {"InvocationType": "FIRE_AND_FORGET"}},
        "DesiredState": "RUNNING",
    }
    try:
        current = pipes.describe_pipe(Name=name)
    except pipes.exceptions.NotFoundException:
        if ctx.change("pipe", name, Action.CREATE, f"{trigger.stream} -> {names.state_machine(wf)}"):
            retry(
                lambda: pipes.create_pipe(
                    Name=name,
                    Source=names.resource_arn(wf, trigger.stream),
                    SourceParameters=source,
                    Tags=ctx.env.tags(),
                    **desired,
                ),
                ROLE_NOT_READY,
                sleep=ctx.sleep,
            )
        return
    drift = [k for k, v in desired.items() if current.get(k) != v]
    batching = current.get("SourceParameters", {}).get("KinesisStreamParameters", {})
    if any(
        batching.get(k) != v for k, v in source["KinesisStreamParameters"].items() if k != "StartingPosition"
    ):
        drift.append("batching")
    if not drift:
        ctx.same("pipe", name)
    elif ctx.change("pipe", name, Action.UPDATE, ", ".join(drift)):
        update = {
            "KinesisStreamParameters": {
                k: v for k, v in source["KinesisStreamParameters"].items() if k != "StartingPosition"
            }
        }
        retry(
            lambda: pipes.update_pipe(Name=name, SourceParameters=update, **desired),
            {**ROLE_NOT_READY, **IN_PROGRESS},
            sleep=ctx.sleep,
        )


def destroy(ctx: Context) -> None:
    pipes = ctx.client("pipes")
    for page in pipes.get_paginator("list_pipes").paginate(NamePrefix=ctx.env.resource_name("")):
        for pipe in page["Pipes"]:
            tags = pipes.list_tags_for_resource(resourceArn=pipe["Arn"])["tags"]
            if owned(ctx.env, tags) and ctx.change("pipe", pipe["Name"], Action.DELETE):
                pipes.delete_pipe(Name=pipe["Name"])
