"""Deploy to the local cloud, then redeploy, plan, change one task, drift, destroy.

The tests share one deployment and run in file order: each starts from what the previous left.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.awsrequest import AWSResponse

import deploy
import infra
from infra import auth, iam, layers
from infra.environments import subscriber
from infra.plan import UNDECLARED, Action, Context
from infra.runner import names_for
from tests.conftest import Inbox
from tests.deploy.conftest import Deployment
from workflows import WORKFLOWS, asl, policies
from workflows.registry import ALERT_WINDOWS, Index, Workflow

RECORD = "pyflows-dtest-lottery-record-winners"
DRAW = "pyflows-dtest-lottery-draw-winners"
LAYER = "pyflows-dtest-dependencies"
LAYER_ARN = f"arn:aws:lambda:us-east-1:123456789012:layer:{LAYER}"


def versions(deployment: Deployment, name: str) -> list[str]:
    listed = deployment.client("lambda").list_versions_by_function(FunctionName=name)["Versions"]
    return [v["Version"] for v in listed]


def layer_versions(deployment: Deployment, name: str = LAYER) -> list[dict[str, Any]]:
    return list(deployment.client("lambda").list_layer_versions(LayerName=name)["LayerVersions"])


def alias_version(deployment: Deployment, name: str) -> str:
    return str(deployment.client("lambda").get_alias(FunctionName=name, Name="dtest")["FunctionVersion"])


def test_first_deploy_creates_every_resource_tagged(deployment: Deployment) -> None:
    first = deployment.first
    assert first.changed and all(c.action is Action.CREATE for c in first.changed)
    kinds = {c.kind for c in first.changed}
    assert kinds >= {"role", "table", "topic", "bucket", "stream", "function", "state machine", "alarm"}
    assert kinds >= {
        "schedule",
        "pipe",
        "http api",
        "route",
        "authorizer",
        "log group",
        "subscription",
        "queue",
    }
    sfn = deployment.client("stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=first.workflows[0].state_machine_arn)
    assert machine["loggingConfiguration"]["level"] == "ALL"
    assert machine["tracingConfiguration"] == {"enabled": True}
    assert "${" not in machine["definition"]
    tags = sfn.list_tags_for_resource(resourceArn=machine["stateMachineArn"])["tags"]
    assert {t["key"]: t["value"] for t in tags} == {"app": "pyflows", "env": "dtest"}


def test_functions_are_configured_with_alias_on_version_one(deployment: Deployment) -> None:
    config = deployment.client("lambda").get_function_configuration(FunctionName=RECORD, Qualifier="dtest")
    variables = config["Environment"]["Variables"]
    assert variables["WINNERS_TABLE"] == "pyflows-dtest-lottery-winners"
    assert variables["POWERTOOLS_SERVICE_NAME"] == "lottery"
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "pyflows"
    assert variables["POWERTOOLS_TRACE_DISABLED"] == "true"  # local: no X-Ray daemon
    # Locally no Powertools layer (the local cloud's workers have the venv), but the dependencies layer.
    assert [layer["Arn"] for layer in config["Layers"]] == [f"{LAYER_ARN}:1"]
    assert alias_version(deployment, RECORD) == "1"
    probe = deployment.client("lambda").get_function_configuration(FunctionName="pyflows-dtest-probe-draw")
    assert probe["Environment"]["Variables"]["API_KEY_PARAMETER"] == "/pyflows/dtest/api-key"
    assert probe["Environment"]["Variables"]["NEWS_TOPIC"].startswith("arn:aws:sns:")


def test_the_dependencies_layer_is_published_once_and_every_function_lists_it(
    deployment: Deployment,
) -> None:
    assert ("layer", LAYER, Action.CREATE) in [(c.kind, c.name, c.action) for c in deployment.first.changed]
    [published] = layer_versions(deployment)
    lam = deployment.client("lambda")
    version = lam.get_layer_version(LayerName=LAYER, VersionNumber=published["Version"])
    assert version["Content"]["CodeSha256"] == layers.build().sha256
    assert version["CompatibleRuntimes"] == ["python3.11"]
    for wf in deployment.workflows:
        for fn in wf.functions:
            name = f"pyflows-dtest-{wf.name}-{fn.name}"
            config = lam.get_function_configuration(FunctionName=name, Qualifier="dtest")
            assert [layer["Arn"] for layer in config["Layers"]] == [version["LayerVersionArn"]], name


def test_data_resources_are_protected(deployment: Deployment) -> None:
    dynamodb, s3 = deployment.client("dynamodb"), deployment.client("s3")
    table = dynamodb.describe_table(TableName="pyflows-dtest-probe-items")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by-kind"]
    backups = dynamodb.describe_continuous_backups(TableName="pyflows-dtest-probe-items")
    assert backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "PointInTimeRecoveryStatus"
    ] == ("ENABLED")
    ttl = dynamodb.describe_time_to_live(TableName="pyflows-dtest-probe-items")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires"
    block = s3.get_public_access_block(Bucket="pyflows-dtest-probe-archive")["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_encryption(Bucket="pyflows-dtest-probe-archive")[
        "ServerSideEncryptionConfiguration"
    ]
    assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_triggers_start_the_state_machine(deployment: Deployment) -> None:
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:pyflows-dtest-probe"
    schedule = deployment.client("scheduler").get_schedule(
        Name="probe-1", GroupName="pyflows-dtest-schedules"
    )
    assert schedule["Target"]["Arn"] == machine
    assert schedule["State"] == "DISABLED"  # schedules = false for local
    # not Scheduler's default (185 attempts over a day), which would start a run a day late
    assert schedule["Target"]["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3}
    [dropped] = deployment.client("cloudwatch").describe_alarms(
        AlarmNames=["pyflows-dtest-schedules-dropped"]
    )["MetricAlarms"]
    # a start Scheduler gave up on never ran, so no failure path could alert: this does
    assert (dropped["Namespace"], dropped["MetricName"]) == ("AWS/Scheduler", "InvocationDroppedCount")
    assert dropped["Dimensions"] == [{"Name": "ScheduleGroup", "Value": "pyflows-dtest-schedules"}]
    assert dropped["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:pyflows-dtest-alerts"]
    pipe = deployment.client("pipes").describe_pipe(Name="pyflows-dtest-probe-events")
    assert pipe["Target"] == machine and pipe["Source"].endswith("stream/pyflows-dtest-probe-events")
    # a batch that cannot start is retried a few times, not until its records expire, then described
    # in the dead-letter queue, whose alarm tells the on-call; a new pipe misses no record
    dead_letters = "arn:aws:sqs:us-east-1:123456789012:pyflows-dtest-probe-events-dead-letters"
    assert pipe["SourceParameters"]["KinesisStreamParameters"] == {
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 1,
        "MaximumRetryAttempts": 5,
        "MaximumRecordAgeInSeconds": 3600,
        "OnPartialBatchItemFailure": "AUTOMATIC_BISECT",
        "DeadLetterConfig": {"Arn": dead_letters},
        "StartingPosition": "TRIM_HORIZON",
    }
    sqs = deployment.client("sqs")
    url = sqs.get_queue_url(QueueName="pyflows-dtest-probe-events-dead-letters")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert queue["QueueArn"] == dead_letters
    assert queue["MessageRetentionPeriod"] == str(14 * 24 * 3600) and queue["SqsManagedSseEnabled"] == "true"
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"app": "pyflows", "env": "dtest"}
    role = deployment.client("iam").get_role_policy(
        RoleName="pyflows-dtest-probe-events-pipe", PolicyName=iam.POLICY_NAME
    )["PolicyDocument"]
    sends = [s for s in _document(role)["Statement"] if "sqs:SendMessage" in s["Action"]]
    assert sends == [{"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [dead_letters]}]
    [alarm] = deployment.client("cloudwatch").describe_alarms(
        AlarmNames=["pyflows-dtest-probe-events-dead-letters"]
    )["MetricAlarms"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": "pyflows-dtest-probe-events-dead-letters"}]
    assert alarm["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:pyflows-dtest-alerts"]
    api = deployment.client("apigatewayv2")
    api_id = next(a["ApiId"] for a in api.get_apis()["Items"] if a["Name"] == "pyflows-dtest-api")
    routes = {r["RouteKey"]: r for r in api.get_routes(ApiId=api_id)["Items"]}
    assert routes["POST /probe"]["AuthorizationType"] == "JWT"
    integration_id = routes["POST /probe"]["Target"].split("/")[1]
    integration = api.get_integration(ApiId=api_id, IntegrationId=integration_id)
    assert integration["IntegrationSubtype"] == "StepFunctions-StartSyncExecution"
    assert integration["RequestParameters"]["StateMachineArn"] == machine
    alarm = deployment.client("cloudwatch").describe_alarms(AlarmNames=["pyflows-dtest-probe-timed-out"])
    [timed_out] = alarm["MetricAlarms"]
    assert timed_out["Dimensions"] == [{"Name": "StateMachineArn", "Value": machine}]
    # failures alert from the workflow's own failure path: the alarm covers what that cannot
    assert timed_out["MetricName"] == "ExecutionsTimedOut"


def test_the_api_may_invoke_each_function_behind_a_route_on_that_route_only(deployment: Deployment) -> None:
    """API Gateway calls a route's function only when the function's policy lets it (else a 500)."""
    api = deployment.client("apigatewayv2")
    api_id = next(a["ApiId"] for a in api.get_apis()["Items"] if a["Name"] == "pyflows-dtest-api")
    lam = deployment.client("lambda")
    policy = lam.get_policy(FunctionName="pyflows-dtest-ticket-ranking-api-search", Qualifier="dtest")
    [statement] = json.loads(policy["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"].endswith(":function:pyflows-dtest-ticket-ranking-api-search:dtest")
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(f":{api_id}/*/GET/tickets/search")


def test_second_deploy_with_no_change_updates_nothing_and_says_so(deployment: Deployment) -> None:
    before, layer_before = versions(deployment, DRAW), layer_versions(deployment)
    result, output = deployment.deploy()
    assert result.changed == []
    assert "No changes" in output
    # locally the console serves the routes: the API Gateway address answers nothing here
    assert "API:     http://127.0.0.1:8080/  (the workflows' routes, served by the console)" in output
    assert "execute-api" not in output and result.api_url
    assert len(result.changes) == len(deployment.first.changes)
    assert versions(deployment, DRAW) == before
    assert layer_versions(deployment) == layer_before  # no new layer version either


@pytest.mark.parametrize("plan", [False, True], ids=["deploy", "plan"])
def test_a_no_op_redeploy_describes_each_table_once_and_reads_each_concurrency_once(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, plan: bool
) -> None:
    """The check, the table's step and the removal pass all need a table's description, and the
    account's spare concurrency and the function's step its reserved concurrency: each is asked of
    AWS once (DescribeTable is throttled at 10 a second per account)."""
    asked: list[tuple[str, str]] = []
    client = Context.client

    def counting(ctx: Context, service: str) -> Any:
        made = client(ctx, service)
        for event, key in (
            ("dynamodb.DescribeTable", "TableName"),
            ("lambda.GetFunctionConcurrency", "FunctionName"),
        ):
            made.meta.events.register(
                f"before-parameter-build.{event}",
                lambda params, model, key=key, **_: asked.append((model.name, params[key])),
                unique_id=f"test-counted-{event}",
            )
        return made

    monkeypatch.setattr(Context, "client", counting)
    result, _ = deployment.deploy(plan=plan)
    assert result.changed == []
    names = names_for(deployment.env)
    tables = {names.resource(wf, t.name) for wf in deployment.workflows for t in wf.tables}
    tables.add(deployment.env.resource_name(ALERT_WINDOWS))
    functions = {names.function(wf, fn) for wf in deployment.workflows for fn in wf.functions}
    once = [("DescribeTable", name) for name in tables] + [
        ("GetFunctionConcurrency", name) for name in functions
    ]
    assert Counter(asked) == dict.fromkeys(once, 1)


def test_the_apis_cors_follows_the_environment(deployment: Deployment) -> None:
    """The web pages `cors_origins` names may call the routes from their scripts; API Gateway then
    answers their preflight requests. Set, changed and removed by the next deploy."""
    api = deployment.client("apigatewayv2")
    api_id = next(a["ApiId"] for a in api.get_apis()["Items"] if a["Name"] == "pyflows-dtest-api")
    assert "CorsConfiguration" not in api.get_api(ApiId=api_id)  # none unless the environment names pages

    def deploy(*origins: str) -> list[tuple[str, str, str]]:
        env = dataclasses.replace(deployment.env, cors_origins=origins)
        result = infra.deploy(env, workflows=deployment.workflows, out=lambda line: None)
        return [(c.kind, c.action, c.detail) for c in result.changed]

    try:
        assert deploy("https://www.example.com") == [
            ("http api", "update", "CORS for https://www.example.com")
        ]
        cors = api.get_api(ApiId=api_id)["CorsConfiguration"]
        assert cors["AllowOrigins"] == ["https://www.example.com"]
        assert set(cors["AllowMethods"]) == {"GET", "POST"}  # the routes' methods
        assert cors["AllowHeaders"] == ["authorization", "content-type"]  # a bearer token, a JSON body
        assert deploy("https://www.example.com") == []
        assert deploy("*") == [("http api", "update", "CORS for *")]
    finally:
        assert deploy() == [("http api", "update", "no CORS")]
    assert "CorsConfiguration" not in api.get_api(ApiId=api_id)


def test_plan_reports_new_dependencies_and_publishes_nothing(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    current = layers.build()
    monkeypatch.setattr(layers, "build", lambda: dataclasses.replace(current, zip=current.zip + b" "))
    result, output = deployment.deploy(plan=True)
    [layer] = [c for c in result.changed if c.kind == "layer"]
    assert (layer.name, layer.action) == (LAYER, Action.UPDATE)
    assert layer.detail.startswith(f"{len(current.pins)} distributions")
    # Every function would list the next layer version, and nothing else would change.
    others = {(c.kind, c.action, c.detail) for c in result.changed if c.kind != "layer"}
    assert others == {("function", Action.UPDATE, "Layers")}
    assert len(result.changed) == 1 + sum(len(wf.functions) for wf in deployment.workflows)
    assert "would update" in output
    assert len(layer_versions(deployment)) == 1


def _edit_task(deployment: Deployment) -> None:
    path = deployment.tasks / "lottery" / "record_winners.py"
    path.write_text(path.read_text() + "\n# changed by the deploy test\n")


def test_plan_reports_a_task_change_and_changes_nothing(deployment: Deployment) -> None:
    _edit_task(deployment)
    sha = deployment.client("lambda").get_function_configuration(FunctionName=RECORD)["CodeSha256"]
    result, output = deployment.deploy(plan=True)
    assert [(c.kind, c.name, c.action) for c in result.changed] == [("function", RECORD, Action.UPDATE)]
    assert "would update" in output
    assert deployment.client("lambda").get_function_configuration(FunctionName=RECORD)["CodeSha256"] == sha
    assert versions(deployment, RECORD) == ["$LATEST", "1"]


def test_changing_one_task_updates_only_its_function_and_publishes_one_version(
    deployment: Deployment,
) -> None:
    result, _ = deployment.deploy()
    assert [(c.kind, c.name, c.detail) for c in result.changed] == [("function", RECORD, "code")]
    assert versions(deployment, RECORD) == ["$LATEST", "1", "2"]
    assert alias_version(deployment, RECORD) == "2"
    assert versions(deployment, DRAW) == ["$LATEST", "1"] and alias_version(deployment, DRAW) == "1"
    summary = {fn.name: fn.version for wf in result.workflows for fn in wf.functions}
    assert summary[RECORD] == "2" and summary[DRAW] == "1"


def test_configuration_drift_is_put_back(deployment: Deployment) -> None:
    deployment.client("lambda").update_function_configuration(FunctionName=DRAW, Timeout=99)
    result, _ = deployment.deploy()
    assert [(c.name, c.detail) for c in result.changed] == [(DRAW, "Timeout")]
    assert (
        deployment.client("lambda").get_function_configuration(FunctionName=DRAW, Qualifier="dtest")[
            "Timeout"
        ]
        != 99
    )
    assert alias_version(deployment, DRAW) == "2"


def test_drift_of_data_and_state_machines_is_put_back(deployment: Deployment) -> None:
    deployment.client("dynamodb").update_continuous_backups(
        TableName="pyflows-dtest-probe-items",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    deployment.client("s3").delete_public_access_block(Bucket="pyflows-dtest-probe-archive")
    machine = deployment.first.workflows[0].state_machine_arn
    sfn = deployment.client("stepfunctions")
    sfn.update_state_machine(stateMachineArn=machine, tracingConfiguration={"enabled": False})
    result, _ = deployment.deploy()
    assert sorted((c.kind, c.detail) for c in result.changed) == [
        ("bucket", "public access"),
        ("state machine", "tracingConfiguration"),
        ("table", "point-in-time recovery"),
    ]
    assert sfn.describe_state_machine(stateMachineArn=machine)["tracingConfiguration"] == {"enabled": True}
    assert deployment.deploy()[0].changed == []


API = "pyflows-dtest-api"
SEARCH = "pyflows-dtest-ticket-ranking-api-search"
SUBSCRIBE = "pyflows-dtest-etf-signal-api-subscribe"
SIGNALS = "pyflows-dtest-etf-signal-api-signals"


def changed(result: infra.Result) -> list[tuple[str, str, str]]:
    return sorted((c.kind, c.name, c.detail) for c in result.changed)


def test_the_api_is_throttled_and_logs_every_request_and_both_are_put_back(deployment: Deployment) -> None:
    """A flood on a public route is refused by API Gateway (429), not paid for function by function,
    and the subscribe route, each request of which emails an address, is allowed only a few a second.
    Who sent each request is in the access log."""
    api = deployment.client("apigatewayv2")
    api_id = next(a["ApiId"] for a in api.get_apis()["Items"] if a["Name"] == API)
    stage = api.get_stage(ApiId=api_id, StageName="$default")
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == 50
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 100
    subscribe = stage["RouteSettings"]["POST /etf/subscriptions"]
    assert (subscribe["ThrottlingRateLimit"], subscribe["ThrottlingBurstLimit"]) == (1, 5)
    group = "/aws/apigateway/pyflows-dtest-api"
    assert (
        stage["AccessLogSettings"]["DestinationArn"]
        == f"arn:aws:logs:us-east-1:123456789012:log-group:{group}"
    )
    fields = json.loads(stage["AccessLogSettings"]["Format"])
    assert {"requestId", "ip", "routeKey", "status"} <= set(fields)
    [found] = deployment.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert found["retentionInDays"] == 30
    api.delete_stage(ApiId=api_id, StageName="$default")
    api.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)  # as made by hand
    plan, _ = deployment.deploy(plan=True)
    expected = [("stage", f"{API} $default", "50/s (burst 100), POST /etf/subscriptions 1/s, access log")]
    assert changed(plan) == expected
    assert changed(deployment.deploy()[0]) == expected
    assert api.get_stage(ApiId=api_id, StageName="$default")["RouteSettings"] == stage["RouteSettings"]
    assert deployment.deploy()[0].changed == []


def reserved_of(deployment: Deployment) -> Callable[[str], int | None]:
    """A function's reserved concurrency, by name."""
    lam = deployment.client("lambda")
    return lambda name: lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")


