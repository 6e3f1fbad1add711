"""A static test over every generated IAM policy: least privilege, no wildcard actions, each
state machine invokes only its own functions, each function touches only its own resources."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from infra import api, functions, iam, statemachines
from infra.environments import load
from infra.names import Names
from infra.plan import Context
from tests.deploy.probe import probe
from workflows import WORKFLOWS
from workflows.registry import Access, StreamTrigger, Workflow

ACCOUNT = "210987654321"


@pytest.fixture(scope="module")
def workflows(tmp_path_factory: pytest.TempPathFactory) -> list[Workflow]:
    return [*WORKFLOWS.values(), probe(tmp_path_factory.mktemp("defs"))]


@pytest.fixture(scope="module", params=["staging", "local"])
def names(request: pytest.FixtureRequest) -> Names:
    return Names(
        dataclasses.replace(load(request.param), endpoint=None if request.param != "local" else "x"), ACCOUNT
    )


def statements(policy: dict[str, Any]) -> Iterator[tuple[list[str], list[str]]]:
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        yield statement["Action"], statement["Resource"]


def check_shape(policy: dict[str, Any]) -> None:
    for actions, resources in statements(policy):
        assert actions and resources
        assert not [a for a in actions if "*" in a], f"wildcard action in {actions}"
        if "*" in resources:
            assert resources == ["*"] and set(actions) <= iam.UNSCOPED, f"{actions} on * without need"


def arns(policy: dict[str, Any]) -> set[str]:
    return {r for actions, resources in statements(policy) for r in resources if r != "*"}


def own_resources(names: Names, wf: Workflow, grants: Iterable[Access]) -> set[str]:
    """What the grants name: each resource, its keys (under the grant's prefix) and indexes."""
    allowed = set()
    for grant in grants:
        arn = names.resource_arn(wf, grant.resource)
        resource = wf.resources()[grant.resource]
        allowed |= {arn, f"{arn}/{grant.prefix}*"}
        allowed |= {f"{arn}/index/{i.name}" for i in getattr(resource, "indexes", ())}
    return allowed


def test_function_policies_touch_only_their_own_resources(names: Names, workflows: list[Workflow]) -> None:
    for wf in workflows:
        for fn in wf.functions:
            policy = iam.function_policy(names, wf, fn)
            check_shape(policy)
            allowed = own_resources(names, wf, fn.access)
            allowed.add(names.log_group_arn(names.function_log_group(wf, fn)))
            allowed |= {iam.parameter_arn(names, p)[1] for p in fn.parameters.values()}
            assert arns(policy) <= allowed, f"{wf.name}/{fn.name} reaches beyond its own resources"
            for actions, _ in statements(policy):
                # logs and X-Ray aside, every action is one the registry grants this function
                granted = {a for g in fn.access for a in g.actions} | {
                    "ssm:GetParameter",
                    "secretsmanager:GetSecretValue",
                }
                assert set(actions) <= granted | iam.UNSCOPED | {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_state_machines_invoke_only_their_own_functions(names: Names, workflows: list[Workflow]) -> None:
    for wf in workflows:
        policy = iam.state_machine_policy(names, wf)
        check_shape(policy)
        invoked = {
            r
            for actions, resources in statements(policy)
            if "lambda:InvokeFunction" in actions
            for r in resources
        }
        # what the definition invokes, not the functions behind API routes
        definition = json.dumps(wf.build())
        expected = {names.alias_arn(wf, fn) for fn in wf.functions if "${" + fn.token + "}" in definition}
        assert invoked == expected
        others = arns(policy) - invoked
        assert others <= own_resources(names, wf, wf.integrations)


def _tasks(graph: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every Task of a definition, in Parallel branches and Map iterations too."""
    for state in graph["States"].values():
        if state["Type"] == "Task":
            yield state
        for branch in [
            *state.get("Branches", []),
            *[state[k] for k in ("Iterator", "ItemProcessor") if k in state],
        ]:
            yield from _tasks(branch)


def test_every_topic_a_definition_publishes_to_is_granted_to_its_state_machine(names: Names) -> None:
    """What the deployed definition asks of SNS, read from the definition itself, not the registry."""
    published = 0
    for wf in WORKFLOWS.values():
        definition = json.loads(statemachines.render(names, wf))
        allowed = {
            r for actions, resources in statements(iam.state_machine_policy(names, wf))
            if "sns:Publish" in actions for r in resources
        }  # fmt: skip
        for task in _tasks(definition):
            if task["Resource"] == "arn:aws:states:::sns:publish":
                assert task["Parameters"]["TopicArn"] in allowed, (
                    f"{wf.name}: {task['Parameters']['TopicArn']}"
                )
                published += 1
    assert published >= 5  # every workflow's alert, and the announcements


def test_ride_requests_machine_invokes_its_six_tasks_and_not_the_function_behind_its_route(
    names: Names,
) -> None:
    policy = iam.state_machine_policy(names, WORKFLOWS["ride-request"])
    invoked = {
        r
        for actions, resources in statements(policy)
        if "lambda:InvokeFunction" in actions
        for r in resources
    }
    tasks = (
        "validate-request",
        "find-recorded-ride",
        "find-unicorn",
        "get-discount",
        "apply-discount",
        "record-ride",
    )
    assert invoked == {
        names.arn("lambda", f"function:{names.env.resource_name('ride-request', t)}:{names.env.name}")
        for t in tasks
    }


def test_the_public_subscribe_route_may_subscribe_only_email_addresses(names: Names) -> None:
    """POST /etf/subscriptions is public: its function may not subscribe an endpoint that would
    receive the signals elsewhere (an HTTP address, another account's queue)."""
    etf = WORKFLOWS["etf-signal"]
    policy = iam.function_policy(names, etf, etf.function("api-subscribe"))
    [grant] = [s for s in policy["Statement"] if "sns:Subscribe" in s["Action"]]
    assert grant["Action"] == ["sns:Subscribe"]
    assert grant["Resource"] == [names.resource_arn(etf, "signals")]
    assert grant["Condition"] == {"StringEquals": {"sns:Protocol": "email"}}


def test_fetch_inventory_writes_only_the_marks_of_theatres_without_seat_data(names: Names) -> None:
    """The state table also holds the current run's pointer and the deals told: the function that
    talks to the broker may put and delete its own marks alone."""
    ranking = WORKFLOWS["ticket-ranking"]
    policy = iam.function_policy(names, ranking, ranking.function("fetch-inventory"))
    state = names.resource_arn(ranking, "state")
    [grant] = [s for s in policy["Statement"] if any(r.startswith(state) for r in s["Resource"])]
    assert sorted(grant["Action"]) == ["dynamodb:DeleteItem", "dynamodb:PutItem"]
    assert grant["Resource"] == [state]
    assert grant["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": "unmapped#*"}}


def s3_statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in policy["Statement"] if any(a.startswith("s3:") for a in s["Action"])]


def test_park_batch_reads_writes_and_lists_only_the_parked_batches(names: Names) -> None:
    """Its bucket also holds the records Decode Batch rejected: Park Batch reads and writes parked/
    alone. Its listing (without which S3 answers a batch not parked yet 403) stays the bucket's,
    unconditioned: names only."""
    deals = WORKFLOWS["flight-deals"]
    bucket = names.resource_arn(deals, "batches")
    assert s3_statements(iam.function_policy(names, deals, deals.function("park-batch"))) == [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": [f"{bucket}/parked/*"]},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket]},
    ]
    assert s3_statements(iam.function_policy(names, deals, deals.function("decode-batch"))) == [
        {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": [f"{bucket}/rejected/*"]}
    ]


def test_a_task_reading_one_prefix_and_writing_another_reaches_those_two_only(names: Names) -> None:
    """Compute Signals reads the day's prices and reads and writes its report; Rank Performance
    reads the raw listings and writes the ranking."""
    etf, tickets = WORKFLOWS["etf-signal"], WORKFLOWS["ticket-ranking"]
    reports, inventory = names.resource_arn(etf, "reports"), names.resource_arn(tickets, "inventory")
    assert s3_statements(iam.function_policy(names, etf, etf.function("compute-signals"))) == [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{reports}/prices/*"]},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": [f"{reports}/signals/*"]},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [reports]},
    ]
    assert s3_statements(iam.function_policy(names, tickets, tickets.function("rank-performance"))) == [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"{inventory}/raw/*"]},
        {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": [f"{inventory}/ranked/*"]},
    ]


def test_trigger_roles_start_only_their_workflow(names: Names, workflows: list[Workflow]) -> None:
    for wf in workflows:
        check_shape(iam.start_policy(names, [wf], "states:StartExecution"))
        assert arns(iam.start_policy(names, [wf], "states:StartExecution")) == {names.state_machine_arn(wf)}
        for trigger in wf.triggers:
            if isinstance(trigger, StreamTrigger):
                policy = iam.pipe_policy(names, wf, trigger)
                check_shape(policy)
                assert arns(policy) == {
                    names.resource_arn(wf, trigger.stream),
                    names.state_machine_arn(wf),
                    names.dead_letter_queue_arn(wf, trigger),
                }
                [send] = [actions for actions, resources in statements(policy) if "sqs" in resources[0]]
                assert send == ["sqs:SendMessage"]  # its dead-letter queue: sending, nothing else
    ctx = Context(names.env, names)
    starts = api.routes(workflows)
    policy = api.policy(ctx, starts)
    check_shape(policy)
    assert arns(policy) == {names.state_machine_arn(wf) for wf, _ in starts}


def test_xray_is_granted_only_where_tracing_runs(names: Names, workflows: list[Workflow]) -> None:
    policy = iam.function_policy(names, workflows[0], workflows[0].functions[0])
    fn_actions = {action for actions, _ in statements(policy) for action in actions}
    assert ("xray:PutTraceSegments" in fn_actions) == (not names.env.is_local)


def test_trust_policies_name_one_service(names: Names) -> None:
    document = iam.trust("states", names)
    assert document["Statement"][0]["Principal"] == {"Service": "states.amazonaws.com"}
    assert document["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT


def test_the_apis_role_trusts_api_gateway_without_an_account_condition(names: Names) -> None:
    # API Gateway sets no aws:SourceAccount when it assumes an integration's credentials role:
    # with the condition, every request that starts a workflow would fail with a 500.
    document = iam.trust("apigateway", names)
    assert document["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    for service in ("states", "scheduler", "pipes"):  # these set it: the condition stays
        assert iam.trust(service, names)["Statement"][0]["Condition"] == {
            "StringEquals": {"aws:SourceAccount": ACCOUNT}
        }


def test_functions_get_the_dependencies_layer_and_on_aws_the_powertools_layer_of_their_region(
    names: Names, workflows: list[Workflow]
) -> None:
    dependencies = names.arn("lambda", f"layer:{names.env.resource_name('dependencies')}:3")
    ctx = Context(names.env, names, dependencies_layer=dependencies)
    config = functions.configuration(ctx, workflows[0], workflows[0].functions[0], "arn:aws:iam::1:role/r")
    if names.env.is_local:
        assert config["Layers"] == [dependencies] and config["TracingConfig"] == {"Mode": "PassThrough"}
    else:
        powertools, listed_dependencies = config["Layers"]
        assert powertools.startswith(
            f"arn:aws:lambda:{names.env.region}:017000801446:layer:AWSLambdaPowertools"
        )
        assert listed_dependencies == dependencies
        assert config["TracingConfig"] == {"Mode": "Active"}
        assert "POWERTOOLS_TRACE_DISABLED" not in config["Environment"]["Variables"]


def test_state_machines_may_deliver_the_logs_and_traces_they_are_configured_to_write(
    names: Names, workflows: list[Workflow]
) -> None:
    """Logging and X-Ray are on for every state machine: AWS refuses to create one whose role
    may not deliver its logs, and drops the traces of one that may not write them."""
    for wf in workflows:
        granted = {a for actions, _ in statements(iam.state_machine_policy(names, wf)) for a in actions}
        assert set(iam.LOG_DELIVERY) <= granted, wf.name
        assert {*iam.XRAY, *iam.XRAY_SAMPLING} <= granted, wf.name


def test_prod_logs_no_execution_data_and_only_errors_while_other_environments_log_everything(
    names: Names,
) -> None:
    """Inputs and outputs may hold personal data: prod's logs keep them out."""
    wf = WORKFLOWS["lottery"]
    assert statemachines.logging_config(names, wf)["level"] == "ALL"
    assert statemachines.logging_config(names, wf)["includeExecutionData"] is True
    prod = Names(dataclasses.replace(names.env, name="prod"), ACCOUNT)
    assert statemachines.logging_config(prod, wf)["level"] == "ERROR"
    assert statemachines.logging_config(prod, wf)["includeExecutionData"] is False
