"""The Cognito user pool that issues the JWTs the API's `auth` routes require."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra import parameters
from infra.environments import Environment
from infra.plan import Action, Context, owned

PLANNED = "(planned)"


def pool_name(env: Environment) -> str:
    return env.resource_name("users")


def client_name(env: Environment) -> str:
    return env.resource_name("api")


def issuer(env: Environment, pool_id: str) -> str:
    """The issuer of the pool's tokens, which API Gateway's JWT authorizer checks."""
    return f"https://cognito-idp.{env.region}.amazonaws.com/{pool_id}"


def _pools(cognito: Any) -> Iterator[dict[str, Any]]:
    for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60):
        yield from page["UserPools"]


def find_pool(cognito: Any, name: str) -> str | None:
    """The id of the user pool named `name`, if there is one."""
    return next((p["Id"] for p in _pools(cognito) if p["Name"] == name), None)


def find_client(cognito: Any, pool_id: str, name: str) -> str | None:
    """The id of the pool's app client named `name`, if there is one."""
    pages = cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60)
    return next(
        (c["ClientId"] for page in pages for c in page["UserPoolClients"] if c["ClientName"] == name), None
    )


def settings(env: Environment) -> dict[str, Any]:
    """Users are made by an administrator only (the app client is public: with sign-up open,
    anyone could add themselves); prod's pool, its users with it, cannot be deleted by mistake."""
    return {
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
        "DeletionProtection": "ACTIVE" if env.name == "prod" else "INACTIVE",
    }


def _drift(pool: dict[str, Any], desired: dict[str, Any]) -> list[str]:
    admin_only = pool.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly", False)
    found = {
        "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": admin_only},
        "DeletionProtection": pool.get("DeletionProtection", "INACTIVE"),
    }
    words = {"AdminCreateUserConfig": "sign-up", "DeletionProtection": "deletion protection"}
    return [words[key] for key, value in desired.items() if found[key] != value]


def _ensure_pool(ctx: Context) -> str | None:
    """The id of the environment's user pool, made or put back as `settings` says."""
    cognito, name, desired = ctx.client("cognito-idp"), pool_name(ctx.env), settings(ctx.env)
    pool_id = find_pool(cognito, name)
    if pool_id is None:
        if ctx.change("user pool", name, Action.CREATE, "issues the API's JWTs"):
            created = cognito.create_user_pool(PoolName=name, UserPoolTags=ctx.env.tags(), **desired)
            return str(created["UserPool"]["Id"])
        return None
    drift = _drift(cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"], desired)
    if not drift:
        ctx.same("user pool", name)
    elif ctx.change("user pool", name, Action.UPDATE, ", ".join(drift)):
        # UpdateUserPool sets what it is not given to its default: the tags too, unless given
        cognito.update_user_pool(UserPoolId=pool_id, UserPoolTags=ctx.env.tags(), **desired)
    return pool_id


def ensure(ctx: Context) -> tuple[str, str]:
    """(issuer URL, app client id) of the environment's user pool."""
    cognito = ctx.client("cognito-idp")
    pool_id = _ensure_pool(ctx)
    if pool_id is None:
        return PLANNED, PLANNED
    url = issuer(ctx.env, pool_id)
    client = client_name(ctx.env)
    found = find_client(cognito, pool_id, client)
    if found is not None:
        ctx.same("user pool client", client)
        return url, found
    if not ctx.change("user pool client", client, Action.CREATE):
        return url, PLANNED
    created = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=client,
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )
    return url, created["UserPoolClient"]["ClientId"]


def destroy(ctx: Context) -> None:
    cognito = ctx.client("cognito-idp")
    for pool in list(_pools(cognito)):  # listed whole before any is deleted
        if not pool["Name"].startswith(ctx.env.resource_name("")):
            continue
        found = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
        if not owned(ctx.env, found.get("UserPoolTags", {})):
            continue
        if found.get("DeletionProtection") == "ACTIVE":  # its users would go with it: a deliberate act
            ctx.say(
                f"  kept             user pool      {pool['Name']} (deletion protection is on; delete it: "
                f"{parameters.aws_cli(ctx.env)} cognito-idp update-user-pool --user-pool-id {pool['Id']} "
                "--deletion-protection INACTIVE, then delete-user-pool)"
            )
        elif ctx.change("user pool", pool["Name"], Action.DELETE):
            cognito.delete_user_pool(UserPoolId=pool["Id"])
