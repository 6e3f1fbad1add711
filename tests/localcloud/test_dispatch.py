"""The server's request path reads moto's module list once, and answers the same."""

import contextlib
import errno
import json
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import flask
import flask.debughelpers
import moto.backends
import moto.core.responses
import moto.core.serialize
import pytest
import werkzeug.sansio.request
from botocore.exceptions import ClientError
from werkzeug.datastructures import ImmutableMultiDict

from localcloud import LocalCloud, dispatch, pins
from tests.localcloud.helpers import deploy, on_demand_table, run, state_machine, wait


def test_the_module_list_is_read_once_and_unchanged(local_cloud: LocalCloud) -> None:
    dispatch.install()
    local_cloud.client("sns").list_topics()  # a request goes through the dispatcher
    listed = list(dispatch._list_of_moto_modules())
    with mock.patch.object(os, "listdir", side_effect=AssertionError("listed again")):
        assert list(moto.backends.list_of_moto_modules()) == listed
    assert "stepfunctions" in listed


class Execution:  # its name prefixes the shape's members: moto also looks `executionArn` up as `arn`
    def __init__(self, arn: str) -> None:
        self.arn = arn
        self.status = "RUNNING"


class Other:
    def __init__(self, arn: str) -> None:
        self.execution_arn = arn
        self.status = "SUCCEEDED"


class WithAliases:
    class Meta:
        serialization_aliases = {"executionArn": "where"}

    def __init__(self, arn: str) -> None:
        self.where = arn
        self.status = "FAILED"


def _serialised(value: object) -> dict[str, str]:
    import json

    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    operation = get_service_model("stepfunctions").operation_model("DescribeExecution")
    body = JSONSerializer(operation, value_picker=XFormedAttributePicker()).serialize(value)["body"]
    parsed: dict[str, str] = json.loads(body)
    return parsed


def test_member_names_found_once_are_those_of_each_class_and_alias() -> None:
    """Serialising objects of different classes with the same shape, each in turn and again, finds
    each value where moto's chain of aliases finds it."""
    from moto.core.serialize import XFormedAttributePicker

    dispatch.install()
    values = [Other("arn:b"), Execution("arn:a"), WithAliases("arn:c"), {"executionArn": "arn:d"}]
    answers = [_serialised(value) for value in values + values]
    with (
        mock.patch.object(
            XFormedAttributePicker,
            "get_possible_keys",
            pins.original(XFormedAttributePicker.get_possible_keys),
        ),
        mock.patch.object(
            moto.core.serialize.ResponseSerializer,
            "get_value",
            pins.original(moto.core.serialize.ResponseSerializer.get_value),
        ),
    ):
        moto_answers = [_serialised(value) for value in values]

    assert answers == moto_answers + moto_answers
    assert [answer.get("executionArn") for answer in answers[:4]] == ["arn:b", "arn:a", "arn:c", "arn:d"]
    assert [answer.get("status") for answer in answers[:3]] == ["SUCCEEDED", "RUNNING", "FAILED"]


