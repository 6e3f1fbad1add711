"""A deploy of every workflow removes what the registry no longer declares (the probe workflow
here, which the registry never had), but for data, which it names; a deploy of some workflows
removes nothing. Resources of another environment or app whose names start with this one's stay.

The tests share one deployment and run in file order: each starts from what the previous left.
"""

from __future__ import annotations

import dataclasses
import io
import json
import types
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

import deploy
import infra
from infra import runner, statemachines, tables
from infra.plan import UNDECLARED, Action, Change, Context
from tests.deploy.conftest import Deployment
from tests.deploy.stubs import stubbed
from workflows.registry import HttpRoute, Index, Table

ENVIRONMENT = "utest"
ACCOUNT = "123456789012"
PROBE = "pyflows-utest-probe"
REMOVED = {
    ("route", "POST /probe"),
    ("schedule", "probe-1"),
    ("pipe", f"{PROBE}-events"),
    ("alarm", f"{PROBE}-timed-out"),
    ("alarm", f"{PROBE}-events-dead-letters"),
    ("state machine", PROBE),
    ("function", f"{PROBE}-draw"),
    ("role", f"{PROBE}-draw"),
    ("role", f"{PROBE}-sfn"),
    ("role", f"{PROBE}-scheduler"),
    ("role", f"{PROBE}-events-pipe"),
    ("role", "pyflows-utest-api"),  # the probe's was the only route that starts a workflow
}
KEPT = {
    ("table", f"{PROBE}-items"),
    ("bucket", f"{PROBE}-archive"),
    ("stream", f"{PROBE}-events"),
    ("topic", f"{PROBE}-news"),
    ("queue", f"{PROBE}-events-dead-letters"),  # it says which records a pipe gave up on
    ("log group", f"/aws/lambda/{PROBE}-draw"),
    ("log group", f"/aws/vendedlogs/states/{PROBE}"),
}
# Named like this environment's resources, not tagged as them: another environment's
# (pyflows-utest-eu-...), another app's (app pyflows-utest, env x) and one made by hand, untagged.
OTHER_ENV = {"app": "pyflows", "env": "utest-eu"}
OTHER_APP = {"app": "pyflows-utest", "env": "x"}


def _zip() -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return data.getvalue()


@pytest.fixture(scope="module")
def strangers(deployment: Deployment) -> Iterator[dict[str, str]]:
    """Resources of other environments and apps, named with this environment's prefix: kind -> name."""
    lam, sfn, iam = deployment.client("lambda"), deployment.client("stepfunctions"), deployment.client("iam")
    role = f"arn:aws:iam::{ACCOUNT}:role/pyflows-utest-lottery-draw-winners"
    code = {"Runtime": "python3.11", "Handler": "index.handler", "Role": role, "Code": {"ZipFile": _zip()}}
    lam.create_function(FunctionName="pyflows-utest-eu-gone", Tags=OTHER_ENV, **code)
    lam.create_function(FunctionName="pyflows-utest-by-hand", **code)
    sfn.create_state_machine(
        name="pyflows-utest-x-gone",
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/pyflows-utest-lottery-sfn",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        tags=[{"key": k, "value": v} for k, v in OTHER_APP.items()],
    )
    trust = {"Version": "2012-10-17", "Statement": []}
    iam.create_role(
        RoleName="pyflows-utest-eu-gone",
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": k, "Value": v} for k, v in OTHER_ENV.items()],
    )
    deployment.client("cloudwatch").put_metric_alarm(
        AlarmName="pyflows-utest-eu-gone-timed-out",
        Namespace="AWS/States",
        MetricName="ExecutionsTimedOut",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        Tags=[{"Key": k, "Value": v} for k, v in OTHER_ENV.items()],
    )
    deployment.client("dynamodb").create_table(
        TableName="pyflows-utest-x-kept",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        Tags=[{"Key": k, "Value": v} for k, v in OTHER_APP.items()],
    )
    yield {
        "function": "pyflows-utest-eu-gone",
        "untagged function": "pyflows-utest-by-hand",
        "state machine": "pyflows-utest-x-gone",
        "role": "pyflows-utest-eu-gone",
        "alarm": "pyflows-utest-eu-gone-timed-out",
        "table": "pyflows-utest-x-kept",
    }
    infra.destroy(deployment.env, out=lambda line: None)
    for name in ("pyflows-utest-eu-gone", "pyflows-utest-by-hand"):
        lam.delete_function(FunctionName=name)
    sfn.delete_state_machine(
        stateMachineArn=f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:pyflows-utest-x-gone"
    )
    iam.delete_role(RoleName="pyflows-utest-eu-gone")
    deployment.client("cloudwatch").delete_alarms(AlarmNames=["pyflows-utest-eu-gone-timed-out"])
    deployment.client("dynamodb").delete_table(TableName="pyflows-utest-x-kept")


