"""Small Lambda zips built in the test, deployed to the local cloud with boto3."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Any

from localcloud import LocalCloud, execution_roles

ROOT = Path(__file__).resolve().parents[2]

HANDLERS = {
    "echo": """
        import os

        def handler(event, context):
            return {
                "event": event,
                "pid": os.getpid(),
                "function_name": context.function_name,
                "memory": context.memory_limit_in_mb,
                "arn": context.invoked_function_arn,
                "remaining": context.get_remaining_time_in_millis(),
                "greeting": os.environ.get("GREETING"),
                "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
            }
    """,
    "raises": """
        class MyCustomError(Exception):
            pass

        def handler(event, context):
            raise MyCustomError(f"no good: {event.get('why', 'because')}")
    """,
    "sleeps": """
        import os, time

        def handler(event, context):
            time.sleep(event.get("seconds", 0))
            return {"pid": os.getpid()}
    """,
    "prints": """
        import logging

        def handler(event, context):
            print("hello from the handler")
            logging.getLogger().warning("a warning")
            return {"printed": True}
    """,
    "allocates": """
        def handler(event, context):
            block = bytearray(event["mb"] << 20)
            return {"allocated": len(block) >> 20}
    """,
    "marshals": """
        from decimal import Decimal

        def handler(event, context):
            if event["kind"] == "bytes":
                return b'{"raw": "as returned"}'
            if event["kind"] == "binary":
                return bytes([0xFF, 0xFE])
            return {"count": Decimal("3"), "price": Decimal("1.25"), "big": Decimal("12345678901234567890")}
    """,
    "puts": """
        import boto3

        def handler(event, context):
            table = boto3.resource("dynamodb").Table(event["table"])
            table.put_item(Item={"pk": event["pk"], "value": event["value"]})
            return {"stored": event["pk"]}
    """,
    "copies": """
        from urllib.parse import unquote_plus

        import boto3

        def handler(event, context):
            s3 = boto3.client("s3")
            for record in event["Records"]:
                bucket = record["s3"]["bucket"]["name"]
                key = unquote_plus(record["s3"]["object"]["key"])  # S3 events carry it URL-encoded
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                s3.put_object(Bucket=bucket, Key="copies/" + key, Body=body)
    """,
}


def zip_of(source: str, module: str = "app") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module}.py", textwrap.dedent(source))
    return buffer.getvalue()


def on_demand_table(cloud: LocalCloud, name: str, key: str = "pk") -> str:
    """An on-demand DynamoDB table keyed by the string attribute `key`; its name."""
    cloud.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def role(cloud: LocalCloud) -> str:
    """A role that may do anything: these functions test the runtime, not their permissions
    (test_execution_roles.py does)."""
    return execution_roles.unrestricted_role(cloud.client("iam"), "test-role")


def deploy(cloud: LocalCloud, name: str, kind: str, timeout: int = 3, **extra: Any) -> str:
    """Create function `name` running HANDLERS[kind]; return its ARN."""
    return deploy_source(cloud, name, HANDLERS[kind], timeout, **extra)


def deploy_source(cloud: LocalCloud, name: str, source: str, timeout: int = 3, **extra: Any) -> str:
    """Create function `name` whose module app.py is `source` (handler app.handler); return its ARN."""
    response = cloud.client("lambda").create_function(
        **{
            "FunctionName": name,
            "Runtime": "python3.11",
            "Role": role(cloud),
            "Handler": "app.handler",
            "Code": {"ZipFile": zip_of(source)},
            "Timeout": timeout,
            **extra,  # may name its own Role
        }
    )
    arn: str = response["FunctionArn"]
    return arn


def invoke(cloud: LocalCloud, name: str, event: Any = None, **kwargs: Any) -> tuple[Any, str | None]:
    """Invoke without client retries; return (decoded payload, FunctionError)."""
    client = cloud.client("lambda", retries={"max_attempts": 0})
    response = client.invoke(FunctionName=name, Payload=json.dumps(event or {}), **kwargs)
    return json.loads(response["Payload"].read()), response.get("FunctionError")


def state_machine(cloud: LocalCloud, name: str, definition: dict[str, Any], kind: str = "STANDARD") -> str:
    response = cloud.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=role(cloud), type=kind
    )
    arn: str = response["stateMachineArn"]
    return arn


def run(cloud: LocalCloud, machine_arn: str, payload: Any = None, timeout: float = 30) -> dict[str, Any]:
    """Start a (standard) execution and wait for its end; return DescribeExecution."""
    sfn = cloud.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(payload or {}))["executionArn"]
    return wait(cloud, arn, timeout)


def wait(cloud: LocalCloud, execution_arn: str, timeout: float = 30) -> dict[str, Any]:
    sfn = cloud.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.01)
    raise AssertionError(f"{execution_arn} still running after {timeout} s")


def states_entered(cloud: LocalCloud, execution_arn: str) -> list[str]:
    pages = (
        cloud.client("stepfunctions")
        .get_paginator("get_execution_history")
        .paginate(executionArn=execution_arn)
    )
    events = [event for page in pages for event in page["events"]]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def run_python(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """`python -c script args` in a process of its own, importing this checkout: a local cloud
    there starts and stops without this process's, its output read whole."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=timeout,
    )
