"""The Cognito user pool that issues the JWTs the API's `auth` routes require."""

from __future__ import annotations

from infra.plan import Action, Context, owned

PLANNED = "(planned)"


def pool_name(ctx: Context) -> str:
    return ctx.env.resource_name("users")


def ensure(ctx: Context) -> tuple[str, str]:
    """(issuer URL, app client id) of the environment's user pool."""
    cognito, name = ctx.client("cognito-idp"), pool_name(ctx)
    pools = [p for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == name]
    if pools:
        ctx.same("user pool", name)
        pool_id = pools[0]["Id"]
    elif ctx.change("user pool", name, Action.CREATE, "issues the API's JWTs"):
        pool_id = cognito.create_user_pool(PoolName=name, UserPoolTags=ctx.env.tags())["UserPool"]["Id"]
    else:
        return PLANNED, PLANNED
    issuer = f"https://cognito-idp.{ctx.env.region}.amazonaws.com/{pool_id}"
    client = ctx.env.resource_name("api")
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    found = [c["ClientId"] for c in clients if c["ClientName"] == client]
    if found:
        ctx.same("user pool client", client)
        return issuer, found[0]
    if not ctx.change("user pool client", client, Action.CREATE):
        return issuer, PLANNED
    created = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=client,
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )
    return issuer, created["UserPoolClient"]["ClientId"]


def destroy(ctx: Context) -> None:
    cognito = ctx.client("cognito-idp")
    for pool in cognito.list_user_pools(MaxResults=60)["UserPools"]:
        if not pool["Name"].startswith(ctx.env.resource_name("")):
            continue
        tags = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"].get("UserPoolTags", {})
        if owned(ctx.env, tags) and ctx.change("user pool", pool["Name"], Action.DELETE):
            cognito.delete_user_pool(UserPoolId=pool["Id"])
