"""The waits real AWS needs, driven by botocore Stubber error sequences (no cloud, no sleeping)."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from infra import environments, functions, queues, schedules, statemachines, streams, tables
from infra.environments import load
from infra.names import Names
from infra.plan import Action, Context
from infra.waits import IN_PROGRESS, ROLE_NOT_READY, WaitTimeout, retry, until
from tests.deploy.stubs import client_for, stubbed
from workflows import WORKFLOWS
from workflows.registry import Index, Stream, Table

LOTTERY = WORKFLOWS["lottery"]
FN = LOTTERY.function("record-winners")
NAME = "pyflows-staging-lottery-record-winners"
ROLE = "arn:aws:iam::123456789012:role/pyflows-staging-lottery-record-winners"
ROLE_NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."
# Lambda checks that the role may write traces when tracing is Active: the policy just written may
# not be visible yet.
NO_XRAY_YET = "The provided execution role does not have permissions to call PutTraceSegments on XRAY"


@pytest.fixture
def lam(ctx: Context) -> Iterator[Stubber]:
    yield from stubbed(ctx, "lambda")


def config(**fields: Any) -> dict[str, Any]:
    return {
        "FunctionName": NAME,
        "FunctionArn": f"arn:aws:lambda:eu-west-1:123456789012:function:{NAME}",
        **fields,
    }


def test_create_retries_until_the_new_role_can_be_assumed(
    ctx: Context, slept: list[float], lam: Stubber
) -> None:
    lam.add_response("list_functions", {"Functions": []})
    lam.add_client_error("create_function", "InvalidParameterValueException", ROLE_NOT_ASSUMABLE, 400)
    lam.add_client_error("create_function", "InvalidParameterValueException", ROLE_NOT_ASSUMABLE, 400)
    lam.add_response("create_function", config(State="Pending"))
    lam.add_response("get_function_configuration", config(State="Pending"))
    lam.add_response("get_function_configuration", config(State="Active", LastUpdateStatus="Successful"))
    lam.add_response("publish_version", config(Version="1"))
    lam.add_response("get_function_configuration", config(State="Active", Version="1"))
    lam.add_response("create_alias", {"Name": "staging", "FunctionVersion": "1"})
    deployed = functions.ensure(ctx, LOTTERY, FN, ROLE)
    assert deployed.version == "1"
    assert slept == [1.0, 2.0, 1.0]  # two backoffs for IAM, one poll while Pending


def test_update_waits_while_another_update_is_in_progress(
    ctx: Context, slept: list[float], lam: Stubber
) -> None:
    desired = functions.configuration(ctx, LOTTERY, FN, ROLE)
    current = config(
        CodeSha256="old",
        **{k: v for k, v in desired.items() if k not in ("Layers", "TracingConfig")},
        TracingConfig=desired["TracingConfig"],
        Layers=[{"Arn": arn} for arn in desired["Layers"]],
    )
    lam.add_response("list_functions", {"Functions": [current]})
    lam.add_response("get_alias", {"Name": "staging", "FunctionVersion": "4", "Description": "deploy old"})
    lam.add_response("get_function_concurrency", {})
    lam.add_response("list_tags", {"Tags": {"app": "pyflows", "env": "staging"}})
    lam.add_client_error("update_function_code", "ResourceConflictException", "An update is in progress", 409)
    lam.add_response("update_function_code", config(LastUpdateStatus="InProgress"))
    lam.add_response("get_function_configuration", config(State="Active", LastUpdateStatus="InProgress"))
    lam.add_response("get_function_configuration", config(State="Active", LastUpdateStatus="InProgress"))
    lam.add_response("get_function_configuration", config(State="Active", LastUpdateStatus="Successful"))
    lam.add_client_error("publish_version", "ResourceConflictException", "An update is in progress", 409)
    lam.add_response("publish_version", config(Version="5"))
    lam.add_response("get_function_configuration", config(State="Active", Version="5"))
    lam.add_response("update_alias", {"Name": "staging", "FunctionVersion": "5"})
    assert functions.ensure(ctx, LOTTERY, FN, ROLE).version == "5"
    assert len(slept) == 4


def test_a_failed_update_stops_with_lambdas_reason(ctx: Context, lam: Stubber) -> None:
    reason = "The role is not valid for this function"
    lam.add_response("get_function_configuration", config(State="Active", LastUpdateStatus="InProgress"))
    lam.add_response(
        "get_function_configuration", config(LastUpdateStatus="Failed", LastUpdateStatusReason=reason)
    )
    with pytest.raises(RuntimeError, match=reason):
        functions._wait_ready(ctx, NAME)


def test_other_errors_are_not_retried(ctx: Context, slept: list[float], lam: Stubber) -> None:
    lam.add_response("list_functions", {"Functions": []})
    lam.add_client_error(
        "create_function", "InvalidParameterValueException", "Unzipped size must be smaller", 400
    )
    with pytest.raises(Exception, match="Unzipped size"):
        functions.ensure(ctx, LOTTERY, FN, ROLE)
    assert slept == []


def test_retry_gives_up_after_its_attempts() -> None:
    client = boto3.client("lambda", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    slept: list[float] = []
    with Stubber(client) as stubber:
        for _ in range(3):
            stubber.add_client_error("delete_alias", "ResourceConflictException", "in progress", 409)
        with pytest.raises(client.exceptions.ResourceConflictException):
            retry(
                lambda: client.delete_alias(FunctionName="f", Name="a"),
                IN_PROGRESS,
                attempts=3,
                sleep=slept.append,
            )
    assert slept == [1.0, 2.0]


def test_state_machine_creation_waits_for_its_role(
    ctx: Context, slept: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(ctx, "stepfunctions")
    message = "Neither the global service principal states.amazonaws.com, nor the regional one is authorized to assume the provided role."
    arn = ctx.names.state_machine_arn(LOTTERY)
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_state_machine", "StateMachineDoesNotExist", "no", 400)
        stubber.add_client_error("create_state_machine", "AccessDeniedException", message, 400)
        stubber.add_response("create_state_machine", {"stateMachineArn": arn, "creationDate": "2026-01-01"})
        definition = statemachines.render(ctx.names, LOTTERY)
        assert statemachines.ensure(ctx, LOTTERY, definition, ROLE) == arn
        stubber.assert_no_pending_responses()
    assert slept == [1.0]


def test_the_deployers_own_refusal_is_not_waited_out(ctx: Context, slept: list[float]) -> None:
    # a deployer acting as a role is named by its assumed-role ARN: no propagation to wait for
    client = client_for(ctx, "stepfunctions")
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/ci-deployer/run-42 is not authorized to perform: "
        "states:CreateStateMachine on resource: arn:aws:states:eu-west-1:123456789012:stateMachine:x"
    )
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_state_machine", "StateMachineDoesNotExist", "no", 400)
        stubber.add_client_error("create_state_machine", "AccessDeniedException", message, 400)
        with pytest.raises(client.exceptions.ClientError, match="not authorized to perform"):
            statemachines.ensure(ctx, LOTTERY, statemachines.render(ctx.names, LOTTERY), ROLE)
    assert slept == []


@pytest.mark.parametrize(
    ("code", "message", "retried"),
    [
        ("InvalidParameterValueException", ROLE_NOT_ASSUMABLE, True),
        ("InvalidParameterValueException", NO_XRAY_YET, True),
        ("InvalidParameterValueException", "Unzipped size must be smaller", False),  # its code, not its message
        ("AccessDeniedException", "Neither the global service principal states.amazonaws.com, nor the "
         "regional one is authorized to assume the provided role.", True),
        ("AccessDeniedException", ROLE_NOT_ASSUMABLE, False),  # another code's message
        ("AccessDeniedException", "User: arn:aws:sts::123456789012:assumed-role/ci/run-1 is not authorized "
         "to perform: states:CreateStateMachine", False),  # the deployer's own refusal
        ("ValidationException", "The execution role you provide must allow AWS EventBridge Scheduler to "
         "assume the role.", True),
        ("ResourceNotFoundException", ROLE_NOT_ASSUMABLE, False),  # a code not listed at all
    ],
)  # fmt: skip
def test_role_errors_are_recognised_by_code_and_message(code: str, message: str, retried: bool) -> None:
    """A role not yet visible is retried when the error's code and one of that code's messages say
    so: neither the code alone nor a message under another code."""
    slept: list[float] = []
    errors = [ClientError({"Error": {"Code": code, "Message": message}}, "CreateFunction")]

    def call() -> str:
        if errors:
            raise errors.pop()
        return "created"

    if retried:
        assert retry(call, ROLE_NOT_READY, sleep=slept.append) == "created"
        assert slept == [1.0]
    else:
        with pytest.raises(ClientError, match=re.escape(message)):
            retry(call, ROLE_NOT_READY, sleep=slept.append)
        assert slept == []


def test_create_retries_until_the_new_policy_lets_the_function_trace(
    ctx: Context, slept: list[float], lam: Stubber
) -> None:
    lam.add_response("list_functions", {"Functions": []})
    lam.add_client_error("create_function", "InvalidParameterValueException", NO_XRAY_YET, 400)
    lam.add_response("create_function", config(State="Pending"))
    lam.add_response("get_function_configuration", config(State="Active", LastUpdateStatus="Successful"))
    lam.add_response("publish_version", config(Version="1"))
    lam.add_response("get_function_configuration", config(State="Active", Version="1"))
    lam.add_response("create_alias", {"Name": "staging", "FunctionVersion": "1"})
    assert functions.configuration(ctx, LOTTERY, FN, ROLE)["TracingConfig"] == {"Mode": "Active"}
    assert functions.ensure(ctx, LOTTERY, FN, ROLE).version == "1"
    assert slept == [1.0]


def test_functions_are_traced_by_the_switch_that_traces_the_state_machines(
    ctx: Context, lam: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One switch: with tracing off, a function traced on its own would start a trace per call."""
    assert functions.configuration(ctx, LOTTERY, FN, ROLE)["TracingConfig"] == {"Mode": "Active"}
    monkeypatch.setattr(environments, "TRACED", False)
    assert functions.configuration(ctx, LOTTERY, FN, ROLE)["TracingConfig"] == {"Mode": "PassThrough"}


