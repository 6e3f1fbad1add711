"""The environment's HTTP API (API Gateway v2): each HttpRoute starts its workflow directly
through a Step Functions integration (StartSyncExecution when `sync`), JWT-authorised when `auth`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from infra import auth, functions, iam, logs, statemachines
from infra.plan import UNDECLARED, Action, Context, owned
from workflows.registry import Function, HttpRoute, Route, Throttle, Workflow

SUBTYPES = {True: "StepFunctions-StartSyncExecution", False: "StepFunctions-StartExecution"}
ACTIONS = {True: "states:StartSyncExecution", False: "states:StartExecution"}
# Every route's limit, unless it declares a lower one (Route.throttle): without one, a flood on a
# public route is bounded only by the account's quota (10,000 a second), paid for request by request.
DEFAULT_THROTTLE = Throttle(rate=50, burst=100)
# One JSON line per request: who sent it, to which route, and how it was answered.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "userAgent": "$context.identity.userAgent",
        "requestTime": "$context.requestTime",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "latency": "$context.responseLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
    }
)


def routes(workflows: Iterable[Workflow]) -> list[tuple[Workflow, HttpRoute]]:
    return [(wf, t) for wf in workflows for t in wf.triggers if isinstance(t, HttpRoute)]


def policy(ctx: Context, found: list[tuple[Workflow, HttpRoute]]) -> iam.Policy:
    return iam.policy(
        iam.statement([ACTIONS[sync]], [ctx.names.state_machine_arn(wf) for wf, r in found if r.sync == sync])
        for sync in (True, False)
        if any(r.sync == sync for _, r in found)
    )


def served(workflows: Iterable[Workflow]) -> list[tuple[Workflow, Route]]:
    return [(wf, r) for wf in workflows for r in wf.routes]


def deployed(ctx: Context, workflows: Iterable[Workflow]) -> list[Workflow]:
    """Those of `workflows` whose routes lead to what is there: the functions that serve them and
    the state machines they start."""
    return [
        wf
        for wf in workflows
        if all(functions.exists(ctx, ctx.names.function(wf, wf.function(r.function))) for r in wf.routes)
        and (not routes([wf]) or statemachines.exists(ctx, wf))
    ]


def _items(api: Any, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every item of a listing: AWS answers in pages, and an API, route or stage past the first
    page would be taken for missing (a second API of the same name created on every deploy)."""
    return [item for page in api.get_paginator(operation).paginate(**kwargs) for item in page["Items"]]


@dataclass(frozen=True)
class Api:
    api_id: str
    url: str


def ensure(ctx: Context, workflows: Iterable[Workflow]) -> Api | None:
    """Create or update the API, its routes and integrations; None when there is no route (or
    it is only planned). Integrations name ARNs, so this runs while the workflows deploy."""
    workflows = list(workflows)
    starts, functions = routes(workflows), served(workflows)
    if not starts and not functions:
        return None
    api, name = ctx.client("apigatewayv2"), ctx.env.resource_name("api")
    role = ""  # only routes that start workflows need one; function routes use resource policies
    if starts:
        role = iam.ensure_role(ctx, name, "apigateway", policy(ctx, starts), "The HTTP API starts workflows")
    logs.ensure(ctx, ctx.names.api_log_group())
    existing = [a for a in _items(api, "get_apis") if a["Name"] == name]
    every_route = [r for _, r in starts] + [r for _, r in functions]
    cors = cors_configuration(ctx.env.cors_origins, every_route)
    if existing:
        current = existing[0]
        _update_cors(ctx, api, current, cors)
    elif ctx.change("http api", name, Action.CREATE, _cors_detail(cors)):
        current = api.create_api(
            Name=name,
            ProtocolType="HTTP",
            Tags=ctx.env.tags(),
            **({"CorsConfiguration": cors} if cors else {}),
        )
    else:
        for route in every_route:
            ctx.change("route", f"{route.method} {route.path}", Action.CREATE)
        ctx.change(
            "stage", f"{name} $default", Action.CREATE, _stage_detail(stage_settings(ctx, every_route))
        )
        return None
    api_id = current["ApiId"]
    needs_auth = any(r.auth for _, r in starts) or any(r.auth for _, r in functions)
    authorizer = _authorizer(ctx, api_id) if needs_auth else None
    for wf, start in starts:
        integration = {
            "IntegrationType": "AWS_PROXY",
            "IntegrationSubtype": SUBTYPES[start.sync],
            "CredentialsArn": role,
            "PayloadFormatVersion": "1.0",
            "RequestParameters": {
                "StateMachineArn": ctx.names.state_machine_arn(wf),
                "Input": "$request.body",
            },
        }
        detail = f"{'sync ' if start.sync else ''}start {wf.name}"
        _route(ctx, api_id, wf, start, integration, authorizer, detail)
    for wf, route in functions:
        fn = wf.function(route.function)
        integration = {
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": ctx.names.alias_arn(wf, fn),
            "PayloadFormatVersion": "2.0",
        }
        _route(ctx, api_id, wf, route, integration, authorizer, f"function {fn.name}")
    _stage(ctx, api_id, stage_settings(ctx, every_route))
    return Api(api_id, str(current["ApiEndpoint"]))


