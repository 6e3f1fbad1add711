"""The HTTP API on the local cloud: every route, bad input (400 naming the field), unknown ids (404)."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.stub import Stubber
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import NotFound as NotFoundApp
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from console import authorizer
from console.app import create_app
from console.authorizer import LocalIssuer
from console.errors import Conflict, NotFound
from console.service import ExecutionService
from infra.environments import Environment, load
from localcloud import LocalCloud
from tests.console import workflows as test_workflows
from tests.console.conftest import ROLE, fail_the_lottery, wait_for
from tests.console.workflows import FLAKY_TOPIC
from workflows import WORKFLOWS
from workflows.asl import StateMachineType
from workflows.registry import Function, HttpRoute, Route

UNKNOWN = "arn:aws:states:us-east-1:123456789012:execution:pyflows-local-shapes:no-such-execution"


def start(client: FlaskClient, workflow: str, document: Any, name: str | None = None) -> Any:
    body = {"input": document, **({"name": name} if name else {})}
    return client.post(f"/api/workflows/{workflow}/executions", json=body)


def test_lists_workflows_with_their_state_machines(
    client: FlaskClient, test_machines: dict[str, str]
) -> None:
    found = {w["name"]: w for w in client.get("/api/workflows").get_json()["workflows"]}
    assert set(found) == {"shapes", "broken", "slow", "flaky", "branchy", "picky"}
    assert found["shapes"]["deployed"] is True
    assert found["shapes"]["stateMachineArn"] == test_machines["shapes"]
    assert found["shapes"]["inputSchema"]["required"] == ["count"]
    assert found["shapes"]["triggers"] == [
        {"kind": "http", "method": "POST", "path": "/shapes", "sync": False}
    ]


def test_one_workflow_and_unknown_workflow(client: FlaskClient) -> None:
    assert client.get("/api/workflows/slow").get_json()["stateMachineName"] == "pyflows-local-slow"
    missing = client.get("/api/workflows/nope")
    assert missing.status_code == 404
    assert missing.get_json()["error"] == "NotFound"
    assert client.get("/api/workflows/nope/graph").status_code == 404
    assert client.post("/api/workflows/nope/executions", json={"input": {"count": 1}}).status_code == 404


def test_the_executions_of_a_workflow_not_deployed_are_409_not_an_empty_list(
    console_env: Environment, test_machines: dict[str, str], finished: Callable[[str], Any]
) -> None:
    """As its start, and as the CLI's `executions` says: there is no list to read. The list of
    every workflow leaves it out."""
    workflows = {
        **test_workflows.WORKFLOWS,
        "nowhere": dataclasses.replace(test_workflows.WORKFLOWS["shapes"], name="nowhere"),
    }
    with create_app(console_env, workflows, ExecutionService(console_env, workflows)).test_client() as app:
        arn = start(app, "shapes", {"count": 1}).get_json()["executionArn"]
        finished(arn)
        answers = [app.get("/api/workflows/nowhere/executions"), app.get("/api/executions?workflow=nowhere")]
        answers.append(start(app, "nowhere", {"count": 1}))
        every = app.get("/api/executions").get_json()["executions"]
    said = (
        "workflow 'nowhere' is not deployed in local (no state machine pyflows-local-nowhere): "
        "run python deploy.py --env local"
    )
    for answer in answers:
        assert (answer.status_code, answer.get_json()) == (409, {"error": "NotDeployed", "message": said})
    assert arn in [e["executionArn"] for e in every]


def test_a_workflow_removed_since_the_console_listed_the_deployed_ones_is_not_deployed(
    console_env: Environment, test_machines: dict[str, str]
) -> None:
    """The console keeps the deployed state machines for a few seconds: one deleted meanwhile is
    a 409 NotDeployed when named, and left out of every workflow's list, not an error for it."""
    workflows = {
        **test_workflows.WORKFLOWS,
        "gone": dataclasses.replace(test_workflows.WORKFLOWS["shapes"], name="gone"),
    }
    sfn = console_env.client("stepfunctions")
    definition = json.dumps(test_workflows.DEFINITIONS["shapes"])
    machine = sfn.create_state_machine(
        name=console_env.resource_name("gone"), definition=definition, roleArn=ROLE
    )
    with create_app(console_env, workflows, ExecutionService(console_env, workflows)).test_client() as app:
        assert app.get("/api/executions?workflow=gone").get_json() == {"executions": []}  # listed, kept
        sfn.delete_state_machine(stateMachineArn=machine["stateMachineArn"])
        every = app.get("/api/executions")
        named = app.get("/api/executions?workflow=gone")
    assert every.status_code == 200
    assert (named.status_code, named.get_json()["error"]) == (409, "NotDeployed")


def test_start_describe_and_history(client: FlaskClient, finished: Callable[[str], Any]) -> None:
    response = start(client, "shapes", {"count": 3, "label": "api"})
    assert response.status_code == 201
    arn = response.get_json()["executionArn"]
    assert finished(arn)["status"] == "SUCCEEDED"
    described = client.get(f"/api/executions/{arn}").get_json()
    assert described["input"] == {"count": 3, "label": "api"}
    assert described["output"]["squares"] == [1, 2, 3]
    assert described["workflow"] == "shapes"
    # an encoded ARN works as well as a raw one
    assert client.get(f"/api/executions/{quote(arn, safe='')}").get_json()["name"] == described["name"]
    events = client.get(f"/api/executions/{arn}/history").get_json()["events"]
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] == "ExecutionSucceeded"
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    assert entered[:3] == ["Prepare", "Route", "Fan Out"]


def test_an_execution_is_named_by_its_name_as_well_as_its_arn(
    client: FlaskClient, finished: Callable[[str], Any]
) -> None:
    """As in the CLI: the executions list shows names, and an execution's URL may use one."""
    name = f"by-name-{uuid.uuid4().hex[:8]}"
    arn = start(client, "shapes", {"count": 1}, name=name).get_json()["executionArn"]
    finished(arn)
    assert client.get(f"/api/executions/{name}").get_json()["executionArn"] == arn
    assert client.get(f"/api/executions/{name}/history").get_json()["events"][-1]["type"] == (
        "ExecutionSucceeded"
    )
    assert (
        client.get(f"/api/executions/{name}/graph").get_json()["states"]["Prepare"]["status"] == "succeeded"
    )
    assert (
        client.post(f"/api/executions/{name}/stop").get_json()["message"]
        == "execution is SUCCEEDED, not RUNNING"
    )
    unknown = client.get("/api/executions/no-such-name")
    assert (unknown.status_code, unknown.get_json()["message"]) == (
        404,
        "no execution named 'no-such-name' in local",
    )


