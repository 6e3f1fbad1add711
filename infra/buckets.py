"""S3 buckets: public access blocked, encrypted at rest and in transit (a request over plain HTTP
is refused), objects expired where the registry says."""

from __future__ import annotations

import json
from typing import Any

from infra.environments import ConfigError
from infra.plan import Action, Context, error_code, owned, tag_dict, tag_list
from workflows.registry import Bucket

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


def tls_only(ctx: Context, name: str) -> dict[str, Any]:
    """The bucket's policy: every request not made over TLS is refused, whoever makes it."""
    arn = ctx.names.arn("s3", name, regional=False)
    deny = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return {"Version": "2012-10-17", "Statement": [deny]}


def _tls(ctx: Context) -> list[str]:
    """The TLS-only policy, where it applies: the local cloud serves plain HTTP on loopback, and
    its S3 refuses every request to a bucket with that policy."""
    return [] if ctx.env.is_local else ["policy"]


def _lifecycle(bucket: Bucket) -> dict[str, Any] | None:
    if bucket.expire_days is None:
        return None
    rule = {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}}
    return {"Rules": [{**rule, "Expiration": {"Days": bucket.expire_days}}]}


def _read(call: Any, key: str, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)[key]
    except Exception as error:
        if "NoSuch" in error_code(error) or "NotFound" in error_code(error):
            return None
        raise


def _not_ours(name: str, answer: str) -> ConfigError:
    """A bucket name deploy may not use, with S3's `answer` and the way out."""
    also = ", or these credentials may not list it" if answer == "403" else ""
    return ConfigError(
        f"bucket {name}: S3 answers {answer}: the name belongs to another AWS account (bucket names "
        f"are global){also}; another `app` in environments.toml (every name starts with it) gives "
        "the environment names of its own"
    )


def ensure(ctx: Context, bucket: Bucket, name: str) -> None:
    s3 = ctx.client("s3")
    try:
        # A bucket of that name in another account answers 403: never taken for ours, or the
        # functions would write to it.
        s3.head_bucket(Bucket=name, ExpectedBucketOwner=ctx.names.account)
    except Exception as error:
        if error_code(error) == "403":
            raise _not_ours(name, "403") from None
        if error_code(error) not in ("404", "NoSuchBucket"):
            raise
        if ctx.change("bucket", name, Action.CREATE):
            where = {} if ctx.env.region == "us-east-1" else {"LocationConstraint": ctx.env.region}
            try:
                s3.create_bucket(Bucket=name, **({"CreateBucketConfiguration": where} if where else {}))
            except s3.exceptions.BucketAlreadyExists:  # taken between the two calls
                raise _not_ours(name, "BucketAlreadyExists") from None
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list(ctx.env.tags())})
            _settings(ctx, bucket, name, ["public access", "encryption", *_tls(ctx), "lifecycle"])
        return
    drift = []
    block = _read(s3.get_public_access_block, "PublicAccessBlockConfiguration", Bucket=name)
    drift += [] if block == BLOCK_ALL else ["public access"]
    encryption = _read(s3.get_bucket_encryption, "ServerSideEncryptionConfiguration", Bucket=name)
    algorithms = [
        r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in (encryption or {}).get("Rules", [])
    ]
    drift += [] if algorithms else ["encryption"]
    if _tls(ctx):
        policy = _read(s3.get_bucket_policy, "Policy", Bucket=name)
        drift += [] if policy and json.loads(policy) == tls_only(ctx, name) else ["policy"]
    rules = _read(s3.get_bucket_lifecycle_configuration, "Rules", Bucket=name)
    expected = _lifecycle(bucket)
    drift += (
        []
        if [r.get("Expiration") for r in rules or []]
        == [r["Expiration"] for r in (expected or {}).get("Rules", [])]
        else ["lifecycle"]
    )
    if not drift:
        ctx.same("bucket", name)
    elif ctx.change("bucket", name, Action.UPDATE, ", ".join(drift)):
        _settings(ctx, bucket, name, drift)


def _settings(ctx: Context, bucket: Bucket, name: str, which: list[str]) -> None:
    s3 = ctx.client("s3")
    if "public access" in which:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=BLOCK_ALL)
    if "encryption" in which:
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=ENCRYPTION)
    if "policy" in which:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(tls_only(ctx, name)))
    if "lifecycle" in which:
        lifecycle = _lifecycle(bucket)
        if lifecycle:
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=lifecycle)
        else:
            s3.delete_bucket_lifecycle(Bucket=name)


def _mine(ctx: Context, keep: set[str]) -> list[str]:
    """The environment's buckets, but those in `keep`."""
    s3, prefix = ctx.client("s3"), ctx.env.resource_name("")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    return [n for n in names if n.startswith(prefix) and n not in keep and _owned(ctx, n)]


def undeclared(ctx: Context, keep: set[str]) -> list[str]:
    """The environment's buckets not in `keep`: data, which a deploy never deletes."""
    return _mine(ctx, keep)


def _owned(ctx: Context, name: str) -> bool:
    tags = _read(ctx.client("s3").get_bucket_tagging, "TagSet", Bucket=name) or []
    return owned(ctx.env, tag_dict(tags))


def destroy(ctx: Context) -> None:
    s3 = ctx.client("s3")
    for name in _mine(ctx, set()):
        if ctx.change("bucket", name, Action.DELETE):
            _empty(s3, name)
            s3.delete_bucket(Bucket=name)


def _empty(s3: Any, name: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in (*page.get("Versions", []), *page.get("DeleteMarkers", []))
        ]
        if doomed:
            s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
