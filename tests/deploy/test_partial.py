"""A deploy of some workflows (`--workflow`) shares the one API with the others: it keeps the
routes of those deployed and makes none for those that are not."""

from __future__ import annotations

import dataclasses
from typing import Any

import infra
from infra.environments import Environment
from tests.deploy.conftest import environment

ORIGIN = "https://www.example.com"


def routes(env: Environment) -> set[str]:
    api = env.client("apigatewayv2")
    api_id = next(a["ApiId"] for a in api.get_apis()["Items"] if a["Name"] == env.resource_name("api"))
    return {r["RouteKey"] for r in api.get_routes(ApiId=api_id)["Items"]}


def methods(env: Environment) -> set[str]:
    api = env.client("apigatewayv2")
    found = next(a for a in api.get_apis()["Items"] if a["Name"] == env.resource_name("api"))
    return set(found["CorsConfiguration"]["AllowMethods"])


def test_a_partial_deploy_routes_only_what_is_deployed(local_cloud: Any) -> None:
    # CORS names the methods of every route the API serves: one left out would show there
    env = dataclasses.replace(environment(local_cloud.endpoint, "ptest"), cors_origins=(ORIGIN,))

    infra.deploy(env, only=["ride-request"], out=lambda line: None)
    assert routes(env) == {"POST /ride"}  # no /tickets or /etf route leading to no function

    infra.deploy(env, only=["ticket-ranking"], out=lambda line: None)
    assert routes(env) == {"POST /ride", "GET /tickets/search"}
    assert methods(env) == {"GET", "POST"}

    infra.deploy(env, out=lambda line: None)
    every = routes(env)
    assert {"POST /ride", "GET /tickets/search", "POST /etf/subscriptions", "GET /etf/signals"} <= every

    result = infra.deploy(env, only=["ride-request"], out=lambda line: None)
    assert [c for c in result.changed if c.kind in ("route", "http api")] == []
    assert routes(env) == every
    assert methods(env) == {"GET", "POST"}