def test_bad_input_is_400_naming_the_field(client: FlaskClient) -> None:
    cases = {
        "count": {"count": "three"},
        "label": {"count": 1, "label": ""},
        "colour": {"count": 1, "colour": "red"},
    }
    for field, document in cases.items():
        response = start(client, "shapes", document)
        assert response.status_code == 400, field
        body = response.get_json()
        assert body["error"] == "InvalidInput"
        assert [f["field"] for f in body["fields"]] == [field]
    missing = start(client, "shapes", {}).get_json()
    assert missing["fields"] == [{"field": "count", "message": '"count" is a required property'}]
    # values as they were sent, in JSON, not as Python would print them (True, 'three')
    for sent, said in ((True, "true"), ("three", '"three"'), (None, "null")):
        body = start(client, "shapes", {"count": sent}).get_json()
        assert body["message"] == f'count: {said} is not of type "integer"'
    assert (
        client.post(
            "/api/workflows/shapes/executions", data="not json", content_type="application/json"
        ).status_code
        == 400
    )
    assert (
        client.post("/api/workflows/shapes/executions", json={"input": {"count": 1}, "extra": 1}).status_code
        == 400
    )


def test_a_body_that_is_not_an_object_or_a_name_that_is_not_a_string_is_400(client: FlaskClient) -> None:
    for body in ([{"count": 1}], "count", 3):
        response = client.post("/api/workflows/shapes/executions", json=body)
        assert response.status_code == 400, body
        assert response.get_json() == {
            "error": "BadRequest",
            "message": "the request body must be a JSON object",
        }
    named = client.post("/api/workflows/shapes/executions", json={"input": {"count": 1}, "name": 7})
    assert named.status_code == 400
    assert named.get_json() == {"error": "BadRequest", "message": "name must be a string"}
    spaced = client.post("/api/workflows/shapes/executions", json={"input": {"count": 1}, "name": "a b"})
    assert spaced.status_code == 400
    assert spaced.get_json() == {  # the rule it breaks, not Step Functions' bare "Invalid Name"
        "error": "BadRequest",
        "message": "invalid execution name 'a b': Step Functions takes no whitespace (it has ' ')",
    }


def test_an_execution_is_found_by_its_name_unless_two_workflows_have_one_of_that_name(
    service: ExecutionService,
) -> None:
    name = f"twin-{uuid.uuid4().hex[:8]}"
    shapes, _ = service.start("shapes", {"count": 1}, name)
    assert service.execution_arn(name) == shapes["executionArn"]
    assert service.execution_arn(shapes["executionArn"]) == shapes["executionArn"]
    branchy, _ = service.start("branchy", {"count": 1}, name)
    with pytest.raises(Conflict) as refused:
        service.execution_arn(name)
    assert str(refused.value) == (
        f"2 executions are named {name!r}; give its ARN: {branchy['executionArn']}, {shapes['executionArn']}"
    )
    with pytest.raises(NotFound, match="no execution named 'nobody' in local"):
        service.execution_arn("nobody")


def test_start_is_idempotent_with_a_name_while_it_runs(
    client: FlaskClient, service: ExecutionService
) -> None:
    """As StartExecution: the same name and input while it runs is that execution (200)."""
    name = f"idem-{uuid.uuid4().hex[:8]}"
    first = start(client, "slow", {"count": 1}, name)
    assert first.status_code == 201
    again = start(client, "slow", {"count": 1}, name)
    assert again.status_code == 200
    assert again.get_json()["executionArn"] == first.get_json()["executionArn"]
    conflict = start(client, "slow", {"count": 2}, name)
    assert conflict.status_code == 409
    assert conflict.get_json() == {
        "error": "NameUsed",
        "message": f"not started: the name '{name}' is used by an execution (RUNNING) with another "
        "input; give another name",
    }
    service.stop(first.get_json()["executionArn"])


def test_a_name_used_by_an_execution_that_ended_is_refused_saying_how_it_ended(
    client: FlaskClient, service: ExecutionService, finished: Callable[[str], Any]
) -> None:
    """Step Functions refuses a name it has used: the start is a 409 that says how and when that
    execution ended, not that execution answered as if it had been started (200)."""
    name = f"used-{uuid.uuid4().hex[:8]}"
    arn = start(client, "shapes", {"count": 1}, name).get_json()["executionArn"]
    ended = finished(arn)
    for document in ({"count": 1}, {"count": 2}):  # the same input or another: refused alike
        refused = start(client, "shapes", document, name)
        assert refused.status_code == 409
        assert refused.get_json() == {
            "error": "NameUsed",
            "message": f"not started: the name '{name}' was used by an execution that ended SUCCEEDED "
            f"at {ended['stopDate']}, and Step Functions refuses a name it has used; give another name",
        }
    # stopped, it would run on from where it was: the refusal says it may be redriven instead
    stopped = f"stopped-{uuid.uuid4().hex[:8]}"
    arn = start(client, "slow", {"count": 1}, stopped).get_json()["executionArn"]
    service.stop(arn, "Cancelled", "by a test")
    message = start(client, "slow", {"count": 1}, stopped).get_json()["message"]
    assert message.startswith(
        f"not started: the name '{stopped}' was used by an execution that ended ABORTED"
    )
    assert message.endswith(f"give another name, or redrive it (POST /api/executions/{arn}/redrive)")
    listed = client.get("/api/workflows/slow/executions?limit=1000").get_json()["executions"]
    assert [e["executionArn"] for e in listed if e["name"] == stopped] == [arn]  # nothing else started


def test_executions_are_listed_and_filtered(client: FlaskClient, finished: Callable[[str], Any]) -> None:
    ok = start(client, "shapes", {"count": 1}).get_json()["executionArn"]
    bad = start(client, "broken", {"count": 1}).get_json()["executionArn"]
    finished(ok), finished(bad)
    listed = client.get("/api/workflows/shapes/executions").get_json()["executions"]
    assert ok in [e["executionArn"] for e in listed]
    failed = client.get("/api/executions?status=failed").get_json()["executions"]
    assert bad in [e["executionArn"] for e in failed]
    assert ok not in [e["executionArn"] for e in failed]
    only = client.get("/api/executions?workflow=broken&limit=500").get_json()["executions"]
    assert {e["workflow"] for e in only} == {"broken"}
    assert client.get("/api/executions?status=nonsense").status_code == 400
    assert client.get("/api/executions?limit=x").status_code == 400


def arns(answer: Any) -> list[str]:
    return [e["executionArn"] for e in answer.get_json()["executions"]]