def test_functions_behind_public_routes_have_reserved_concurrency_put_back_without_a_new_version(
    deployment: Deployment,
) -> None:
    """A flood on a public route takes at most their share of the account's Lambda concurrency,
    never what the workflows' tasks need."""
    lam, reserved = deployment.client("lambda"), reserved_of(deployment)
    assert [reserved(name) for name in (SEARCH, SUBSCRIBE, SIGNALS)] == [10, 10, 10]
    assert reserved(DRAW) is None and reserved("pyflows-dtest-ride-request-api-ride") is None  # not public
    search_version = alias_version(deployment, SEARCH)
    lam.delete_function_concurrency(FunctionName=SEARCH)
    lam.put_function_concurrency(FunctionName=DRAW, ReservedConcurrentExecutions=1)
    assert changed(deployment.deploy()[0]) == [
        ("function", DRAW, "reserved concurrency"),
        ("function", SEARCH, "reserved concurrency"),
    ]
    assert (reserved(SEARCH), reserved(DRAW)) == (10, None)
    assert alias_version(deployment, SEARCH) == search_version  # not part of a version
    assert deployment.deploy()[0].changed == []


@dataclasses.dataclass
class Account:
    """The account's Lambda settings as deploy asks them: how often, and what Lambda answers
    (`limit`, its AccountLimit; the local cloud's own answer when None)."""

    asked: int = 0
    limit: dict[str, int] | None = None


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Account:
    """Deploy's Lambda clients' GetAccountSettings, counted and answered as `Account` says."""
    account, client = Account(), Context.client

    def answer(**kwargs: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        account.asked += 1
        if account.limit is None:
            return None  # sent to the local cloud
        return AWSResponse("https://lambda.example", 200, {}, None), {"AccountLimit": account.limit}

    def answering(ctx: Context, service: str) -> Any:
        made = client(ctx, service)
        if service == "lambda":
            made.meta.events.register(
                "before-call.lambda.GetAccountSettings", answer, unique_id="test-account-settings"
            )
        return made

    monkeypatch.setattr(Context, "client", answering)
    return account


def test_a_deploy_asks_the_account_once_and_makes_the_reservations_it_can_spare(
    deployment: Deployment, account: Account
) -> None:
    reserved = reserved_of(deployment)
    deployment.client("lambda").delete_function_concurrency(FunctionName=SEARCH)
    result, output = deployment.deploy()
    assert changed(result) == [("function", SEARCH, "reserved concurrency")]
    assert [reserved(name) for name in (SEARCH, SUBSCRIBE, SIGNALS)] == [10, 10, 10]
    assert account.asked == 1 and "unreserved" not in output
    assert deployment.deploy()[0].changed == [] and account.asked == 2


# A new account's: a quota of 10 concurrent executions, all of them unreserved.
NEW_ACCOUNT = {"ConcurrentExecutions": 10, "UnreservedConcurrentExecutions": 10}


def test_reserved_concurrency_the_account_cannot_spare_is_said_once_and_neither_tried_nor_counted(
    deployment: Deployment, account: Account
) -> None:
    """Else every deploy would try it again, be refused again and count it as a change: a no-op
    redeploy would never be one, and a plan would show a change it cannot make."""
    env, reserved = dataclasses.replace(deployment.env, name="newacct"), reserved_of(deployment)
    etf = WORKFLOWS["etf-signal"]
    subscribe, signals = (f"pyflows-newacct-etf-signal-{fn}" for fn in ("api-subscribe", "api-signals"))
    account.limit = NEW_ACCOUNT

    def deploying(workflow: Workflow = etf, **kwargs: Any) -> tuple[infra.Result, list[str]]:
        lines: list[str] = []
        return infra.deploy(env, workflows=[workflow], out=lines.append, **kwargs), lines

    results: list[infra.Result] = []
    for plan in (False, True, False):  # the first deploy, a plan, a redeploy
        result, lines = deploying(plan=plan)
        [note] = [line for line in lines if "unreserved" in line]
        assert f"{signals}, {subscribe} run without the reserved concurrency declared (20 in all)" in note
        assert "quota in us-east-1 is 10 concurrent executions, 10 of them unreserved" in note
        assert "Service Quotas, AWS Lambda, 'Concurrent executions'" in note
        assert (reserved(subscribe), reserved(signals)) == (None, None)
        results.append(result)
    assert [r.changed for r in results[1:]] == [[], []] and account.asked == 3
    # one the registry no longer declares is still given back, on an account that cannot spare it
    deployment.client("lambda").put_function_concurrency(
        FunctionName=subscribe, ReservedConcurrentExecutions=10
    )
    account.limit = {**NEW_ACCOUNT, "UnreservedConcurrentExecutions": 0}
    uncapped = dataclasses.replace(etf.function("api-subscribe"), reserved_concurrency=None)
    others = [fn for fn in etf.functions if fn.name != "api-subscribe"]
    result, lines = deploying(dataclasses.replace(etf, functions=(*others, uncapped)))
    assert changed(result) == [("function", subscribe, "reserved concurrency")]
    assert reserved(subscribe) is None
    [note] = [line for line in lines if "unreserved" in line]
    assert f"{signals} runs without" in note and subscribe not in note


def test_the_user_pool_admits_only_users_an_administrator_makes(deployment: Deployment) -> None:
    """Its app client is public: with sign-up open, anyone could add themselves to the pool."""
    cognito = deployment.client("cognito-idp")
    pool_id = auth.find_pool(cognito, "pyflows-dtest-users")
    assert pool_id
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool.get("DeletionProtection", "INACTIVE") == "INACTIVE"  # only prod's is protected
    cognito.update_user_pool(UserPoolId=pool_id, AdminCreateUserConfig={"AllowAdminCreateUserOnly": False})
    assert changed(deployment.deploy()[0]) == [("user pool", "pyflows-dtest-users", "sign-up")]
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UserPoolTags"] == deployment.env.tags()  # UpdateUserPool drops the tags it is not given
    assert deployment.deploy()[0].changed == []


def test_local_buckets_have_no_tls_only_policy(deployment: Deployment) -> None:
    """The local cloud serves plain HTTP, and its S3 would refuse every request (AWS's buckets get
    the policy: test_aws_behaviour)."""
    s3 = deployment.client("s3")
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="pyflows-dtest-probe-archive")


