"""Unit tests run handlers in-process against moto's in-memory AWS (no server)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto import mock_aws

from infra import tables
from infra.environments import Environment
from localcloud import dynamodb_speed
from tasks.shared import clients
from workflows.registry import DATA_DIR, Function, Table

# The environment the handlers' run-time settings are named for (`/pyflows/test/...`).
TEST_ENV = Environment(
    app="pyflows",
    name="test",
    region="us-east-1",
    endpoint=None,
    log_level="INFO",
    schedules=False,
    alert_email=None,
    confirm=False,
)


@pytest.fixture(autouse=True)
def _powertools_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "pyflows-tests")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "unit")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def aws() -> Iterator[None]:
    # moto's DynamoDB as the local cloud serves it: the same answers, without the serialising cost
    # that grows with an item (seconds for a performance's ranking of thousands of listings)
    dynamodb_speed.install()
    with mock_aws():
        clients.reset()
        yield
    clients.reset()


def create_table(table: Table, name: str) -> Any:
    """A moto table shaped like the registry's declaration, as deploy creates it."""
    return boto3.resource("dynamodb").create_table(**tables.shape(table, name))


def handler_environment(
    monkeypatch: pytest.MonkeyPatch, functions: Iterable[Function], resources: Mapping[str, str]
) -> None:
    """Sets the variables `functions` read, named as the registry declares them: each variable of a
    resource in `resources` (logical name -> the test's name or ARN for it) to that value, and each
    run-time setting to its name in TEST_ENV, as deploy names it."""
    functions = tuple(functions)
    variables = {var: logical for fn in functions for var, logical in fn.environment.items()}
    unread = set(resources) - set(variables.values())
    assert not unread, f"none of the functions reads {sorted(unread)}"
    for var, logical in variables.items():
        if logical in resources:
            monkeypatch.setenv(var, resources[logical])
    for fn in functions:
        for var, template in fn.parameters.items():
            monkeypatch.setenv(var, TEST_ENV.setting_name(template))


def seed_items(table: Table) -> list[dict[str, Any]]:
    assert table.seed, f"table {table.name} has no seed data"
    items: list[dict[str, Any]] = json.loads((DATA_DIR / table.seed).read_text())
    return items


def lambda_context(function_name: str = "unit-test") -> LambdaContext:
    """A LambdaContext with the attributes Powertools reads."""
    context = LambdaContext()
    context._function_name = function_name
    context._memory_limit_in_mb = 256
    context._invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
    context._aws_request_id = "00000000-0000-0000-0000-000000000000"
    return context


@pytest.fixture
def context() -> LambdaContext:
    return lambda_context()


def envelope(
    payload: dict[str, Any], execution: str = "arn:aws:states:us-east-1:123456789012:execution:t:e1"
) -> dict[str, Any]:
    return {"execution": execution, "input": payload}