def test_a_business_rejection_stays_failed_marked_rejected_and_is_filtered_apart(
    client: FlaskClient, finished: Callable[[str], Any]
) -> None:
    """The same error refused on purpose (ended in Request Rejected) and failed (ended in Failed):
    both FAILED, as Step Functions says; the rejection is marked, and the lists keep the failures
    that need someone (?rejected=false) or the rejections alone (?rejected=true)."""
    refused = start(client, "picky", {"count": 1}).get_json()["executionArn"]
    broke = start(client, "picky", {"count": 2}).get_json()["executionArn"]
    fine = start(client, "picky", {"count": 3}).get_json()["executionArn"]
    for arn in (refused, broke, fine):
        finished(arn)

    listed = {
        e["executionArn"]: e for e in client.get("/api/workflows/picky/executions").get_json()["executions"]
    }
    shown = {
        arn: (listed[arn]["status"], listed[arn]["rejected"], listed[arn].get("error")) for arn in listed
    }
    assert shown[refused] == ("FAILED", True, "NotAllowed")
    assert shown[broke] == ("FAILED", False, "NotAllowed")  # its error alone does not tell
    assert shown[fine] == ("SUCCEEDED", False, None)

    for path in ("/api/workflows/picky/executions", "/api/executions"):
        attention = arns(client.get(f"{path}?status=FAILED&rejected=false&limit=1000"))
        assert broke in attention and refused not in attention, path
        rejections = arns(client.get(f"{path}?rejected=true&limit=1000"))
        assert refused in rejections and broke not in rejections and fine not in rejections, path
        assert arns(client.get(f"{path}?status=SUCCEEDED&rejected=true")) == [], path
        everything_but = arns(client.get(f"{path}?rejected=false&limit=1000"))
        assert fine in everything_but and broke in everything_but and refused not in everything_but, path
        assert {refused, broke} <= set(arns(client.get(f"{path}?status=FAILED&limit=1000"))), path
        refused_filter = client.get(f"{path}?rejected=maybe")
        assert (refused_filter.status_code, refused_filter.get_json()["message"]) == (
            400,
            "rejected must be true or false, not 'maybe'",
        )
    # the most recent rejections, as many as asked for, though failures came after them
    assert arns(client.get("/api/workflows/picky/executions?rejected=true&limit=1")) == [refused]

    described = client.get(f"/api/executions/{refused}").get_json()
    assert (described["status"], described["rejected"], described["error"]) == ("FAILED", True, "NotAllowed")
    assert client.get(f"/api/executions/{broke}").get_json()["rejected"] is False
    assert client.get(f"/api/executions/{fine}").get_json()["rejected"] is False
    assert client.get(f"/api/executions/{refused}/graph").get_json()["execution"]["rejected"] is True


@pytest.mark.parametrize("path", ["/api/executions", "/api/workflows/shapes/executions"])
def test_a_limit_out_of_its_range_is_refused_naming_it(client: FlaskClient, path: str) -> None:
    """As documented (1 to 1000), and as the CLI refuses --limit 0: not taken for another limit."""
    for limit in ("0", "-1", "1001", "x"):
        answer = client.get(f"{path}?limit={limit}")
        assert answer.status_code == 400
        assert answer.get_json()["message"] == f"limit must be an integer from 1 to 1000, not {limit!r}"
    assert client.get(f"{path}?limit=1000").status_code == 200


def test_a_failed_runs_alert_is_read_with_its_execution_and_left_in_the_inbox(
    lottery_app: Flask, lottery: Environment, local_cloud: LocalCloud
) -> None:
    with lottery_app.test_client() as client:
        arn, error = fail_the_lottery(
            lottery, local_cloud, lambda: start(client, "lottery", {"winners": 1}).get_json()["executionArn"]
        )
        answer = client.get("/api/alerts?limit=100")
        assert answer.status_code == 200
        [alert] = [a for a in answer.get_json()["alerts"] if a.get("execution") == arn]
        assert alert["emailed"] is True
        assert (alert["workflow"], alert["name"], alert["error"]) == ("lottery", arn.split(":")[-1], error)
        assert alert["reason"] == "no employee has lottery_serial 7" and alert["failedIn"] == "Draw Winners"
        assert alert["subject"] == "[lottery] execution failed" and alert["sent"]
        # read, not acknowledged: read again, it is there still; the default page is 20 at most
        again = client.get("/api/alerts").get_json()["alerts"]
        assert 1 <= len(again) <= 20 and arn in [a.get("execution") for a in again]


def test_the_alerts_limit_out_of_its_range_is_refused_naming_it(client: FlaskClient) -> None:
    """1 to 100 (the inbox is read whole for each page): not taken for another limit."""
    for limit in ("0", "-1", "101", "x"):
        answer = client.get(f"/api/alerts?limit={limit}")
        assert (answer.status_code, answer.get_json()["error"]) == (400, "BadRequest")
        assert answer.get_json()["message"] == f"limit must be an integer from 1 to 100, not {limit!r}"


def test_alerts_of_an_environment_without_an_inbox_are_409(console_env: Environment) -> None:
    undeployed = dataclasses.replace(console_env, app="undeployed")
    with create_app(undeployed, test_workflows.WORKFLOWS).test_client() as elsewhere:
        answer = elsewhere.get("/api/alerts")
    assert (answer.status_code, answer.get_json()["error"]) == (409, "NotDeployed")
    assert answer.get_json()["message"].startswith("no alerts inbox in local (no queue undeployed-local-")


def test_every_workflows_executions_are_listed_together_newest_first_up_to_the_limit(
    client: FlaskClient, finished: Callable[[str], Any]
) -> None:
    earlier = start(client, "broken", {"count": 1}).get_json()["executionArn"]
    later = start(client, "shapes", {"count": 1}).get_json()["executionArn"]
    finished(earlier), finished(later)
    listed = client.get("/api/executions?limit=2").get_json()["executions"]
    assert [e["executionArn"] for e in listed] == [later, earlier]


MACHINES = "arn:aws:states:us-east-1:123456789012:stateMachine:pyflows-local-"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def aws_service() -> tuple[ExecutionService, Any]:
    """The console's service over a Step Functions client that a Stubber answers as AWS does."""
    sfn = boto3.client(
        "stepfunctions", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    return ExecutionService(load("local"), WORKFLOWS, client=sfn), sfn


def machine(name: str) -> dict[str, Any]:
    return {"name": name, "stateMachineArn": MACHINES + name, "type": "STANDARD", "creationDate": CREATED}


def described(arn: str) -> dict[str, Any]:
    state_machine = arn.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0]
    return {
        "executionArn": arn,
        "stateMachineArn": state_machine,
        "status": "SUCCEEDED",
        "startDate": CREATED,
    }