def test_the_alerts_inbox_gets_every_alert_from_the_alerts_topic_alone(deployment: Deployment) -> None:
    sqs, sns = deployment.client("sqs"), deployment.client("sns")
    url = sqs.get_queue_url(QueueName="pyflows-dtest-alerts-inbox")["QueueUrl"]
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    topic = names_for(deployment.env).alerts_topic_arn()
    [statement] = json.loads(found["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage" and statement["Resource"] == found["QueueArn"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": topic}}
    assert found["MessageRetentionPeriod"] == str(14 * 24 * 3600) and found["SqsManagedSseEnabled"] == "true"
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"app": "pyflows", "env": "dtest"}
    sns.publish(TopicArn=topic, Subject="[probe] execution failed", Message="probe")
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert json.loads(message["Body"])["Subject"] == "[probe] execution failed"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    # drift put back: a retention shortened by hand, the subscription removed
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "60"})
    [subscription] = [
        s for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] if s["Protocol"] == "sqs"
    ]
    sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
    result, _ = deployment.deploy()
    # (the local cloud also drops the queue's policy when another attribute is set: put back too)
    [(queue, detail), subscribed] = sorted((c.kind, c.detail) for c in result.changed)
    assert queue == "queue" and "MessageRetentionPeriod" in detail.split(", ")
    assert subscribed == ("subscription", "alerts into the inbox")
    now = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert {k: now[k] for k in ("Policy", "MessageRetentionPeriod")} == {
        k: found[k] for k in ("Policy", "MessageRetentionPeriod")
    }
    assert deployment.deploy()[0].changed == []