def test_a_port_another_server_took_fails_the_start_instead_of_waiting_for_ever() -> None:
    """Two local clouds started at once both find the port free; the second to bind must fail."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        server = dispatch.MotoServer(ip_address="127.0.0.1", port=other.getsockname()[1], verbose=False)
        failed: list[OSError] = []

        def start() -> None:
            try:
                server.start()
            except OSError as error:
                failed.append(error)

        starting = threading.Thread(target=start, daemon=True)
        starting.start()
        starting.join(timeout=30)
    assert not starting.is_alive(), "start() still waits"
    assert [error.errno for error in failed] == [errno.EADDRINUSE]


def test_a_response_transformer_still_applies_to_the_members_it_names() -> None:
    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    dispatch.install()
    operation = get_service_model("stepfunctions").operation_model("DescribeExecution")
    value = {"executionArn": "arn:a", "status": "RUNNING"}
    plain = JSONSerializer(operation, value_picker=XFormedAttributePicker()).serialize(value)["body"]
    picker = XFormedAttributePicker(response_transformers={"status": str.lower})
    transformed = JSONSerializer(operation, value_picker=picker).serialize(value)["body"]

    assert json.loads(plain) == value
    assert json.loads(transformed) == {"executionArn": "arn:a", "status": "running"}


# every hook of the request path whose answer must be moto's own, each with moto's (or Flask's)
# function behind it
_SAME_ANSWER_HOOKS = (
    (moto.core.responses.BaseResponse, "_get_action"),
    (moto.core.responses, "camelcase_to_underscores"),
    (moto.core.serialize.ResponseSerializer, "get_value"),
    (flask.debughelpers, "attach_enctype_error_multidict"),
    (werkzeug.sansio.request, "get_current_url"),
)


@contextlib.contextmanager
def _moto_as_it_is() -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for owner, name in _SAME_ANSWER_HOOKS:
            current = getattr(owner, name)
            assert pins.original(current) is not current, f"{name} is not hooked"
            stack.enter_context(mock.patch.object(owner, name, pins.original(current)))
        yield


def _raw_answers(
    clients: list[Any], calls: list[Callable[[], Any]]
) -> list[tuple[int, dict[str, str], bytes]]:
    """Each call's status, headers and body as sent, but for its request id and date."""
    answers = []

    def keep(http_response: Any, **_: Any) -> None:
        headers = {name.lower(): value for name, value in http_response.headers.items()}
        request_id = headers.pop("x-amzn-requestid")
        del headers["date"]
        answers.append(
            (http_response.status_code, headers, http_response.content.replace(request_id.encode(), b"ID"))
        )

    for client in clients:
        client.meta.events.register("after-call", keep)
    for call in calls:
        with contextlib.suppress(ClientError):
            call()
    for client in clients:
        client.meta.events.unregister("after-call", keep)
    return answers


def test_answers_are_moto_s_own_byte_for_byte_but_for_the_request_id(cloud: LocalCloud) -> None:
    """Executions in every state, each protocol (JSON, REST JSON, query XML, REST XML), errors."""
    sfn, lam, ddb, sns, iam, s3, sqs = (
        cloud.client(name) for name in ("stepfunctions", "lambda", "dynamodb", "sns", "iam", "s3", "sqs")
    )
    suffix = uuid.uuid4().hex[:8]
    waits = state_machine(
        cloud,
        f"waits-{suffix}",
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}},
    )
    passes = state_machine(
        cloud,
        f"passes-{suffix}",
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": [1], "End": True}}},
    )
    fails = state_machine(
        cloud,
        f"fails-{suffix}",
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "c"}}},
    )
    running = sfn.start_execution(stateMachineArn=waits, input='{"a": 1}')["executionArn"]
    aborted = sfn.start_execution(stateMachineArn=waits)["executionArn"]
    sfn.stop_execution(executionArn=aborted, error="Stopped", cause="by the test")
    redriven = run(cloud, fails)["executionArn"]
    sfn.redrive_execution(executionArn=redriven)
    wait(cloud, redriven)
    executions = [
        running,
        aborted,
        run(cloud, passes)["executionArn"],
        run(cloud, fails)["executionArn"],
        redriven,
    ]
    function = deploy(cloud, f"answers-{suffix}", "echo")
    table = on_demand_table(cloud, f"answers-{suffix}")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1.5"}, "l": {"L": [{"BOOL": True}]}})
    topic = sns.create_topic(Name=f"answers-{suffix}")["TopicArn"]
    s3.create_bucket(Bucket=f"answers-{suffix}")
    s3.put_object(Bucket=f"answers-{suffix}", Key="k", Body=b"body")
    queue = sqs.create_queue(QueueName=f"answers-{suffix}")["QueueUrl"]
    calls = [
        *(lambda arn=arn: sfn.describe_execution(executionArn=arn) for arn in executions),
        lambda: sfn.describe_execution(executionArn=running.replace(suffix, "missing")),
        lambda: sfn.list_executions(stateMachineArn=waits),
        lambda: sfn.describe_state_machine(stateMachineArn=fails),
        lambda: lam.get_function_configuration(FunctionName=function),
        lambda: lam.get_function_configuration(FunctionName="missing"),
        lambda: ddb.get_item(TableName=table, Key={"pk": {"S": "a"}}),
        lambda: ddb.put_item(TableName=table, Item={"pk": {"S": "b"}}),
        lambda: ddb.get_item(TableName="missing", Key={"pk": {"S": "a"}}),
        lambda: sns.get_topic_attributes(TopicArn=topic),
        lambda: sns.get_topic_attributes(TopicArn=topic + "-missing"),
        lambda: iam.get_role(RoleName="test-role"),
        lambda: s3.get_object(Bucket=f"answers-{suffix}", Key="k"),
        lambda: s3.list_objects_v2(Bucket=f"answers-{suffix}"),
        lambda: sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"]),
    ]
    clients = [sfn, lam, ddb, sns, iam, s3, sqs]
    try:
        ours = _raw_answers(clients, calls)
        with _moto_as_it_is():
            moto_s = _raw_answers(clients, calls)
    finally:
        sfn.stop_execution(executionArn=running)

    assert len(ours) == len(calls)
    assert ours == moto_s
    described = [json.loads(body)["status"] for _, _, body in ours[: len(executions)]]
    assert described == ["RUNNING", "ABORTED", "SUCCEEDED", "FAILED", "FAILED"]
    assert json.loads(ours[len(executions) - 1][2])["redriveCount"] == 1


