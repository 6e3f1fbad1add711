"""What real AWS does that the local cloud does not, driven by botocore Stubber answers shaped as
AWS's (no cloud, no sleeping): listings in pages, resources that fail after their create call
returned."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from infra import api, auth, buckets, functions, iam, logs, statemachines, streams, tables, topics
from infra import pipes as infra_pipes
from infra.environments import ConfigError, Environment, Subscriber, load
from infra.names import Names
from infra.plan import Action, Context
from infra.runner import check, names_for
from tests.deploy.stubs import ACCOUNT, stubbed
from workflows import WORKFLOWS
from workflows.policies import EMAILED_ONCE
from workflows.registry import Bucket

TICKETS = WORKFLOWS["ticket-ranking"]


@pytest.fixture
def apigw(ctx: Context) -> Iterator[Stubber]:
    yield from stubbed(ctx, "apigatewayv2")


@pytest.fixture
def access_log(ctx: Context) -> Iterator[Stubber]:
    """The API's access log group, there already."""
    for stub in stubbed(ctx, "logs"):
        group = {"logGroupName": ctx.names.api_log_group(), "retentionInDays": 30}
        for prefix in logs.prefixes(ctx):
            found = [group] if group["logGroupName"].startswith(prefix) else []
            stub.add_response("describe_log_groups", {"logGroups": found}, {"logGroupNamePrefix": prefix})
        yield stub


def default_stage(ctx: Context) -> dict[str, Any]:
    """The API's stage as deploy makes it, for routes that declare no throttle of their own."""
    return {"StageName": "$default", **api.stage_settings(ctx, [])}


def an_api(name: str, api_id: str) -> dict[str, Any]:
    endpoint = f"https://{api_id}.example"
    return {"Name": name, "ApiId": api_id, "ApiEndpoint": endpoint, "ProtocolType": "HTTP"} | {
        "RouteSelectionExpression": "${request.method} ${request.path}"
    }


def test_the_environments_api_is_found_past_the_first_page_of_apis(ctx: Context, apigw: Stubber) -> None:
    others = [an_api(f"someone-else-{i}", f"x{i}") for i in range(25)]
    apigw.add_response("get_apis", {"Items": others, "NextToken": "page-2"})
    apigw.add_response(
        "get_apis", {"Items": [an_api("pyflows-staging-api", "ours")]}, {"NextToken": "page-2"}
    )
    assert api.url(ctx) == "https://ours.example"


def test_a_redeploy_does_not_create_a_second_api_when_its_own_is_on_a_later_page(
    ctx: Context, apigw: Stubber, access_log: Stubber
) -> None:
    fn = TICKETS.function("api-search")
    apigw.add_response("get_apis", {"Items": [an_api("someone-else", "x")], "NextToken": "p2"})
    apigw.add_response("get_apis", {"Items": [an_api("pyflows-staging-api", "ours")]}, {"NextToken": "p2"})
    route = {"RouteKey": "GET /tickets/search", "RouteId": "r1", "Target": "integrations/i1"}
    route |= {"AuthorizationType": "NONE", "OperationName": "pyflows-staging-ticket-ranking"}
    apigw.add_response("get_routes", {"Items": [], "NextToken": "p2"})
    apigw.add_response("get_routes", {"Items": [route]}, {"ApiId": "ours", "NextToken": "p2"})
    apigw.add_response(
        "get_integration",
        {
            "IntegrationId": "i1",
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": ctx.names.alias_arn(TICKETS, fn),
            "PayloadFormatVersion": "2.0",
        },
    )
    apigw.add_response("get_stages", {"Items": [], "NextToken": "p2"})
    apigw.add_response("get_stages", {"Items": [default_stage(ctx)]}, {"ApiId": "ours", "NextToken": "p2"})
    deployed = api.ensure(ctx, [TICKETS])
    assert deployed == api.Api("ours", "https://ours.example")
    assert [c.action for c in ctx.changes] == [Action.UNCHANGED] * 4  # access log, api, route, stage


def test_a_route_made_before_deploy_named_its_routes_is_named_by_the_next_deploy(
    ctx: Context, apigw: Stubber, access_log: Stubber
) -> None:
    """Only a route named as deploy's is removed once no workflow declares it: one made by a deploy
    that did not name them yet gets its name while still declared."""
    fn = TICKETS.function("api-search")
    apigw.add_response("get_apis", {"Items": [an_api("pyflows-staging-api", "ours")]})
    route = {"RouteKey": "GET /tickets/search", "RouteId": "r1", "Target": "integrations/i1"}
    apigw.add_response("get_routes", {"Items": [route | {"AuthorizationType": "NONE"}]}, {"ApiId": "ours"})
    integration = {"IntegrationType": "AWS_PROXY", "IntegrationUri": ctx.names.alias_arn(TICKETS, fn)}
    apigw.add_response("get_integration", integration | {"PayloadFormatVersion": "2.0"})
    named = {"AuthorizationType": "NONE", "OperationName": "pyflows-staging-ticket-ranking"}
    apigw.add_response(
        "update_route", {}, {"ApiId": "ours", "RouteId": "r1", "Target": "integrations/i1", **named}
    )
    apigw.add_response("get_stages", {"Items": [default_stage(ctx)]}, {"ApiId": "ours"})
    api.ensure(ctx, [TICKETS])
    assert ("route", "GET /tickets/search", Action.UPDATE) in [
        (c.kind, c.name, c.action) for c in ctx.changes
    ]