def test_the_alert_email_takes_only_the_alerts_marked_emailed(deployment: Deployment) -> None:
    """The alerts' email subscription filters on `emailed` (one per workflow and error an hour,
    policies.alert_window); one made before the filter is given it; the window's table is the
    environment's, expiring its items."""
    sns, dynamodb = deployment.client("sns"), deployment.client("dynamodb")
    ttl = dynamodb.describe_time_to_live(TableName="pyflows-dtest-alert-windows")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    topic, address = names_for(deployment.env).alerts_topic_arn(), deployment.env.alert_email

    def email_filter() -> tuple[str, Any]:
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        [email] = [s for s in subscriptions if s["Protocol"] == "email"]
        attributes = sns.get_subscription_attributes(SubscriptionArn=email["SubscriptionArn"])["Attributes"]
        return email["SubscriptionArn"], json.loads(attributes.get("FilterPolicy") or "null")

    made_first, policy = email_filter()
    assert address and policy == policies.EMAIL_FILTER
    sns.unsubscribe(SubscriptionArn=made_first)  # as a deploy made it before the filter
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)

    result, _ = deployment.deploy()

    assert [(c.kind, c.name, c.detail) for c in result.changed] == [
        ("subscription", address, "email only the alerts marked emailed")
    ]
    assert email_filter()[1] == policies.EMAIL_FILTER
    assert deployment.deploy()[0].changed == []