def test_a_request_is_matched_to_its_operation_once(cloud: LocalCloud) -> None:
    """moto matched a DynamoDB request five times: metering, its parameters twice, dispatch, the
    serialiser."""
    ddb = cloud.client("dynamodb")
    table = on_demand_table(cloud, f"matched-{uuid.uuid4().hex[:8]}")
    base = moto.core.responses.BaseResponse
    matched: list[str] = []
    match = base._get_action_from_request

    def counted(self: Any, request: Any) -> Any:
        matched.append(match(self, request))
        return matched[-1]

    with mock.patch.object(base, "_get_action_from_request", counted):
        ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})

    assert matched == ["GetItem"]


def test_an_action_name_is_spelled_once() -> None:
    spelled: list[str] = []

    def spell(name: str) -> str:
        spelled.append(name)
        return name.lower()

    once = dispatch._spelled_once(spell)
    assert [once("GetItem"), once("GetItem"), once("PutItem")] == ["getitem", "getitem", "putitem"]
    assert spelled == ["GetItem", "PutItem"]


def test_a_root_url_is_made_once_and_a_full_one_every_time() -> None:
    made: list[tuple[Any, ...]] = []

    def make(*parts: Any) -> str:
        made.append(parts)
        return repr(parts)

    current_url = dispatch._roots_once(make)
    root, full = ("http", "127.0.0.1:1", ""), ("http", "127.0.0.1:1", "", "p", b"q=1")
    answers = [current_url(*root), current_url(*root), current_url(*full), current_url(*full)]

    assert answers == [repr(root), repr(root), repr(full), repr(full)]
    assert made == [root, full, full]


def test_a_request_without_form_fields_gets_no_class_of_its_own() -> None:
    """In debug mode Flask made a class for each request, to explain a file sent as a form field;
    one with form fields still has it."""
    dispatch.install()
    app = flask.Flask("debug")
    app.debug = True
    with app.test_request_context(method="POST", data=b"{}", content_type="application/x-amz-json-1.0"):
        flask.request.get_data(parse_form_data=True)  # as moto reads a body
        assert type(flask.request.files) is ImmutableMultiDict
    with app.test_request_context(method="POST", data={"file": "not a file"}):
        flask.request.get_data(parse_form_data=True)
        with pytest.raises(flask.debughelpers.DebugFilesKeyError):
            flask.request.files["file"]
