"""Service integrations: field names translated to the SDK's, Lambda responses as AWS returns them."""

from __future__ import annotations

import base64
import email.utils
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud, metering
from localcloud.engine import clients, lambda_invoke
from tests.engine.conftest import ROLE_ARN, Runner, only


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


def test_optimized_integrations_answer_with_the_http_metadata_aws_adds(
    local_cloud: LocalCloud, run_definition: Runner
) -> None:
    """sns, sqs, dynamodb and states:startExecution (request-response) add SdkHttpMetadata and
    SdkResponseMetadata to the service's answer; aws-sdk Tasks do not."""
    topic = local_cloud.client("sns").create_topic(Name="engine-metadata")["TopicArn"]
    queue = local_cloud.client("sqs").create_queue(QueueName="engine-metadata")["QueueUrl"]
    local_cloud.client("dynamodb").create_table(
        TableName="engine-metadata",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    target = local_cloud.client("stepfunctions").create_state_machine(
        name="engine-metadata-target",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=ROLE_ARN,
    )["stateMachineArn"]
    tasks = {
        "Publish": ("sns:publish", {"TopicArn": topic, "Message": "hello"}),
        "Start": ("states:startExecution", {"StateMachineArn": target}),
        "Send": ("sqs:sendMessage", {"QueueUrl": queue, "MessageBody": "hello"}),
        "Put": ("dynamodb:putItem", {"TableName": "engine-metadata", "Item": {"k": {"S": "1"}}}),
        "SdkPublish": ("aws-sdk:sns:publish", {"TopicArn": topic, "Message": "hello"}),
    }
    names = list(tasks)
    states = {
        name: {
            "Type": "Task",
            "Resource": f"arn:aws:states:::{resource}",
            "Parameters": parameters,
            "ResultPath": f"$.{name}",
            **({"Next": names[i + 1]} if i + 1 < len(names) else {"End": True}),
        }
        for i, (name, (resource, parameters)) in enumerate(tasks.items())
    }
    run = run_definition({"StartAt": names[0], "States": states})

    assert run.status == "SUCCEEDED", run.cause
    for name in ("Publish", "Start", "Send", "Put"):
        http = run.output[name]["SdkHttpMetadata"]
        assert http["HttpStatusCode"] == 200
        assert http["HttpHeaders"]["Content-Type"].startswith(("text/xml", "application/"))
        assert int(http["HttpHeaders"]["Content-Length"]) > 0
        assert http["AllHttpHeaders"] == {k: [v] for k, v in http["HttpHeaders"].items()}
        assert (
            run.output[name]["SdkResponseMetadata"]["RequestId"]
            == http["HttpHeaders"]["x-amzn-RequestId"]
            != ""
        )
    assert "MessageId" in run.output["Publish"] and "ExecutionArn" in run.output["Start"]
    assert "MD5OfMessageBody" in run.output["Send"]
    assert set(run.output["SdkPublish"]) == {"MessageId"}


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


def test_lambda_invoke_of_an_alias_names_the_version_it_ran(
    local_cloud: LocalCloud, deploy_function: Callable[[str], str], run_definition: Runner
) -> None:
    arn = deploy_function("def handler(event, context):\n    return 'first'\n")
    lam = local_cloud.client("lambda")
    first = lam.publish_version(FunctionName=arn)["Version"]
    lam.update_function_code(
        FunctionName=arn, ZipFile=_zipped("def handler(event, context):\n    return 'second'\n")
    )
    lam.publish_version(FunctionName=arn)
    lam.create_alias(FunctionName=arn, Name="live", FunctionVersion=first)
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
    run = run_definition(
        {"StartAt": "T", "States": {"T": {**task, "Parameters": {"FunctionName": f"{arn}:live"}}}}
    )
    assert run.status == "SUCCEEDED", run.cause
    assert (run.output["ExecutedVersion"], run.output["Payload"]) == ("1", "first")


def test_an_invoke_answers_with_its_invocations_request_id(
    local_cloud: LocalCloud, deploy_function: Callable[[str], str], run_definition: Runner
) -> None:
    """As on AWS, the request id of a Task's output is the one the function's logs and context show."""
    arn = deploy_function("def handler(event, context):\n    return context.aws_request_id\n")
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": arn}}
    run = run_definition({"StartAt": "T", "States": {"T": {**task, "End": True}}})
    assert run.status == "SUCCEEDED", run.cause
    assert run.output["SdkResponseMetadata"]["RequestId"] == run.output["Payload"]
    answer = local_cloud.client("lambda").invoke(FunctionName=arn)
    assert answer["ResponseMetadata"]["RequestId"] == json.loads(answer["Payload"].read())


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


def test_a_response_over_lambda_s_6_mb_fails_the_task_as_lambda_refuses_it(
    deploy_function: Callable[[str], str], run_definition: Runner
) -> None:
    arn = deploy_function("def handler(event, context):\n    return 'x' * 6_500_000\n")
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": arn}}
    run = run_definition(only(task))
    assert (run.status, run.error) == ("FAILED", "Function.ResponseSizeTooLarge")
    assert "Response payload size exceeded maximum allowed payload size" in str(run.cause)


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


_ECHO = (
    "def handler(event, context):\n"
    "    print('handling', event)\n"
    "    if isinstance(event, dict) and event.get('fail'):\n"
    "        raise ValueError('asked to fail')\n"
    "    return {'got': event}\n"
)


def _zipped(code: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", code)
    return buf.getvalue()


def _answer(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """An Invoke's answer without what differs between any two invocations (request ids, times)."""
    try:
        response = call()
    except ClientError as error:
        return {
            "Error": error.response["Error"],
            "Status": error.response["ResponseMetadata"]["HTTPStatusCode"],
        }
    raw = response["Payload"] if isinstance(response["Payload"], bytes) else response["Payload"].read()
    payload = json.loads(raw) if raw else raw
    if isinstance(payload, dict):
        payload.pop("requestId", None)
    logs = base64.b64decode(response["LogResult"]).decode() if "LogResult" in response else None
    return {
        "StatusCode": response["StatusCode"],
        "HTTPStatusCode": response["ResponseMetadata"]["HTTPStatusCode"],
        "FunctionError": response.get("FunctionError"),
        "ExecutedVersion": response.get("ExecutedVersion"),
        "Payload": payload,
        "logs": logs and [line.split(" ")[0] for line in logs.splitlines()],
    }


_INVOKES = [
    {"Payload": b'{"x": 1}'},
    {"Payload": b'"text"'},
    {},
    {"Payload": b'{"x": 1}', "LogType": "Tail"},
    {"Payload": b'{"x": 1}', "LogType": "None"},
    {"Payload": b'{"fail": true}'},
    {"Payload": b'{"fail": true}', "LogType": "Tail"},
    {"Payload": b'{"x": 1}', "InvocationType": "Event"},
    {"Payload": b'{"x": 1}', "InvocationType": "DryRun"},
    {"Payload": b'{"x": 1}', "Qualifier": "live"},
    {"Payload": b'{"x": 1}', "Qualifier": "1"},
    {"Payload": b'{"x": 1}', "Qualifier": "absent"},
    {"FunctionName": "engine-absent"},
    {"fault": "throttle"},
    {"fault": "service_error"},
    {"fault": "error"},
]


@pytest.mark.parametrize(
    ("parameters", "named_by"),
    [
        pytest.param(p, by, id="-".join([by, *(f"{k}={v!s}" for k, v in p.items())]))
        for p in _INVOKES
        for by in ("arn", "name", "name:alias")
        if not (by == "name:alias" and "Qualifier" in p)  # a qualified name takes no Qualifier
    ],
)
def test_a_tasks_invoke_answers_what_the_invoke_api_answers(
    local_cloud: LocalCloud, deploy_function: Callable[[str], str], parameters: dict[str, Any], named_by: str
) -> None:
    arn = deploy_function(_ECHO)
    name = arn.rsplit(":", 1)[1]
    lam = local_cloud.client("lambda")
    lam.create_alias(
        FunctionName=name, Name="live", FunctionVersion=lam.publish_version(FunctionName=name)["Version"]
    )
    lam.update_function_code(FunctionName=name, ZipFile=_zipped(_ECHO.replace("'got'", "'latest'")))
    params = dict(parameters)
    if "fault" in params:
        local_cloud.lambda_runtime.inject(name, params.pop("fault"))  # type: ignore[union-attr]
    function = {"arn": arn, "name": name, "name:alias": f"{name}:live"}[named_by]
    params.setdefault("FunctionName", function)

    metering.reset()
    through_the_api = _answer(lambda: clients.client_for("us-east-1", "lambda").invoke(**params))
    api_requests = metering.counts()
    metering.reset()
    in_process = _answer(lambda: lambda_invoke.invoke("us-east-1", params))

    assert in_process == through_the_api
    answered = in_process.get("Payload")
    if isinstance(answered, dict) and answered.keys() & {"got", "latest"}:  # version 1 answers "got"
        asked_for_version_1 = named_by == "name:alias" or params.get("Qualifier") in ("live", "1")
        assert list(answered) == (["got"] if asked_for_version_1 else ["latest"])
        assert in_process["ExecutedVersion"] == ("1" if asked_for_version_1 else "$LATEST")
    assert metering.counts() == api_requests == {("awslambda", "Invoke"): 1}


def test_the_date_header_is_made_once_a_second_and_stays_right(monkeypatch: pytest.MonkeyPatch) -> None:
    from localcloud.engine.clock import http_date

    readings = [1_733_400_000.1, 1_733_400_000.9, 1_733_400_001.0, 1_733_399_999.5, 1_733_400_000.2]
    expected = [email.utils.formatdate(t, usegmt=True) for t in readings]
    made: list[float] = []
    formatdate = email.utils.formatdate

    def counted(timeval: float, **kwargs: Any) -> str:
        if 1_733_399_999 <= timeval <= 1_733_400_001:  # this test's readings, not a server's
            made.append(timeval)
        return formatdate(timeval, **kwargs)

    monkeypatch.setattr(email.utils, "formatdate", counted)
    assert [http_date(t) for t in readings] == expected
    # the second reading is in the first one's second; each other one starts a second of its own
    assert made == [1_733_400_000, 1_733_400_001, 1_733_399_999, 1_733_400_000]
