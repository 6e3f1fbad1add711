"""AWS clients, created lazily and replaceable in tests.

boto3 reads the endpoint from AWS_ENDPOINT_URL, so the same code reaches AWS or the local cloud.
Clients are cached per process: a warm Lambda reuses its connections.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_overrides: dict[str, Any] = {}


@cache
def _client(service: str) -> Any:
    return boto3.client(service)


@cache
def _resource(service: str) -> Any:
    return boto3.resource(service)


def client(service: str) -> Any:
    return _overrides.get(service) or _client(service)


def configured(service: str, config: Config) -> Any:
    """A client of its own, for a caller that needs other settings than the shared one's (a longer
    read, no retry); a test's override of `service` stands for it too. Made anew each call: the
    caller keeps it."""
    return _overrides.get(service) or boto3.client(service, config=config)


def table(name: str) -> Any:
    """A DynamoDB Table resource (Decimal numbers; see tasks.shared.numbers)."""
    override = _overrides.get("dynamodb-resource")
    return (override or _resource("dynamodb")).Table(name)


def override(service: str, client: Any) -> None:
    """Use `client` for `service` ("dynamodb-resource" for the resource API) until `reset()`."""
    _overrides[service] = client


def reset() -> None:
    _overrides.clear()
    _client.cache_clear()
    _resource.cache_clear()