def test_an_authorizer_no_route_uses_yet_is_reused_on_aws_not_made_again(
    ctx: Context, apigw: Stubber, access_log: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deploy stopped between CreateAuthorizer and the first CreateRoute leaves an authorizer no
    route names: the next deploy finds it by name (GetAuthorizers) and gives it the routes."""
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"
    monkeypatch.setattr(api.auth, "ensure", lambda ctx: (issuer, "client"))
    ride = WORKFLOWS["ride-request"]
    stray = {
        "AuthorizerId": "stray",
        "Name": "pyflows-staging-jwt",
        "AuthorizerType": "JWT",
        "IdentitySource": ["$request.header.Authorization"],
        "JwtConfiguration": {"Issuer": issuer, "Audience": ["client"]},
    }
    apigw.add_response("get_apis", {"Items": [an_api("pyflows-staging-api", "ours")]})
    apigw.add_response("get_authorizers", {"Items": [stray]}, {"ApiId": "ours"})
    apigw.add_response("get_routes", {"Items": []}, {"ApiId": "ours"})
    apigw.add_response("create_integration", {"IntegrationId": "i1"})
    apigw.add_response(
        "create_route",
        {"RouteId": "r1"},
        {
            "ApiId": "ours",
            "RouteKey": "POST /ride",
            "AuthorizationType": "JWT",
            "AuthorizerId": "stray",
            "OperationName": "pyflows-staging-ride-request",
            "Target": "integrations/i1",
        },
    )
    apigw.add_response("get_stages", {"Items": [default_stage(ctx)]}, {"ApiId": "ours"})
    api.ensure(ctx, [ride])
    assert ("authorizer", "pyflows-staging-jwt", Action.UNCHANGED) in [
        (c.kind, c.name, c.action) for c in ctx.changes
    ]


def test_a_role_past_the_first_page_of_iams_answer_is_found_and_not_created_again(ctx: Context) -> None:
    """IAM answers GetAccountAuthorizationDetails 100 roles at a time: a role on a later page
    taken for missing would be created again, and AWS would refuse (EntityAlreadyExists)."""
    lottery = WORKFLOWS["lottery"]
    fn = lottery.function("draw-winners")
    name, document = ctx.names.function(lottery, fn), iam.function_policy(ctx.names, lottery, fn)
    ours = {
        "RoleName": name,
        "Arn": ctx.names.role_arn(name),
        "AssumeRolePolicyDocument": quote(json.dumps(iam.trust("lambda", ctx.names))),  # as AWS encodes it
        "RolePolicyList": [{"PolicyName": iam.POLICY_NAME, "PolicyDocument": quote(json.dumps(document))}],
    }
    others = [{"RoleName": f"someone-else-{i}"} for i in range(100)]
    for stub in stubbed(ctx, "iam"):
        stub.add_response(
            "get_account_authorization_details",
            {"RoleDetailList": others, "IsTruncated": True, "Marker": "page-2"},
            {"Filter": ["Role"]},
        )
        stub.add_response(
            "get_account_authorization_details",
            {"RoleDetailList": [ours], "IsTruncated": False},
            {"Filter": ["Role"], "Marker": "page-2"},
        )
        assert iam.ensure_role(ctx, name, "lambda", document, "Lambda draw-winners") == ours["Arn"]
    assert [(c.kind, c.name, c.action) for c in ctx.changes] == [("role", name, Action.UNCHANGED)]


def test_destroy_deletes_a_stream_past_the_first_page_of_kinesis_answer(ctx: Context) -> None:
    """Kinesis lists 100 streams at most per call, saying HasMoreStreams when there are more."""
    others = [f"someone-else-{i}" for i in range(100)]
    ours = "pyflows-staging-flight-deals-price-records"
    for kinesis in stubbed(ctx, "kinesis"):
        kinesis.add_response(
            "list_streams", {"StreamNames": others, "HasMoreStreams": True, "NextToken": "p2"}
        )
        kinesis.add_response(
            "list_streams", {"StreamNames": [ours], "HasMoreStreams": False}, {"NextToken": "p2"}
        )
        kinesis.add_response(
            "list_tags_for_stream",
            {
                "Tags": [{"Key": "app", "Value": "pyflows"}, {"Key": "env", "Value": "staging"}],
                "HasMoreTags": False,
            },
            {"StreamName": ours},
        )
        kinesis.add_response("delete_stream", {}, {"StreamName": ours, "EnforceConsumerDeletion": True})
        streams.destroy(ctx)
    assert [(c.kind, c.name, c.action) for c in ctx.changes] == [("stream", ours, Action.DELETE)]


def test_a_state_machine_of_another_type_is_refused_not_updated(ctx: Context) -> None:
    """UpdateStateMachine cannot change STANDARD to EXPRESS or back: the deployed machine is named
    with both types and what to do, and neither the check nor ensure changes it."""
    lottery = WORKFLOWS["lottery"]
    arn = ctx.names.state_machine_arn(lottery)
    express = {
        "stateMachineArn": arn,
        "name": "pyflows-staging-lottery",
        "status": "ACTIVE",
        "definition": "{}",
        "roleArn": "arn:aws:iam::123456789012:role/r",
        "type": "EXPRESS",
        "creationDate": "2026-01-01",
    }
    wanted = r"pyflows-staging-lottery is deployed as EXPRESS but workflow lottery is now STANDARD"
    for sfn in stubbed(ctx, "stepfunctions"):
        sfn.add_response("describe_state_machine", express, {"stateMachineArn": arn})
        with pytest.raises(ConfigError, match=wanted) as refused:
            statemachines.check_types(ctx, [lottery])
        assert f"delete-state-machine --state-machine-arn {arn}" in str(refused.value)
        sfn.add_response("describe_state_machine", express, {"stateMachineArn": arn})
        definition = statemachines.render(ctx.names, lottery)
        with pytest.raises(ConfigError, match=wanted):
            statemachines.ensure(ctx, lottery, definition, "arn:aws:iam::123456789012:role/r")
    assert ctx.changes == []


RANKINGS = "pyflows-staging-ticket-ranking-rankings"


def an_aws_index(name: str, keys: list[tuple[str, str]], projection: dict[str, Any]) -> dict[str, Any]:
    """A global secondary index as DescribeTable gives it on AWS: `keys` (attribute, KeyType)."""
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": a, "KeyType": t} for a, t in keys],
        "Projection": projection,
        "IndexStatus": "ACTIVE",
        "ProvisionedThroughput": {
            "ReadCapacityUnits": 0,
            "WriteCapacityUnits": 0,
        },
        "IndexSizeBytes": 0,
        "ItemCount": 0,
        "IndexArn": f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/{RANKINGS}/index/{name}",
    }


def rankings_on_aws(
    run_date: dict[str, Any], date_key_type: str = "S", performance_id_type: str = "S"
) -> dict[str, Any]:
    """ticket-ranking's rankings as DescribeTable gives it on AWS, with run-date-index `run_date`
    and best-per-performance-index as the registry declares it."""
    best = an_aws_index(
        "best-per-performance-index", [("best_of_run", "HASH"), ("score", "RANGE")], {"ProjectionType": "ALL"}
    )
    types = [
        ("score", "N"),
        ("performance_id", performance_id_type),
        ("date_key", date_key_type),
        ("rank_key", "S"),
        ("best_of_run", "S"),
        ("run_id", "S"),
    ]
    table = {
        "TableName": RANKINGS,
        "TableStatus": "ACTIVE",
        "KeySchema": [
            {"AttributeName": "performance_id", "KeyType": "HASH"},
            {"AttributeName": "rank_key", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": t} for a, t in types],
        "GlobalSecondaryIndexes": [best, run_date],
        "TableArn": f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/{RANKINGS}",
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
    }
    return {"Table": table}


RUN_DATE = [("run_id", "HASH"), ("date_key", "RANGE")]
TICKET_STATE = "pyflows-staging-ticket-ranking-state"
ALL = {"ProjectionType": "ALL"}


def check_tickets_against(ctx: Context, dynamodb: Stubber, rankings: dict[str, Any]) -> None:
    """tables.check of ticket-ranking, its rankings deployed as `rankings` and its state table not
    yet made: a deploy's own check, which reads the tables anew."""
    ctx.forget_all()
    dynamodb.add_response("describe_table", rankings, {"TableName": RANKINGS})
    dynamodb.add_client_error(
        "describe_table", "ResourceNotFoundException", expected_params={"TableName": TICKET_STATE}
    )
    tables.check(ctx, [TICKETS])


@pytest.mark.parametrize(
    ("run_date", "changed"),
    [
        (
            an_aws_index("run-date-index", [("run_id", "HASH")], ALL),
            "keys partition run_id (S) -> partition run_id (S), sort date_key (S)",
        ),
        (
            an_aws_index("run-date-index", [("date_key", "HASH"), ("run_id", "RANGE")], ALL),
            "keys partition date_key (S), sort run_id (S) -> partition run_id (S), sort date_key (S)",
        ),
        (
            an_aws_index("run-date-index", RUN_DATE, {"ProjectionType": "KEYS_ONLY"}),
            "projection KEYS_ONLY -> ALL",
        ),
        (
            an_aws_index(
                "run-date-index", RUN_DATE, {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["score"]}
            ),
            "projection INCLUDE (score) -> ALL",
        ),
    ],
)
def test_an_index_deployed_with_other_keys_or_projection_is_refused_and_one_unchanged_is_not(
    ctx: Context, run_date: dict[str, Any], changed: str
) -> None:
    """DynamoDB cannot change an index's keys or projection: a deployed index of a name the
    registry keeps that differs (its keys named with their types as the table's AttributeDefinitions
    give them) is named, with what changed and what to do, before any change; its unchanged
    neighbour is not."""
    for dynamodb in stubbed(ctx, "dynamodb"):
        # as declared: nothing refused
        check_tickets_against(ctx, dynamodb, rankings_on_aws(an_aws_index("run-date-index", RUN_DATE, ALL)))
        with pytest.raises(ConfigError) as refused:
            check_tickets_against(ctx, dynamodb, rankings_on_aws(run_date))
        assert str(refused.value) == (
            f"table {RANKINGS}, index run-date-index changed: {changed}; DynamoDB cannot change an "
            "index's keys or projection: give the index a new name in the registry, and deploy makes "
            "the new one, waits until it is ACTIVE, then deletes run-date-index once the functions "
            "that read it are deployed"
        )
        # one changed since the check, read anew after prod's question
        ctx.forget_all()
        dynamodb.add_response("describe_table", rankings_on_aws(run_date), {"TableName": RANKINGS})
        with pytest.raises(ConfigError, match="index run-date-index changed"):
            tables.ensure(ctx, TICKETS.tables[0], RANKINGS)
    assert ctx.changes == []


@pytest.mark.parametrize(
    ("deployed_types", "attribute", "was"),
    [({"date_key_type": "N"}, "date_key", "N"), ({"performance_id_type": "N"}, "performance_id", "N")],
    ids=["an-index-key", "the-table-key"],
)
def test_a_key_attribute_whose_type_changed_is_refused_as_the_tables_not_the_indexs(
    ctx: Context, deployed_types: dict[str, str], attribute: str, was: str
) -> None:
    """A table gives each key attribute one type, whether the table's key or an index's uses it:
    a type the registry changed is refused before any change, with the attribute to rename (a new
    index of that name would be refused by DynamoDB too, halfway through the deploy)."""
    deployed = rankings_on_aws(an_aws_index("run-date-index", RUN_DATE, ALL), **deployed_types)
    for dynamodb in stubbed(ctx, "dynamodb"):
        with pytest.raises(ConfigError) as refused:
            check_tickets_against(ctx, dynamodb, deployed)
    assert str(refused.value) == (
        f"table {RANKINGS}: attribute {attribute} is {was} in the table and S in the registry; a table "
        "gives each key attribute one type, which DynamoDB does not change while a key or an index uses "
        "it (a new index of the new type would be refused too): give the attribute a new name, which "
        "the items must then carry"
    )
    assert ctx.changes == []


DEALS = WORKFLOWS["flight-deals"]
PIPE = "pyflows-staging-flight-deals-price-records"
PIPE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/pyflows-staging-flight-deals-price-records-pipe"
# What Pipes records when the role's policy was not yet visible to it as it started reading.
NOT_PERMITTED_YET = (
    "Input parameter is invalid from the request due to : The provided customer role does not have "
    "permissions to call GetShardIterator on Kinesis"
)


@pytest.fixture
def pipes(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    monkeypatch.setattr(infra_pipes.iam, "ensure_role", lambda *args: PIPE_ROLE)
    yield from stubbed(ctx, "pipes")


def pipe(state: str, reason: str = "") -> dict[str, Any]:
    return {"Name": PIPE, "CurrentState": state, **({"StateReason": reason} if reason else {})}


def test_a_pipe_that_failed_to_create_is_created_again_until_it_runs(
    ctx: Context, slept: list[float], pipes: Stubber
) -> None:
    pipes.add_client_error("describe_pipe", "NotFoundException", "not found", 404)
    pipes.add_response("create_pipe", pipe("CREATING"))
    pipes.add_response("describe_pipe", pipe("CREATING"))
    pipes.add_response("describe_pipe", pipe("CREATE_FAILED", NOT_PERMITTED_YET))
    pipes.add_response("delete_pipe", pipe("DELETING"), {"Name": PIPE})
    pipes.add_response("describe_pipe", pipe("DELETING"))
    pipes.add_client_error("describe_pipe", "NotFoundException", "not found", 404)
    pipes.add_response("create_pipe", pipe("CREATING"))
    pipes.add_response("describe_pipe", pipe("RUNNING"))
    infra_pipes.ensure(ctx, DEALS)
    assert slept == [5.0, 5.0, 10.0]  # polled while creating, while deleting; a pause before anew


def test_a_pipe_that_keeps_failing_stops_the_deploy_with_pipes_reason(
    ctx: Context, slept: list[float], pipes: Stubber
) -> None:
    pipes.add_client_error("describe_pipe", "NotFoundException", "not found", 404)
    for attempt in range(infra_pipes.ATTEMPTS):
        pipes.add_response("create_pipe", pipe("CREATING"))
        pipes.add_response("describe_pipe", pipe("CREATE_FAILED", NOT_PERMITTED_YET))
        if attempt < infra_pipes.ATTEMPTS - 1:
            pipes.add_response("delete_pipe", pipe("DELETING"), {"Name": PIPE})
            pipes.add_client_error("describe_pipe", "NotFoundException", "not found", 404)
    with pytest.raises(RuntimeError, match=r"CREATE_FAILED: .*GetShardIterator on Kinesis"):
        infra_pipes.ensure(ctx, DEALS)
    assert sum(slept) < 600


def test_a_pipe_an_earlier_deploy_left_failed_is_made_anew(
    ctx: Context, slept: list[float], pipes: Stubber
) -> None:
    pipes.add_response("describe_pipe", pipe("CREATE_FAILED", NOT_PERMITTED_YET))
    pipes.add_response("delete_pipe", pipe("DELETING"), {"Name": PIPE})
    pipes.add_client_error("describe_pipe", "NotFoundException", "not found", 404)
    pipes.add_response("create_pipe", pipe("CREATING"))
    pipes.add_response("describe_pipe", pipe("RUNNING"))
    infra_pipes.ensure(ctx, DEALS)
    assert [(c.kind, c.action) for c in ctx.changes] == [("pipe", Action.UPDATE)]
    assert "CREATE_FAILED" in ctx.changes[0].detail


def test_a_pipe_still_being_deleted_is_waited_out_and_created_again(
    ctx: Context, slept: list[float], pipes: Stubber
) -> None:
    """Right after a --destroy Pipes still answers for the pipe, DELETING: it is not compared
    (nor updated) as a live one, but created again once gone."""
    pipes.add_response("describe_pipe", pipe("DELETING"))
    pipes.add_response("describe_pipe", pipe("DELETING"))
    pipes.add_client_error("describe_pipe", "NotFoundException", "not found", 404)
    pipes.add_response("create_pipe", pipe("CREATING"))
    pipes.add_response("describe_pipe", pipe("RUNNING"))
    infra_pipes.ensure(ctx, DEALS)
    assert slept == [5.0]
    assert [(c.kind, c.action) for c in ctx.changes] == [("pipe", Action.CREATE)]


REPORTS = "pyflows-staging-etf-signal-reports"


def test_a_bucket_name_another_account_owns_stops_the_deploy(ctx: Context) -> None:
    # S3 names are global: a bucket of this name elsewhere answers 403 to our account, and
    # must never be taken for ours (the functions' grants name the bucket, not its owner).
    for s3 in stubbed(ctx, "s3"):
        s3.add_client_error(
            "head_bucket",
            "403",
            "Forbidden",
            403,
            expected_params={"Bucket": REPORTS, "ExpectedBucketOwner": ACCOUNT},
        )
        with pytest.raises(ConfigError, match="another AWS account"):
            buckets.ensure(ctx, Bucket("reports"), REPORTS)


def test_a_bucket_name_taken_as_it_is_created_stops_the_deploy(ctx: Context) -> None:
    for s3 in stubbed(ctx, "s3"):
        s3.add_client_error("head_bucket", "404", "Not Found", 404)
        s3.add_client_error(
            "create_bucket", "BucketAlreadyExists", "The requested bucket name is not available", 409
        )
        with pytest.raises(
            ConfigError, match=r"answers BucketAlreadyExists: .*another AWS account"
        ) as refused:
            buckets.ensure(ctx, Bucket("reports"), REPORTS)
        assert "403" not in str(refused.value) and "may not list" not in str(refused.value)


def test_throttled_control_plane_calls_are_retried_past_botocores_default_three_attempts(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, no_aws_credentials: None
) -> None:
    """Lambda's control plane answers 429 TooManyRequestsException when many calls arrive at
    once, as a parallel deploy's do: the deploy's clients keep trying (backing off) for longer."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda seconds: None)
    sent: list[str] = []

    def answer(request: Any, **kwargs: Any) -> AWSResponse:
        sent.append(request.url)
        if len(sent) <= 5:
            body = b'{"Type": "User", "message": "Rate exceeded", "Reason": "CallerRateLimitExceeded"}'
            headers = {"x-amzn-ErrorType": "TooManyRequestsException", "Content-Type": "application/json"}
            return AWSResponse(request.url, 429, headers, FakeRaw(body))
        body = b'{"Name": "staging", "FunctionVersion": "4", "Description": "deploy x"}'
        return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, FakeRaw(body))

    lam = ctx.client("lambda")
    lam.meta.events.register("before-send.lambda.GetAlias", answer)
    assert lam.get_alias(FunctionName="f", Name="staging")["FunctionVersion"] == "4"
    assert len(sent) == 6


def test_express_starts_go_to_a_local_endpoint_itself_and_on_aws_to_the_sync_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """StartSyncExecution's `sync-` host prefix cannot resolve on a loopback endpoint: the local
    environment's clients leave it out, without the variable that the local cloud's tests set."""
    for name in ("AWS_DISABLE_HOST_PREFIX_INJECTION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    sent: list[str] = []

    def answer(request: Any, **kwargs: Any) -> AWSResponse:
        sent.append(request.url)
        body = b'{"executionArn": "arn:aws:states:eu-west-1:1:express:m:e:x", "startDate": 0, "status": "SUCCEEDED"}'
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, FakeRaw(body))

    machine = "arn:aws:states:eu-west-1:123456789012:stateMachine:m"
    local = dataclasses.replace(load("local"), endpoint="http://127.0.0.1:9", region="eu-west-1")
    staging = dataclasses.replace(load("staging"), region="eu-west-1")
    for env in (local, staging):
        sfn = env.client("stepfunctions")
        sfn.meta.events.register("before-send.sfn.StartSyncExecution", answer)
        sfn.start_sync_execution(stateMachineArn=machine)
    assert sent == ["http://127.0.0.1:9/", "https://sync-states.eu-west-1.amazonaws.com/"]


class FakeRaw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.body


def test_arns_are_built_in_the_partition_of_the_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """In China (aws-cn) and GovCloud (aws-us-gov) an ARN of the `aws` partition names nothing:
    policies would grant nothing and definitions would call no service."""
    env = dataclasses.replace(load("staging"), region="cn-north-1")
    sts = boto3.client("sts", region_name="cn-north-1", aws_access_key_id="x", aws_secret_access_key="y")
    monkeypatch.setattr(Environment, "client", lambda self, service, **config: sts)
    with Stubber(sts) as stubber:
        caller = {"UserId": "AIDA", "Account": ACCOUNT, "Arn": f"arn:aws-cn:iam::{ACCOUNT}:user/deployer"}
        stubber.add_response("get_caller_identity", caller)
        names = names_for(env)
    assert (names.account, names.partition) == (ACCOUNT, "aws-cn")
    for wf in WORKFLOWS.values():
        rendered = statemachines.render(names, wf)
        assert '"arn:aws-cn:states:::lambda:invoke"' in rendered
        built = [rendered, statemachines.logging_config(names, wf), iam.state_machine_policy(names, wf)]
        built += [iam.function_policy(names, wf, fn) for fn in wf.functions]
        assert not [b for b in built if "arn:aws:" in json.dumps(b)], wf.name


def test_another_partitions_powertools_layer_is_asked_for_before_any_change() -> None:
    """AWS publishes its Powertools layer in China and GovCloud under other accounts: without the
    environment's own, the check before any change says what to set."""
    env = dataclasses.replace(load("staging"), region="cn-north-1")
    with pytest.raises(ConfigError, match=r"aws-cn partition.*set powertools_layer in environments\.toml"):
        check(Names(env, ACCOUNT, "aws-cn"), list(WORKFLOWS.values()))
    layer = "arn:aws-cn:lambda:{region}:498634801083:layer:AWSLambdaPowertoolsPythonV3-python311-x86_64:27"
    names = Names(dataclasses.replace(env, powertools_layer=layer), ACCOUNT, "aws-cn")
    assert names.powertools_layer() == layer.format(region="cn-north-1")
    assert (
        Names(load("staging"), ACCOUNT)
        .powertools_layer()
        .startswith("arn:aws:lambda:eu-west-1:017000801446:")
    )


def test_the_alert_links_to_the_execution_in_the_aws_console_of_its_partition() -> None:
    staging = load("staging")
    rendered = statemachines.render(Names(staging, ACCOUNT), WORKFLOWS["lottery"])
    link = f"https://console.aws.amazon.com/states/home?region={staging.region}#/v2/executions/details/"
    assert f"(see it: {link}{{}}) {EMAILED_ONCE}', $$.Execution.Id" in rendered
    china = dataclasses.replace(staging, region="cn-north-1")
    assert Names(china, ACCOUNT, "aws-cn").execution_link() == (
        "https://console.amazonaws.cn/states/home?region=cn-north-1#/v2/executions/details/"
    )


def test_a_stages_settings_changed_by_hand_on_aws_are_updated_in_place(ctx: Context, apigw: Stubber) -> None:
    """AWS has UpdateStage (the local cloud makes the stage again): it adds and changes route
    settings, so a route's throttle no route declares any more is deleted first."""
    settings = api.stage_settings(ctx, [])
    found = {"StageName": "$default", "DefaultRouteSettings": {"ThrottlingRateLimit": 10000.0}}
    found["RouteSettings"] = {"GET /gone": {"ThrottlingRateLimit": 1.0, "ThrottlingBurstLimit": 1}}
    apigw.add_response("get_stages", {"Items": [found]}, {"ApiId": "ours"})
    apigw.add_response(
        "delete_route_settings", {}, {"ApiId": "ours", "StageName": "$default", "RouteKey": "GET /gone"}
    )
    apigw.add_response("update_stage", {}, {"ApiId": "ours", "StageName": "$default", **settings})
    api._stage(ctx, "ours", settings)
    assert [(c.kind, c.action, c.detail) for c in ctx.changes] == [
        ("stage", Action.UPDATE, "50/s (burst 100), route throttling removed, access log")
    ]


def test_prods_user_pool_is_protected_from_deletion_and_no_pool_admits_sign_up() -> None:
    for name in ("staging", "prod"):
        assert auth.settings(load(name))["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert auth.settings(load("prod"))["DeletionProtection"] == "ACTIVE"
    assert auth.settings(load("staging"))["DeletionProtection"] == "INACTIVE"


def test_destroy_keeps_a_user_pool_with_deletion_protection_and_says_how_to_delete_it(
    ctx: Context,
) -> None:
    lines: list[str] = []
    ctx.out = lines.append
    for cognito in stubbed(ctx, "cognito-idp"):
        pool = {"Id": "eu-west-1_p", "Name": "pyflows-staging-users"}
        cognito.add_response("list_user_pools", {"UserPools": [pool]})
        tags = {"app": "pyflows", "env": "staging"}
        described = {**pool, "UserPoolTags": tags, "DeletionProtection": "ACTIVE"}
        cognito.add_response("describe_user_pool", {"UserPool": described}, {"UserPoolId": "eu-west-1_p"})
        auth.destroy(ctx)
    assert ctx.changed == []
    assert "deletion protection is on" in lines[-1] and "--deletion-protection INACTIVE" in lines[-1]


def test_a_bucket_on_aws_refuses_requests_not_made_over_tls_and_the_policy_is_put_back(ctx: Context) -> None:
    policy = buckets.tls_only(ctx, REPORTS)
    [deny] = policy["Statement"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "s3:*")
    assert deny["Resource"] == [f"arn:aws:s3:::{REPORTS}", f"arn:aws:s3:::{REPORTS}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    for s3 in stubbed(ctx, "s3"):
        s3.add_response("head_bucket", {})
        s3.add_response("get_public_access_block", {"PublicAccessBlockConfiguration": buckets.BLOCK_ALL})
        s3.add_response("get_bucket_encryption", {"ServerSideEncryptionConfiguration": buckets.ENCRYPTION})
        s3.add_client_error(
            "get_bucket_policy", "NoSuchBucketPolicy", "The bucket policy does not exist", 404
        )
        s3.add_client_error("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration", "none", 404)
        s3.add_response("put_bucket_policy", {}, {"Bucket": REPORTS, "Policy": json.dumps(policy)})
        buckets.ensure(ctx, Bucket("reports"), REPORTS)
    assert [(c.kind, c.action, c.detail) for c in ctx.changes] == [("bucket", Action.UPDATE, "policy")]


def test_a_concurrency_the_accounts_quota_cannot_spare_is_said_and_the_deploy_goes_on(ctx: Context) -> None:
    """A new account's Lambda quota (10 concurrent executions) leaves nothing to reserve."""
    said: list[str] = []
    ctx.out = said.append
    message = (
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [10]."
    )
    for lam in stubbed(ctx, "lambda"):
        lam.add_client_error("put_function_concurrency", "InvalidParameterValueException", message, 400)
        functions._reserve(ctx, "pyflows-staging-etf-signal-api-subscribe", 10)
    assert said == [
        f"    pyflows-staging-etf-signal-api-subscribe: concurrency not reserved ({message}); it runs "
        "unreserved until the account's Lambda concurrency quota is raised (Service Quotas, AWS Lambda, "
        "'Concurrent executions')"
    ]


def test_a_deploy_reserves_only_what_the_account_can_spare_counting_reservations_made_once(
    ctx: Context,
) -> None:
    """Lambda keeps 100 of the account's concurrency unreserved; what the account's reservations
    take, those of these functions included, is already out of what it reports unreserved."""
    said: list[str] = []
    ctx.out = said.append
    signals, subscribe, search = (
        f"pyflows-staging-{fn}"
        for fn in ("etf-signal-api-signals", "etf-signal-api-subscribe", "ticket-ranking-api-search")
    )
    for lam in stubbed(ctx, "lambda"):
        # none declared: nothing asked
        assert functions.unreservable(ctx, [WORKFLOWS["lottery"]]) == frozenset()
        limit = {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 110}
        lam.add_response("get_account_settings", {"AccountLimit": limit})
        lam.add_response(
            "list_functions", {"Functions": [{"FunctionName": n} for n in (signals, subscribe, search)]}
        )
        lam.add_response("get_function_concurrency", {}, {"FunctionName": signals})
        lam.add_response("get_function_concurrency", {}, {"FunctionName": subscribe})
        lam.add_response(
            "get_function_concurrency", {"ReservedConcurrentExecutions": 10}, {"FunctionName": search}
        )
        unreservable = functions.unreservable(ctx, [WORKFLOWS["etf-signal"], TICKETS])
    assert unreservable == frozenset({subscribe})
    assert said == [
        f"  unreserved: {subscribe} runs without the reserved concurrency declared (10 in all), which the "
        "account cannot spare: its Lambda quota in eu-west-1 is 1000 concurrent executions, 110 of them "
        "unreserved, and Lambda keeps 100 unreserved for the functions that reserve none, and this "
        "deploy's other reservations take 10; ask for a higher quota (Service Quotas, AWS Lambda, "
        "'Concurrent executions'), then deploy again to reserve it"
    ]


def test_a_reservation_the_deploy_lowers_frees_nothing_for_another_it_makes(ctx: Context) -> None:
    """The workflows deploy side by side: a reservation lowered (20 set by hand, 10 declared) may
    not be lowered yet when another is asked for, so what it gives back is not counted as spare."""
    ctx.out = lambda line: None
    signals, subscribe, search = (
        f"pyflows-staging-{fn}"
        for fn in ("etf-signal-api-signals", "etf-signal-api-subscribe", "ticket-ranking-api-search")
    )
    for lam in stubbed(ctx, "lambda"):
        limit = {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 110}
        lam.add_response("get_account_settings", {"AccountLimit": limit})
        lam.add_response(
            "list_functions", {"Functions": [{"FunctionName": n} for n in (signals, subscribe, search)]}
        )
        lam.add_response(
            "get_function_concurrency", {"ReservedConcurrentExecutions": 20}, {"FunctionName": signals}
        )
        lam.add_response("get_function_concurrency", {}, {"FunctionName": subscribe})
        lam.add_response("get_function_concurrency", {}, {"FunctionName": search})
        unreservable = functions.unreservable(ctx, [WORKFLOWS["etf-signal"], TICKETS])
    assert unreservable == frozenset({search})


def test_any_other_refusal_to_reserve_concurrency_stops_the_deploy(ctx: Context) -> None:
    for lam in stubbed(ctx, "lambda"):
        lam.add_client_error(
            "put_function_concurrency", "ResourceNotFoundException", "Function not found", 404
        )
        with pytest.raises(ClientError):
            functions._reserve(ctx, "pyflows-staging-etf-signal-api-subscribe", 10)


def test_an_unconfirmed_subscriber_is_not_subscribed_again_nor_one_no_longer_declared_unsubscribed(
    ctx: Context,
) -> None:
    """An email subscription AWS still waits to have confirmed has no ARN ("PendingConfirmation"):
    declared, it is not made twice; no longer declared, it cannot be unsubscribed, which is said."""
    topic = f"arn:aws:sns:eu-west-1:{ACCOUNT}:pyflows-staging-lottery-announcements"
    pending = [
        {"SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": email, "TopicArn": topic}
        for email in ("hr@example.com", "gone@example.com")
    ]
    said: list[str] = []
    ctx = dataclasses.replace(ctx, out=said.append)
    for sns in stubbed(ctx, "sns"):
        sns.add_response("list_subscriptions_by_topic", {"Subscriptions": pending}, {"TopicArn": topic})
        declared = [Subscriber("email", "hr@example.com")]
        topics.ensure_subscribers(ctx, "pyflows-staging-lottery-announcements", topic, declared)
    assert [(c.name, c.action) for c in ctx.changes] == [
        ("pyflows-staging-lottery-announcements hr@example.com", Action.UNCHANGED)
    ]
    assert said == [
        "  left             subscription   pyflows-staging-lottery-announcements gone@example.com (not declared, "
        "but unconfirmed: no ARN to unsubscribe it by; it lapses)"
    ]
