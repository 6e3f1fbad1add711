"""The workflows' own routes served by the console on the local cloud, as API Gateway serves them
on AWS: ride-request's POST /ride (its API host: JWT check, synchronous Express execution) and
etf-signal's routes (answered by its deployed Lambda functions)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

import infra
from console.app import create_app
from console.authorizer import local_token
from infra.environments import Environment
from localcloud import LocalCloud
from workflows import WORKFLOWS


@pytest.fixture(scope="module")
def routes_app(console_env: Environment) -> Flask:
    workflows = [WORKFLOWS["ride-request"], WORKFLOWS["etf-signal"]]
    infra.deploy(console_env, workflows=workflows, out=lambda line: None)
    infra.seed(console_env, workflows, out=lambda line: None)
    return create_app(console_env)


@pytest.fixture
def client(routes_app: Flask) -> Iterator[FlaskClient]:
    with routes_app.test_client() as test_client:
        yield test_client


@pytest.fixture(scope="module")
def rider_token(routes_app: Flask, console_env: Environment) -> str:
    """An ID token of a rider of the environment's user pool (what the app's sign-in gives)."""
    return local_token(console_env, "rider-ada")


def test_post_ride_answers_201_with_the_ride(client: FlaskClient, rider_token: str) -> None:
    body = {"request_id": "console-ride-0001", "pickup": {"latitude": 47.6, "longitude": -122.3}}
    response = client.post("/ride", json=body, headers={"Authorization": f"Bearer {rider_token}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    ride = response.get_json()
    assert ride["rider"] == "rider-ada"
    assert ride["request_id"] == "console-ride-0001"
    assert ride["fare"]["total_cents"] > 0


def test_post_ride_without_a_token_or_with_bad_input(client: FlaskClient, rider_token: str) -> None:
    body = {"request_id": "console-ride-0002", "pickup": {"latitude": 47.6, "longitude": -122.3}}
    assert client.post("/ride", json=body).status_code == 401
    bad = client.post("/ride", json={"request_id": "x"}, headers={"Authorization": f"Bearer {rider_token}"})
    assert bad.status_code == 400


def test_a_route_whose_function_is_throttled_answers_500_once_without_a_retry(
    client: FlaskClient, rider_token: str, console_env: Environment, local_cloud: LocalCloud
) -> None:
    """API Gateway invokes its integration once: a throttle is the caller's 500, and the next
    request, no longer throttled, is served."""
    runtime, function = local_cloud.lambda_runtime, console_env.resource_name("ride-request", "api-ride")
    assert runtime is not None
    body = {"request_id": "console-ride-0003", "pickup": {"latitude": 47.6, "longitude": -122.3}}
    headers = {"Authorization": f"Bearer {rider_token}"}
    runtime.inject(function, "throttle", times=1)
    try:
        throttled = client.post("/ride", json=body, headers=headers)
    finally:
        runtime.clear_faults(function)
    assert (throttled.status_code, throttled.get_json()) == (500, {"message": "Internal Server Error"})
    assert client.post("/ride", json=body, headers=headers).status_code == 201


def test_a_wrong_method_or_path_is_answered_in_json(client: FlaskClient) -> None:
    wrong = client.get("/ride")
    assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]
    assert wrong.get_json() == {
        "error": "MethodNotAllowed",
        "message": "GET is not allowed on /ride: use POST",
    }
    missing = client.get("/no-such-route")
    assert missing.status_code == 404 and missing.get_json()["error"] == "NotFound"


def test_etf_routes_are_answered_by_the_deployed_functions(client: FlaskClient) -> None:
    assert client.get("/etf/signals").get_json() == {"dates": []}
    subscribed = client.post("/etf/subscriptions", json={"email": "ada@example.com"})
    assert subscribed.status_code == 202
    assert subscribed.get_json()["status"] == "pending confirmation"
    assert client.get("/etf/signals/2026-01-02").status_code == 404


def test_the_served_openapi_document_lists_the_workflow_routes(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    assert paths["/ride"]["post"]["summary"] == "ride-request: answered by api-ride"
    assert paths["/ride"]["post"]["security"] == [{"cognitoJwt": []}]
    assert "security" not in paths["/etf/signals/{date}"]["get"]
    assert paths["/etf/signals/{date}"]["get"]["parameters"][0]["name"] == "date"
    assert paths["/etf/subscriptions"]["post"]["summary"] == "etf-signal: answered by api-subscribe"


def test_schedules_and_routes_are_listed_and_a_schedule_off_here_says_so(client: FlaskClient) -> None:
    found = {w["name"]: w for w in client.get("/api/workflows").get_json()["workflows"]}
    # the local environment deploys its schedules disabled (environments.toml: schedules = false)
    assert found["ticket-ranking"]["triggers"] == [
        {"kind": "schedule", "expression": "rate(30 minutes)", "timezone": "UTC", "enabled": False}
    ]
    [etf] = found["etf-signal"]["triggers"]
    assert (etf["expression"], etf["timezone"]) == ("cron(30 17 ? * MON-FRI *)", "Asia/Shanghai")
    assert found["ride-request"]["routes"] == [
        {"method": "POST", "path": "/ride", "function": "api-ride", "auth": True}
    ]


def test_pages_that_cors_origins_names_may_call_the_routes_from_their_scripts(
    routes_app: Flask, console_env: Environment, rider_token: str
) -> None:
    """As API Gateway with the API's CORS configuration: it answers the preflight itself (no token
    needed), and names an allowed page's origin on the route's answer; another page gets no such
    header, so its browser withholds the answer (and, after a failed preflight, sends nothing)."""
    page = "https://rides.example.com"
    app = create_app(dataclasses.replace(console_env, cors_origins=(page, "http://localhost:3000")))
    client = app.test_client()
    asked = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }

    preflight = client.options("/ride", headers={"Origin": page, **asked})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == page
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert preflight.headers["Access-Control-Allow-Headers"] == "authorization,content-type"
    assert preflight.headers["Access-Control-Max-Age"] == "300"
    other = client.options("/ride", headers={"Origin": "https://evil.example", **asked})
    assert other.status_code == 204 and "Access-Control-Allow-Origin" not in other.headers

    body = {"request_id": "console-ride-cors", "pickup": {"latitude": 47.6, "longitude": -122.3}}
    ride = client.post("/ride", json=body, headers={"Origin": page, "Authorization": f"Bearer {rider_token}"})
    assert ride.status_code == 201
    assert (ride.headers["Access-Control-Allow-Origin"], ride.headers["Vary"]) == (page, "Origin")
    unauthorised = client.post("/ride", json=body, headers={"Origin": page})
    assert unauthorised.status_code == 401 and unauthorised.headers["Access-Control-Allow-Origin"] == page
    signals = client.get("/etf/signals/2026-01-02", headers={"Origin": "https://evil.example"})
    assert signals.status_code == 404 and "Access-Control-Allow-Origin" not in signals.headers

    anyone = create_app(dataclasses.replace(console_env, cors_origins=("*",))).test_client()
    assert anyone.get("/etf/signals", headers={"Origin": page}).headers["Access-Control-Allow-Origin"] == "*"


def test_without_cors_origins_no_page_of_another_origin_may_read_a_route(client: FlaskClient) -> None:
    assert (
        "Access-Control-Allow-Origin"
        not in client.get("/etf/signals", headers={"Origin": "https://x.example"}).headers
    )
    preflight = client.options(
        "/ride", headers={"Origin": "https://x.example", "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