def test_every_page_of_aws_listings_and_histories_is_read() -> None:
    """AWS lists state machines (100 a call by default) and history events (1,000 at most) in
    pages: a workflow past the first page is deployed, and a long run's history is whole."""
    service, sfn = aws_service()
    others = [machine(f"other-{i}") for i in range(100)]
    ours = {**machine("lottery"), "name": "pyflows-local-lottery"}
    arn = f"{MACHINES}lottery:long".replace(":stateMachine:", ":execution:")
    events = [{"id": i, "type": "PassStateEntered", "timestamp": CREATED} for i in range(1, 1201)]
    with Stubber(sfn) as stubber:
        stubber.add_response("list_state_machines", {"stateMachines": others, "nextToken": "p2"})
        stubber.add_response("list_state_machines", {"stateMachines": [ours]}, {"nextToken": "p2"})
        stubber.add_response("describe_execution", described(arn))
        asked = {"executionArn": arn, "maxResults": 1000}
        stubber.add_response("get_execution_history", {"events": events[:1000], "nextToken": "h2"}, asked)
        stubber.add_response("get_execution_history", {"events": events[1000:]}, {**asked, "nextToken": "h2"})
        assert service.state_machine_arn("lottery") == MACHINES + "lottery"
        assert [e["id"] for e in service.history(arn)] == list(range(1, 1201))
        stubber.assert_no_pending_responses()


def listed(name: str, status: str, minute: int) -> dict[str, Any]:
    """A lottery execution as ListExecutions gives it on AWS: no error, no cause."""
    arn = f"{MACHINES}lottery:{name}".replace(":stateMachine:", ":execution:")
    return {
        "executionArn": arn,
        "stateMachineArn": MACHINES + "lottery",
        "name": name,
        "status": status,
        "startDate": CREATED.replace(minute=minute),
        "stopDate": CREATED.replace(minute=minute, second=1),
    }


def ended_in(state: str, error: str) -> list[dict[str, Any]]:
    """The last two events of a run that failed in the Fail state `state`, newest first."""
    return [
        {
            "id": 9,
            "previousEventId": 8,
            "type": "ExecutionFailed",
            "timestamp": CREATED,
            "executionFailedEventDetails": {"error": error, "cause": f"{error} cause"},
        },
        {
            "id": 8,
            "previousEventId": 7,
            "type": "FailStateEntered",
            "timestamp": CREATED,
            "stateEnteredEventDetails": {"name": state},
        },
    ]


def test_a_failed_runs_ending_is_read_once_from_the_last_two_events_of_its_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ListExecutions gives no error: a FAILED row's ending is its history's last two events, one
    request without the events' input, made once (the list polled again asks nothing more of
    them) until a redrive ends it anew; a row that did not fail costs nothing."""
    service, sfn = aws_service()
    monkeypatch.setattr(service, "state_machine_arn", lambda workflow: MACHINES + workflow)
    rows = [listed("ok", "SUCCEEDED", 3), listed("refused", "FAILED", 2), listed("broke", "FAILED", 1)]
    tails = {
        "refused": ended_in("Request Rejected", "NotEnoughEligibleEmployees"),
        "broke": ended_in("Failed", "InvalidInput"),
    }
    with Stubber(sfn) as stubber:
        stubber.add_response(
            "list_executions",
            {"executions": rows},
            {"stateMachineArn": MACHINES + "lottery", "maxResults": 100},
        )
        for row in rows[1:]:
            asked = {
                "executionArn": row["executionArn"],
                "reverseOrder": True,
                "maxResults": 2,
                "includeExecutionData": False,
            }
            stubber.add_response("get_execution_history", {"events": tails[row["name"]]}, asked)
        stubber.add_response(
            "list_executions",
            {"executions": rows},
            {"stateMachineArn": MACHINES + "lottery", "maxResults": 100},
        )
        # redriven, it failed again, otherwise: a new ending, read once more
        redriven = {**rows[2], "redriveCount": 1, "stopDate": CREATED.replace(minute=9)}
        stubber.add_response(
            "list_executions",
            {"executions": [*rows[:2], redriven]},
            {"stateMachineArn": MACHINES + "lottery", "maxResults": 100},
        )
        asked = {**asked, "executionArn": redriven["executionArn"]}
        stubber.add_response("get_execution_history", {"events": ended_in("Failed", "Unlucky")}, asked)
        first = service.executions("lottery")
        again = service.executions("lottery")
        after_redrive = service.executions("lottery")
        stubber.assert_no_pending_responses()
    assert [(e["name"], e["status"], e["rejected"], e.get("error")) for e in first] == [
        ("ok", "SUCCEEDED", False, None),
        ("refused", "FAILED", True, "NotEnoughEligibleEmployees"),
        ("broke", "FAILED", False, "InvalidInput"),
    ]
    assert again == first
    assert after_redrive[2]["error"] == "Unlucky"


def test_only_the_failed_runs_shown_have_their_ending_read_and_a_throttled_one_is_shown_without(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A list of two asks ListExecutions for two and reads the histories of those two only; one
    still throttled after botocore's retries is listed without its error, and asked again next time."""
    service, sfn = aws_service()
    monkeypatch.setattr(service, "state_machine_arn", lambda workflow: MACHINES + workflow)
    rows = [listed("newest", "FAILED", 3), listed("older", "FAILED", 2)]
    asked = {"reverseOrder": True, "maxResults": 2, "includeExecutionData": False}
    listing = (
        "list_executions",
        {"executions": rows},
        {"stateMachineArn": MACHINES + "lottery", "maxResults": 2},
    )
    with Stubber(sfn) as stubber:
        stubber.add_response(*listing)
        stubber.add_response(
            "get_execution_history",
            {"events": ended_in("Failed", "InvalidInput")},
            {**asked, "executionArn": rows[0]["executionArn"]},
        )
        stubber.add_client_error(
            "get_execution_history",
            "ThrottlingException",
            "Rate exceeded",
            400,
            expected_params={**asked, "executionArn": rows[1]["executionArn"]},
        )
        stubber.add_response(*listing)
        stubber.add_response(
            "get_execution_history",
            {"events": ended_in("Request Rejected", "InvalidInput")},
            {**asked, "executionArn": rows[1]["executionArn"]},
        )
        throttled = service.executions("lottery", limit=2)
        later = service.executions("lottery", limit=2)
        stubber.assert_no_pending_responses()
    assert [(e["name"], e["rejected"], e.get("error")) for e in throttled] == [
        ("newest", False, "InvalidInput"),
        ("older", False, None),
    ]
    assert [(e["name"], e["rejected"]) for e in later] == [("newest", False), ("older", True)]


