"""EventBridge Pipes: a workflow's StreamTrigger feeds Kinesis batches to its state machine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra import iam
from infra.names import Names
from infra.plan import UNDECLARED, Action, Context, owned
from infra.waits import IN_PROGRESS, ROLE_NOT_READY, live, retry, until, until_gone
from workflows.registry import StreamTrigger, Workflow

# Pipes applies a create or an update after its call has answered: the pipe is CREATING or
# UPDATING, then RUNNING, or failed with a StateReason. A role whose policy IAM has not spread yet
# fails it ("The provided customer role does not have permissions to call ... on Kinesis"), and
# nothing else would say so: the stream's records would never start the workflow.
SETTLING = frozenset(("CREATING", "UPDATING", "STARTING", "STOPPING", "DELETING"))
ATTEMPTS = 4
# Where a new pipe starts reading: the oldest record the stream keeps. LATEST skipped what was
# written while the pipe was being made (or made again); the workflows a stream starts are
# idempotent, so a record read twice does no harm. Pipes cannot change it on a pipe: one that
# reads from elsewhere is made anew.
STARTING_POSITION = "TRIM_HORIZON"
# A batch whose start failed is halved and each half retried, down to the one record at fault: the
# rest of the batch still runs, and only that record goes to the dead-letter queue.
BISECT = "AUTOMATIC_BISECT"


def ensure(ctx: Context, wf: Workflow) -> None:
    """Its pipes; each one's dead-letter queue is there already (infra/runner.py)."""
    for trigger in triggers(wf):
        _ensure_one(ctx, wf, trigger)


def triggers(wf: Workflow) -> list[StreamTrigger]:
    return [t for t in wf.triggers if isinstance(t, StreamTrigger)]


def source_parameters(names: Names, wf: Workflow, trigger: StreamTrigger) -> dict[str, Any]:
    """The pipe's Kinesis parameters that an update can set (all but the starting position): a
    batch whose start keeps failing is retried a few times, not until its records expire (Pipes'
    default, the shard waiting behind it), then described in the dead-letter queue."""
    return {
        "BatchSize": trigger.batch_size,
        "MaximumBatchingWindowInSeconds": trigger.max_batching_window_seconds,
        "MaximumRetryAttempts": trigger.max_retry_attempts,
        "MaximumRecordAgeInSeconds": trigger.max_record_age_seconds,
        "OnPartialBatchItemFailure": BISECT,
        "DeadLetterConfig": {"Arn": names.dead_letter_queue_arn(wf, trigger)},
    }


def _ensure_one(ctx: Context, wf: Workflow, trigger: StreamTrigger) -> None:
    pipes, names = ctx.client("pipes"), ctx.names
    name = names.env.resource_name(wf.name, trigger.stream)
    role = iam.ensure_role(
        ctx,
        names.role(wf.name, trigger.stream, "pipe"),
        "pipes",
        iam.pipe_policy(names, wf, trigger),
        f"Pipe from {names.resource(wf, trigger.stream)} to {names.state_machine(wf)}",
    )
    updatable = source_parameters(names, wf, trigger)
    source = {"KinesisStreamParameters": {**updatable, "StartingPosition": STARTING_POSITION}}
    desired: dict[str, Any] = {
        "RoleArn": role,
        "Target": names.state_machine_arn(wf),
        # Express workflows are started and not waited for: the batch is the execution's input.
        "TargetParameters": {"StepFunctionStateMachineParameters": {"InvocationType": "FIRE_AND_FORGET"}},
        "DesiredState": "RUNNING",
    }

    def create() -> None:
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

    # one still DELETING counts as none: Pipes refuses a new pipe of its name until it is gone, and
    # comparing it as a live one would update a pipe that is going away
    current = live(
        lambda: pipes.describe_pipe(Name=name),
        pipes.exceptions.NotFoundException,
        lambda found: found.get("CurrentState") == "DELETING",
        f"pipe {name}",
        apply=ctx.apply,
        sleep=ctx.sleep,
    )
    if current is None:
        if ctx.change("pipe", name, Action.CREATE, f"{trigger.stream} -> {names.state_machine(wf)}"):
            _apply(ctx, name, create)
        return
    found = current.get("SourceParameters", {}).get("KinesisStreamParameters", {})
    replaced = _why_made_anew(current, found)
    if replaced:
        if ctx.change("pipe", name, Action.UPDATE, replaced):
            _delete(ctx, name)
            _apply(ctx, name, create)
        return
    drift = [k for k, v in desired.items() if current.get(k) != v]
    if str(current.get("CurrentState", "")).endswith("FAILED"):
        drift.append(str(current["CurrentState"]))
    drift += [k for k, v in updatable.items() if found.get(k) != v]
    if not drift:
        ctx.same("pipe", name)
    elif ctx.change("pipe", name, Action.UPDATE, ", ".join(drift)):
        update = {"KinesisStreamParameters": updatable}
        _apply(
            ctx,
            name,
            lambda: retry(
                lambda: pipes.update_pipe(Name=name, SourceParameters=update, **desired),
                {**ROLE_NOT_READY, **IN_PROGRESS},
                sleep=ctx.sleep,
            ),
        )


