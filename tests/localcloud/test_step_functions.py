"""Step Functions on the local cloud: Lambda tasks run the deployed code; the APIs moto lacks."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from localcloud.engine import clock
from tests.localcloud.helpers import deploy, deploy_source, role, run, state_machine, states_entered, wait


def _task_with_catch(
    resource: str, errors: list[str], parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": resource,
        "Catch": [{"ErrorEquals": errors, "ResultPath": "$.error", "Next": "Caught"}],
        "End": True,
    }
    if parameters:
        task["Parameters"] = parameters
    return {
        "StartAt": "Call",
        "States": {"Call": task, "Caught": {"Type": "Pass", "End": True}},
    }


@pytest.mark.parametrize("integration", [False, True], ids=["function-arn", "lambda-invoke"])
def test_task_catches_a_custom_exception_by_name(cloud: LocalCloud, integration: bool) -> None:
    function_arn = deploy(cloud, "raises", "raises")
    if integration:
        definition = _task_with_catch(
            "arn:aws:states:::lambda:invoke",
            ["MyCustomError"],
            {"FunctionName": function_arn, "Payload.$": "$"},
        )
    else:
        definition = _task_with_catch(function_arn, ["MyCustomError"])
    machine = state_machine(cloud, "catcher", definition)

    result = run(cloud, machine, {"why": "tested"})

    assert result["status"] == "SUCCEEDED"
    assert states_entered(cloud, result["executionArn"]) == ["Call", "Caught"]
    error = json.loads(result["output"])["error"]
    assert error["Error"] == "MyCustomError"
    assert json.loads(error["Cause"])["errorMessage"] == "no good: tested"


def test_lambda_invoke_integration_returns_the_payload(cloud: LocalCloud) -> None:
    deploy(cloud, "echo", "echo")
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "echo", "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    machine = state_machine(cloud, "integration", definition)

    result = run(cloud, machine, {"hello": "world"})

    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"])["event"] == {"hello": "world"}


@pytest.mark.parametrize("integration", [False, True], ids=["function-arn", "lambda-invoke"])
def test_alias_qualified_function_arn_runs_the_aliased_version(cloud: LocalCloud, integration: bool) -> None:
    function_arn = deploy(cloud, "echo", "echo")
    client = cloud.client("lambda")
    version = client.publish_version(FunctionName="echo")["Version"]
    client.create_alias(FunctionName="echo", Name="staging", FunctionVersion=version)
    task: dict[str, Any] = {"Type": "Task", "Resource": f"{function_arn}:staging", "End": True}
    if integration:
        task["Resource"] = "arn:aws:states:::lambda:invoke"
        task["Parameters"] = {"FunctionName": f"{function_arn}:staging", "Payload.$": "$"}
        task["OutputPath"] = "$.Payload"
    machine = state_machine(cloud, "aliased", {"StartAt": "Call", "States": {"Call": task}})

    result = run(cloud, machine, {"via": "alias"})

    assert result["status"] == "SUCCEEDED"
    output = json.loads(result["output"])
    assert output["event"] == {"via": "alias"}
    assert output["arn"] == f"{function_arn}:staging"  # the ARN it was invoked by, as on AWS


def test_state_machine_sees_the_lambda_timeout(cloud: LocalCloud) -> None:
    function_arn = deploy(cloud, "sleeper", "sleeps", timeout=1)
    machine = state_machine(cloud, "timeouts", _task_with_catch(function_arn, ["Sandbox.Timedout"]))

    result = run(cloud, machine, {"seconds": 30})

    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"])["error"]["Error"] == "Sandbox.Timedout"


@pytest.mark.parametrize(
    "integration",
    [True, False],
    ids=["lambda-invoke", "function-arn"],
)
def test_throttle_surfaces_as_lambda_too_many_requests(cloud: LocalCloud, integration: bool) -> None:
    function_arn = deploy(cloud, "echo", "echo")
    cloud.lambda_runtime.inject("echo", "throttle")  # type: ignore[union-attr]
    if integration:
        definition = _task_with_catch(
            "arn:aws:states:::lambda:invoke", ["Lambda.TooManyRequestsException"], {"FunctionName": "echo"}
        )
    else:
        definition = _task_with_catch(function_arn, ["Lambda.TooManyRequestsException"])
    machine = state_machine(cloud, "throttled", definition)

    result = run(cloud, machine)

    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"])["error"]["Error"] == "Lambda.TooManyRequestsException"


def test_start_sync_execution_on_express(cloud: LocalCloud) -> None:
    deploy(cloud, "echo", "echo")
    deploy(cloud, "raises", "raises")
    sfn = cloud.client("stepfunctions")
    ok = state_machine(
        cloud,
        "express-ok",
        {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo",
                    "ResultSelector": {"event.$": "$.event"},
                    "End": True,
                }
            },
        },
        kind="EXPRESS",
    )
    failing = state_machine(
        cloud,
        "express-fail",
        {
            "StartAt": "Call",
            "States": {
                "Call": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:raises",
                    "End": True,
                }
            },
        },
        kind="EXPRESS",
    )

    succeeded = sfn.start_sync_execution(stateMachineArn=ok, name="run-1", input='{"a": 1}')
    failed = sfn.start_sync_execution(stateMachineArn=failing, input="{}")

    assert succeeded["status"] == "SUCCEEDED"
    assert succeeded["name"] == "run-1"
    assert succeeded["stateMachineArn"] == ok
    assert json.loads(succeeded["output"]) == {"event": {"a": 1}}
    assert json.loads(succeeded["input"]) == {"a": 1}
    assert succeeded["stopDate"] >= succeeded["startDate"]
    assert succeeded["billingDetails"]["billedDurationInMilliseconds"] >= 100
    assert failed["status"] == "FAILED"
    assert failed["error"] == "MyCustomError"
    assert "no good" in failed["cause"]
    assert "output" not in failed


def test_express_executions_started_with_one_name_are_distinct_and_each_found(cloud: LocalCloud) -> None:
    """Express names need not be unique: each start is a new execution, with AWS's ARN of its own
    (express:<machine>:<name>:<id>), which DescribeExecution and GetExecutionHistory find."""
    sfn = cloud.client("stepfunctions")
    machine = state_machine(
        cloud, "express-names", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "EXPRESS"
    )
    prefix = machine.replace(":stateMachine:", ":express:") + ":same1:"

    synced = [
        sfn.start_sync_execution(stateMachineArn=machine, name="same1", input=json.dumps({"n": n}))
        for n in (1, 2)
    ]
    started = [
        sfn.start_execution(stateMachineArn=machine, name="same1", input=json.dumps({"n": n})) for n in (3, 4)
    ]

    arns = [e["executionArn"] for e in synced + started]
    assert len(set(arns)) == 4
    for arn in arns:
        assert arn.startswith(prefix)
        uuid.UUID(arn.removeprefix(prefix))
    for n, arn in enumerate(arns, 1):
        described = wait(cloud, arn)
        assert (described["name"], json.loads(described["input"])) == ("same1", {"n": n})
        events = sfn.get_execution_history(executionArn=arn)["events"]
        assert json.loads(events[0]["executionStartedEventDetails"]["input"]) == {"n": n}
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert sorted(e["executionArn"] for e in listed) == sorted(arns)


def test_a_standard_start_with_a_running_executions_name_and_input_is_that_execution(
    cloud: LocalCloud,
) -> None:
    sfn = cloud.client("stepfunctions")
    machine = state_machine(
        cloud,
        "standard-names",
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}},
    )

    first = sfn.start_execution(stateMachineArn=machine, name="same1", input="{}")["executionArn"]
    again = sfn.start_execution(stateMachineArn=machine, name="same1", input="{}")["executionArn"]

    assert first == again == machine.replace(":stateMachine:", ":execution:") + ":same1"
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(stateMachineArn=machine, name="same1", input='{"other": 1}')
    sfn.stop_execution(executionArn=first)


def test_start_sync_execution_refuses_standard(cloud: LocalCloud) -> None:
    machine = state_machine(
        cloud, "standard", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    with pytest.raises(ClientError) as raised:
        cloud.client("stepfunctions").start_sync_execution(stateMachineArn=machine, input="{}")
    assert raised.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"


def test_start_execution_without_name_gets_a_uuid(cloud: LocalCloud) -> None:
    machine = state_machine(cloud, "pass", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    sfn = cloud.client("stepfunctions")

    first = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    second = sfn.start_execution(stateMachineArn=machine)["executionArn"]

    assert first != second
    uuid.UUID(first.rsplit(":", 1)[1])


def test_executions_of_a_version_and_an_alias(cloud: LocalCloud) -> None:
    sfn = cloud.client("stepfunctions")
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    version_arn = sfn.create_state_machine(
        name="versioned", definition=json.dumps(definition), roleArn=role(cloud), publish=True
    )["stateMachineVersionArn"]
    alias_arn = sfn.create_state_machine_alias(
        name="prod", routingConfiguration=[{"stateMachineVersionArn": version_arn, "weight": 100}]
    )["stateMachineAliasArn"]

    by_version = run(cloud, version_arn, {"v": 1})
    by_alias = run(cloud, alias_arn, {"v": 2})

    assert by_version["status"] == by_alias["status"] == "SUCCEEDED"
    assert json.loads(by_alias["output"]) == {"v": 2}


def test_plain_boto3_client_from_the_environment_can_start_sync_executions(cloud: LocalCloud) -> None:

    machine = state_machine(
        cloud, "plain", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "EXPRESS"
    )

    result = boto3.client("stepfunctions").start_sync_execution(stateMachineArn=machine, input='{"x": 1}')

    assert result["status"] == "SUCCEEDED"


def test_creating_a_state_machine_again_is_idempotent_only_with_the_same_definition(
    cloud: LocalCloud,
) -> None:
    sfn = cloud.client("stepfunctions")
    first = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "first", "End": True}}}
    arn = state_machine(cloud, "twice", first)
    assert state_machine(cloud, "twice", first) == arn
    changed = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "changed", "End": True}}}
    with pytest.raises(ClientError) as refused:
        state_machine(cloud, "twice", changed)
    assert refused.value.response["Error"]["Code"] == "StateMachineAlreadyExists"
    assert refused.value.response["Error"]["Message"] == f"State Machine Already Exists: '{arn}'"
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists):
        state_machine(cloud, "twice", first, kind="EXPRESS")
    traced = {"name": "twice", "definition": json.dumps(first), "roleArn": role(cloud)}
    with pytest.raises(sfn.exceptions.StateMachineAlreadyExists):
        sfn.create_state_machine(**traced, tracingConfiguration={"enabled": True})
    other_role = "arn:aws:iam::123456789012:role/another"  # AWS ignores a different role or tags
    assert sfn.create_state_machine(**{**traced, "roleArn": other_role})["stateMachineArn"] == arn
    assert json.loads(run(cloud, arn)["output"]) == "first"


@pytest.mark.parametrize("name", ["bad name", "a/b", "x" * 81, "tab\there"])
def test_an_execution_name_aws_would_refuse_is_refused(cloud: LocalCloud, name: str) -> None:
    sfn = cloud.client("stepfunctions")
    arn = state_machine(cloud, "names", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    express = state_machine(
        cloud,
        "names-express",
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        kind="EXPRESS",
    )
    for start in (sfn.start_execution, sfn.start_sync_execution):
        with pytest.raises(ClientError) as refused:
            start(stateMachineArn=arn if start == sfn.start_execution else express, name=name, input="{}")
        assert refused.value.response["Error"]["Code"] in ("InvalidName", "ValidationException"), name
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == []


def test_describe_says_whether_an_execution_redrives_and_express_ones_never_do(cloud: LocalCloud) -> None:
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Broken"}}}
    sfn = cloud.client("stepfunctions")
    standard = state_machine(cloud, f"redrivable-{uuid.uuid4().hex[:6]}", failing)
    express = state_machine(cloud, f"express-redrive-{uuid.uuid4().hex[:6]}", failing, kind="EXPRESS")
    passed = state_machine(
        cloud,
        f"passing-{uuid.uuid4().hex[:6]}",
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
    )

    failed, succeeded = run(cloud, standard), run(cloud, passed)
    express_run = run(cloud, express)

    assert failed["status"] == express_run["status"] == "FAILED"
    assert failed["redriveStatus"] == "REDRIVABLE" and "redriveStatusReason" not in failed
    assert succeeded["redriveStatus"] == "NOT_REDRIVABLE"
    assert succeeded["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven."
    assert express_run["redriveStatus"] == "NOT_REDRIVABLE"
    assert "EXPRESS" in express_run["redriveStatusReason"]
    with pytest.raises(ClientError) as refused:
        sfn.redrive_execution(executionArn=express_run["executionArn"])
    assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    assert "EXPRESS" in refused.value.response["Error"]["Message"]
    assert sfn.describe_execution(executionArn=express_run["executionArn"]).get("redriveCount", 0) == 0
    sfn.redrive_execution(executionArn=failed["executionArn"])  # a Standard one does


def _history(cloud: LocalCloud, execution_arn: str) -> list[dict[str, Any]]:
    pages = (
        cloud.client("stepfunctions")
        .get_paginator("get_execution_history")
        .paginate(executionArn=execution_arn)
    )
    return [event for page in pages for event in page["events"]]


def test_a_redrive_reruns_only_the_state_that_failed_with_the_input_it_had(cloud: LocalCloud) -> None:
    fails_twice = """
        import json, os

        def handler(event, context):
            marker = "/tmp/" + context.function_name
            calls = int(open(marker).read()) if os.path.exists(marker) else 0
            open(marker, "w").write(str(calls + 1))
            if calls < 2:
                raise RuntimeError(f"call {calls + 1} fails")
            return {"received": event}
    """
    function = deploy_source(cloud, f"fails-twice-{uuid.uuid4().hex[:8]}", fails_twice)
    definition = {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": "done", "ResultPath": "$.prepared", "Next": "Call"},
            "Call": {"Type": "Task", "Resource": function, "End": True},
        },
    }
    sfn = cloud.client("stepfunctions")
    failed = run(cloud, state_machine(cloud, f"redriven-{uuid.uuid4().hex[:6]}", definition), {"n": 1})
    arn = failed["executionArn"]
    assert failed["status"] == "FAILED"

    for count in (1, 2):
        sfn.redrive_execution(executionArn=arn)
        ended = wait(cloud, arn)
        assert ended["redriveCount"] == count

    assert ended["status"] == "SUCCEEDED"
    assert json.loads(ended["output"]) == {"received": {"n": 1, "prepared": "done"}}
    events = _history(cloud, arn)
    redriven = [e for e in events if e["type"] == "ExecutionRedriven"]
    assert [e["executionRedrivenEventDetails"]["redriveCount"] for e in redriven] == [1, 2]
    after_first = events[events.index(redriven[0]) :]
    entered = [e["stateEnteredEventDetails"]["name"] for e in after_first if "stateEnteredEventDetails" in e]
    assert entered == ["Call", "Call"]


def test_an_execution_that_timed_out_can_be_redriven(cloud: LocalCloud) -> None:
    definition = {
        "TimeoutSeconds": 1,
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}},
    }
    with clock.instant():
        timed_out = run(cloud, state_machine(cloud, f"timed-out-{uuid.uuid4().hex[:6]}", definition))

    assert timed_out["status"] == "TIMED_OUT"
    assert timed_out["redriveStatus"] == "REDRIVABLE"


def test_an_alias_routes_executions_by_its_weights(cloud: LocalCloud) -> None:
    sfn = cloud.client("stepfunctions")

    def answering(result: str) -> str:
        return json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": result, "End": True}}})

    created = sfn.create_state_machine(
        name=f"routed-{uuid.uuid4().hex[:6]}",
        definition=answering("first"),
        roleArn=role(cloud),
        publish=True,
    )
    second = sfn.update_state_machine(
        stateMachineArn=created["stateMachineArn"], definition=answering("second"), publish=True
    )
    versions = [created["stateMachineVersionArn"], second["stateMachineVersionArn"]]
    alias = sfn.create_state_machine_alias(
        name="canary",
        routingConfiguration=[
            {"stateMachineVersionArn": versions[0], "weight": 0},
            {"stateMachineVersionArn": versions[1], "weight": 100},
        ],
    )["stateMachineAliasArn"]

    outputs = {json.loads(run(cloud, alias)["output"]) for _ in range(5)}

    assert outputs == {"second"}


def test_a_sync_execution_is_billed_in_100_ms_steps_of_64_mb(cloud: LocalCloud) -> None:
    machine = state_machine(
        cloud,
        f"billed-{uuid.uuid4().hex[:6]}",
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}},
        kind="EXPRESS",
    )

    with clock.speed(20):
        billed = cloud.client("stepfunctions").start_sync_execution(stateMachineArn=machine)["billingDetails"]

    assert billed["billedMemoryUsedInMB"] == 64
    assert billed["billedDurationInMilliseconds"] >= 1000
    assert billed["billedDurationInMilliseconds"] % 100 == 0
