"""Console fixtures: the session's local cloud with the test workflows' state machines, an app on it."""

from __future__ import annotations

import dataclasses
import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import infra
from console.app import create_app
from console.service import ExecutionService
from infra.environments import Environment, load
from localcloud import LocalCloud, redrive
from tests.console import workflows as test_workflows
from workflows import WORKFLOWS

ROLE = "arn:aws:iam::123456789012:role/console-tests"


@pytest.fixture(scope="module")
def console_env(local_cloud: LocalCloud) -> Environment:
    """The `local` environment, pointed at the session's local cloud (with RedriveExecution added)."""
    redrive.install()
    env = load("local")
    return dataclasses.replace(env, endpoint=local_cloud.endpoint)


@pytest.fixture(scope="module")
def test_machines(console_env: Environment) -> dict[str, str]:
    """The test workflows' state machines, created (once per module) in the local cloud."""
    sfn = console_env.client("stepfunctions")
    existing = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    arns = {}
    for name, definition in test_workflows.DEFINITIONS.items():
        machine = console_env.resource_name(name)
        if machine in existing:
            arns[name] = existing[machine]
            continue
        created = sfn.create_state_machine(name=machine, definition=json.dumps(definition), roleArn=ROLE)
        arns[name] = created["stateMachineArn"]
    return arns


@pytest.fixture(scope="module")
def echo_function(console_env: Environment) -> str:
    """The test workflow `shapes`'s `echo` function, deployed as a Lambda zip."""
    name = console_env.resource_name("shapes", "echo")
    client = console_env.client("lambda")
    try:
        client.get_function(FunctionName=name)
        return name
    except client.exceptions.ResourceNotFoundException:
        pass
    trust = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
    }
    iam = console_env.client("iam")
    try:
        role = iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("echo.py", test_workflows.ECHO_SOURCE)
    client.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="echo.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


@pytest.fixture(scope="module")
def service(console_env: Environment, test_machines: dict[str, str], echo_function: str) -> ExecutionService:
    return ExecutionService(console_env, test_workflows.WORKFLOWS)


@pytest.fixture(scope="module")
def app(console_env: Environment, service: ExecutionService) -> Flask:
    return create_app(console_env, test_workflows.WORKFLOWS, service)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as test_client:
        yield test_client


def wait_for(check: Callable[[], Any], timeout: float = 30.0, every: float = 0.2) -> Any:
    """Poll `check` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"still waiting after {timeout}s")


def fail_the_lottery(
    lottery: Environment, local_cloud: LocalCloud, start_it: Callable[[], str], error: str | None = None
) -> tuple[str, str]:
    """A lottery run (`start_it` starts it, returning its ARN) whose draw fails with `error`, by
    default one of its own: the system's failure, alerted, and then the first of its error in the
    hour, so emailed. Its ARN and error."""
    runtime, draw = local_cloud.lambda_runtime, lottery.resource_name("lottery", "draw-winners")
    assert runtime is not None
    error = error or f"AlertedError{uuid.uuid4().hex[:6]}"
    runtime.inject(draw, "error", times=1, error_type=error, message="no employee has lottery_serial 7")
    try:
        arn = start_it()
        service = ExecutionService(lottery, WORKFLOWS)
        assert (
            wait_for(lambda: (d := service.describe(arn))["status"] != "RUNNING" and d)["status"] == "FAILED"
        )
    finally:
        runtime.clear_faults(draw)
    return arn, error


@pytest.fixture
def finished(service: ExecutionService) -> Callable[[str], dict[str, Any]]:
    """Wait for an execution to end and return its description."""

    def wait(arn: str) -> dict[str, Any]:
        return dict(wait_for(lambda: (d := service.describe(arn))["status"] != "RUNNING" and d))

    return wait


@pytest.fixture(scope="module")
def lottery(console_env: Environment, monkeypatch_module: pytest.MonkeyPatch) -> Environment:
    """The lottery deployed (with its demo employees) on the local cloud, as `deploy.py --env local` does.
    PYFLOWS_ENDPOINT points `infra.environments.load("local")` (the CLI, the console) at it."""
    workflow = WORKFLOWS["lottery"]
    infra.deploy(console_env, workflows=[workflow], out=lambda line: None)
    infra.seed(console_env, [workflow], out=lambda line: None)
    monkeypatch_module.setenv("PYFLOWS_ENDPOINT", str(console_env.endpoint))
    return console_env


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def lottery_app(lottery: Environment) -> Flask:
    return create_app(lottery)