def test_an_execution_is_found_by_its_name_on_aws_which_lists_no_express_execution() -> None:
    """AWS refuses ListExecutions for an Express machine (StateMachineTypeNotSupported): the
    name is looked for among the other machines' executions, not refused."""
    service, sfn = aws_service()
    machines = [{**machine(name), "name": f"pyflows-local-{name}"} for name in sorted(WORKFLOWS)]
    with Stubber(sfn) as stubber:
        stubber.add_response("list_state_machines", {"stateMachines": machines})
        for name in sorted(WORKFLOWS):
            arn = f"{MACHINES}{name}:day-1".replace(":stateMachine:", ":execution:")
            if WORKFLOWS[name].type == StateMachineType.EXPRESS:
                stubber.add_client_error(
                    "list_executions",
                    "StateMachineTypeNotSupported",
                    "no",
                    400,
                    {"stateMachineArn": MACHINES + name},
                )
            elif name == "lottery":
                stubber.add_response("describe_execution", described(arn), {"executionArn": arn})
            else:
                code = "ExecutionDoesNotExist"
                stubber.add_client_error("describe_execution", code, "no", 400, {"executionArn": arn})
        assert service.execution_arn("day-1") == f"{MACHINES}lottery:day-1".replace(
            ":stateMachine:", ":execution:"
        )
        stubber.assert_no_pending_responses()


def test_unknown_execution_is_404_everywhere(client: FlaskClient) -> None:
    for suffix in ("", "/history", "/graph", "/graph.svg"):
        response = client.get(f"/api/executions/{UNKNOWN}{suffix}")
        assert response.status_code == 404, suffix
        assert response.get_json()["error"] == "NotFound"
    for action in ("stop", "redrive"):
        assert client.post(f"/api/executions/{UNKNOWN}/{action}").status_code == 404, action
    assert client.get("/api/executions/not-an-arn").status_code == 404


def test_execution_graph_json_and_svg(client: FlaskClient, finished: Callable[[str], Any]) -> None:
    arn = start(client, "shapes", {"count": 2}).get_json()["executionArn"]
    finished(arn)
    graph = client.get(f"/api/executions/{arn}/graph").get_json()
    states = graph["states"]
    assert states["Prepare"]["status"] == "succeeded"
    assert states["Prepare"]["output"] == {"items": [1, 2]}
    assert states["Unreachable"]["status"] == "not_reached"
    assert states["Left"]["status"] == states["Right"]["status"] == "succeeded"
    assert states["Each Item"]["iterations"] == {"started": 2, "succeeded": 2}
    assert states["Square"]["runs"] == 2
    assert graph["execution"]["status"] == "SUCCEEDED" and graph["execution"]["failedIn"] is None
    svg = client.get(f"/api/executions/{arn}/graph.svg")
    assert svg.mimetype == "image/svg+xml"
    text = svg.get_data(as_text=True)
    assert text.startswith("<svg")
    assert f'id="{graph["svgIds"]["Unreachable"]}"' in text
    assert "state succeeded" in text and "state not_reached" in text


def test_workflow_graph(client: FlaskClient) -> None:
    graph = client.get("/api/workflows/shapes/graph").get_json()
    assert {s["status"] for s in graph["states"].values()} == {"not_reached"}
    edges = {(e["from"], e["to"], e["kind"]) for e in graph["edges"]}
    assert ("Route", "Fan Out", "choice") in edges
    assert ("Route", "Unreachable", "default") in edges
    assert ("Fan Out", "Left", "branch") in edges
    svg = client.get("/api/workflows/shapes/graph.svg").get_data(as_text=True)
    assert "Fan Out" in svg and "Branch 1" in svg and "Iterator" in svg


def test_failed_execution_graph_shows_retry_catch_and_failure(
    client: FlaskClient, finished: Callable[[str], Any]
) -> None:
    arn = start(client, "broken", {"count": 1}).get_json()["executionArn"]
    described = finished(arn)
    assert described["status"] == "FAILED"
    states = client.get(f"/api/executions/{arn}/graph").get_json()["states"]
    assert states["Publish"]["status"] == "caught"
    assert states["Publish"]["retries"] == 1
    assert states["Publish"]["error"] == "SNS.NotFoundException"
    assert states["Give Up"]["status"] == "failed"
    assert states["Give Up"]["error"] == "SNS.NotFoundException"
    assert states["Never Here"]["status"] == "not_reached"


def test_a_failed_parallel_branch_caught_by_the_parallel(
    client: FlaskClient, finished: Callable[[str], Any]
) -> None:
    arn = start(client, "branchy", {"count": 1}).get_json()["executionArn"]
    assert finished(arn)["status"] == "SUCCEEDED"
    states = client.get(f"/api/executions/{arn}/graph").get_json()["states"]
    assert states["Both Sides"]["status"] == "caught"
    assert states["Broken"]["status"] == "failed"
    assert states["Broken"]["error"] == "Broken"
    assert states["Fine"]["status"] in ("succeeded", "cancelled")  # the branches race
    assert states["Recover"]["status"] == states["Finish"]["status"] == "succeeded"


def test_stop_a_running_execution(client: FlaskClient, service: ExecutionService) -> None:
    arn = start(client, "slow", {"count": 1}).get_json()["executionArn"]
    graph = wait_for(
        lambda: (
            (g := client.get(f"/api/executions/{arn}/graph").get_json())["states"]["Wait A While"]["status"]
            == "running"
            and g
        )
    )
    assert graph["states"]["Finish"]["status"] == "not_reached"
    # a misspelt field or a value that is not text is refused, and the run goes on
    misspelt = client.post(f"/api/executions/{arn}/stop", json={"reason": "duplicate"})
    assert (misspelt.status_code, misspelt.get_json()["message"]) == (
        400,
        'unknown field "reason": the body holds error and cause',
    )
    not_text = client.post(f"/api/executions/{arn}/stop", json={"error": 3})
    assert (not_text.status_code, not_text.get_json()["message"]) == (400, "error must be a string")
    assert service.describe(arn)["status"] == "RUNNING"
    stopped = client.post(f"/api/executions/{arn}/stop", json={"error": "Operator", "cause": "test"})
    assert stopped.status_code == 200
    assert wait_for(lambda: service.describe(arn)["status"] == "ABORTED")
    again = client.post(f"/api/executions/{arn}/stop")
    assert again.status_code == 409
    states = client.get(f"/api/executions/{arn}/graph").get_json()["states"]
    assert states["Wait A While"]["status"] == "aborted"


