"""Least-privilege IAM: one role per Lambda function, per state machine and per trigger.

Policies are pure functions of the registry and the names, so a static test can read them all.
Each statement names the ARNs it needs; `*` appears only for the actions AWS does not scope
to a resource (X-Ray, and the log-delivery calls Step Functions makes), listed in UNSCOPED.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from infra.names import Names
from infra.plan import UNDECLARED, Action, Context, error_code, owned, tag_dict, tag_list
from workflows.registry import (
    Access,
    Bucket,
    Function,
    StreamTrigger,
    Table,
    Workflow,
    is_object_action,
)

POLICY_NAME = "least-privilege"
XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
XRAY_SAMPLING = ("xray:GetSamplingRules", "xray:GetSamplingTargets")
# Step Functions logging: AWS documents these as supporting no resource-level permission.
LOG_DELIVERY = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
UNSCOPED = frozenset((*XRAY, *XRAY_SAMPLING, *LOG_DELIVERY))
# DynamoDB reads that may go through an index.
INDEX_ACTIONS = frozenset(("dynamodb:Query", "dynamodb:Scan"))

Statement = dict[str, Any]
Policy = dict[str, Any]


def statement(actions: Iterable[str], resources: Iterable[str]) -> Statement:
    return {"Effect": "Allow", "Action": sorted(set(actions)), "Resource": sorted(set(resources))}


def policy(statements: Iterable[Statement]) -> Policy:
    return {"Version": "2012-10-17", "Statement": [s for s in statements if s["Action"]]}


# Services that assume a role without saying for which account: a condition on aws:SourceAccount
# would never match and every assumption would be refused (API Gateway answers each request with
# a 500, "API Gateway does not have permission to assume the provided role").
NO_SOURCE_ACCOUNT = frozenset(("lambda", "apigateway"))


def trust(service: str, names: Names) -> Policy:
    """Who may assume the role; the account condition guards against a confused deputy where
    the service sets it."""
    principal: Statement = {
        "Effect": "Allow",
        "Principal": {"Service": f"{service}.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    if service not in NO_SOURCE_ACCOUNT:
        principal["Condition"] = {"StringEquals": {"aws:SourceAccount": names.account}}
    return {"Version": "2012-10-17", "Statement": [principal]}


def access_statements(names: Names, wf: Workflow, access: Iterable[Access]) -> list[Statement]:
    return [
        {**found, "Condition": _condition(grant)} if grant.condition else found
        for grant in access
        for found in _grant_statements(names, wf, grant)
    ]


def _condition(grant: Access) -> dict[str, dict[str, str]]:
    return {operator: dict(keys) for operator, keys in grant.condition.items()}


def _grant_statements(names: Names, wf: Workflow, grant: Access) -> list[Statement]:
    arn = names.resource_arn(wf, grant.resource)  # a ConfigError naming the known ones, if none
    resource = wf.resources()[grant.resource]
    if isinstance(resource, Bucket):
        return _bucket_statements(arn, grant)
    if isinstance(resource, Table) and resource.indexes and INDEX_ACTIONS & set(grant.actions):
        indexes = [f"{arn}/index/{index.name}" for index in resource.indexes]
        return [
            statement(set(grant.actions) - INDEX_ACTIONS, [arn]),
            statement(INDEX_ACTIONS & set(grant.actions), [arn, *indexes]),
        ]
    return [statement(grant.actions, [arn])]


def _bucket_statements(arn: str, grant: Access) -> list[Statement]:
    """Object actions on the keys under the grant's prefix (every key without one), the others on
    the bucket itself. The listing stays the whole bucket's, unconditioned: S3 answers a missing key
    NoSuchKey only to a caller that may list the bucket, and 403 to any other
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"). AWS
    documents no s3:prefix in that check, so a listing narrowed by that condition key could turn
    every first read of a key (a batch parked for the first time) into AccessDenied. Listing shows
    key names only; reading and writing stay under the prefix."""
    on_objects = [a for a in grant.actions if is_object_action(a)]
    on_bucket = statement(set(grant.actions) - set(on_objects), [arn])
    return [statement(on_objects, [f"{arn}/{grant.prefix}*"]), on_bucket]


def parameter_arn(names: Names, name: str) -> tuple[str, str]:
    """(action, ARN) for a name in Function.parameters: `/...` is SSM, anything else a secret."""
    name = parameter_name(names, name)
    if name.startswith("/"):
        return "ssm:GetParameter", names.arn("ssm", f"parameter{name}")
    # Secret ARNs end with a random 6-character suffix.
    return "secretsmanager:GetSecretValue", names.arn("secretsmanager", f"secret:{name}-??????")


def parameter_name(names: Names, name: str) -> str:
    return names.env.setting_name(name)


def function_policy(names: Names, wf: Workflow, fn: Function) -> Policy:
    log_group = names.log_group_arn(names.function_log_group(wf, fn))
    statements = [statement(("logs:CreateLogStream", "logs:PutLogEvents"), [log_group])]
    if not names.env.is_local:
        statements.append(statement(XRAY, ["*"]))
    statements += access_statements(names, wf, fn.access)
    statements += [
        statement([a], [arn]) for a, arn in (parameter_arn(names, p) for p in fn.parameters.values())
    ]
    return policy(statements)


def state_machine_policy(names: Names, wf: Workflow) -> Policy:
    # Only the functions its definition invokes: API route functions belong to the API's grants.
    definition = json.dumps(wf.build())
    invoked = [fn for fn in wf.functions if "${" + fn.token + "}" in definition]
    statements = [
        statement(["lambda:InvokeFunction"], [names.alias_arn(wf, fn) for fn in invoked]),
        *access_statements(names, wf, wf.integrations),
        statement(LOG_DELIVERY, ["*"]),
        statement((*XRAY, *XRAY_SAMPLING), ["*"]),
    ]
    return policy(statements)


def start_policy(names: Names, workflows: Iterable[Workflow], action: str) -> Policy:
    """A trigger's role: start these state machines and nothing else."""
    return policy([statement([action], [names.state_machine_arn(wf) for wf in workflows])])