def test_state_machine_creation_waits_for_its_log_delivery_grants(ctx: Context, slept: list[float]) -> None:
    client = client_for(ctx, "stepfunctions")
    # Step Functions checks, with logging on, that the role may deliver logs: its policy is seconds old
    message = "The state machine IAM Role is not authorized to access the Log Destination"
    arn = ctx.names.state_machine_arn(LOTTERY)
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_state_machine", "StateMachineDoesNotExist", "no", 400)
        stubber.add_client_error("create_state_machine", "AccessDeniedException", message, 400)
        stubber.add_client_error("create_state_machine", "AccessDeniedException", message, 400)
        stubber.add_response("create_state_machine", {"stateMachineArn": arn, "creationDate": "2026-01-01"})
        definition = statemachines.render(ctx.names, LOTTERY)
        assert statemachines.ensure(ctx, LOTTERY, definition, ROLE) == arn
        stubber.assert_no_pending_responses()
    assert slept == [1.0, 2.0]


def test_a_state_machine_role_without_logging_grants_still_fails(ctx: Context, slept: list[float]) -> None:
    client = client_for(ctx, "stepfunctions")
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_state_machine", "StateMachineDoesNotExist", "no", 400)
        for _ in range(12):
            stubber.add_client_error(
                "create_state_machine",
                "AccessDeniedException",
                "not authorized to access the Log Destination",
            )
        with pytest.raises(client.exceptions.ClientError, match="Log Destination"):
            statemachines.ensure(ctx, LOTTERY, statemachines.render(ctx.names, LOTTERY), ROLE)
    assert len(slept) == 11  # bounded: a policy that really lacks them is named within two minutes
    assert sum(slept) < 120


