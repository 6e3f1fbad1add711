"""Workflow tests: the real definitions with the real handlers, deployed into the local cloud.

    @pytest.fixture(scope="module")
    def app(local_cloud):
        return deploy_workflows(local_cloud, "lottery")   # -> Deployed

    def test_x(app):
        run = app.run("lottery", {"winners": 2})           # -> Run (status, output, states, ...)

A failing `assert run.status == "SUCCEEDED"` says the state the execution failed in, its error and cause.

Every execution a test finishes is kept (tests/counters.py), so that the session can report the path coverage of
each workflow (states, Choice branches, Catch and Retry edges) and fail on an edge no test reached.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import infra
from console.graph.runs import failed_in
from infra.environments import Environment
from localcloud import LocalCloud
from localcloud.engine import clock
from localcloud.lambda_runtime import LambdaRuntime
from tests import counters
from tests.conftest import Inbox
from workflows import get
from workflows.registry import Bucket, Table

# what a failing assert of the shared policy's tests compared, shown as a test module's is
pytest.register_assert_rewrite("tests.workflows.policy_edges")


class Status(str):
    """An execution's status that knows where and why the execution failed: a failing
    `assert run.status == "SUCCEEDED"` says so (pytest_assertrepr_compare), not only 'FAILED'."""

    why: str = ""


@dataclass
class Run:
    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    events: list[dict[str, Any]] = field(repr=False)

    def __post_init__(self) -> None:
        status = Status(self.status)
        if status != "SUCCEEDED":
            where = failed_in(self.events) if status == "FAILED" else None
            status.why = f"{status}{f' in {where!r}' if where else ''}: {self.error}: {self.cause}"
        self.status = status

    @property
    def states(self) -> list[str]:
        """Names of the states entered, in order."""
        return [e["stateEnteredEventDetails"]["name"] for e in self.events if "stateEnteredEventDetails" in e]

    def event_types(self) -> list[str]:
        return [e["type"] for e in self.events]


@dataclass
class Deployed:
    cloud: LocalCloud
    env: Environment
    outputs: dict[str, Any]

    def client(self, service: str) -> Any:
        return self.cloud.client(service)

    def resource(self, workflow: str, logical: str) -> str:
        """Physical name (or ARN) of a workflow's resource."""
        return str(self.outputs[workflow]["resources"][logical])

    def function(self, workflow: str, name: str) -> str:
        """The deployed name of a workflow's function."""
        return str(self.outputs[workflow]["functions"][name]["name"])

    def inject(self, workflow: str, function: str, fault: str, **how: Any) -> None:
        """Make a deployed function fail (see LambdaRuntime.inject for the faults)."""
        self.runtime.inject(self.function(workflow, function), fault, **how)

    def release(self, workflow: str, function: str) -> None:
        """Let the invocations a "hold" fault holds run on."""
        self.runtime.release(self.function(workflow, function))

    def clear_faults(self) -> None:
        self.runtime.clear_faults()

    def empty(self, workflow: str, *resources: str) -> None:
        """Delete every item of the workflow's named tables and every object of its named buckets."""
        declared = get(workflow).resources()
        for logical in resources:
            resource, physical = declared[logical], self.resource(workflow, logical)
            if isinstance(resource, Table):
                self._empty_table(physical, resource)
            elif isinstance(resource, Bucket):
                self._empty_bucket(physical)
            else:
                raise ValueError(f"{workflow}: {logical} is neither a table nor a bucket")

    def _empty_table(self, table: str, declared: Table) -> None:
        dynamodb = self.client("dynamodb")
        keys = [declared.partition_key[0], *([declared.sort_key[0]] if declared.sort_key else [])]
        names = {f"#k{i}": key for i, key in enumerate(keys)}  # a key may be a reserved word ("key")
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=table, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names
        )
        deletes = [{"DeleteRequest": {"Key": item}} for page in pages for item in page["Items"]]
        for i in range(0, len(deletes), 25):  # BatchWriteItem's most
            dynamodb.batch_write_item(RequestItems={table: deletes[i : i + 25]})

    def _empty_bucket(self, bucket: str) -> None:
        s3 = self.client("s3")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])

    @property
    def runtime(self) -> LambdaRuntime:
        assert self.cloud.lambda_runtime is not None
        return self.cloud.lambda_runtime

    def inbox(self, topic_arn: str) -> Inbox:
        return Inbox(self.cloud.client, topic_arn)

    def definition(self, workflow: str) -> dict[str, Any]:
        arn = self.outputs[workflow]["state_machine_arn"]
        return dict(
            json.loads(self.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"])
        )

    def start(self, workflow: str, payload: Any, name: str | None = None) -> str:
        """`workflow#TestCase` starts a mocked test case (see localcloud.mock_config)."""
        workflow, _, case = workflow.partition("#")
        arn = self.outputs[workflow]["state_machine_arn"] + (f"#{case}" if case else "")
        sfn = self.client("stepfunctions")
        return str(
            sfn.start_execution(
                stateMachineArn=arn, name=name or uuid.uuid4().hex, input=json.dumps(payload)
            )["executionArn"]
        )

    def wait(self, execution_arn: str, workflow: str) -> Run:
        sfn = self.client("stepfunctions")
        while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            time.sleep(0.01)
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        events = [event for page in pages for event in page["events"]]
        counters.HISTORIES[workflow].append(events)
        output = json.loads(described["output"]) if described.get("output") else None
        return Run(
            execution_arn, described["status"], output, described.get("error"), described.get("cause"), events
        )

    def run(self, workflow: str, payload: Any, name: str | None = None) -> Run:
        """Start an execution and wait for its end; Wait states and Retry backoff take no real time."""
        with clock.instant():
            return self.wait(self.start(workflow, payload, name), workflow.partition("#")[0])


def deploy_workflows(cloud: LocalCloud, *names: str, settings: dict[str, str] | None = None) -> Deployed:
    """Deploy `names` into a clean local cloud with the project's own deploy code. `settings`
    (parameter names as in the registry, `{app}`/`{env}` included -> values) are written by deploy
    as the local environment's own are, e.g. to point a workflow at a test's fake API."""
    workflows = [get(n) for n in names]  # an unknown name is said with the known ones, before any change
    cloud.reset()
    os.environ.update(cloud.env())
    os.environ["PYFLOWS_ENDPOINT"] = cloud.endpoint
    env = infra.load("local")
    env.give_settings(settings or {})
    infra.deploy(env, workflows=workflows, out=lambda line: None)
    infra.seed(env, workflows, out=lambda line: None)
    return Deployed(cloud, env, infra.outputs(env))


def mocks(test_cases: dict[str, dict[str, dict[str, str]]], responses: dict[str, Any]) -> dict[str, Any]:
    """A mock configuration (localcloud.mock_config) whose test cases are keyed by workflow name
    (an unknown one is said with the known ones): this fills in the local state machine's name."""
    env = infra.load("local")
    return {
        "StateMachines": {
            env.resource_name(get(wf).name): {"TestCases": cases} for wf, cases in test_cases.items()
        },
        "MockedResponses": responses,
    }


def pytest_assertrepr_compare(op: str, left: Any, right: Any) -> list[str] | None:
    status = next((side for side in (left, right) if isinstance(side, Status) and side.why), None)
    if op != "==" or status is None:
        return None
    return [f"{left!r} == {right!r}", f"the execution ended {status.why}"]


@pytest.fixture
def instant_clock() -> Iterator[None]:
    with clock.instant():
        yield