def _why_made_anew(current: dict[str, Any], found: dict[str, Any]) -> str:
    """Why the pipe must be deleted and created again (no update can do it), or ""."""
    if current.get("CurrentState") == "CREATE_FAILED":  # left so by an earlier deploy
        return f"{current['CurrentState']}: {current.get('StateReason', '')}"
    # (the local cloud forgets the position on an update, which AWS keeps: unsaid, it is not drift)
    position = found.get("StartingPosition", STARTING_POSITION)
    if position != STARTING_POSITION:
        return f"StartingPosition {position} -> {STARTING_POSITION}, made anew: no update changes it"
    return ""


def _apply(ctx: Context, name: str, write: Callable[[], None]) -> None:
    """`write()` (a create or an update), then wait for Pipes to apply it; a failed pipe is
    written again after a pause (one that failed to create deleted first: only a create follows
    CREATE_FAILED), a few times, and then the deploy stops with Pipes' reason."""
    for attempt in range(ATTEMPTS):
        write()
        pipe = until(
            lambda: ctx.client("pipes").describe_pipe(Name=name),
            lambda p: p.get("CurrentState") not in SETTLING,
            f"pipe {name}",
            interval=5.0,
            timeout=600.0,
            sleep=ctx.sleep,
        )
        state = str(pipe.get("CurrentState", ""))
        if not state.endswith("FAILED"):
            return
        if attempt == ATTEMPTS - 1:
            raise RuntimeError(f"pipe {name} failed to deploy: {state}: {pipe.get('StateReason', '')}")
        if state == "CREATE_FAILED":  # nothing starts a pipe that failed to create
            _delete(ctx, name)
        ctx.sleep(10.0 * 2**attempt)


def _delete(ctx: Context, name: str) -> None:
    pipes = ctx.client("pipes")
    pipes.delete_pipe(Name=name)
    until_gone(
        lambda: pipes.describe_pipe(Name=name),
        pipes.exceptions.NotFoundException,
        f"pipe {name} deleted",
        sleep=ctx.sleep,
    )


def _owned(ctx: Context, keep: set[str]) -> list[str]:
    pipes, found = ctx.client("pipes"), []
    for page in pipes.get_paginator("list_pipes").paginate(NamePrefix=ctx.env.resource_name("")):
        for pipe in page["Pipes"]:
            if pipe["Name"] in keep:
                continue
            if owned(ctx.env, pipes.list_tags_for_resource(resourceArn=pipe["Arn"])["tags"]):
                found.append(pipe["Name"])
    return found


def remove_undeclared(ctx: Context, keep: set[str]) -> None:
    """Delete the environment's pipes not in `keep`, each waited for until it is gone: it stops
    reading its stream before its state machine and its role go."""
    for name in _owned(ctx, keep):
        if ctx.change("pipe", name, Action.DELETE, UNDECLARED):
            _delete(ctx, name)


def destroy(ctx: Context) -> None:
    for name in _owned(ctx, set()):
        if ctx.change("pipe", name, Action.DELETE):
            ctx.client("pipes").delete_pipe(Name=name)