def test_an_express_execution_is_not_stopped_and_the_answer_says_why(client: FlaskClient) -> None:
    """Step Functions answers InvalidArn to StopExecution of one, which would read as not found."""
    arn = "arn:aws:states:us-east-1:123456789012:express:pyflows-local-ride-request:r1:0d6f0c5e"
    refused = client.post(f"/api/executions/{arn}/stop")
    assert (refused.status_code, refused.get_json()["message"]) == (
        409,
        "an Express execution cannot be stopped: it runs to its end, within its timeout",
    )


def test_redrive_needs_a_failed_execution(client: FlaskClient, finished: Callable[[str], Any]) -> None:
    arn = start(client, "shapes", {"count": 1}).get_json()["executionArn"]
    finished(arn)
    response = client.post(f"/api/executions/{arn}/redrive")
    assert response.status_code == 409
    assert "SUCCEEDED" in response.get_json()["message"]


def test_a_redrive_that_would_only_fail_again_is_refused_unless_forced(
    client: FlaskClient, finished: Callable[[str], Any]
) -> None:
    """As the CLI refuses it without --force, and the console asks first."""
    arn = start(client, "broken", {"count": 1}).get_json()["executionArn"]  # caught, then Give Up
    assert finished(arn)["status"] == "FAILED"
    for body in (None, {}, {"force": False}):
        refused = client.post(f"/api/executions/{arn}/redrive", json=body)
        assert refused.status_code == 409
        assert refused.get_json() == {
            "error": "FutileRedrive",
            "message": "not redriven: it would only run Give Up again, and fail as this run did "
            '({"force": true} in the body redrives it anyway)',
        }
    described = client.get(f"/api/executions/{arn}").get_json()
    assert "redriveCount" not in described  # nothing was done
    # what describe --json and the graph say too: a script need not read redriveStatus alone
    assert (described["redriveStatus"], described["redriveRerunsOnly"]) == ("REDRIVABLE", "Give Up")
    assert (described["failedIn"], described["stoppedBeforeRedrives"]) == ("Publish", [])
    for body, why in (({"force": "yes"}, "force must be true or false"), ({"forse": True}, '"forse"')):
        bad = client.post(f"/api/executions/{arn}/redrive", json=body)
        assert bad.status_code == 400 and why in bad.get_json()["message"]
    forced = client.post(f"/api/executions/{arn}/redrive", json={"force": True})
    assert forced.status_code == 200
    again = finished(arn)
    assert (again["status"], again["redriveCount"]) == ("FAILED", 1)


def test_workflow_route_starts_the_workflow(client: FlaskClient, finished: Callable[[str], Any]) -> None:
    response = client.post("/shapes", json={"count": 2})
    assert response.status_code == 202
    assert finished(response.get_json()["executionArn"])["status"] == "SUCCEEDED"
    bad = client.post("/shapes", json={"count": 0})
    assert bad.status_code == 400
    assert bad.get_json()["field"] == "count"


def test_workflow_route_answered_by_a_function(client: FlaskClient) -> None:
    response = client.post("/echo/42?verbose=yes", json={"hello": "world"})
    assert response.status_code == 201
    assert response.headers["x-echo"] == "1"
    # without the API's CORS configuration the function's own CORS headers reach the page
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_json() == {
        "route": "POST /echo/{id}",
        "id": "42",
        "query": {"verbose": "yes"},
        "got": {"hello": "world"},
        "method": "POST",
    }
    failed = client.post("/echo/boom", json={})
    assert failed.status_code == 500
    assert failed.get_json() == {"message": "Internal Server Error"}
    assert client.get("/echo/42").status_code == 405


