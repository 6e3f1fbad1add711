"""Kinesis data streams: provisioned shards, encrypted with the AWS-managed key."""

from __future__ import annotations

from infra.plan import Action, Context, owned, tag_dict
from infra.waits import live, until
from workflows.registry import Stream


def ensure(ctx: Context, stream: Stream, name: str) -> None:
    kinesis = ctx.client("kinesis")
    # one still DELETING (Kinesis refuses a new stream of its name until it is gone) counts as none
    current = live(
        lambda: kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"],
        kinesis.exceptions.ResourceNotFoundException,
        lambda found: found.get("StreamStatus") == "DELETING",
        f"stream {name}",
        apply=ctx.apply,
        sleep=ctx.sleep,
    )
    if current is None:
        if ctx.change("stream", name, Action.CREATE, f"{stream.shards} shard(s)"):
            kinesis.create_stream(StreamName=name, ShardCount=stream.shards)
            _wait_active(ctx, name)
            kinesis.add_tags_to_stream(StreamName=name, Tags=ctx.env.tags())
            kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        return
    if current.get("OpenShardCount", stream.shards) == stream.shards:
        ctx.same("stream", name)
    elif ctx.change("stream", name, Action.UPDATE, f"{stream.shards} shard(s)"):
        kinesis.update_shard_count(
            StreamName=name, TargetShardCount=stream.shards, ScalingType="UNIFORM_SCALING"
        )
        _wait_active(ctx, name)


def _wait_active(ctx: Context, name: str) -> None:
    kinesis = ctx.client("kinesis")
    until(
        lambda: kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"],
        lambda status: status == "ACTIVE",
        f"stream {name}",
        sleep=ctx.sleep,
    )


def _owned(ctx: Context, keep: set[str]) -> list[str]:
    kinesis, prefix = ctx.client("kinesis"), ctx.env.resource_name("")
    # Kinesis lists 100 streams at most per call: one past them would be left behind.
    names = [
        n for page in kinesis.get_paginator("list_streams").paginate() for n in page.get("StreamNames", [])
    ]
    return [
        n
        for n in names
        if n.startswith(prefix)
        and n not in keep
        and owned(ctx.env, tag_dict(kinesis.list_tags_for_stream(StreamName=n)["Tags"]))
    ]


def undeclared(ctx: Context, keep: set[str]) -> list[str]:
    """The environment's streams not in `keep`: data, which a deploy never deletes."""
    return _owned(ctx, keep)


def destroy(ctx: Context) -> None:
    for name in _owned(ctx, set()):
        if ctx.change("stream", name, Action.DELETE):
            ctx.client("kinesis").delete_stream(StreamName=name, EnforceConsumerDeletion=True)
