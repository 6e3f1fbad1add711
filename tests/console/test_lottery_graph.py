"""The execution graph of the real lottery on the local cloud: retries, Parallel branches, live states."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from infra.environments import Environment
from localcloud import LocalCloud
from tests.console.conftest import wait_for

HELD_SECONDS = 0.5  # how long Check Past Winners is held once seen running


@pytest.fixture
def lottery_client(lottery_app: Flask, local_cloud: LocalCloud) -> Iterator[FlaskClient]:
    with lottery_app.test_client() as client:
        yield client
    assert local_cloud.lambda_runtime is not None
    local_cloud.lambda_runtime.clear_faults()


def graph_of(client: FlaskClient, arn: str) -> dict[str, Any]:
    return dict(client.get(f"/api/executions/{arn}/graph").get_json())


def test_a_retried_task_and_a_running_state(
    lottery_client: FlaskClient, local_cloud: LocalCloud, lottery: Environment
) -> None:
    # No past winners: the draw must not redraw, so "Check Past Winners" runs once, slowly.
    dynamodb, table = lottery.client("dynamodb"), lottery.resource_name("lottery", "winners")
    for item in dynamodb.scan(TableName=table)["Items"]:
        dynamodb.delete_item(TableName=table, Key={"employee_id": item["employee_id"]})
    runtime = local_cloud.lambda_runtime
    assert runtime is not None
    runtime.inject(lottery.resource_name("lottery", "draw-winners"), "service_error", times=1)
    check = lottery.resource_name("lottery", "check-winners")
    runtime.inject(check, "hold", times=1)
    started = lottery_client.post(
        "/api/workflows/lottery/executions", json={"input": {"winners": 1, "seed": 5}}
    )
    arn = started.get_json()["executionArn"]

    running = wait_for(
        lambda: (
            (g := graph_of(lottery_client, arn))["states"]["Check Past Winners"]["status"] == "running" and g
        )
    )
    assert running["states"]["Validate Request"]["status"] == "succeeded"
    assert running["states"]["Draw Complete"]["status"] == "not_reached"
    assert running["execution"]["status"] == "RUNNING"
    time.sleep(HELD_SECONDS)  # a span the state's duration must cover
    runtime.release(check)

    done = wait_for(
        lambda: (g := graph_of(lottery_client, arn))["execution"]["status"] != "RUNNING" and g, timeout=60
    )
    assert done["execution"]["status"] == "SUCCEEDED"
    states = done["states"]
    draw = states["Draw Winners"]
    assert (draw["status"], draw["retries"], draw["error"]) == ("retried", 1, "Lambda.ServiceException")
    assert len(draw["output"]["selection"]["winners"]) == 1
    assert states["Check Past Winners"]["status"] == "succeeded"
    assert states["Check Past Winners"]["durationMs"] >= HELD_SECONDS * 1000
    assert states["Record Winners"]["status"] == states["Notify Winners"]["status"] == "succeeded"
    for name in ("Count Redraw", "Redraw Limit Reached", "Not Announced", "Alert Failure", "Failed"):
        assert states[name]["status"] == "not_reached", name