PHONE, DEALS, WINNERS = "+79161234567", "deals@example.com", "hr@example.com"


def declared(
    deployment: Deployment, subscribers: dict[tuple[str, str], tuple[str, ...]]
) -> infra.Environment:
    """The deployment's environment with environments.toml's `subscribers`: (workflow, topic) -> endpoints."""
    return dataclasses.replace(
        deployment.env,
        subscribers={
            topic: tuple(subscriber("test", e) for e in found) for topic, found in subscribers.items()
        },
    )


def subscribed(deployment: Deployment, workflow: str, topic: str) -> list[tuple[str, str]]:
    arn = names_for(deployment.env).resource_arn(WORKFLOWS[workflow], topic)
    found = deployment.client("sns").list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    return sorted((s["Protocol"], s["Endpoint"]) for s in found)


def test_declared_subscribers_are_subscribed_once_and_those_no_longer_declared_unsubscribed(
    deployment: Deployment,
) -> None:
    """The seeds' deal SMS and winners' email: environments.toml's `subscribers` of the deals and
    announcements topics, planned, made, made once, and taken off when no longer declared."""
    flight, tickets, lottery = (
        ("flight-deals", "deals"),
        ("ticket-ranking", "deals"),
        ("lottery", "announcements"),
    )
    env = declared(deployment, {flight: (PHONE, DEALS), tickets: (DEALS,), lottery: (WINNERS,)})
    lines: list[str] = []
    planned = infra.deploy(env, plan=True, workflows=deployment.workflows, complete=True, out=lines.append)
    by_email = "by email, once the address confirms it"
    assert sorted((c.kind, c.name, c.action, c.detail) for c in planned.changed) == [
        ("subscription", f"pyflows-dtest-flight-deals-deals {PHONE}", Action.CREATE, "by SMS"),
        ("subscription", f"pyflows-dtest-flight-deals-deals {DEALS}", Action.CREATE, by_email),
        ("subscription", f"pyflows-dtest-lottery-announcements {WINNERS}", Action.CREATE, by_email),
        ("subscription", f"pyflows-dtest-ticket-ranking-deals {DEALS}", Action.CREATE, by_email),
    ]
    assert "  would create     subscription   pyflows-dtest-flight-deals-deals +79161234567 (by SMS)" in lines
    assert subscribed(deployment, "flight-deals", "deals") == []

    made = infra.deploy(env, workflows=deployment.workflows, complete=True, out=lambda line: None)

    assert sorted((c.kind, c.name, c.action) for c in made.changed) == sorted(
        (c.kind, c.name, c.action) for c in planned.changed
    )
    assert subscribed(deployment, "flight-deals", "deals") == [("email", DEALS), ("sms", PHONE)]
    assert subscribed(deployment, "ticket-ranking", "deals") == [("email", DEALS)]
    assert subscribed(deployment, "lottery", "announcements") == [("email", WINNERS)]
    again = infra.deploy(env, workflows=deployment.workflows, complete=True, out=lambda line: None)
    assert again.changed == []
    assert subscribed(deployment, "flight-deals", "deals") == [("email", DEALS), ("sms", PHONE)]

    # one taken out of the configuration, one added by hand: both unsubscribed; a queue is left be
    sns = deployment.client("sns")
    topic = names_for(env).resource_arn(WORKFLOWS["flight-deals"], "deals")
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="someone@example.com")
    Inbox(deployment.client, topic)  # a queue subscribed, as a test inbox is
    fewer = declared(deployment, {flight: (PHONE,), tickets: (), lottery: (WINNERS,)})
    result = infra.deploy(fewer, workflows=deployment.workflows, complete=True, out=lambda line: None)
    assert sorted((c.name, c.action, c.detail) for c in result.changed) == [
        (f"pyflows-dtest-flight-deals-deals {DEALS}", Action.DELETE, "not declared in environments.toml"),
        (
            "pyflows-dtest-flight-deals-deals someone@example.com",
            Action.DELETE,
            "not declared in environments.toml",
        ),
        (f"pyflows-dtest-ticket-ranking-deals {DEALS}", Action.DELETE, "not declared in environments.toml"),
    ]
    assert [p for p, _ in subscribed(deployment, "flight-deals", "deals")] == ["sms", "sqs"]
    assert subscribed(deployment, "ticket-ranking", "deals") == []
    queue = [
        s for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] if s["Protocol"] == "sqs"
    ]
    sns.unsubscribe(SubscriptionArn=queue[0]["SubscriptionArn"])

    # a topic the file does not name is left as it is: its subscribers are not deploy's to manage
    lottery_topic = names_for(env).resource_arn(WORKFLOWS["lottery"], "announcements")
    sns.subscribe(TopicArn=lottery_topic, Protocol="sms", Endpoint="+15555550100")
    unnamed = declared(deployment, {flight: (PHONE,)})
    assert (
        infra.deploy(unnamed, workflows=deployment.workflows, complete=True, out=lambda line: None).changed
        == []
    )
    assert subscribed(deployment, "lottery", "announcements") == [("email", WINNERS), ("sms", "+15555550100")]
    assert (
        infra.deploy(
            deployment.env, workflows=deployment.workflows, complete=True, out=lambda line: None
        ).changed
        == []
    )

    # the environment as the other tests know it: every topic named with none
    none = declared(deployment, {flight: (), tickets: (), lottery: ()})
    infra.deploy(none, workflows=deployment.workflows, complete=True, out=lambda line: None)
    assert subscribed(deployment, "flight-deals", "deals") == []
    assert subscribed(deployment, "lottery", "announcements") == []
    assert deployment.deploy()[0].changed == []