def test_point_in_time_recovery_waits_until_dynamodb_has_enabled_backups(
    ctx: Context, slept: list[float]
) -> None:
    client = client_for(ctx, "dynamodb")
    table, name = Table("winners", ("id", "S"), ttl_attribute="expires"), "pyflows-staging-lottery-winners"
    description = {"TableName": name, "TableStatus": "ACTIVE"}
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_table", "ResourceNotFoundException", "not found", 400)
        stubber.add_response("create_table", {"TableDescription": {**description, "TableStatus": "CREATING"}})
        stubber.add_response("describe_table", {"Table": description})
        for _ in range(2):
            stubber.add_client_error(
                "update_continuous_backups",
                "ContinuousBackupsUnavailableException",
                f"Backups are being enabled for the table: {name}. Please retry later",
                400,
            )
        stubber.add_response("update_continuous_backups", {"ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED"
        }})  # fmt: skip
        stubber.add_response(
            "update_time_to_live",
            {"TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"}},
            {"TableName": name, "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires"}},
        )
        tables.ensure(ctx, table, name)
        stubber.assert_no_pending_responses()
    assert slept == [1.0, 2.0]


def test_the_alerts_inbox_waits_out_its_name_deleted_moments_ago(ctx: Context, slept: list[float]) -> None:
    """SQS refuses a queue's name for 60 seconds after the queue's deletion: a deploy right after a
    --destroy creates the inbox once SQS takes the name again."""
    name, topic = queues.inbox_name(ctx.env), ctx.names.alerts_topic_arn()
    url = f"https://sqs.eu-west-1.amazonaws.com/123456789012/{name}"
    wait = "You must wait 60 seconds after deleting a queue before you can create another with the same name."
    with Stubber(client_for(ctx, "sqs")) as sqs, Stubber(client_for(ctx, "sns")) as sns:
        sqs.add_client_error("get_queue_url", "QueueDoesNotExist", "no queue", 400)
        # the code as AWS's answer gives it (x-amzn-query-error), and as botocore's model names it
        for code in ("AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently"):
            sqs.add_client_error("create_queue", code, wait, 400)
        created = {"QueueName": name, "Attributes": queues.attributes(ctx.names), "tags": ctx.env.tags()}
        sqs.add_response("create_queue", {"QueueUrl": url}, created)
        sns.add_response("list_subscriptions_by_topic", {"Subscriptions": []}, {"TopicArn": topic})
        subscribed = {"SubscriptionArn": f"{topic}:0f1e"}
        sns.add_response(
            "subscribe",
            subscribed,
            {"TopicArn": topic, "Protocol": "sqs", "Endpoint": queues.inbox_arn(ctx.names)},
        )
        queues.ensure(ctx)
        sqs.assert_no_pending_responses()
        sns.assert_no_pending_responses()
    assert slept == [1.0, 2.0]
    assert [(c.kind, c.action) for c in ctx.changes] == [
        ("queue", Action.CREATE),
        ("subscription", Action.CREATE),
    ]