def _limits(throttle: Throttle) -> dict[str, Any]:
    return {"ThrottlingRateLimit": float(throttle.rate), "ThrottlingBurstLimit": throttle.burst}


def stage_settings(ctx: Context, found: list[Any]) -> dict[str, Any]:
    """The $default stage's throttling (the API's, and each route's that declares a lower one) and
    access log."""
    return {
        "DefaultRouteSettings": _limits(DEFAULT_THROTTLE),
        "RouteSettings": {f"{r.method} {r.path}": _limits(r.throttle) for r in found if r.throttle},
        "AccessLogSettings": {
            "DestinationArn": ctx.names.arn("logs", f"log-group:{ctx.names.api_log_group()}"),
            "Format": ACCESS_LOG_FORMAT,
        },
    }


def _stage_detail(settings: dict[str, Any], which: list[str] | None = None) -> str:
    routes = [
        f"{key} {limits['ThrottlingRateLimit']:g}/s"
        for key, limits in sorted(settings["RouteSettings"].items())
    ]
    limits = settings["DefaultRouteSettings"]
    parts = {
        "throttling": f"{limits['ThrottlingRateLimit']:g}/s (burst {limits['ThrottlingBurstLimit']})",
        # drift with no route's own left: those set are deleted, which the plan says too
        "route throttling": ", ".join(routes) or ("route throttling removed" if which else ""),
        "access log": "access log",
    }
    return ", ".join(parts[w] for w in which or parts if parts[w])


def _stage_drift(found: dict[str, Any], settings: dict[str, Any]) -> list[str]:
    """What of the stage differs from `settings`: AWS answers more fields than deploy sets."""

    def limits(route: dict[str, Any] | None) -> tuple[Any, Any]:
        route = route or {}
        rate = route.get("ThrottlingRateLimit")
        return (float(rate) if rate is not None else None, route.get("ThrottlingBurstLimit"))

    routes = {key: limits(r) for key, r in (found.get("RouteSettings") or {}).items()}
    throttled = {key: value for key, value in routes.items() if value != (None, None)}
    logged = found.get("AccessLogSettings") or {}
    checks = {
        "throttling": limits(found.get("DefaultRouteSettings")) == limits(settings["DefaultRouteSettings"]),
        "route throttling": throttled == {k: limits(r) for k, r in settings["RouteSettings"].items()},
        "access log": logged.get("DestinationArn") == settings["AccessLogSettings"]["DestinationArn"]
        and _json(logged.get("Format")) == _json(settings["AccessLogSettings"]["Format"]),
    }
    return [what for what, same in checks.items() if not same]


def _json(text: Any) -> Any:
    try:
        return json.loads(str(text))
    except ValueError:
        return text


def _stage(ctx: Context, api_id: str, settings: dict[str, Any]) -> None:
    api, name = ctx.client("apigatewayv2"), f"{ctx.env.resource_name('api')} $default"
    found = next((s for s in _items(api, "get_stages", ApiId=api_id) if s["StageName"] == "$default"), None)
    if found is None:
        if ctx.change("stage", name, Action.CREATE, f"auto-deploy, {_stage_detail(settings)}"):
            api.create_stage(
                ApiId=api_id, StageName="$default", AutoDeploy=True, Tags=ctx.env.tags(), **settings
            )
        return
    drift = _stage_drift(found, settings)
    if not drift:
        ctx.same("stage", name)
    elif ctx.change("stage", name, Action.UPDATE, _stage_detail(settings, drift)):
        _update_stage(ctx, api_id, found, settings)


