"""Run one small definition on the local cloud and return what AWS would show: status, output or
error and cause, and the history."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from localcloud import LocalCloud, execution_roles
from localcloud.engine import clock

ROLE_ARN = "arn:aws:iam::123456789012:role/engine-tests"


@dataclass
class Run:
    status: str
    arn: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def event(self, typ: str) -> dict[str, Any]:
        return next(e for e in self.events if e["type"] == typ)


Runner = Callable[..., Run]


def inline_map(iteration: dict[str, Any], max_concurrency: int = 0) -> dict[str, Any]:
    """A Map state over its input whose iterations run `iteration` ({"StartAt", "States"})."""
    return {
        "Type": "Map",
        "MaxConcurrency": max_concurrency,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **iteration},
    }


def only(state: dict[str, Any]) -> dict[str, Any]:
    """A state machine of that one state."""
    return {"StartAt": "Only", "States": {"Only": {**state, "End": True}}}


@pytest.fixture
def instant_clock() -> Iterator[None]:
    with clock.instant():
        yield


@pytest.fixture
def run_definition(local_cloud: LocalCloud) -> Runner:
    sfn = local_cloud.client("stepfunctions")

    def run(definition: dict[str, Any], inpt: Any = None, sm_type: str = "STANDARD") -> Run:
        arn = sfn.create_state_machine(
            name=f"engine-{uuid.uuid4().hex[:12]}",
            definition=json.dumps(definition),
            roleArn=ROLE_ARN,
            type=sm_type,
        )["stateMachineArn"]
        execution = sfn.start_execution(
            stateMachineArn=arn, input=json.dumps({} if inpt is None else inpt, separators=(",", ":"))
        )
        while (described := sfn.describe_execution(executionArn=execution["executionArn"]))[
            "status"
        ] == "RUNNING":
            time.sleep(0.01)
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution["executionArn"])
        events = [event for page in pages for event in page["events"]]
        output = json.loads(described["output"]) if "output" in described else None
        return Run(
            described["status"],
            execution["executionArn"],
            output,
            described.get("error"),
            described.get("cause"),
            events,
        )

    return run


@pytest.fixture
def deploy_function(local_cloud: LocalCloud) -> Callable[[str], str]:
    """Deploy `code` (a module with handler(event, context)) and return the function's ARN."""
    lam = local_cloud.client("lambda")
    execution_roles.unrestricted_role(local_cloud.client("iam"), ROLE_ARN.rsplit("/", 1)[1])

    def deploy(code: str) -> str:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("handler.py", code)
        name = f"engine-{uuid.uuid4().hex[:12]}"
        arn: str = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=ROLE_ARN,
            Handler="handler.handler",
            Code={"ZipFile": buf.getvalue()},
        )["FunctionArn"]
        return arn

    return deploy