def test_a_topics_subscriptions_past_snss_first_page_are_all_read(deployment: Deployment) -> None:
    """SNS lists a topic's subscriptions 100 a page: the 101st declared is there already."""
    flight = ("flight-deals", "deals")
    phones = tuple(f"+1555{n:07d}" for n in range(101))
    env = declared(deployment, {flight: phones})
    made = infra.deploy(env, workflows=deployment.workflows, complete=True, out=lambda line: None)
    assert len(made.changed) == 101
    assert (
        infra.deploy(env, workflows=deployment.workflows, complete=True, out=lambda line: None).changed == []
    )
    infra.deploy(
        declared(deployment, {flight: ()}),
        workflows=deployment.workflows,
        complete=True,
        out=lambda line: None,
    )
    assert subscribed(deployment, "flight-deals", "deals") == []


def test_a_pipes_retry_limit_and_dead_letters_removed_by_hand_are_put_back(deployment: Deployment) -> None:
    pipes, name = deployment.client("pipes"), "pyflows-dtest-probe-events"
    unlimited = {"MaximumRetryAttempts": -1, "MaximumRecordAgeInSeconds": -1, "BatchSize": 10}
    role = pipes.describe_pipe(Name=name)["RoleArn"]
    pipes.update_pipe(Name=name, RoleArn=role, SourceParameters={"KinesisStreamParameters": unlimited})
    result, _ = deployment.deploy()
    [(kind, changed, detail)] = [(c.kind, c.name, c.detail) for c in result.changed]
    assert (kind, changed) == ("pipe", name)
    assert {"MaximumRetryAttempts", "OnPartialBatchItemFailure", "DeadLetterConfig"} <= set(
        detail.split(", ")
    )
    found = pipes.describe_pipe(Name=name)["SourceParameters"]["KinesisStreamParameters"]
    assert (found["MaximumRetryAttempts"], found["MaximumRecordAgeInSeconds"]) == (5, 3600)
    assert found["DeadLetterConfig"]["Arn"].endswith(":pyflows-dtest-probe-events-dead-letters")
    assert deployment.deploy()[0].changed == []


def test_a_pipe_reading_from_latest_is_made_anew_from_the_oldest_record(deployment: Deployment) -> None:
    pipes, name = deployment.client("pipes"), "pyflows-dtest-probe-events"
    pipe = pipes.describe_pipe(Name=name)
    pipes.delete_pipe(Name=name)
    source = {**pipe["SourceParameters"]["KinesisStreamParameters"], "StartingPosition": "LATEST"}
    pipes.create_pipe(
        Name=name,
        RoleArn=pipe["RoleArn"],
        Source=pipe["Source"],
        SourceParameters={"KinesisStreamParameters": source},
        Target=pipe["Target"],
        TargetParameters=pipe["TargetParameters"],
        Tags=deployment.env.tags(),
    )
    result, _ = deployment.deploy()
    [change] = result.changed
    assert (change.kind, change.name) == ("pipe", name) and "StartingPosition LATEST" in change.detail
    found = pipes.describe_pipe(Name=name)["SourceParameters"]["KinesisStreamParameters"]
    assert found["StartingPosition"] == "TRIM_HORIZON"
    assert deployment.deploy()[0].changed == []


def test_a_state_machines_definition_and_logging_changed_by_hand_are_put_back(deployment: Deployment) -> None:
    sfn = deployment.client("stepfunctions")
    machine = deployment.first.workflows[0].state_machine_arn
    before = sfn.describe_state_machine(stateMachineArn=machine)
    sfn.update_state_machine(
        stateMachineArn=machine,
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        loggingConfiguration={"level": "OFF"},
    )
    result, _ = deployment.deploy()
    assert [(c.kind, c.detail) for c in result.changed] == [
        ("state machine", "definition, loggingConfiguration")
    ]
    after = sfn.describe_state_machine(stateMachineArn=machine)
    assert json.loads(after["definition"]) == json.loads(before["definition"])
    assert after["loggingConfiguration"] == before["loggingConfiguration"]
    assert deployment.deploy()[0].changed == []


def test_a_workflow_switched_to_another_type_stops_deploy_and_plan_before_any_change(
    deployment: Deployment,
) -> None:
    """Step Functions cannot change a state machine's type, and replacing one deletes its history:
    the deploy refuses, naming what to do, before putting anything back (the drift here)."""
    table = "pyflows-dtest-probe-items"
    dynamodb = deployment.client("dynamodb")
    dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    *others, probe = deployment.workflows
    switched = dataclasses.replace(probe, type=asl.StateMachineType.STANDARD)
    for plan in (True, False):
        lines: list[str] = []
        with pytest.raises(infra.ConfigError) as refused:
            infra.deploy(deployment.env, workflows=[*others, switched], plan=plan, out=lines.append)
        assert (
            "state machine pyflows-dtest-probe is deployed as EXPRESS but workflow probe is now STANDARD"
            in str(refused.value)
        )
        assert "delete-state-machine" in str(refused.value)
        assert lines == []
    pitr = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    machine = deployment.client("stepfunctions").describe_state_machine(
        stateMachineArn=deployment.first.workflows[-1].state_machine_arn
    )
    assert machine["type"] == "EXPRESS"
    assert [(c.kind, c.detail) for c in deployment.deploy()[0].changed] == [
        ("table", "point-in-time recovery")
    ]


def _document(value: Any) -> Any:
    return json.loads(unquote(value)) if isinstance(value, str) else value


def test_a_roles_policy_or_trust_changed_by_hand_is_put_back(deployment: Deployment) -> None:
    """A policy widened by hand goes back to least privilege; a trust changed by hand goes back
    to the one service that runs the function."""
    client = deployment.client("iam")
    anything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    client.put_role_policy(RoleName=DRAW, PolicyName=iam.POLICY_NAME, PolicyDocument=json.dumps(anything))
    ec2 = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    client.update_assume_role_policy(
        RoleName=RECORD, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [ec2]})
    )
    result, _ = deployment.deploy()
    assert sorted((c.kind, c.name, c.detail) for c in result.changed) == [
        ("role", DRAW, "policy"),
        ("role", RECORD, "trust"),
    ]
    names = names_for(deployment.env)
    lottery = deployment.workflows[0]
    policy = client.get_role_policy(RoleName=DRAW, PolicyName=iam.POLICY_NAME)["PolicyDocument"]
    assert _document(policy) == iam.function_policy(names, lottery, lottery.function("draw-winners"))
    trust = client.get_role(RoleName=RECORD)["Role"]["AssumeRolePolicyDocument"]
    assert _document(trust) == iam.trust("lambda", names)
    assert deployment.deploy()[0].changed == []