def test_a_wait_gives_up_after_its_timeout_naming_what_it_waited_for() -> None:
    slept: list[float] = []
    with pytest.raises(WaitTimeout, match=r"^function f active: still not ready after 5s$"):
        until(
            lambda: "Pending",
            lambda state: state == "Active",
            "function f active",
            timeout=5,
            sleep=slept.append,
        )
    assert slept == [1.0] * 5


def test_a_schedule_waits_for_its_new_role_but_a_bad_expression_is_not_waited_out(
    ctx: Context, slept: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scheduler answers ValidationException both while the role is not yet assumable and for a
    schedule it will never take: only the first is worth another attempt."""
    monkeypatch.setattr(schedules.iam, "ensure_role", lambda *args: ROLE)
    etf = WORKFLOWS["etf-signal"]
    not_assumable = "The execution role you provide must allow AWS EventBridge Scheduler to assume the role."
    client = client_for(ctx, "scheduler")
    arn = {"ScheduleArn": "arn:aws:scheduler:eu-west-1:123456789012:schedule/pyflows-staging-schedules/x"}
    with Stubber(client) as stubber:
        stubber.add_response("list_schedules", {"Schedules": []})
        stubber.add_client_error("get_schedule", "ResourceNotFoundException", "not found", 404)
        stubber.add_client_error("create_schedule", "ValidationException", not_assumable, 400)
        stubber.add_response("create_schedule", arn)
        schedules.ensure(ctx, etf)
        stubber.assert_no_pending_responses()
    assert slept == [1.0]
    with Stubber(client) as stubber:
        stubber.add_response("list_schedules", {"Schedules": []})
        stubber.add_client_error("get_schedule", "ResourceNotFoundException", "not found", 404)
        stubber.add_client_error(
            "create_schedule",
            "ValidationException",
            "Invalid Schedule Expression cron(30 17 ? * MON-FRI).",
            400,
        )
        with pytest.raises(client.exceptions.ValidationException, match="Invalid Schedule Expression"):
            schedules.ensure(ctx, etf)
    assert slept == [1.0]


def _deleting_machine(ctx: Context) -> dict[str, Any]:
    arn = ctx.names.state_machine_arn(LOTTERY)
    return {
        "stateMachineArn": arn,
        "name": "pyflows-staging-lottery",
        "status": "DELETING",
        "definition": "{}",
        "roleArn": ROLE,
        "type": "STANDARD",
        "creationDate": "2026-01-01",
    }


def test_a_state_machine_still_being_deleted_is_waited_out_and_created_again(
    ctx: Context, slept: list[float]
) -> None:
    """AWS deletes a state machine in the background: right after a --destroy it still answers,
    DELETING, and refuses to create one of its name (StateMachineDeleting)."""
    client = client_for(ctx, "stepfunctions")
    arn = ctx.names.state_machine_arn(LOTTERY)
    with Stubber(client) as stubber:
        stubber.add_response("describe_state_machine", _deleting_machine(ctx))
        stubber.add_response("describe_state_machine", _deleting_machine(ctx))
        stubber.add_client_error("describe_state_machine", "StateMachineDoesNotExist", "gone", 400)
        stubber.add_response("create_state_machine", {"stateMachineArn": arn, "creationDate": "2026-01-01"})
        assert statemachines.ensure(ctx, LOTTERY, statemachines.render(ctx.names, LOTTERY), ROLE) == arn
        stubber.assert_no_pending_responses()
    assert slept == [5.0]
    assert [(c.kind, c.action) for c in ctx.changes] == [("state machine", "create")]


def test_a_plan_shows_a_state_machine_being_deleted_as_created(ctx: Context) -> None:
    client = client_for(ctx, "stepfunctions")
    ctx.apply = False
    with Stubber(client) as stubber:
        stubber.add_response("describe_state_machine", _deleting_machine(ctx))
        statemachines.ensure(ctx, LOTTERY, statemachines.render(ctx.names, LOTTERY), ROLE)
        stubber.assert_no_pending_responses()
    assert [(c.kind, c.action) for c in ctx.changes] == [("state machine", "create")]


WINNERS, WINNERS_NAME = (
    Table("winners", ("id", "S"), ttl_attribute="expires"),
    "pyflows-staging-lottery-winners",
)


def test_a_table_still_being_deleted_is_waited_out_and_created_again(
    ctx: Context, slept: list[float]
) -> None:
    """Right after a --destroy DynamoDB still answers for the table, DELETING: its backups and TTL
    are not read (they would fail) and it is created again once gone (DynamoDB refuses it before)."""
    client = client_for(ctx, "dynamodb")
    deleting = {"Table": {"TableName": WINNERS_NAME, "TableStatus": "DELETING"}}
    with Stubber(client) as stubber:
        stubber.add_response("describe_table", deleting)
        stubber.add_response("describe_table", deleting)
        stubber.add_client_error("describe_table", "ResourceNotFoundException", "not found", 400)
        stubber.add_response("create_table", {"TableDescription": {"TableName": WINNERS_NAME}})
        stubber.add_response(
            "describe_table", {"Table": {"TableName": WINNERS_NAME, "TableStatus": "ACTIVE"}}
        )
        stubber.add_response("update_continuous_backups", {"ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED"
        }})  # fmt: skip
        stubber.add_response("update_time_to_live", {"TimeToLiveSpecification": {
            "Enabled": True, "AttributeName": "expires"
        }})  # fmt: skip
        tables.ensure(ctx, WINNERS, WINNERS_NAME)
        stubber.assert_no_pending_responses()
    assert slept == [5.0]
    assert [(c.kind, c.action) for c in ctx.changes] == [("table", "create")]


EVENTS = "pyflows-staging-flight-deals-price-records"


def _stream(status: str) -> dict[str, Any]:
    return {
        "StreamDescriptionSummary": {
            "StreamName": EVENTS,
            "StreamARN": f"arn:aws:kinesis:eu-west-1:123456789012:stream/{EVENTS}",
            "StreamStatus": status,
            "RetentionPeriodHours": 24,
            "StreamCreationTimestamp": "2026-01-01",
            "EnhancedMonitoring": [],
            "OpenShardCount": 1,
        }
    }


def test_a_stream_still_being_deleted_is_waited_out_and_created_again(
    ctx: Context, slept: list[float]
) -> None:
    """Kinesis answers for a stream it is deleting and refuses a new one of its name meanwhile:
    it is not taken for the deployed stream."""
    client = client_for(ctx, "kinesis")
    with Stubber(client) as stubber:
        stubber.add_response("describe_stream_summary", _stream("DELETING"))
        stubber.add_response("describe_stream_summary", _stream("DELETING"))
        stubber.add_client_error("describe_stream_summary", "ResourceNotFoundException", "not found", 400)
        stubber.add_response("create_stream", {}, {"StreamName": EVENTS, "ShardCount": 1})
        stubber.add_response("describe_stream_summary", _stream("ACTIVE"))
        stubber.add_response("add_tags_to_stream", {})
        stubber.add_response("start_stream_encryption", {})
        streams.ensure(ctx, Stream("price-records", shards=1), EVENTS)
        stubber.assert_no_pending_responses()
    assert slept == [5.0]
    assert [(c.kind, c.action) for c in ctx.changes] == [("stream", "create")]


def test_a_plan_shows_a_table_or_stream_being_deleted_as_created(ctx: Context) -> None:
    ctx.apply = False
    with Stubber(client_for(ctx, "dynamodb")) as dynamodb, Stubber(client_for(ctx, "kinesis")) as kinesis:
        dynamodb.add_response(
            "describe_table", {"Table": {"TableName": WINNERS_NAME, "TableStatus": "DELETING"}}
        )
        kinesis.add_response("describe_stream_summary", _stream("DELETING"))
        tables.ensure(ctx, WINNERS, WINNERS_NAME)
        streams.ensure(ctx, Stream("price-records", shards=1), EVENTS)
        dynamodb.assert_no_pending_responses()
        kinesis.assert_no_pending_responses()
    assert [(c.kind, c.action) for c in ctx.changes] == [("table", "create"), ("stream", "create")]


def _described(name: str, *indexes: tuple[str, str], status: str = "ACTIVE") -> dict[str, Any]:
    """DescribeTable's answer for a table keyed on id, with `indexes` (name, status), each keyed
    and projected as deploy makes by-draw."""
    table = {
        "TableName": name,
        "TableStatus": status,
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "id", "AttributeType": "S"},
            *([{"AttributeName": "draw", "AttributeType": "S"}] if indexes else []),
        ],
    }
    found = [{**tables._index(BY_DRAW), "IndexName": index, "IndexStatus": state} for index, state in indexes]
    return {"Table": {**table, **({"GlobalSecondaryIndexes": found} if found else {})}}


def _settled(stubber: Stubber, ttl: dict[str, str]) -> None:
    """Its backups on, its TTL as `ttl` says."""
    stubber.add_response(
        "describe_continuous_backups",
        {"ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"},
        }},
    )  # fmt: skip
    stubber.add_response("describe_time_to_live", {"TimeToLiveDescription": ttl})


def _existing_table(stubber: Stubber, name: str, ttl: dict[str, str]) -> None:
    stubber.add_response("describe_table", _described(name))
    _settled(stubber, ttl)


BY_DRAW = Index("by-draw", ("draw", "S"))
OFF: dict[str, str] = {"TimeToLiveStatus": "DISABLED"}


def test_a_new_index_is_waited_out_while_dynamodb_backfills_it_before_any_function_may_read_it(
    ctx: Context, slept: list[float]
) -> None:
    """DynamoDB refuses a Query of an index it is still building from the table's items (minutes on
    a large table): the deploy waits, and only then deploys the functions, which come after."""
    client = client_for(ctx, "dynamodb")
    table, name = Table("winners", ("id", "S"), indexes=(BY_DRAW,)), "pyflows-staging-lottery-winners"
    with Stubber(client) as stubber:
        _existing_table(stubber, name, OFF)
        stubber.add_response(
            "update_table",
            {"TableDescription": {"TableName": name}},
            {
                "TableName": name,
                "AttributeDefinitions": [
                    {"AttributeName": "draw", "AttributeType": "S"},
                    {"AttributeName": "id", "AttributeType": "S"},
                ],
                "GlobalSecondaryIndexUpdates": [{"Create": tables._index(BY_DRAW)}],
            },
        )
        for status in ("CREATING", "CREATING", "ACTIVE"):
            stubber.add_response("describe_table", _described(name, ("by-draw", status)))
        tables.ensure(ctx, table, name)
        stubber.assert_no_pending_responses()
    assert slept == [tables.INDEX_INTERVAL] * 2
    assert [(c.kind, c.action, c.detail) for c in ctx.changes] == [("table", "update", "add index by-draw")]


def test_an_index_a_deploy_stopped_waiting_for_is_waited_out_by_the_next_one(
    ctx: Context, slept: list[float]
) -> None:
    """A deploy whose wait ran out stopped before the functions: the next finds the index made,
    still backfilling, and waits again before deploying them."""
    client = client_for(ctx, "dynamodb")
    table, name = Table("winners", ("id", "S"), indexes=(BY_DRAW,)), "pyflows-staging-lottery-winners"
    with Stubber(client) as stubber:
        stubber.add_response("describe_table", _described(name, ("by-draw", "CREATING")))
        stubber.add_response("describe_table", _described(name, ("by-draw", "CREATING")))
        stubber.add_response("describe_table", _described(name, ("by-draw", "ACTIVE")))
        _settled(stubber, OFF)
        tables.ensure(ctx, table, name)
        stubber.assert_no_pending_responses()
    assert slept == [tables.INDEX_INTERVAL]
    assert [(c.kind, c.action) for c in ctx.changes] == [("table", Action.UNCHANGED)]


def test_a_plan_waits_for_no_index(ctx: Context, slept: list[float]) -> None:
    ctx.apply = False
    client = client_for(ctx, "dynamodb")
    table, name = Table("winners", ("id", "S"), indexes=(BY_DRAW,)), "pyflows-staging-lottery-winners"
    with Stubber(client) as stubber:
        stubber.add_response("describe_table", _described(name, ("by-draw", "CREATING")))
        _settled(stubber, OFF)
        tables.ensure(ctx, table, name)
        stubber.assert_no_pending_responses()
    assert slept == []


def test_a_renamed_ttl_attribute_turns_the_old_one_off_first(ctx: Context) -> None:
    """DynamoDB refuses TTL on a second attribute while it is on for another ("TimeToLive is active
    on a different AttributeName"), and takes one change an hour: the old one is turned off now."""
    said: list[str] = []
    ctx.out = said.append
    client = client_for(ctx, "dynamodb")
    table, name = Table("winners", ("id", "S"), ttl_attribute="expires_at"), "pyflows-staging-lottery-winners"
    with Stubber(client) as stubber:
        _existing_table(stubber, name, {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"})
        off = {"Enabled": False, "AttributeName": "expires"}
        stubber.add_response(
            "update_time_to_live",
            {"TimeToLiveSpecification": off},
            {"TableName": name, "TimeToLiveSpecification": off},
        )
        tables.ensure(ctx, table, name)
        stubber.assert_no_pending_responses()
    assert any("deploy again in an hour to turn it on for expires_at" in line for line in said)


@pytest.mark.parametrize(
    ("status", "live", "wanted"),
    [("DISABLING", "expires", "expires"), ("ENABLING", "expires", None), ("ENABLING", "old", "expires")],
)
def test_a_ttl_change_still_settling_is_not_made_again_within_the_hour(
    ctx: Context, status: str, live: str, wanted: str | None
) -> None:
    said: list[str] = []
    ctx.out = said.append
    client = client_for(ctx, "dynamodb")
    table, name = Table("winners", ("id", "S"), ttl_attribute=wanted), "pyflows-staging-lottery-winners"
    with Stubber(client) as stubber:  # no update_time_to_live: DynamoDB would refuse it
        _existing_table(stubber, name, {"TimeToLiveStatus": status, "AttributeName": live})
        tables.ensure(ctx, table, name)
        stubber.assert_no_pending_responses()
    assert any(f"time to live is still {status.lower()}" in line for line in said)
    assert [(c.kind, c.action) for c in ctx.changes] == [("table", Action.UNCHANGED)]  # nothing to do now


def test_threads_sharing_a_deploy_client_catch_its_errors_by_one_set_of_classes() -> None:
    """Workflows deploy in parallel on one client per service: an error one thread's call raises
    must be the class another thread's `except client.exceptions.X` names."""
    env = load("local")  # a session of its own: botocore makes its error classes once per service
    ctx = Context(env, Names(env, "123456789012"))
    barrier, seen = threading.Barrier(8), []

    def catch_as() -> None:
        client = ctx.client("dynamodb")
        barrier.wait()
        seen.append(client.exceptions.ResourceNotFoundException)

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns within botocore's making of the classes
    try:
        threads = [threading.Thread(target=catch_as) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    assert len(seen) == 8 and len(set(map(id, seen))) == 1
