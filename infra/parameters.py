"""Run-time settings the functions read by name: SSM parameters (`/...`) and secrets (the rest).

Values never sit in the registry, the definitions or a function's environment. An environment
may give values in environments.toml (the local one points at the fake external APIs, whose
keys are not secret); deploy writes those. Elsewhere an operator sets each value once, and
deploy names every one still missing, with the command that sets it.
"""

from __future__ import annotations

from collections.abc import Iterable

from infra.iam import parameter_name
from infra.plan import Action, Context, tag_list
from workflows.registry import Workflow


def wanted(ctx: Context, workflows: Iterable[Workflow]) -> list[str]:
    return sorted(
        {
            parameter_name(ctx.names, n)
            for wf in workflows
            for fn in wf.functions
            for n in fn.parameters.values()
        }
    )


def _current(ctx: Context, name: str) -> str | None:
    if name.startswith("/"):
        ssm = ctx.client("ssm")
        try:
            return str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
        except ssm.exceptions.ParameterNotFound:
            return None
    secrets = ctx.client("secretsmanager")
    try:
        return str(secrets.get_secret_value(SecretId=name)["SecretString"])
    except secrets.exceptions.ResourceNotFoundException:
        return None


def _write(ctx: Context, name: str, value: str, exists: bool) -> None:
    if name.startswith("/"):
        ssm = ctx.client("ssm")
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
        ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=tag_list(ctx.env.tags()))
    elif exists:
        ctx.client("secretsmanager").put_secret_value(SecretId=name, SecretString=value)
    else:
        ctx.client("secretsmanager").create_secret(
            Name=name, SecretString=value, Tags=tag_list(ctx.env.tags())
        )


def ensure(ctx: Context, workflows: Iterable[Workflow]) -> list[str]:
    """Write the values the environment gives; return the names that have no value anywhere."""
    missing = []
    for name in wanted(ctx, workflows):
        current, value = _current(ctx, name), ctx.env.parameters.get(name)
        if value is None:
            if current is None:
                missing.append(name)
            continue
        if current == value:
            ctx.same("parameter", name)
        elif ctx.change("parameter", name, Action.CREATE if current is None else Action.UPDATE):
            _write(ctx, name, value, exists=current is not None)
    # secrets are Secrets Manager's; an SSM parameter holds a setting that is not one
    # a command that runs as printed: the environment's region, and for the local cloud its
    # endpoint and the test credentials it takes
    aws = f"aws --region {ctx.env.region}"
    if ctx.env.endpoint:
        aws = (
            f"AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing {aws} --endpoint-url {ctx.env.endpoint}"
        )
    for name in missing:
        how = (
            f"{aws} ssm put-parameter --name {name} --type String --value ..."
            if name.startswith("/")
            else f"{aws} secretsmanager create-secret --name {name} --secret-string ..."
        )
        ctx.say(f"  missing          parameter      {name} (set it once: {how})")
    return missing


def destroy(ctx: Context) -> None:
    """Delete the values deploy wrote (those the environment gives); operators' own stay."""
    for name in sorted(ctx.env.parameters):
        if _current(ctx, name) is None or not ctx.change("parameter", name, Action.DELETE):
            continue
        if name.startswith("/"):
            ctx.client("ssm").delete_parameter(Name=name)
        else:
            ctx.client("secretsmanager").delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