def test_a_schedule_the_registry_no_longer_has_is_deleted(deployment: Deployment) -> None:
    # The probe once had a second schedule: left in place it would go on starting the workflow
    # wherever schedules are enabled. Another workflow's schedule of a like name stays while that
    # workflow may be deployed (a deploy of some workflows), and goes once none declares it.
    scheduler, group = deployment.client("scheduler"), "pyflows-dtest-schedules"
    kept = scheduler.get_schedule(Name="probe-1", GroupName=group)
    fields = {k: kept[k] for k in ("ScheduleExpression", "FlexibleTimeWindow", "State")}
    target = {k: kept["Target"][k] for k in ("Arn", "RoleArn")}
    for name in ("probe-2", "probe-extra-1"):
        scheduler.create_schedule(Name=name, GroupName=group, Target=target, **fields)
    result, _ = deployment.deploy(complete=False)
    assert [(c.kind, c.name, c.action) for c in result.changed] == [("schedule", "probe-2", Action.DELETE)]
    listed = {s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]}
    assert "probe-2" not in listed and {"probe-1", "probe-extra-1"} <= listed
    result, _ = deployment.deploy()
    assert [(c.kind, c.name, c.action, c.detail) for c in result.changed] == [
        ("schedule", "probe-extra-1", Action.DELETE, UNDECLARED)
    ]
    listed = {s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]}
    assert "probe-extra-1" not in listed and "probe-1" in listed


def test_an_index_replaced_in_the_registry_is_made_before_what_reads_it_and_the_old_one_goes_last(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new index is made, and waited for, before the functions that may read it are deployed
    (here the probe's role, whose policy names the table's indexes); the old one goes once every
    function is deployed, each index in an UpdateTable of its own, as DynamoDB takes them. The
    items stay, and the new index holds them."""
    table, dynamodb = "pyflows-dtest-probe-items", deployment.client("dynamodb")
    item = {"id": {"S": "i1"}, "at": {"N": "1"}, "kind": {"S": "k"}, "state": {"S": "open"}}
    dynamodb.put_item(TableName=table, Item=item)
    *others, probe = deployment.workflows
    [items] = probe.tables
    by_state = dataclasses.replace(items, indexes=(Index("by-state", ("state", "S")),))
    replaced = [*others, dataclasses.replace(probe, tables=(by_state,))]
    updates: list[list[dict[str, Any]]] = []
    client = Context.client

    def recording(ctx: Context, service: str) -> Any:
        made = client(ctx, service)
        if service == "dynamodb":
            made.meta.events.register(
                "before-parameter-build.dynamodb.UpdateTable",
                lambda params, **_: updates.append(params["GlobalSecondaryIndexUpdates"]),
                unique_id="test-recorded-index-updates",
            )
        return made

    monkeypatch.setattr(Context, "client", recording)
    planned, output = deployment.deploy(workflows=replaced, plan=True)
    assert f"would update     table          {table} (add index by-state)" in output
    assert (
        f"would delete     index          {table}/index/by-kind (no workflow declares it; the table keeps "
        "its items)"
    ) in output
    assert updates == [] and len(planned.changed) == 3  # the table, the role, the index
    result, _ = deployment.deploy(workflows=replaced)
    order = [(c.kind, c.name, c.action, c.detail) for c in result.changed]
    added = order.index(("table", table, Action.UPDATE, "add index by-state"))
    role = order.index(("role", "pyflows-dtest-probe-draw", Action.UPDATE, "policy"))
    dropped = ("index", f"{table}/index/by-kind", Action.DELETE, f"{UNDECLARED}; the table keeps its items")
    assert added < role < order.index(dropped) == len(order) - 1
    assert [[next(iter(change)) for change in update] for update in updates] == [["Create"], ["Delete"]]
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert [(i["IndexName"], i["IndexStatus"]) for i in described["GlobalSecondaryIndexes"]] == [
        ("by-state", "ACTIVE")
    ]
    found = dynamodb.query(
        TableName=table,
        IndexName="by-state",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":s": {"S": "open"}},
    )["Items"]
    assert found == [item]
    assert deployment.deploy(workflows=replaced)[0].changed == []
    # and back, for the tests that follow
    assert ("index", f"{table}/index/by-state") in {(c.kind, c.name) for c in deployment.deploy()[0].changed}
    dynamodb.delete_item(TableName=table, Key={"id": {"S": "i1"}, "at": {"N": "1"}})


def test_an_index_whose_keys_changed_under_its_name_stops_deploy_and_plan_until_it_is_renamed(
    deployment: Deployment,
) -> None:
    """DynamoDB cannot change an index's keys: an index the registry redefines under its name
    stops the deploy and the plan before any change (the drift here stays), naming what changed and
    what to do. Renamed, the new index is made and the old one deleted; unchanged, it is the same."""
    table, dynamodb = "pyflows-dtest-probe-items", deployment.client("dynamodb")
    dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    *others, probe = deployment.workflows
    [items] = probe.tables

    def declaring(index: Index) -> list[Workflow]:
        return [*others, dataclasses.replace(probe, tables=(dataclasses.replace(items, indexes=(index,)),))]

    def index_changed(changed: str) -> str:
        return (
            f"table {table}, index by-kind changed: keys {changed}; DynamoDB cannot change an index's "
            "keys or projection: give the index a new name in the registry, and deploy makes the new "
            "one, waits until it is ACTIVE, then deletes by-kind once the functions that read it are "
            "deployed"
        )

    # an attribute's type is the table's, whichever index declares it: renaming the index would not do
    retyped = (
        f"table {table}: attribute kind is S in the table and N in the registry; a table gives each key "
        "attribute one type, which DynamoDB does not change while a key or an index uses it (a new "
        "index of the new type would be refused too): give the attribute a new name, which the items "
        "must then carry"
    )
    refusals = {
        Index("by-kind", ("state", "S")): index_changed("partition kind (S) -> partition state (S)"),
        Index("by-kind", ("kind", "S"), ("at", "N")): index_changed(
            "partition kind (S) -> partition kind (S), sort at (N)"
        ),
        Index("by-kind", ("kind", "N")): retyped,
        Index("by-kind-as-number", ("kind", "N")): retyped,
    }
    for index, refusal in refusals.items():
        for plan in (True, False):
            lines: list[str] = []
            with pytest.raises(infra.ConfigError) as refused:
                infra.deploy(deployment.env, workflows=declaring(index), plan=plan, out=lines.append)
            assert str(refused.value) == refusal
            assert lines == []
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert [(i["IndexName"], i["KeySchema"]) for i in described["GlobalSecondaryIndexes"]] == [
        ("by-kind", [{"AttributeName": "kind", "KeyType": "HASH"}])
    ]
    pitr = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    renamed = declaring(Index("by-kind-and-time", ("kind", "S"), ("at", "N")))
    done = {(c.kind, c.name, c.action, c.detail) for c in deployment.deploy(workflows=renamed)[0].changed}
    assert {
        ("table", table, Action.UPDATE, "add index by-kind-and-time, point-in-time recovery"),
        ("index", f"{table}/index/by-kind", Action.DELETE, f"{UNDECLARED}; the table keeps its items"),
    } <= done
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert [
        (i["IndexName"], i["IndexStatus"], i["KeySchema"]) for i in described["GlobalSecondaryIndexes"]
    ] == [
        (
            "by-kind-and-time",
            "ACTIVE",
            [{"AttributeName": "kind", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
        )
    ]
    assert deployment.deploy(workflows=renamed)[0].changed == []  # the index as declared: the same
    # and back, for the tests that follow
    back = {(c.kind, c.name) for c in deployment.deploy()[0].changed}
    assert {("table", table), ("index", f"{table}/index/by-kind-and-time")} <= back


def test_a_table_whose_key_changed_stops_deploy_and_plan_before_any_change(deployment: Deployment) -> None:
    """DynamoDB cannot change a table's key: the deploy and the plan refuse before putting anything
    back (the drift here), not once the workflows before it are deployed."""
    table, dynamodb = "pyflows-dtest-probe-items", deployment.client("dynamodb")
    dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    *others, probe = deployment.workflows
    [items] = probe.tables
    rekeyed = dataclasses.replace(probe, tables=(dataclasses.replace(items, sort_key=("time", "N")),))
    for plan in (True, False):
        lines: list[str] = []
        with pytest.raises(infra.ConfigError, match=f"table {table}: its key changed in the registry"):
            infra.deploy(deployment.env, workflows=[*others, rekeyed], plan=plan, out=lines.append)
        assert lines == []
    assert [(c.kind, c.detail) for c in deployment.deploy()[0].changed] == [
        ("table", "point-in-time recovery")
    ]


def test_outputs_name_what_was_deployed(deployment: Deployment) -> None:
    outputs = infra.outputs(deployment.env)
    lottery = outputs["lottery"]
    assert lottery["state_machine_arn"] == deployment.first.workflows[0].state_machine_arn
    assert lottery["functions"]["record-winners"]["name"] == RECORD
    assert lottery["resources"]["winners"] == "pyflows-dtest-lottery-winners"
    assert infra.api_url(deployment.env) == deployment.first.api_url


def test_seeding_loads_demo_data_idempotently(deployment: Deployment) -> None:
    for _ in range(2):
        loaded = infra.seed(deployment.env, deployment.workflows, out=lambda line: None)
    assert loaded["pyflows-dtest-lottery-employees"] == 20
    table = deployment.env.session.resource("dynamodb", endpoint_url=deployment.env.endpoint).Table(
        "pyflows-dtest-lottery-employees"
    )
    assert table.scan(Select="COUNT")["Count"] == 20
    assert table.get_item(Key={"employee_id": "E001"})["Item"]["lottery_serial"] == 1


def test_restoring_the_demo_data_clears_the_lotterys_past_winners_and_keeps_other_runs_records(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`deploy.py --seed-only`, "load the demo data": the demo starts over, every employee able to
    win again. A deploy's own loading keeps the past winners, as both keep what other runs made."""
    env = deployment.env
    dynamodb = env.session.resource("dynamodb", endpoint_url=env.endpoint)
    winners = dynamodb.Table("pyflows-dtest-lottery-winners")
    rides = dynamodb.Table("pyflows-dtest-ride-request-rides")
    for serial in (1, 2):
        winners.put_item(Item={"employee_id": f"E00{serial}", "draw_id": "demo-1", "won_at": "2026-12-01"})
    rides.put_item(Item={"ride_id": "ride-1", "request_id": "demo-ride-0001"})

    infra.seed(env, deployment.workflows, out=lambda line: None)  # as a deploy loads it
    assert winners.scan(Select="COUNT")["Count"] == 2

    monkeypatch.setattr(infra, "load", lambda name: env)
    assert deploy.main(["--env", env.name, "--seed-only"]) == 0

    assert "  emptied      pyflows-dtest-lottery-winners (2 items)\n" in capsys.readouterr().out
    assert winners.scan(Select="COUNT")["Count"] == 0
    employees = dynamodb.Table("pyflows-dtest-lottery-employees")
    assert employees.scan(Select="COUNT")["Count"] == 20
    assert rides.get_item(Key={"ride_id": "ride-1"})["Item"]["request_id"] == "demo-ride-0001"


def tagged(deployment: Deployment) -> list[str]:
    """Every resource carrying the environment's tags, asked of each service independently."""
    env, found = deployment.env, []
    tagging = deployment.client("resourcegroupstaggingapi")
    filters = [{"Key": "app", "Values": ["pyflows"]}, {"Key": "env", "Values": ["dtest"]}]
    for page in tagging.get_paginator("get_resources").paginate(TagFilters=filters):
        found += [r["ResourceARN"] for r in page["ResourceTagMappingList"]]
    iam = deployment.client("iam")
    for role in iam.list_roles()["Roles"]:
        if {
            t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"])["Tags"]
        } == env.tags():
            found.append(role["Arn"])
    kinesis = deployment.client("kinesis")
    found += [s for s in kinesis.list_streams()["StreamNames"] if s.startswith("pyflows-dtest-")]
    found += [
        p["Name"]
        for p in deployment.client("pipes").list_pipes()["Pipes"]
        if p["Name"].startswith("pyflows-dtest")
    ]
    groups: Any = deployment.client("scheduler").list_schedule_groups()["ScheduleGroups"]
    found += [g["Name"] for g in groups if g["Name"].startswith("pyflows-dtest")]
    found += [
        a["Name"]
        for a in deployment.client("apigatewayv2").get_apis()["Items"]
        if a.get("Tags") == env.tags()
    ]
    pools = deployment.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]
    found += [p["Name"] for p in pools if p["Name"].startswith("pyflows-dtest")]
    return found


