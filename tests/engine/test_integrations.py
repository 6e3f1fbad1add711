"""Service integrations: field names translated to the SDK's, Lambda responses as AWS returns them."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from localcloud import LocalCloud
from localcloud.engine import clients
from tests.engine.conftest import ROLE_ARN, Runner


def test_states_start_execution_uses_step_functions_field_names(
    local_cloud: LocalCloud, run_definition: Runner
) -> None:
    target = local_cloud.client("stepfunctions").create_state_machine(
        name="engine-target",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=ROLE_ARN,
    )["stateMachineArn"]
    run = run_definition(
        {
            "StartAt": "S",
            "States": {
                "S": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:sfn:startExecution",
                    "Parameters": {"StateMachineArn": target, "Input": {"a": 1}},
                    "End": True,
                }
            },
        }
    )
    assert run.status == "SUCCEEDED", run.cause
    assert set(run.output) == {"ExecutionArn", "StartDate"}
    assert isinstance(run.output["StartDate"], str)


def test_lambda_invoke_returns_aws_response_fields(
    deploy_function: Callable[[str], str], run_definition: Runner
) -> None:
    arn = deploy_function("def handler(event, context):\n    return {'got': event}\n")
    run = run_definition(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": arn, "Payload": {"x": 1}},
                    "End": True,
                }
            },
        }
    )
    assert run.status == "SUCCEEDED", run.cause
    out = run.output
    assert out["Payload"] == {"got": {"x": 1}}
    assert out["StatusCode"] == 200
    assert out["ExecutedVersion"] == "$LATEST"
    headers = out["SdkHttpMetadata"]["HttpHeaders"]
    assert headers["Content-Length"] == str(len(json.dumps({"got": {"x": 1}})))
    assert out["SdkHttpMetadata"]["AllHttpHeaders"]["Content-Type"] == ["application/json"]
    assert out["SdkResponseMetadata"]["RequestId"] == headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    ("resource", "separators"),
    [("function-arn", (", ", ": ")), ("arn:aws:states:::lambda:invoke", (",", ":"))],
)
def test_lambda_error_cause_keeps_the_integrations_formatting(
    deploy_function: Callable[[str], str], run_definition: Runner, resource: str, separators: tuple[str, str]
) -> None:
    arn = deploy_function(
        "class Boom(Exception):\n    pass\n\ndef handler(event, context):\n    raise Boom('no')\n"
    )
    task: dict[str, object] = {"Type": "Task", "End": True}
    if resource == "function-arn":
        task["Resource"] = arn
    else:
        task.update(Resource=resource, Parameters={"FunctionName": arn})
    run = run_definition({"StartAt": "T", "States": {"T": task}})
    assert run.error == "Boom"
    assert run.cause is not None
    document = json.loads(run.cause)
    assert run.cause == json.dumps(document, separators=separators)


def test_missing_function_cause_names_the_version(run_definition: Runner) -> None:
    run = run_definition(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "engine-missing"},
                    "End": True,
                }
            },
        }
    )
    assert run.error == "Lambda.ResourceNotFoundException"
    assert run.cause is not None
    assert ":function:engine-missing:$LATEST (Service: AWSLambda; Status Code: 404;" in run.cause


def test_task_clients_are_reused(local_cloud: LocalCloud) -> None:
    assert clients.client_for("us-east-1", "lambda") is clients.client_for("us-east-1", "lambda")
    assert clients.client_for("us-east-1", "lambda") is not clients.client_for("us-east-1", "sqs")


def test_invoke_api_failure_on_a_function_arn_task_is_named_like_aws(run_definition: Runner) -> None:
    run = run_definition(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:engine-absent",
                    "End": True,
                }
            },
        }
    )
    assert run.error == "Lambda.ResourceNotFoundException"
    assert run.types[-2] == "LambdaFunctionFailed"
