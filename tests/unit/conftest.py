"""Unit tests run handlers in-process against moto's in-memory AWS (no server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto import mock_aws

from infra import tables
from tasks.shared import clients
from workflows.registry import DATA_DIR, Table


@pytest.fixture(autouse=True)
def _powertools_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "pyflows-tests")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "unit")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        clients.reset()
        yield
    clients.reset()


def create_table(table: Table, name: str) -> Any:
    """A moto table shaped like the registry's declaration, as deploy creates it."""
    return boto3.resource("dynamodb").create_table(**tables.shape(table, name))


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
