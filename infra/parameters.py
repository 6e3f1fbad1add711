"""Run-time settings the functions read by name: SSM parameters (`/...`) and secrets (the rest).

Values never sit in the registry, the definitions or a function's environment. An environment
may give values in environments.toml (the local one points at the fake external APIs, whose
keys are not secret); deploy writes those, the fakes' addresses moved to where the local cloud
serves them (infra/localstart.py). Elsewhere an operator sets each value once, and deploy names
every one still missing, with the command that sets it.
"""

from __future__ import annotations

from collections.abc import Iterable

from infra.environments import LOCAL_CREDENTIALS, Environment
from infra.iam import parameter_name
from infra.localstart import setting_values
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
    missing, given = [], setting_values(ctx.env)
    for name in wanted(ctx, workflows):
        current, value = _current(ctx, name), given.get(name)
        if value is None:
            if current is None:
                missing.append(name)
            continue
        if current == value:
            ctx.same("parameter", name)
        elif ctx.change("parameter", name, Action.CREATE if current is None else Action.UPDATE):
            _write(ctx, name, value, exists=current is not None)
    for name in missing:
        ctx.say(f"  missing          parameter      {name} (set it once: {set_command(ctx.env, name)})")
    return missing


def set_command(env: Environment, name: str) -> str:
    """The command that sets setting `name` once, as printed: an SSM parameter (`/...`) for a
    setting that is not a secret, else a Secrets Manager secret, in the environment's region, and
    for the local cloud at its endpoint with the test credentials it takes."""
    aws = aws_cli(env)
    if name.startswith("/"):
        return f"{aws} ssm put-parameter --name {name} --type String --value ..."
    return f"{aws} secretsmanager create-secret --name {name} --secret-string ..."


def aws_cli(env: Environment) -> str:
    """The start of an AWS CLI command for `env`: its region, and for the local cloud its
    endpoint with the test credentials it takes."""
    aws = f"aws --region {env.region}"
    if env.endpoint:
        keys = LOCAL_CREDENTIALS
        aws = (
            f"AWS_ACCESS_KEY_ID={keys['aws_access_key_id']} AWS_SECRET_ACCESS_KEY={keys['aws_secret_access_key']} "
            f"{aws} --endpoint-url {env.endpoint}"
        )
    return aws


def delete_command(env: Environment, name: str) -> str:
    """The command that deletes setting `name` (see set_command)."""
    if name.startswith("/"):
        return f"{aws_cli(env)} ssm delete-parameter --name {name}"
    return f"{aws_cli(env)} secretsmanager delete-secret --secret-id {name} --force-delete-without-recovery"


def undeclared(ctx: Context, workflows: Iterable[Workflow]) -> list[str]:
    """The values deploy wrote (those the environment gives) that no declared function reads."""
    keep = set(wanted(ctx, workflows))
    return [n for n in sorted(ctx.env.parameters) if n not in keep and _current(ctx, n) is not None]


def destroy(ctx: Context) -> None:
    """Delete the values deploy wrote (those the environment gives); operators' own stay."""
    for name in sorted(ctx.env.parameters):
        if _current(ctx, name) is None or not ctx.change("parameter", name, Action.DELETE):
            continue
        if name.startswith("/"):
            ctx.client("ssm").delete_parameter(Name=name)
        else:
            ctx.client("secretsmanager").delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