def _update_stage(ctx: Context, api_id: str, found: dict[str, Any], settings: dict[str, Any]) -> None:
    api = ctx.client("apigatewayv2")
    if ctx.env.is_local:  # the local cloud (moto) has no UpdateStage: the stage is made again
        api.delete_stage(ApiId=api_id, StageName="$default")
        api.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True, Tags=ctx.env.tags(), **settings)
        return
    # UpdateStage adds and changes route settings; one no route declares any more is deleted
    for key in sorted(set(found.get("RouteSettings") or {}) - set(settings["RouteSettings"])):
        api.delete_route_settings(ApiId=api_id, StageName="$default", RouteKey=key)
    api.update_stage(ApiId=api_id, StageName="$default", **settings)


def cors_configuration(origins: tuple[str, ...], found: list[Any]) -> dict[str, Any] | None:
    """The API's CORS configuration: which web pages' scripts may call its routes, with the
    routes' methods and the headers they need (a bearer token, a JSON body). API Gateway then
    answers their preflight requests itself, before any authorizer; locally the console does
    (console/routes.py)."""
    if not origins:
        return None
    return {
        "AllowOrigins": list(origins),
        "AllowMethods": sorted({r.method.upper() for r in found}),
        "AllowHeaders": ["authorization", "content-type"],
        "MaxAge": 300,
    }


def _cors_detail(cors: dict[str, Any] | None) -> str:
    return f"CORS for {', '.join(cors['AllowOrigins'])}" if cors else ""


def _update_cors(ctx: Context, api: Any, current: dict[str, Any], cors: dict[str, Any] | None) -> None:
    name, now = current["Name"], current.get("CorsConfiguration") or None
    if _comparable(now) == _comparable(cors):
        ctx.same("http api", name)
    elif ctx.change("http api", name, Action.UPDATE, _cors_detail(cors) or "no CORS"):
        if cors:
            api.update_api(ApiId=current["ApiId"], CorsConfiguration=cors)
        else:
            api.delete_cors_configuration(ApiId=current["ApiId"])


def _comparable(cors: dict[str, Any] | None) -> Any:
    # AWS may answer the lists in another order and header names in another case
    if not cors:
        return None
    return {k: sorted(str(x).lower() for x in v) if isinstance(v, list) else v for k, v in cors.items()}


def permit(ctx: Context, workflows: Iterable[Workflow], api: Api) -> None:
    """Let the API invoke the functions that serve its routes (once their aliases exist)."""
    for wf, route in served(workflows):
        _permission(ctx, api.api_id, wf, wf.function(route.function), route)


def _authorizer(ctx: Context, api_id: str) -> str | None:
    api, name = ctx.client("apigatewayv2"), ctx.env.resource_name("jwt")
    issuer, audience = auth.ensure(ctx)
    desired = {"Issuer": issuer, "Audience": [audience]}
    found = [a for a in _authorizers(ctx, api_id) if a["Name"] == name]
    fields: dict[str, Any] = {
        "AuthorizerType": "JWT",
        "IdentitySource": ["$request.header.Authorization"],
        "JwtConfiguration": desired,
        "Name": name,
    }
    if not found:
        if ctx.change("authorizer", name, Action.CREATE, issuer):
            return str(api.create_authorizer(ApiId=api_id, **fields)["AuthorizerId"])
        return None
    if found[0].get("JwtConfiguration") == desired:
        ctx.same("authorizer", name)
    elif ctx.change("authorizer", name, Action.UPDATE, issuer):
        api.update_authorizer(ApiId=api_id, AuthorizerId=found[0]["AuthorizerId"], **fields)
    return str(found[0]["AuthorizerId"])