def test_routes_with_auth_check_the_token_as_the_jwt_authorizer_does(
    console_env: Environment, service: ExecutionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """401 before anything runs without a valid token; else the function gets the token's claims."""
    issuer = LocalIssuer()
    monkeypatch.setattr(authorizer, "user_pool_verifier", lambda env: issuer.verifier())
    shapes = test_workflows.WORKFLOWS["shapes"]
    guarded = dataclasses.replace(
        shapes,
        triggers=(HttpRoute("POST", "/shapes", auth=True),),
        routes=(dataclasses.replace(shapes.routes[0], auth=True),),
    )
    executions = console_env.client("stepfunctions").list_executions
    arn = ExecutionService(console_env, test_workflows.WORKFLOWS).require_arn("shapes")
    before = len(executions(stateMachineArn=arn)["executions"])
    with create_app(console_env, {**test_workflows.WORKFLOWS, "shapes": guarded}).test_client() as app:
        for token in (None, "not-a-token", LocalIssuer().token("ann"), issuer.token("ann", expires_in=-60)):
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            for path in ("/echo/1", "/shapes"):
                refused = app.post(path, json={"count": 1}, headers=headers)
                assert (refused.status_code, refused.get_json()) == (401, {"message": "Unauthorized"})
        assert len(executions(stateMachineArn=arn)["executions"]) == before  # nothing started

        signed_in = {"Authorization": f"Bearer {issuer.token('ann')}"}
        echoed = app.post("/echo/1", json={}, headers=signed_in)
        assert echoed.status_code == 201
        assert echoed.get_json()["claims"]["cognito:username"] == "ann"
        assert app.post("/shapes", json={"count": 1}, headers=signed_in).status_code == 202


def test_a_route_whose_function_is_not_deployed_answers_409(
    console_env: Environment, service: ExecutionService
) -> None:
    shapes = test_workflows.WORKFLOWS["shapes"]
    missing = dataclasses.replace(
        shapes,
        routes=(Route("POST", "/missing", "missing"),),
        functions=(*shapes.functions, Function("missing", "missing.handler", "never deployed")),
    )
    with create_app(console_env, {**test_workflows.WORKFLOWS, "shapes": missing}).test_client() as app:
        answer = app.post("/missing", json={})
    assert answer.status_code == 409
    assert "(no function pyflows-local-shapes-missing)" in answer.get_json()["message"]


def test_with_the_apis_cors_configuration_a_functions_own_cors_headers_are_ignored(
    console_env: Environment, service: ExecutionService
) -> None:
    """As API Gateway: an allowed page's origin is named on every answer of a route, errors too,
    whatever the function said; another page gets no such header, whatever the function said."""
    shapes = test_workflows.WORKFLOWS["shapes"]
    missing = dataclasses.replace(
        shapes,
        routes=(*shapes.routes, Route("POST", "/missing", "missing")),
        functions=(*shapes.functions, Function("missing", "missing.handler", "never deployed")),
    )
    env = dataclasses.replace(console_env, cors_origins=("https://app.example.com",))
    workflows = {**test_workflows.WORKFLOWS, "shapes": missing}
    with create_app(env, workflows, ExecutionService(env, workflows)).test_client() as app:
        allowed = app.post("/echo/42", json={}, headers={"Origin": "https://app.example.com"})
        other = app.post("/echo/42", json={}, headers={"Origin": "https://other.example"})
        not_deployed = app.post("/missing", json={}, headers={"Origin": "https://app.example.com"})
    assert (
        allowed.status_code == 201
        and allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    )
    assert allowed.headers["Vary"] == "Accept-Encoding, Origin"
    assert other.status_code == 201 and "Access-Control-Allow-Origin" not in other.headers
    assert not_deployed.status_code == 409
    assert not_deployed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"


def test_a_replaced_user_pool_is_looked_up_again_but_bad_tokens_cause_no_lookups(
    console_env: Environment, service: ExecutionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redeploy may replace the user pool (a restarted local cloud makes a new one): its tokens
    are accepted once its keys are looked up again, and the old pool's refused. Tokens that fail
    look nothing up, and ones signed by keys nobody has look up at most once every few seconds."""
    pools, lookups = [LocalIssuer()], []

    def user_pool_verifier(env: Environment) -> authorizer.JwtVerifier:
        lookups.append(env.name)
        return pools[-1].verifier()

    monkeypatch.setattr(authorizer, "user_pool_verifier", user_pool_verifier)
    shapes = test_workflows.WORKFLOWS["shapes"]
    guarded = dataclasses.replace(shapes, routes=(dataclasses.replace(shapes.routes[0], auth=True),))

    def status(app: FlaskClient, token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return app.post("/echo/1", json={}, headers=headers).status_code

    with create_app(console_env, {**test_workflows.WORKFLOWS, "shapes": guarded}).test_client() as app:
        first = pools[0]
        assert [status(app, token) for token in (None, "not-a-token", first.token("ann"))] == [401, 401, 201]
        assert len(lookups) == 1
        assert {status(app, LocalIssuer().token("eve")) for _ in range(10)} == {401}  # keys nobody has
        assert len(lookups) == 1  # the pool's keys were looked up less than RELOOK_AFTER ago

        pools.append(LocalIssuer())  # redeployed
        monkeypatch.setattr(authorizer.PoolKeys, "RELOOK_AFTER", 0.0)
        assert status(app, pools[-1].token("ann")) == 201  # a key the kept ones lack: looked up again
        assert len(lookups) == 2
        assert status(app, first.token("ann")) == 401

        # the local cloud restarted: its new pool signs with the old pool's key, for another issuer
        # (the pool's id) and client; its tokens too are looked up again, not refused for a minute
        restarted = copy.copy(pools[-1])
        restarted.issuer, restarted.audience = "https://issuer.local/restarted", "pyflows-restarted"
        pools.append(restarted)
        assert status(app, restarted.token("ann")) == 201
        assert len(lookups) == 4  # the old pool's token above looked up once more


def test_environment(client: FlaskClient) -> None:
    assert client.get("/api/environment").get_json()["name"] == "local"


def test_redrive_a_failed_execution_from_the_failed_state(
    client: FlaskClient, console_env: Environment, finished: Callable[[str], Any]
) -> None:
    sns = console_env.client("sns")
    topic = sns.create_topic(Name=FLAKY_TOPIC)["TopicArn"]
    sns.delete_topic(TopicArn=topic)
    arn = start(client, "flaky", {"count": 1}).get_json()["executionArn"]
    assert finished(arn)["status"] == "FAILED"
    failed = client.get(f"/api/executions/{arn}/graph").get_json()
    first = failed["states"]
    assert (first["Prepare"]["status"], first["Announce"]["status"]) == ("succeeded", "failed")
    assert failed["execution"]["failedIn"] == "Announce"

    sns.create_topic(Name=FLAKY_TOPIC)  # the cause is fixed: a redrive now finishes the execution
    try:
        response = client.post(f"/api/executions/{arn}/redrive")
        assert response.status_code == 200
        done = finished(arn)
        assert done["status"] == "SUCCEEDED"
        assert done["redriveCount"] == 1
        assert done["output"]["prepared"] == "prepared"
        assert "MessageId" in done["output"]["announced"]
        events = client.get(f"/api/executions/{arn}/history").get_json()["events"]
        kinds = [e["type"] for e in events]
        assert kinds.count("ExecutionStarted") == 1 and kinds.count("ExecutionRedriven") == 1
        assert kinds[-1] == "ExecutionSucceeded"
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
        entered = [
            e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")
        ]
        assert entered == ["Prepare", "Announce", "Announce", "Finish"]  # Prepare is not run again
        states = client.get(f"/api/executions/{arn}/graph").get_json()["states"]
        assert {n: s["status"] for n, s in states.items()} == {
            "Prepare": "succeeded",
            "Announce": "succeeded",
            "Finish": "succeeded",
        }
        assert client.post(f"/api/executions/{arn}/redrive").status_code == 409
    finally:
        sns.delete_topic(TopicArn=topic)


def test_the_console_works_mounted_under_a_prefix(app: Flask) -> None:
    """The local cloud can serve the console at /_console/: every URL the page uses is relative."""
    mounted = DispatcherMiddleware(NotFoundApp(), {"/_console": app})
    browser = Client(mounted)
    page = browser.get("/_console/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'href="static/console.css"' in html and 'src="static/console.js"' in html
    assert browser.get("/_console/static/console.js").status_code == 200
    assert browser.get("/_console/api/workflows").status_code == 200
    assert browser.get("/_console/openapi.json").status_code == 200
    script = browser.get("/_console/static/console.js").get_data(as_text=True)
    assert not re.search(r"""(fetch|api)\((["'`])/""", script)  # no absolute URL in API calls


def test_an_unreachable_environment_is_503(console_env: Environment) -> None:
    nowhere = dataclasses.replace(console_env, endpoint="http://127.0.0.1:9")
    with create_app(nowhere, test_workflows.WORKFLOWS).test_client() as offline:
        response = offline.get("/api/workflows")
    assert response.status_code == 503
    assert "is the local cloud running?" in response.get_json()["message"]


def test_a_missing_graphviz_is_503(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    response = client.get("/api/workflows/shapes/graph.svg")
    assert response.status_code == 503
    assert "apt-get install graphviz" in response.get_json()["message"]
    assert client.get("/api/workflows/shapes/graph").status_code == 200  # the JSON needs no Graphviz


def test_an_express_workflow_runs_to_its_end_in_the_start_without_describing_it(
    console_env: Environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS keeps no Express execution to describe: the start answers with its end."""
    sfn = console_env.client("stepfunctions")
    definition = {
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Pass",
                "Parameters": {"twice.$": "States.MathAdd($.count, $.count)"},
                "End": True,
            }
        },
    }
    sfn.create_state_machine(
        name=console_env.resource_name("quick"),
        definition=json.dumps(definition),
        roleArn=ROLE,
        type="EXPRESS",
    )
    quick = dataclasses.replace(
        test_workflows.WORKFLOWS["shapes"], name="quick", type=StateMachineType.EXPRESS
    )
    service = ExecutionService(console_env, {"quick": quick})
    monkeypatch.setattr(service.sfn, "describe_execution", lambda **kwargs: pytest.fail("described"))

    execution, created = service.start("quick", {"count": 4})

    assert created and execution["status"] == "SUCCEEDED"
    assert execution["output"] == {"twice": 8} and execution["input"] == {"count": 4}
    assert execution["workflow"] == "quick"


def test_express_starts_with_one_name_are_distinct_executions_each_reachable(
    console_env: Environment,
) -> None:
    """Express names need not be unique, as on AWS: each start with a name is a new execution with
    an ARN of its own, which the API describes; the name alone, now ambiguous, is refused naming
    both. (A Standard start with a name stays idempotent: test_start_is_idempotent_with_a_name.)"""
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    machine = console_env.client("stepfunctions").create_state_machine(
        name=console_env.resource_name("again"),
        definition=json.dumps(definition),
        roleArn=ROLE,
        type="EXPRESS",
    )["stateMachineArn"]
    again = dataclasses.replace(
        test_workflows.WORKFLOWS["shapes"], name="again", type=StateMachineType.EXPRESS
    )
    service = ExecutionService(console_env, {"again": again})
    client = create_app(console_env, service.workflows, service).test_client()
    name, other = f"dup-{uuid.uuid4().hex[:8]}", f"once-{uuid.uuid4().hex[:8]}"

    started = [start(client, "again", {"count": count}, name) for count in (1, 2)]

    assert [response.status_code for response in started] == [201, 201]
    arns = [response.get_json()["executionArn"] for response in started]
    assert arns[0] != arns[1]
    for count, arn in enumerate(arns, 1):
        assert arn.startswith(machine.replace(":stateMachine:", ":express:") + f":{name}:")
        described = client.get(f"/api/executions/{arn}").get_json()
        assert (described["name"], described["input"], described["workflow"]) == (
            name,
            {"count": count},
            "again",
        )
        events = client.get(f"/api/executions/{arn}/history").get_json()["events"]
        assert [events[0]["type"], events[-1]["type"]] == ["ExecutionStarted", "ExecutionSucceeded"]
        assert client.get(f"/api/executions/{arn}/graph").get_json()["states"]["P"]["status"] == "succeeded"
        refused = client.post(f"/api/executions/{arn}/redrive")
        assert refused.status_code == 409 and "EXPRESS" in refused.get_json()["message"]
    listed = client.get("/api/executions?workflow=again&limit=500").get_json()["executions"]
    assert set(arns) <= {e["executionArn"] for e in listed}
    ambiguous = client.get(f"/api/executions/{name}")
    assert ambiguous.status_code == 409
    assert all(arn in ambiguous.get_json()["message"] for arn in arns)
    once = start(client, "again", {"count": 3}, other).get_json()["executionArn"]
    assert client.get(f"/api/executions/{other}").get_json()["executionArn"] == once


def test_a_page_of_another_site_can_neither_start_nor_stop_nor_redrive(
    client: FlaskClient, finished: Callable[[str], Any]
) -> None:
    """A form or a no-cors fetch on another site reaches the console with the user's credentials
    behind it; the browser names that site in Origin, and nothing is done."""
    foreign = {"Origin": "http://evil.example"}
    name = f"foreign-{uuid.uuid4().hex[:8]}"
    refused = client.post(
        "/api/workflows/shapes/executions", json={"input": {"count": 1}, "name": name}, headers=foreign
    )
    assert refused.status_code == 403
    assert refused.get_json() == {
        "error": "Forbidden",
        "message": "a page of http://evil.example may not POST /api/workflows/shapes/executions: "
        "only the console's own page may",
    }
    assert client.get(f"/api/executions/{name}").status_code == 404  # nothing started
    # a page on the same host and port under another name is another site too
    assert start_with(client, {"Origin": "http://127.0.0.1"}, name).status_code == 403

    arn = start_with(client, {"Origin": "http://localhost"}, name).get_json()["executionArn"]  # its own page
    assert finished(arn)["status"] == "SUCCEEDED"
    for action in ("stop", "redrive"):
        assert client.post(f"/api/executions/{arn}/{action}", headers=foreign).status_code == 403
    assert client.post("/api/workflows/shapes/validate", json={}, headers=foreign).status_code == 403
    # reading stays open (a foreign page cannot read the answer without CORS headers, none are sent)
    read = client.get(f"/api/executions/{arn}", headers=foreign)
    assert read.status_code == 200 and "Access-Control-Allow-Origin" not in read.headers
    # a workflow's own route is API Gateway's, guarded by its authorizer, not by the console's page
    assert client.post("/shapes", json={"count": 2}, headers=foreign).status_code == 202


def start_with(client: FlaskClient, headers: dict[str, str], name: str) -> Any:
    return client.post(
        "/api/workflows/shapes/executions", json={"input": {"count": 1}, "name": name}, headers=headers
    )


def test_the_console_answers_only_to_its_own_names(
    console_env: Environment, service: ExecutionService
) -> None:
    """A site whose name was made to resolve to this machine (DNS rebinding) is a page of the same
    origin as far as the browser knows, but it sends its own name as Host; wherever the console
    listens, loopback, every address or IPv6."""
    for listening_on in ("127.0.0.1", "0.0.0.0", "::1"):
        app = create_app(
            console_env, test_workflows.WORKFLOWS, service, listening_on=listening_on
        ).test_client()
        rebound = app.get("/api/workflows", headers={"Host": "evil.example:8080"})
        assert rebound.status_code == 421
        assert rebound.get_json() == {
            "error": "Misdirected",
            "message": "Host 'evil.example:8080' is not this machine's name: the console answers to its "
            "addresses, localhost and this machine's own names (a page whose name was made to resolve "
            "to this machine?)",
        }
        assert app.get("/", headers={"Host": "evil.example"}).status_code == 421  # the page too
        for host in ("127.0.0.1:8080", "localhost", "app.localhost:8080", "10.1.2.3:8080", "[::1]:8080"):
            assert app.get("/api/environment", headers={"Host": host}).status_code == 200, host
        assert app.get("/api/environment", headers={"Host": socket.gethostname()}).status_code == 200
    on_a_name = create_app(console_env, test_workflows.WORKFLOWS, service, listening_on="devbox.example")
    assert (
        on_a_name.test_client().get("/api/environment", headers={"Host": "devbox.example:8080"}).status_code
        == 200
    )