def pipe_policy(names: Names, wf: Workflow, trigger: StreamTrigger) -> Policy:
    """A pipe's role: read its stream, start its state machine, and describe in its dead-letter
    queue a batch it gave up on (Pipes sends it as the role)."""
    reads: tuple[str, ...] = ("kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords")
    reads += ("kinesis:GetShardIterator", "kinesis:ListShards")
    return policy(
        [
            statement(reads, [names.resource_arn(wf, trigger.stream)]),
            statement(["states:StartExecution"], [names.state_machine_arn(wf)]),
            statement(["sqs:SendMessage"], [names.dead_letter_queue_arn(wf, trigger)]),
        ]
    )


def _document(value: Any) -> Any:
    return json.loads(unquote(value)) if isinstance(value, str) else value


def _same(a: Any, b: Any) -> bool:
    return json.dumps(_document(a), sort_keys=True) == json.dumps(_document(b), sort_keys=True)


def _roles(ctx: Context) -> dict[str, Any]:
    """The environment's roles with their trust and inline policies, in one paginated call."""
    found = {}
    pages = ctx.client("iam").get_paginator("get_account_authorization_details").paginate(Filter=["Role"])
    for page in pages:
        for role in page["RoleDetailList"]:
            if role["RoleName"].startswith(ctx.env.resource_name("")):
                found[role["RoleName"]] = role
    return found


def ensure_role(ctx: Context, name: str, service: str, document: Policy, description: str) -> str:
    """Create or update the role `name`, assumable by `service`, whose only policy is `document`."""
    iam, arn = ctx.client("iam"), ctx.names.role_arn(name)
    trusted = trust(service, ctx.names)
    current = ctx.inventory("roles", lambda: _roles(ctx)).get(name)
    if current is None:
        if ctx.change("role", name, Action.CREATE):
            iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trusted),
                Description=description,
                Tags=tag_list(ctx.env.tags()),
            )
            iam.put_role_policy(RoleName=name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(document))
        return arn
    attached = [
        p["PolicyDocument"] for p in current.get("RolePolicyList", []) if p["PolicyName"] == POLICY_NAME
    ]
    drift = [
        what
        for what, ok in (
            ("trust", _same(current["AssumeRolePolicyDocument"], trusted)),
            ("policy", bool(attached) and _same(attached[0], document)),
        )
        if not ok
    ]
    if not drift:
        ctx.same("role", name)
    elif ctx.change("role", name, Action.UPDATE, ", ".join(drift)):
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trusted))
        iam.put_role_policy(RoleName=name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(document))
    return arn


def remove_undeclared(ctx: Context, keep: set[str]) -> None:
    """Delete the environment's roles not in `keep`, once what assumed them is gone (runner)."""
    for name in _mine(ctx, ctx.inventory("roles", lambda: _roles(ctx)), keep):
        if ctx.change("role", name, Action.DELETE, UNDECLARED):
            _delete_role(ctx, name)


def _mine(ctx: Context, roles: dict[str, Any], keep: set[str]) -> list[str]:
    """The names of the environment's roles among `roles`, but those in `keep`."""
    iam = ctx.client("iam")
    return [
        name
        for name in sorted(roles)
        if name not in keep and owned(ctx.env, tag_dict(iam.list_role_tags(RoleName=name)["Tags"]))
    ]


def _delete_role(ctx: Context, name: str) -> None:
    iam = ctx.client("iam")
    for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
    try:
        iam.delete_role(RoleName=name)
    except Exception as error:  # already gone: destroy is idempotent
        if error_code(error) != "NoSuchEntity":
            raise


def destroy(ctx: Context) -> None:
    for name in _mine(ctx, _roles(ctx), set()):
        if ctx.change("role", name, Action.DELETE):
            _delete_role(ctx, name)