def _authorizers(ctx: Context, api_id: str) -> list[dict[str, Any]]:
    api = ctx.client("apigatewayv2")
    if ctx.env.is_local:  # the local cloud (moto) has no GetAuthorizers: found through the routes
        used = {r["AuthorizerId"] for r in _items(api, "get_routes", ApiId=api_id) if r.get("AuthorizerId")}
        return [api.get_authorizer(ApiId=api_id, AuthorizerId=i) for i in sorted(used)]
    # On AWS every one is listed: one a deploy stopped before its first route left would go unseen
    # through the routes, and another would be made on every deploy (API Gateway allows 10 an API).
    return _items(api, "get_authorizers", ApiId=api_id)


def mark(ctx: Context, wf: Workflow) -> str:
    """The OperationName deploy gives each route it makes: API Gateway v2 routes carry no tags, and
    only a route it made is one a workflow can stop declaring (another was added by hand)."""
    return ctx.env.resource_name(wf.name)


def made(ctx: Context, api_id: str, key: str, route: dict[str, Any], integration: dict[str, Any]) -> bool:
    """Deploy made the route: it carries deploy's mark or, made before deploy marked its routes,
    what deploy gave it: the API's role to start a state machine, or its own permission on the
    function it invokes."""
    if route.get("OperationName"):
        return str(route["OperationName"]).startswith(ctx.env.resource_name(""))
    if str(integration.get("CredentialsArn", "")).endswith(f":role/{ctx.env.resource_name('api')}"):
        return True
    function = _function(integration)
    method, _, path = key.partition(" ")  # "$default", added by hand, has no path
    return function is not None and _sid(api_id, method, path) in _sids(ctx, function)


def _function(integration: dict[str, Any]) -> str | None:
    """The function a function integration invokes: its URI is the alias ARN, ...:function:<name>:<alias>."""
    uri = str(integration.get("IntegrationUri", "")).split(":")
    return uri[6] if len(uri) > 6 and uri[5] == "function" else None


def _route(
    ctx: Context,
    api_id: str,
    wf: Workflow,
    route: HttpRoute | Route,
    integration: dict[str, Any],
    authorizer: str | None,
    detail: str,
) -> None:
    key = f"{route.method} {route.path}"
    authorizer = authorizer if route.auth else None
    api = ctx.client("apigatewayv2")
    current = ctx.inventory(
        f"routes {api_id}", lambda: {r["RouteKey"]: r for r in _items(api, "get_routes", ApiId=api_id)}
    ).get(key)
    target_id = current["Target"].split("/", 1)[1] if current and current.get("Target") else None
    seen = api.get_integration(ApiId=api_id, IntegrationId=target_id) if target_id else {}
    desired_route = {"AuthorizationType": "JWT" if authorizer else "NONE", "OperationName": mark(ctx, wf)}
    if authorizer:
        desired_route["AuthorizerId"] = authorizer
    same_integration = all(seen.get(k) == v for k, v in integration.items())
    same_route = current is not None and all(current.get(k) == v for k, v in desired_route.items())
    if same_integration and same_route:
        ctx.same("route", key)
        return
    if not ctx.change("route", key, Action.UPDATE if current else Action.CREATE, detail):
        return
    if target_id and not same_integration:
        api.update_integration(ApiId=api_id, IntegrationId=target_id, **integration)
    elif not target_id:
        target_id = api.create_integration(ApiId=api_id, **integration)["IntegrationId"]
    fields = {**desired_route, "Target": f"integrations/{target_id}"}
    if current:
        api.update_route(ApiId=api_id, RouteId=current["RouteId"], **fields)
    else:
        api.create_route(ApiId=api_id, RouteKey=key, **fields)


def _permission(ctx: Context, api_id: str, wf: Workflow, fn: Function, route: Route) -> None:
    """Let this API, on this route only, invoke the function's alias."""
    lam, name = ctx.client("lambda"), ctx.names.function(wf, fn)
    sid = _sid(api_id, route.method, route.path)
    if sid in _sids(ctx, name):
        ctx.same("permission", sid)
    elif ctx.change("permission", sid, Action.CREATE, f"API may invoke {name}"):
        try:
            _add_permission(ctx, api_id, name, sid, route)
        except lam.exceptions.ResourceNotFoundException:  # `--workflow` left its workflow undeployed
            ctx.say(f"    {name} is not deployed yet: deploy {wf.name} to give it its route")