def exists(deployment: Deployment, kind: str, name: str) -> bool:
    """Whether the resource is there, asked of its service."""
    arn = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{name}"
    calls: dict[str, tuple[str, str, dict[str, Any]]] = {
        "function": ("lambda", "get_function", {"FunctionName": name}),
        "untagged function": ("lambda", "get_function", {"FunctionName": name}),
        "state machine": ("stepfunctions", "describe_state_machine", {"stateMachineArn": arn}),
        "pipe": ("pipes", "describe_pipe", {"Name": name}),
        "role": ("iam", "get_role", {"RoleName": name}),
        "schedule": ("scheduler", "get_schedule", {"Name": name, "GroupName": "pyflows-utest-schedules"}),
        "table": ("dynamodb", "describe_table", {"TableName": name}),
        "bucket": ("s3", "head_bucket", {"Bucket": name}),
        "stream": ("kinesis", "describe_stream_summary", {"StreamName": name}),
        "topic": ("sns", "get_topic_attributes", {"TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:{name}"}),
        "queue": ("sqs", "get_queue_url", {"QueueName": name}),
    }
    if kind == "alarm":
        return bool(deployment.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"])
    if kind == "route":
        return name in _routes(deployment)
    if kind == "log group":
        groups = deployment.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        return any(g["logGroupName"] == name for g in groups)
    service, operation, kwargs = calls[kind]
    try:
        found = getattr(deployment.client(service), operation)(**kwargs)
    except Exception as error:
        if "NotFound" in type(error).__name__ or "DoesNotExist" in type(error).__name__:
            return False
        if "NoSuchEntity" in type(error).__name__ or "404" in str(error):
            return False
        raise
    return kind != "state machine" or found.get("status") != "DELETING"


def _api_id(deployment: Deployment) -> str:
    api = deployment.client("apigatewayv2")
    return str(next(a["ApiId"] for a in api.get_apis()["Items"] if a["Name"] == "pyflows-utest-api"))


def _routes(deployment: Deployment) -> set[str]:
    api = deployment.client("apigatewayv2")
    return {r["RouteKey"] for r in api.get_routes(ApiId=_api_id(deployment))["Items"]}


def removals(changes: list[Change]) -> set[tuple[str, str]]:
    assert all(c.action is Action.DELETE and c.detail.startswith(UNDECLARED) for c in changes), changes
    return {(c.kind, c.name) for c in changes}


def deploy_registry(deployment: Deployment, **kwargs: Any) -> tuple[infra.Result, str]:
    """Deploy as `python deploy.py` does: the registry, which has no probe."""
    lines: list[str] = []
    result = infra.deploy(deployment.env, out=lines.append, **kwargs)
    return result, "\n".join(lines)


def prod(deployment: Deployment, monkeypatch: pytest.MonkeyPatch, answer: Callable[[str], str]) -> None:
    """`python deploy.py --env prod` asks on a terminal (this environment, made to ask), `answer`
    answering it."""
    monkeypatch.setattr(infra, "load", lambda name: dataclasses.replace(deployment.env, confirm=True))
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr("builtins.input", answer)


def said(output: str, kind: str, name: str) -> list[str]:
    """The lines of `output` that name the resource."""
    return [line for line in output.splitlines() if f" {kind:<14} {name} " in f"{line} "]


def standard_machine(deployment: Deployment, name: str, seconds: int = 0) -> str:
    """A STANDARD state machine tagged as the environment's, which waits `seconds`: its ARN."""
    machine = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": seconds, "End": True}}}
    return str(
        deployment.client("stepfunctions").create_state_machine(
            name=name,
            definition=json.dumps(machine),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/pyflows-utest-lottery-sfn",
            tags=[{"key": k, "value": v} for k, v in deployment.env.tags().items()],
        )["stateMachineArn"]
    )


def test_the_plan_lists_what_no_workflow_declares_and_changes_nothing(
    deployment: Deployment, strangers: dict[str, str]
) -> None:
    result, output = deploy_registry(deployment, plan=True)
    assert removals(result.changed) == REMOVED
    assert {(k.kind, k.name) for k in result.kept} == KEPT
    assert f"would delete     function       {PROBE}-draw (no workflow declares it)" in output
    # an Express machine's executions cannot be listed (ListExecutions refuses them)
    assert (
        f"would delete     state machine  {PROBE} (no workflow declares it; any execution in flight runs on to its end, "
        "which AWS does not list for an Express machine)"
    ) in output
    assert (
        f"kept             table          {PROBE}-items (no workflow declares it; delete it: "
        "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws --region us-east-1 --endpoint-url "
        f"{deployment.env.endpoint} dynamodb delete-table --table-name {PROBE}-items)"
    ) in output
    assert "python deploy.py --env utest --destroy deletes the whole environment" in output
    assert all(exists(deployment, kind, name) for kind, name in REMOVED | KEPT)
    assert all(exists(deployment, kind, name) for kind, name in strangers.items())


def test_a_deploy_of_some_workflows_removes_nothing(deployment: Deployment) -> None:
    result, output = deploy_registry(deployment, only=["lottery"])
    assert result.changed == [] and result.kept == []
    assert "kept" not in output
    assert all(exists(deployment, kind, name) for kind, name in REMOVED)


def test_prod_shows_what_the_deploy_deletes_before_asking(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[str] = []
    prod(deployment, monkeypatch, lambda prompt: asked.append(prompt) or "no")
    assert deploy.main(["--env", "prod"]) == 1
    assert asked == [
        f"Deploy to utest? It deletes {len(REMOVED)} resource(s) no workflow declares (listed above). "
        "Type 'yes' to go on: "
    ]
    shown = capsys.readouterr().out
    assert (
        f"would delete     state machine  {PROBE} (no workflow declares it; any execution in flight" in shown
    )
    assert all(len(said(shown, kind, name)) == 1 for kind, name in REMOVED)
    assert "kept" not in shown  # what the deploy keeps is not what is asked about: the deploy names it
    # a --workflow deploy removes nothing: there is nothing to show
    assert deploy.main(["--env", "prod", "--workflow", "lottery"]) == 1
    assert asked[-1] == "Deploy to utest? Type 'yes' to go on: "
    assert "would delete" not in capsys.readouterr().out
    assert all(exists(deployment, kind, name) for kind, name in REMOVED)


def test_prod_asks_only_once_the_checks_have_passed(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A change no update can make (here the checks' refusal stands for any: a redefined index, a
    state machine's type) is said before the question, not after a yes."""
    asked: list[str] = []
    prod(deployment, monkeypatch, lambda prompt: asked.append(prompt) or "yes")

    def refuse(ctx: Context, workflows: Any) -> None:
        raise infra.ConfigError("table t, index i changed: ...")

    monkeypatch.setattr(runner.tables, "check", refuse)
    assert deploy.main(["--env", "prod"]) == 2
    assert asked == []
    assert capsys.readouterr().err == "deploy: table t, index i changed: ...\n"


def test_the_plan_and_prods_question_say_how_many_executions_a_machine_removed_has_running(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """DeleteStateMachine fails the machine's running executions: nobody should learn it after."""
    sfn, name = deployment.client("stepfunctions"), "pyflows-utest-waiting"
    arn = standard_machine(deployment, name, seconds=3600)
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    line = f"would delete     state machine  {name} (no workflow declares it; its 1 running execution fails at the next state)"
    try:
        assert line in deploy_registry(deployment, plan=True)[1]
        prod(deployment, monkeypatch, lambda prompt: "no")
        assert deploy.main(["--env", "prod"]) == 1
        assert line in capsys.readouterr().out
        sfn.stop_execution(executionArn=execution)
        idle = f"would delete     state machine  {name} (no workflow declares it; none of its executions is running)"
        assert idle in deploy_registry(deployment, plan=True)[1]
    finally:
        sfn.delete_state_machine(stateMachineArn=arn)


def test_prod_deletes_what_it_listed_once_consumers_first_and_keeps_the_data(
    deployment: Deployment,
    strangers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Listed before the question, each removal is then made, not listed again; one that appears
    while the question waits is not among those agreed to: it is left, and said."""
    deployed: list[infra.Result] = []
    real = infra.deploy

    def deploying(env: infra.Environment, **kwargs: Any) -> infra.Result:
        deployed.append(real(env, **kwargs))
        return deployed[-1]

    monkeypatch.setattr(infra, "deploy", deploying)
    late = "pyflows-utest-late"

    def answer(prompt: str) -> str:
        standard_machine(deployment, late)
        print("-- answered --")
        return "yes"

    prod(deployment, monkeypatch, answer)
    assert deploy.main(["--env", "prod", "--no-seed"]) == 0
    output = capsys.readouterr().out
    shown, after = output.split("-- answered --")
    assert all(said(shown, kind, name) == said(output, kind, name) != [] for kind, name in REMOVED)
    assert f"deleted          the {len(REMOVED)} resource(s) listed before the confirmation" in after
    assert said(after, "state machine", late) == [
        f"  left             state machine  {late} (no workflow declares it; none of its executions is "
        "running, but not listed when asked: deploy again)"
    ]
    assert all(
        len(said(after, kind, name)) == 1 and "kept" in said(after, kind, name)[0] for kind, name in KEPT
    )
    assert f"Kept {len(KEPT)} resource(s) that no workflow declares (named above)" in after
    result = deployed[0]
    assert removals(result.changed) == REMOVED
    order = [(c.kind, c.name) for c in result.changed]

    def at(kind: str, name: str) -> int:
        return order.index((kind, name))

    machine = at("state machine", PROBE)
    assert at("route", "POST /probe") < machine and at("schedule", "probe-1") < machine
    assert at("pipe", f"{PROBE}-events") < machine < at("role", f"{PROBE}-sfn")
    assert at("function", f"{PROBE}-draw") < at("role", f"{PROBE}-draw")
    assert at("pipe", f"{PROBE}-events") < at("role", f"{PROBE}-events-pipe")
    assert not any(exists(deployment, kind, name) for kind, name in REMOVED)
    assert {(k.kind, k.name) for k in result.kept} == KEPT
    assert all(exists(deployment, kind, name) for kind, name in KEPT)
    assert f"s3 rb s3://{PROBE}-archive --force" in after
    assert all(exists(deployment, kind, name) for kind, name in strangers.items())
    assert exists(deployment, "state machine", late)
    # the next deploy removes it; then nothing is left to remove, and the data kept is named again
    again, output = deploy_registry(deployment)
    assert removals(again.changed) == {("state machine", late)}
    again, output = deploy_registry(deployment)
    assert again.changed == []
    assert {(k.kind, k.name) for k in again.kept} == KEPT and "No changes" in output


def test_an_index_the_registry_replaced_is_planned_listed_to_prod_and_deleted_the_items_staying(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An environment deployed while ticket-ranking's rankings had run-score-index still has it
    beside best-per-performance-index, which replaced it: derived from the table's items, it goes."""
    table, index = "pyflows-utest-ticket-ranking-rankings", "run-score-index"
    dynamodb = deployment.client("dynamodb")
    dynamodb.update_table(
        TableName=table,
        AttributeDefinitions=[
            {"AttributeName": "run_id", "AttributeType": "S"},
            {"AttributeName": "score", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": index,
                    "KeySchema": [
                        {"AttributeName": "run_id", "KeyType": "HASH"},
                        {"AttributeName": "score", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            }
        ],
    )
    ranking = {"performance_id": {"S": "p1"}, "rank_key": {"S": "r1#0001"}, "run_id": {"S": "r1"}}
    dynamodb.put_item(TableName=table, Item={**ranking, "score": {"N": "80"}, "best_of_run": {"S": "r1"}})
    line = (
        f"  would delete     index          {table}/index/{index} (no workflow declares it; the table "
        "keeps its items)"
    )
    planned, output = deploy_registry(deployment, plan=True)
    assert removals(planned.changed) == {("index", f"{table}/index/{index}")}
    assert said(output, "index", f"{table}/index/{index}") == [line]
    asked: list[str] = []
    prod(deployment, monkeypatch, lambda prompt: asked.append(prompt) or "yes")
    assert deploy.main(["--env", "prod", "--no-seed"]) == 0
    shown = capsys.readouterr().out
    assert asked == [
        "Deploy to utest? It deletes 1 resource(s) no workflow declares (listed above). Type 'yes' to go on: "
    ]
    assert said(shown, "index", f"{table}/index/{index}") == [line]  # listed once, before the question
    assert "deleted          the 1 resource(s) listed before the confirmation" in shown
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert sorted(i["IndexName"] for i in described["GlobalSecondaryIndexes"]) == [
        "best-per-performance-index",
        "run-date-index",
    ]
    assert dynamodb.get_item(TableName=table, Key={k: ranking[k] for k in ("performance_id", "rank_key")})[
        "Item"
    ]
    assert deploy_registry(deployment)[0].changed == []


def test_a_route_dropped_from_a_workflow_goes_and_its_function_may_no_longer_be_invoked_by_it(
    deployment: Deployment,
) -> None:
    ranking = next(wf for wf in deployment.workflows if wf.name == "ticket-ranking")
    function = "pyflows-utest-ticket-ranking-api-search"
    sid = f"api-{_api_id(deployment)}-GET-tickets-search"
    dropped = [dataclasses.replace(wf, routes=()) if wf is ranking else wf for wf in deployment.workflows]
    lam = deployment.client("lambda")
    assert "GET /tickets/search" in _routes(deployment)
    result = infra.deploy(deployment.env, workflows=dropped[:-1], complete=True, out=lambda line: None)
    assert removals(result.changed) == {
        ("route", "GET /tickets/search"),
        ("permission", sid),
        ("alarm", f"{function}-errors"),  # no route is left to answer 500
    }
    assert "GET /tickets/search" not in _routes(deployment)
    assert exists(deployment, "function", function)
    try:
        policy = json.loads(lam.get_policy(FunctionName=function, Qualifier="utest")["Policy"])
    except lam.exceptions.ResourceNotFoundException:  # its only statement was that one
        policy = {"Statement": []}
    assert sid not in {s["Sid"] for s in policy["Statement"]}


def test_a_workflow_declared_again_is_made_again_with_its_data(deployment: Deployment) -> None:
    result, _ = deployment.deploy()
    assert {c.action for c in result.changed} == {Action.CREATE}
    made = {(c.kind, c.name) for c in result.changed}
    assert made >= REMOVED
    assert ("route", "GET /tickets/search") in made
    assert not made & KEPT  # the tables and the rest were kept: nothing to make
    assert deployment.deploy()[0].changed == []


def test_a_table_deleted_between_the_listing_and_its_description_is_skipped(ctx: Context) -> None:
    """ListTables may name a table someone deletes before DescribeTable asks for its ARN (its tags
    are read by ARN): the removal's listing and --destroy go on without it."""
    staging = [{"Key": k, "Value": v} for k, v in ctx.env.tags().items()]
    arn = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/pyflows-staging-old"
    for dynamodb in stubbed(ctx, "dynamodb"):
        for _ in range(2):  # the removal's listing, then --destroy's
            dynamodb.add_response(
                "list_tables", {"TableNames": ["pyflows-staging-gone", "pyflows-staging-old"]}
            )
            gone = {"TableName": "pyflows-staging-gone"}
            dynamodb.add_client_error("describe_table", "ResourceNotFoundException", expected_params=gone)
            dynamodb.add_response(
                "describe_table", {"Table": {"TableArn": arn}}, {"TableName": "pyflows-staging-old"}
            )
            dynamodb.add_response("list_tags_of_resource", {"Tags": staging}, {"ResourceArn": arn})
        dynamodb.add_response("delete_table", {}, {"TableName": "pyflows-staging-old"})
        assert tables.undeclared(ctx, set()) == ["pyflows-staging-old"]
        ctx.forget_all()  # --destroy is a run of its own, which reads them anew
        tables.destroy(ctx)
    assert [(c.kind, c.name, c.action) for c in ctx.changes] == [
        ("table", "pyflows-staging-old", Action.DELETE)
    ]


def _indexes(name: str, *indexes: tuple[str, str]) -> dict[str, Any]:
    """DescribeTable's answer for an ACTIVE table with `indexes` (name, status)."""
    arn = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/{name}"
    found = [{"IndexName": index, "IndexStatus": status} for index, status in indexes]
    return {
        "Table": {
            "TableName": name,
            "TableArn": arn,
            "TableStatus": "ACTIVE",
            "GlobalSecondaryIndexes": found,
        }
    }


def test_the_indexes_a_table_no_longer_declares_go_one_per_update_each_once_the_last_is_gone(
    ctx: Context, slept: list[float]
) -> None:
    """DynamoDB takes one index change per UpdateTable, and none while one is under way; an index
    being deleted already is not deleted again."""
    name = "pyflows-staging-ticket-ranking-rankings"
    table = Table("rankings", ("id", "S"), indexes=(Index("best", ("best_of_run", "S")),))
    staging = [{"Key": k, "Value": v} for k, v in ctx.env.tags().items()]
    for dynamodb in stubbed(ctx, "dynamodb"):
        indexes = [("best", "ACTIVE"), ("old", "ACTIVE"), ("older", "ACTIVE"), ("going", "DELETING")]
        arn = _indexes(name)["Table"]["TableArn"]
        dynamodb.add_response("describe_table", _indexes(name, *indexes), {"TableName": name})
        dynamodb.add_response("list_tags_of_resource", {"Tags": staging}, {"ResourceArn": arn})
        for index, before in (("old", [("going", "DELETING")]), ("older", [("old", "DELETING")])):
            dynamodb.add_response("describe_table", _indexes(name, ("best", "ACTIVE"), *before))
            dynamodb.add_response("describe_table", _indexes(name, ("best", "ACTIVE")))
            deleted = {"TableName": name, "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": index}}]}
            dynamodb.add_response("update_table", {"TableDescription": {"TableName": name}}, deleted)
        tables.remove_undeclared_indexes(ctx, {name: table})
    assert [(c.kind, c.name, c.action, c.detail) for c in ctx.changes] == [
        ("index", f"{name}/index/{index}", Action.DELETE, f"{UNDECLARED}; the table keeps its items")
        for index in ("old", "older")
    ]
    assert slept == [tables.INDEX_INTERVAL] * 2


def test_an_index_of_a_table_another_environment_owns_is_left(ctx: Context) -> None:
    name = "pyflows-staging-ticket-ranking-rankings"
    other = [{"Key": k, "Value": v} for k, v in OTHER_ENV.items()]
    for dynamodb in stubbed(ctx, "dynamodb"):
        dynamodb.add_response("describe_table", _indexes(name, ("old", "ACTIVE")))
        dynamodb.add_response("list_tags_of_resource", {"Tags": other})
        tables.remove_undeclared_indexes(ctx, {name: Table("rankings", ("id", "S"))})
    assert ctx.changes == []


def test_the_running_executions_of_a_machine_to_remove_are_counted_over_every_page(ctx: Context) -> None:
    """ListExecutions answers in pages (100 by default): each counts."""
    name = "pyflows-staging-gone"
    arn = f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:{name}"
    machine = {"name": name, "stateMachineArn": arn, "type": "STANDARD", "creationDate": datetime(2026, 1, 1)}
    tags = [{"key": k, "value": v} for k, v in ctx.env.tags().items()]

    def running(n: int) -> dict[str, Any]:
        return {
            "executionArn": f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:{name}:run-{n}",
            "stateMachineArn": arn,
            "name": f"run-{n}",
            "status": "RUNNING",
            "startDate": datetime(2026, 1, 1),
        }

    asked = {"stateMachineArn": arn, "statusFilter": "RUNNING"}
    for sfn in stubbed(ctx, "stepfunctions"):
        sfn.add_response("list_state_machines", {"stateMachines": [machine]})
        sfn.add_response("list_tags_for_resource", {"tags": tags}, {"resourceArn": arn})
        sfn.add_response(
            "list_executions", {"executions": [running(1), running(2)], "nextToken": "p2"}, asked
        )
        sfn.add_response("list_executions", {"executions": [running(3)]}, {**asked, "nextToken": "p2"})
        ctx.apply = False
        statemachines.remove_undeclared(ctx, set())
    assert ctx.changes == [
        Change(
            "state machine",
            name,
            Action.DELETE,
            "no workflow declares it; its 3 running executions fail at the next state",
        )
    ]


def test_routes_deploy_did_not_make_are_kept_and_named(deployment: Deployment) -> None:
    """Routes carry no tags, and are matched by method and path: one added by hand on the
    environment's API, even to one of its functions, is not one a workflow stopped declaring. Nor
    is `$default`, the catch-all route, which has neither method nor path."""
    api, api_id = deployment.client("apigatewayv2"), _api_id(deployment)
    function = "pyflows-utest-ticket-ranking-api-search"
    integration = api.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}:utest",
        PayloadFormatVersion="2.0",
    )["IntegrationId"]
    made = {
        key: api.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration}")["RouteId"]
        for key in ("$default", "GET /tickets/by-hand")
    }
    # with the routes of ticket-ranking dropped, the one deploy made goes, those added by hand stay
    ranking = next(wf for wf in deployment.workflows if wf.name == "ticket-ranking")
    dropped = [dataclasses.replace(wf, routes=()) if wf is ranking else wf for wf in deployment.workflows]
    lines: list[str] = []
    result = infra.deploy(deployment.env, workflows=dropped, complete=True, out=lines.append)
    assert {(c.kind, c.name) for c in result.changed if c.kind == "route"} == {
        ("route", "GET /tickets/search")
    }
    assert _routes(deployment) >= set(made) and "GET /tickets/search" not in _routes(deployment)
    assert {(k.kind, k.name) for k in result.kept if k.kind == "route"} == {("route", key) for key in made}
    command = (
        "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws --region us-east-1 --endpoint-url "
        f"{deployment.env.endpoint} apigatewayv2 delete-route --api-id {api_id} --route-id {made['$default']}"
    )
    assert (
        "  kept             route          $default (no workflow declares it, and deploy did not make it: "
        f"added by hand?; delete it: {command})"
    ) in lines
    assert exists(deployment, "function", function)
    for route in made.values():
        api.delete_route(ApiId=api_id, RouteId=route)
    api.delete_integration(ApiId=api_id, IntegrationId=integration)
    again, _ = deployment.deploy()
    assert {(c.kind, c.name, c.action) for c in again.changed} >= {
        ("route", "GET /tickets/search", Action.CREATE)
    }
    assert not [k for k in again.kept if k.kind == "route"]


def test_routes_made_before_deploy_marked_them_go_when_no_workflow_declares_them(
    deployment: Deployment,
) -> None:
    """A route an earlier deploy made carries no mark (OperationName), but what deploy gave it: its
    own permission on the function it invokes, or the API's role to start a state machine. Dropped
    from its workflow, it goes with the rest, not kept as if added by hand."""
    api, api_id = deployment.client("apigatewayv2"), _api_id(deployment)
    unmarked = {}
    for route in api.get_routes(ApiId=api_id)["Items"]:
        if route["RouteKey"] in ("GET /tickets/search", "POST /ride"):
            api.delete_route(ApiId=api_id, RouteId=route["RouteId"])
            api.create_route(ApiId=api_id, RouteKey=route["RouteKey"], Target=route["Target"])
            unmarked[route["RouteKey"]] = route["Target"]
    assert set(unmarked) == {"GET /tickets/search", "POST /ride"}
    # POST /ride starts ride-request (the API's role), GET /tickets/search invokes a function
    dropped = [
        dataclasses.replace(
            wf, routes=(), triggers=tuple(t for t in wf.triggers if not isinstance(t, HttpRoute))
        )
        if wf.name in ("ticket-ranking", "ride-request")
        else wf
        for wf in deployment.workflows
    ]
    result = infra.deploy(deployment.env, workflows=dropped, complete=True, out=lambda line: None)
    assert {c.name for c in result.changed if c.kind == "route"} == set(unmarked)
    assert not _routes(deployment) & set(unmarked)
    assert not [k for k in result.kept if k.kind == "route"]
    again, _ = deployment.deploy()
    assert {c.name for c in again.changed if c.kind == "route"} >= set(unmarked)
    marked = {r["RouteKey"]: r.get("OperationName") for r in api.get_routes(ApiId=api_id)["Items"]}
    assert marked["POST /ride"] == "pyflows-utest-ride-request"


def test_prod_reads_again_after_its_question_what_it_read_before(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer may come minutes after the checks read the tables: a table deleted meanwhile is
    made again, not taken for the one the checks saw. Last: its deploy of the registry alone removes
    what the module's deployment added."""
    table = deployment.env.resource_name("lottery", "winners")
    dynamodb = deployment.client("dynamodb")

    def answer(prompt: str) -> str:
        dynamodb.delete_table(TableName=table)
        return "yes"

    prod(deployment, monkeypatch, answer)
    assert deploy.main(["--env", "prod"]) == 0
    assert dynamodb.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"
