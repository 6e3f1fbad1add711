"""One boto3 client per (service, region, endpoint), reused by every Task state.

moto builds a new boto3 client for every Task it runs (about 2 ms each, and boto3's default
session is not safe to build clients from concurrently). Clients are thread-safe once built, so
they are created once under a lock and shared. The endpoint is part of the key: moto reads
MOTO_PORT at each call and a test may start a new local cloud on another port.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks

_ASL = "moto.stepfunctions.parser.asl"
# Every module that did `from ...boto_client import boto_client_for` holds its own reference.
_USERS = (
    "component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
    "component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "component.state.exec.state_task.lambda_eval_utils",
    "component.state.exec.state_task.service.state_task_service_unsupported",
    "component.state.exec.state_task.service.state_task_service_glue",
    "component.state.exec.state_task.service.state_task_service_events",
    "component.state.exec.state_task.service.state_task_service_ecs",
    "component.state.exec.state_task.service.state_task_service_sqs",
    "component.state.exec.state_task.service.state_task_service_sfn",
    "component.state.exec.state_task.service.state_task_service_dynamodb",
    "component.state.exec.state_task.service.state_task_service_batch",
    "component.state.exec.state_task.service.state_task_service_sns",
    "component.state.exec.state_task.service.state_task_service_aws_sdk",
)

_clients: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def _stubbed() -> bool:
    from moto.core.models import botocore_stubber

    return bool(botocore_stubber.enabled)


def _shared(make: Callable[..., Any]) -> Callable[..., Any]:
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        key = (region, service, os.environ.get("MOTO_PORT"), _stubbed())
        client = _clients.get(key)
        if client is None:
            with _lock:
                client = _clients.get(key)
                if client is None:
                    client = _clients[key] = make(
                        region=region, service=service, state_credentials=state_credentials
                    )
        return client

    return boto_client_for


def client_for(region: str, service: str) -> Any:
    """The shared client the engine's Task states use."""
    from moto.stepfunctions.parser.asl.utils import boto_client

    return boto_client.boto_client_for(region=region, service=service)


def install() -> None:
    _hooks.resolve("moto.core.models:botocore_stubber")
    _hooks.patch(f"{_ASL}.utils.boto_client:boto_client_for", _shared)
    for module in _USERS:
        _hooks.patch(f"{_ASL}.{module}:boto_client_for", _shared)