def _sid(api_id: str, method: str, path: str) -> str:
    return f"api-{api_id}-{method}-{path.strip('/').replace('/', '-')}".replace("{", "").replace("}", "")


def _sids(ctx: Context, function: str) -> set[str]:
    """The statement ids of the permissions on the function's alias."""
    lam = ctx.client("lambda")
    try:
        policy = json.loads(lam.get_policy(FunctionName=function, Qualifier=ctx.env.name)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        return set()
    return {str(s.get("Sid")) for s in policy["Statement"]}


def _add_permission(ctx: Context, api_id: str, name: str, sid: str, route: Route) -> None:
    ctx.client("lambda").add_permission(
        FunctionName=name,
        Qualifier=ctx.env.name,
        StatementId=sid,
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=ctx.names.arn("execute-api", f"{api_id}/*/{route.method}{route.path}"),
    )


def url(ctx: Context) -> str | None:
    api, name = ctx.client("apigatewayv2"), ctx.env.resource_name("api")
    return next((str(a["ApiEndpoint"]) for a in _items(api, "get_apis") if a["Name"] == name), None)


@dataclass(frozen=True)
class KeptRoute:
    """A route of the environment's API that no workflow declares and deploy did not make."""

    key: str
    api_id: str
    route_id: str


def remove_undeclared(ctx: Context, workflows: Iterable[Workflow], functions: set[str]) -> list[KeptRoute]:
    """Delete the routes deploy made on the environment's API that no workflow declares, before
    their functions or state machines go: each with its integration (unless a route that stays
    shares it) and, for a function that stays, the permission that let the route invoke it. A route
    deploy did not make (added by hand) stays, and is returned."""
    api, name = ctx.client("apigatewayv2"), ctx.env.resource_name("api")
    found = [a for a in _items(api, "get_apis") if a["Name"] == name and owned(ctx.env, a.get("Tags", {}))]
    if not found:
        return []
    api_id = found[0]["ApiId"]
    workflows = list(workflows)
    every: list[HttpRoute | Route] = [r for _, r in routes(workflows)] + [r for _, r in served(workflows)]
    declared = {f"{r.method} {r.path}" for r in every}
    listed = ctx.inventory(
        f"routes {api_id}", lambda: {r["RouteKey"]: r for r in _items(api, "get_routes", ApiId=api_id)}
    )
    integrations = {
        key: api.get_integration(ApiId=api_id, IntegrationId=target) if (target := _target(r)) else {}
        for key, r in listed.items()
        if key not in declared
    }
    going = {
        key: listed[key] for key, found in integrations.items() if made(ctx, api_id, key, listed[key], found)
    }
    shared = {_target(r) for key, r in listed.items() if key not in going}
    for key, route in sorted(going.items()):
        target, integration = _target(route), integrations[key]
        if ctx.change("route", key, Action.DELETE, UNDECLARED):
            api.delete_route(ApiId=api_id, RouteId=route["RouteId"])
            if target and target not in shared:
                api.delete_integration(ApiId=api_id, IntegrationId=target)
        function = _function(integration)
        if function in functions:
            method, _, path = key.partition(" ")
            sid = _sid(api_id, method, path)
            if sid in _sids(ctx, function) and ctx.change("permission", sid, Action.DELETE, UNDECLARED):
                ctx.client("lambda").remove_permission(
                    FunctionName=function, Qualifier=ctx.env.name, StatementId=sid
                )
    return [
        KeptRoute(key, api_id, r["RouteId"])
        for key, r in sorted(listed.items())
        if key not in declared and key not in going
    ]


def _target(route: dict[str, Any]) -> str | None:
    target = route.get("Target")
    return str(target).split("/", 1)[1] if target else None


def destroy(ctx: Context) -> None:
    api = ctx.client("apigatewayv2")
    for found in _items(api, "get_apis"):
        mine = found["Name"].startswith(ctx.env.resource_name("")) and owned(ctx.env, found.get("Tags", {}))
        if mine and ctx.change("http api", found["Name"], Action.DELETE):
            api.delete_api(ApiId=found["ApiId"])