def test_destroy_leaves_no_tagged_resource_behind(deployment: Deployment) -> None:
    # Another environment whose names start with this one's: its resources match the name prefix.
    other = infra.deploy(
        dataclasses.replace(deployment.env, name="dtest-eu"),
        workflows=deployment.workflows[:1],
        out=lambda line: None,
    )
    assert tagged(deployment)
    lines: list[str] = []
    deleted = infra.destroy(deployment.env, out=lines.append)
    assert tagged(deployment) == []
    assert layer_versions(deployment) == []  # untagged, named for the environment
    assert {c.kind for c in deleted} >= {
        "function",
        "role",
        "table",
        "state machine",
        "pipe",
        "http api",
        "queue",
    }
    queues = {c.name for c in deleted if c.kind == "queue"}
    assert queues >= {"pyflows-dtest-alerts-inbox", "pyflows-dtest-probe-events-dead-letters"}
    assert not [q for q in queues if q.startswith("pyflows-dtest-eu-")]  # by tags, not by name
    assert infra.destroy(deployment.env, out=lines.append) == []
    assert lines[-1] == "Nothing to delete."
    # Another environment of the same app is left alone.
    machine = other.workflows[0].state_machine_arn
    assert (
        deployment.client("stepfunctions").describe_state_machine(stateMachineArn=machine)["status"]
        == "ACTIVE"
    )
    roles = [r["RoleName"] for r in deployment.client("iam").list_roles()["Roles"]]
    assert "pyflows-dtest-eu-lottery-sfn" in roles and "pyflows-dtest-eu-lottery-draw-winners" in roles
    tables = deployment.client("dynamodb").list_tables()["TableNames"]
    assert "pyflows-dtest-eu-lottery-winners" in tables
    infra.destroy(other.env, out=lambda line: None)
