"""ride-request over real HTTP: `POST /ride`, served by the console as API Gateway serves the route
(its JWT authorizer, then the deployed api-ride function), starts the deployed Express state
machine synchronously on the local cloud. Asserts each response code, the rides table, the
alerts and the execution histories."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from bench.load import serve
from console import authorizer
from console.app import create_app
from console.authorizer import LocalIssuer
from localcloud import LocalCloud, mock_config
from localcloud.engine import clock
from tasks.ride_request.api import FUNCTION, WORKFLOW_TIMEOUT_SECONDS, RideApi, sfn_starter
from tasks.ride_request.rides import fare, promo
from tasks.shared.alerts import WindowedAlert
from tasks.shared.numbers import from_dynamo
from tests import counters
from tests.conftest import Inbox
from tests.workflows.conftest import Deployed, deploy_workflows, mocks
from tests.workflows.policy_edges import (
    ALERT,
    a_flaky_alert_is_retried_and_sent,
    a_malformed_task_event_is_alerted,
    an_alert_that_cannot_be_sent_does_not_hide_the_failure,
    an_unexpected_api_failure_is_alerted_once_an_hour,
    every_function_survives_a_transient_error_and_a_throttle,
    miswired,
    repeated_alerts_are_emailed_once_an_hour,
)
from workflows import cli
from workflows.ride_request import DISCOUNT_TIMEOUT_SECONDS

WF = "ride-request"
ISSUER = LocalIssuer()  # the tokens the console's JWT authorizer accepts here (but in the Cognito test)
USER_POOL_VERIFIER = authorizer.user_pool_verifier
DOWNTOWN = {"latitude": 47.6062, "longitude": -122.3321}  # Rocinante's corner, 1200 cents
DISCOUNTED = next(f"rider-{i}" for i in range(100) if promo(f"rider-{i}", DOWNTOWN)["percent_off"])
UNDISCOUNTED = next(f"rider-{i}" for i in range(100) if not promo(f"rider-{i}", DOWNTOWN)["percent_off"])
_deserialize = TypeDeserializer().deserialize
FOUND = [
    "Validate Request",
    "Find Recorded Ride",
    "Already Recorded?",
    "Find Ride",
    "Find Unicorn",
    "Get Discount",
    "Apply Discount",
    "Record Ride",
]


def post(url: str, body: Any, token: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(
        f"{url}/ride", data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read()), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


@pytest.fixture(scope="module")
def app(local_cloud: LocalCloud) -> Deployed:
    return deploy_workflows(local_cloud, WF)


@pytest.fixture(scope="module")
def server(app: Deployed) -> Iterator[str]:
    """The routes served over HTTP as API Gateway serves them; the authorizer trusts ISSUER's keys."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(authorizer, "user_pool_verifier", lambda env: ISSUER.verifier())
        with serve(create_app(app.env)) as url:
            yield url


@pytest.fixture
def rides(app: Deployed, server: str) -> Iterator[str]:
    """The API's URL, with an empty rides table and no faults; Retry backoff takes no real time."""
    app.empty(WF, "rides")
    app.clear_faults()
    with clock.instant():
        yield server


@pytest.fixture
def alerts(app: Deployed) -> Inbox:
    return app.inbox(app.resource(WF, "alerts"))


def recorded(app: Deployed) -> list[dict[str, Any]]:
    items = app.client("dynamodb").scan(TableName=app.resource(WF, "rides"))["Items"]
    return [from_dynamo({k: _deserialize(v) for k, v in item.items()}) for item in items]


def executions(app: Deployed) -> list[str]:
    sfn = app.client("stepfunctions")
    found = sfn.list_executions(stateMachineArn=app.outputs[WF]["state_machine_arn"], maxResults=1000)
    return [e["executionArn"] for e in found["executions"]]


def history(app: Deployed, execution_name: str) -> list[dict[str, Any]]:
    sfn = app.client("stepfunctions")
    found = sfn.list_executions(stateMachineArn=app.outputs[WF]["state_machine_arn"], maxResults=1000)
    [arn] = [e["executionArn"] for e in found["executions"] if e["name"] == execution_name]
    pages = app.client("stepfunctions").get_paginator("get_execution_history").paginate(executionArn=arn)
    events: list[dict[str, Any]] = [event for page in pages for event in page["events"]]
    counters.HISTORIES[WF].append(events)
    return events


def states(events: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def body(request_id: str | None = None, pickup: dict[str, float] = DOWNTOWN) -> dict[str, Any]:
    return {"request_id": request_id or f"req-{uuid.uuid4().hex[:12]}", "pickup": pickup}


def test_a_signed_in_rider_gets_201_with_the_ride_recorded(app: Deployed, rides: str, alerts: Inbox) -> None:
    request = body()
    status, ride, headers = post(rides, request, ISSUER.token("ann"))

    assert status == 201, ride
    offer = promo("ann", DOWNTOWN)
    assert ride["rider"] == "ann" and ride["request_id"] == request["request_id"]
    assert ride["unicorn"]["name"] == "Rocinante" and ride["replayed"] is False
    assert ride["discount"] == offer and ride["fare"] == fare(1200, offer["percent_off"])
    [item] = recorded(app)
    assert item["ride_id"] == ride["ride_id"] and item["rider"] == "ann"
    entered = states(history(app, f"ride-{headers['X-Request-Id']}"))
    assert sorted(entered) == sorted([*FOUND, "Ride Recorded"]) and entered[-1] == "Ride Recorded"
    assert alerts.messages() == []


def stored(app: Deployed, ride_id: str) -> dict[str, Any]:
    """The rides table's item of `ride_id`, as DynamoDB holds it (numbers as Decimal)."""
    item = app.client("dynamodb").get_item(
        TableName=app.resource(WF, "rides"), Key={"ride_id": {"S": ride_id}}, ConsistentRead=True
    )["Item"]
    return {k: _deserialize(v) for k, v in item.items()}


@pytest.mark.parametrize("rider", [DISCOUNTED, UNDISCOUNTED], ids=["discounted", "undiscounted"])
def test_the_ride_record_keeps_the_discount_and_the_fare_charged(
    app: Deployed, rides: str, rider: str
) -> None:
    """The seed's own fix: the ride is recorded with its discount, not only answered with it."""
    status, ride, _ = post(rides, body(), ISSUER.token(rider))
    assert status == 201, ride

    item = stored(app, ride["ride_id"])
    offer = promo(rider, DOWNTOWN)
    assert item["discount"] == offer == ride["discount"]
    assert item["fare"] == fare(1200, offer["percent_off"]) == ride["fare"]
    if rider == DISCOUNTED:
        assert item["discount"]["status"] == "applied" and item["discount"]["code"]
        assert item["fare"]["discount_cents"] > 0 and item["fare"]["total_cents"] < 1200
    else:
        assert item["discount"] == {"percent_off": 0, "code": None, "status": "none"}
        assert item["fare"]["discount_cents"] == 0 and item["fare"]["total_cents"] == 1200


def test_an_invalid_body_is_400_naming_the_field_and_starts_nothing(app: Deployed, rides: str) -> None:
    before = len(executions(app))
    status, answer, _ = post(rides, body(pickup={"latitude": 123.0, "longitude": 0}), ISSUER.token("ann"))
    assert status == 400 and answer["error"] == "InvalidInput"
    assert [f["field"] for f in answer["fields"]] == ["pickup.latitude"]
    status, answer, _ = post(rides, {"pickup": DOWNTOWN}, ISSUER.token("ann"))
    assert status == 400 and answer["fields"][0]["field"] == "request_id"
    assert len(executions(app)) == before and recorded(app) == []


@pytest.mark.parametrize(
    "token",
    [
        None,
        "garbage",
        ISSUER.token("ann", expires_in=-60),
        LocalIssuer().token("ann"),
        ISSUER.token("ann", audience="x"),
    ],
    ids=["no token", "not a jwt", "expired", "another key", "another audience"],
)
def test_without_a_valid_token_the_answer_is_401_and_starts_nothing(
    app: Deployed, rides: str, token: str | None
) -> None:
    before = len(executions(app))
    status, answer, headers = post(rides, body(), token)
    assert (status, answer) == (401, {"message": "Unauthorized"}) and "Bearer" in headers["WWW-Authenticate"]
    assert len(executions(app)) == before


def test_a_replayed_request_id_returns_the_ride_and_another_body_is_409(app: Deployed, rides: str) -> None:
    request = body("req-replayed-1")
    first = post(rides, request, ISSUER.token("ann"))
    again = post(rides, request, ISSUER.token("ann"))
    moved = post(
        rides, body("req-replayed-1", {"latitude": 47.62, "longitude": -122.349}), ISSUER.token("ann")
    )
    far_away = post(
        rides, body("req-replayed-1", {"latitude": 40.7128, "longitude": -74.006}), ISSUER.token("ann")
    )
    other_rider = post(rides, request, ISSUER.token("bob"))

    assert first[0] == again[0] == 201 and again[1] == {**first[1], "replayed": True}, (first[1], again[1])
    # the replay is answered from the rides table: no unicorn is looked for, none is needed
    assert states(history(app, f"ride-{again[2]['X-Request-Id']}")) == [
        "Validate Request",
        "Find Recorded Ride",
        "Already Recorded?",
        "Ride Recorded",
    ]
    # another body with the id conflicts, even where no unicorn could have come (not 503)
    for other in (moved, far_away):
        assert (
            other[0] == 409
            and other[1]["error"] == "RequestIdConflict"
            and "req-replayed-1" in other[1]["message"]
        )
        assert states(history(app, f"ride-{other[2]['X-Request-Id']}"))[-2:] == [
            "Find Recorded Ride",
            "Request Rejected",
        ]
    assert other_rider[0] == 201, other_rider[1]  # request ids are per rider
    assert sorted(r["rider"] for r in recorded(app)) == ["ann", "bob"]


def test_a_pickup_far_from_every_unicorn_is_503(app: Deployed, rides: str, alerts: Inbox) -> None:
    status, answer, headers = post(
        rides, body(pickup={"latitude": 40.7128, "longitude": -74.006}), ISSUER.token("ann")
    )
    assert status == 503 and answer["error"] == "NoUnicornAvailable"
    assert recorded(app) == [] and alerts.messages() == []
    assert states(history(app, f"ride-{headers['X-Request-Id']}"))[-1] == "Request Rejected"


def test_an_unexpected_failure_is_500_with_the_request_id_and_alerted(
    app: Deployed, rides: str, alerts: Inbox
) -> None:
    app.inject(WF, "record-ride", "error", error_type="Boom")

    status, answer, headers = post(rides, body(), ISSUER.token("ann"))

    assert status == 500 and answer["request_id"] == headers["X-Request-Id"]
    assert headers["X-Request-Id"] in answer["message"] and "Boom" not in json.dumps(answer)
    [alert] = alerts.messages()
    assert "Boom" in alert
    assert states(history(app, f"ride-{headers['X-Request-Id']}"))[-3:] == ALERT


def ride_api_on(app: Deployed, machine: str, request_id: str) -> dict[str, Any]:
    """The api-ride function's own code, starting `machine` and alerting the workflow's topic, asked
    for a ride by ann: its answer."""
    api = RideApi(
        start_sync=sfn_starter(app.client("stepfunctions"), machine),
        alert=WindowedAlert(
            app.client("sns"),
            app.resource(WF, "alerts"),
            app.client("dynamodb"),
            app.resource(WF, "alert-windows"),
            source=f"{WF} {FUNCTION}",
        ),
    )
    claims = {"cognito:username": "ann"}
    event = {"requestContext": {"requestId": request_id, "authorizer": {"jwt": {"claims": claims}}}}
    return api({**event, "body": json.dumps(body())})


def test_when_the_workflow_cannot_start_the_answer_is_502_and_the_api_alerts_once_an_hour(
    app: Deployed,
) -> None:
    """The deployed api-ride function, wired to a state machine that is not there."""
    claims = {"cognito:username": "ann"}
    event = {"requestContext": {"authorizer": {"jwt": {"claims": claims}}}, "body": json.dumps(body())}
    alerts = an_unexpected_api_failure_is_alerted_once_an_hour(
        app, WF, FUNCTION, event, "STATE_MACHINE_ARN", "AccessDeniedException", status=502
    )
    assert all("StartSyncExecution failed" in alert["Message"] for alert in alerts)


def test_the_deployed_definition_ends_a_run_at_the_workflows_timeout(app: Deployed) -> None:
    assert app.definition(WF)["TimeoutSeconds"] == WORKFLOW_TIMEOUT_SECONDS


def test_a_ride_past_the_workflows_timeout_is_504_alerted_and_records_no_ride(
    app: Deployed, rides: str, alerts: Inbox
) -> None:
    """Apply Discount is held past the timeout: the run times out at Apply Discount, before Record
    Ride, and the api-ride function, still within its own time, answers 504 and alerts."""
    app.inject(WF, "apply-discount", "hold", times=1)
    request = body()
    with clock.speed(100):  # the 25 s timeout passes in a quarter of a second
        status, answer, headers = post(rides, request, ISSUER.token("ann"))

    assert status == 504 and answer["request_id"] == headers["X-Request-Id"], answer
    [alert] = alerts.messages()
    assert headers["X-Request-Id"] in alert and "TIMED_OUT" in alert
    # the deployed function wrote the window of its error (tasks.shared.alerts), as its role let it:
    # refused, the alert would still have gone, emailed, and no window been written
    key = {"alert": {"S": f"{WF} {FUNCTION} TIMED_OUT"}}
    assert "Item" in app.client("dynamodb").get_item(TableName=app.resource(WF, "alert-windows"), Key=key)
    events = history(app, f"ride-{headers['X-Request-Id']}")
    assert events[-1]["type"] == "ExecutionTimedOut" and states(events)[-1] == "Apply Discount"
    app.release(WF, "apply-discount")
    # the same request once more: a new ride, not the timed-out run's replayed
    status, ride, _ = post(rides, request, ISSUER.token("ann"))
    assert status == 201 and ride["replayed"] is False, ride
    assert [item["ride_id"] for item in recorded(app)] == [ride["ride_id"]]


def test_a_discount_service_that_always_fails_gives_a_full_fare_ride(app: Deployed, rides: str) -> None:
    app.inject(WF, "get-discount", "error", error_type="PromoServiceDown")

    status, ride, headers = post(rides, body(), ISSUER.token("ann"))

    assert status == 201, ride
    assert ride["discount"]["status"] == "unavailable" and ride["discount"]["percent_off"] == 0
    assert "PromoServiceDown" in ride["discount"]["reason"]
    assert ride["fare"] == fare(1200, 0)
    [item] = recorded(app)
    assert item["fare"]["total_cents"] == 1200
    events = history(app, f"ride-{headers['X-Request-Id']}")
    failed = [e for e in events if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["PromoServiceDown"]
    assert "Full Fare" in states(events) and states(events)[-1] == "Ride Recorded"


def test_a_discount_that_times_out_gives_a_full_fare_ride(app: Deployed, rides: str) -> None:
    app.inject(WF, "get-discount", "timeout")

    status, ride, headers = post(rides, body(), ISSUER.token("ann"))

    assert status == 201 and ride["discount"]["status"] == "unavailable", ride
    assert ride["fare"]["total_cents"] == 1200
    assert "Full Fare" in states(history(app, f"ride-{headers['X-Request-Id']}"))


def test_a_discount_slower_than_its_timeout_is_tried_once_more_then_the_ride_goes_at_full_fare(
    app: Deployed, rides: str
) -> None:
    """A rider waits for a unicorn, not for a promo: past the discount's own timeout the task is
    tried once more, then the ride goes on without it."""
    app.inject(WF, "get-discount", "latency", latency=DISCOUNT_TIMEOUT_SECONDS + 1.0)

    status, ride, headers = post(rides, body(), ISSUER.token("ann"))

    assert status == 201 and ride["discount"]["status"] == "unavailable", ride
    assert "States.Timeout" in ride["discount"]["reason"] and ride["fare"]["total_cents"] == 1200
    events = history(app, f"ride-{headers['X-Request-Id']}")
    timed_out = [e["taskTimedOutEventDetails"]["error"] for e in events if e["type"] == "TaskTimedOut"]
    assert timed_out == ["States.Timeout", "States.Timeout"]
    assert "Full Fare" in states(events) and states(events)[-1] == "Ride Recorded"


def test_a_discount_failing_briefly_is_retried_and_applied(app: Deployed, rides: str) -> None:
    for fault in ("service_error", "throttle"):
        app.inject(WF, "get-discount", fault, times=1)

    status, ride, headers = post(rides, body(), ISSUER.token(DISCOUNTED))

    assert status == 201 and ride["discount"] == promo(DISCOUNTED, DOWNTOWN), ride
    events = history(app, f"ride-{headers['X-Request-Id']}")
    errors = sorted(e["taskFailedEventDetails"]["error"] for e in events if e["type"] == "TaskFailed")
    assert errors == ["Lambda.ServiceException", "Lambda.TooManyRequestsException"]
    assert "Full Fare" not in states(events)


def test_every_lambda_task_survives_a_transient_error_and_a_throttle(app: Deployed, rides: str) -> None:
    run = every_function_survives_a_transient_error_and_a_throttle(app, WF, {**body(), "rider": DISCOUNTED})

    assert run.output["discount"] == promo(DISCOUNTED, DOWNTOWN) and "Full Fare" not in run.states
    [item] = recorded(app)
    assert item["ride_id"] == run.output["ride_id"]


@pytest.mark.slow
def test_one_hundred_concurrent_requests_are_each_recorded_once(app: Deployed, rides: str) -> None:
    requests = [(body(f"req-concurrent-{i:03d}"), ISSUER.token(f"rider-{i % 7}")) for i in range(100)]
    # The same request sent five times at once: recorded once too.
    requests += [(body("req-concurrent-dup"), ISSUER.token("ann"))] * 5

    with ThreadPoolExecutor(max_workers=25) as pool:
        answers = list(pool.map(lambda r: post(rides, *r), requests))

    assert [a[0] for a in answers] == [201] * 105, [a[1] for a in answers if a[0] != 201][:3]
    items = recorded(app)
    assert len(items) == 101
    assert len({i["ride_id"] for i in items}) == 101
    assert {(i["rider"], i["request_id"]) for i in items} == {
        *((f"rider-{i % 7}", f"req-concurrent-{i:03d}") for i in range(100)),
        ("ann", "req-concurrent-dup"),
    }
    assert {a[1]["ride_id"] for a in answers[100:]} == {i["ride_id"] for i in items if i["rider"] == "ann"}


def test_the_workflow_checks_its_input_again_without_alerting(app: Deployed, alerts: Inbox) -> None:
    """A caller that bypasses the API: the first task rejects the request, naming the field."""
    sfn = app.client("stepfunctions")
    result = sfn.start_sync_execution(
        stateMachineArn=app.outputs[WF]["state_machine_arn"],
        name="ride-direct-invalid",
        input=json.dumps({**body(), "rider": "ann", "pickup": {"latitude": 47.6}}),
    )
    assert result["status"] == "FAILED" and result["error"] == "InvalidInput"
    assert "pickup" in result["cause"] and "longitude" in result["cause"]
    assert states(history(app, "ride-direct-invalid")) == ["Validate Request", "Request Rejected"]
    assert alerts.messages() == []


def test_a_definition_that_sends_the_first_task_no_envelope_is_alerted_not_rejected(
    app: Deployed, rides: str, alerts: Inbox
) -> None:
    run = a_malformed_task_event_is_alerted(app, WF, "Validate Request", {**body(), "rider": "ann"})

    assert run.states == ["Validate Request", *ALERT]
    [alert] = alerts.messages()
    assert "MalformedTaskInput" in alert and run.arn in alert


def test_get_discount_sent_what_its_schema_refuses_fails_the_ride_alerted_not_at_full_fare(
    app: Deployed, rides: str, alerts: Inbox
) -> None:
    """Full fare is for a discount service that fails; a definition that sends it the wrong input
    would price every ride at full fare, unalerted."""
    run = a_malformed_task_event_is_alerted(app, WF, "Get Discount", {**body(), "rider": "ann"})

    assert "Discount Input Malformed" in run.states and "Full Fare" not in run.states
    [alert] = alerts.messages()
    assert "failed with MalformedTaskInput" in alert
    assert recorded(app) == []


def test_a_later_task_given_what_its_schema_refuses_is_alerted_and_answered_500_not_400(
    app: Deployed, rides: str, alerts: Inbox
) -> None:
    """A state that hands the next one the wrong shape (Apply Discount given the unicorn's name for
    its fare) is the definition's mistake: the rider is not told that their request is invalid,
    and on-call is paged."""
    fare_from_the_name = {"base_cents.$": "$.found.unicorn.name", "discount.$": "$.found.discount"}
    machine = miswired(
        app,
        WF,
        "Apply Discount",
        {"Payload": {"execution.$": "$$.Execution.Id", "input": fare_from_the_name}},
    )
    answer = ride_api_on(app, machine, "api-miswired")

    assert answer["statusCode"] == 500 and json.loads(answer["body"])["error"] == "InternalError"
    [alert] = alerts.messages()  # the workflow's own: the API does not alert a failed execution again
    assert "failed with MalformedTaskInput" in alert and "base_cents: " in alert
    assert recorded(app) == []


def test_tokens_of_the_environments_cognito_user_pool_are_accepted(app: Deployed, rides: str) -> None:
    """The console's authorizer as deployed: the local Cognito's tokens, its JWKS over HTTP."""
    cognito = app.client("cognito-idp")
    pool, client = authorizer.user_pool(app.env)
    cognito.admin_create_user(UserPoolId=pool, Username="carol", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="carol", Password="Unicorn-Pass-1", Permanent=True
    )
    tokens = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "carol", "PASSWORD": "Unicorn-Pass-1"},
    )["AuthenticationResult"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(authorizer, "user_pool_verifier", USER_POOL_VERIFIER)
        with serve(create_app(app.env)) as url:
            for token in (tokens["IdToken"], tokens["AccessToken"]):
                status, ride, _ = post(url, body(), token)
                assert status == 201 and ride["rider"] == "carol", ride
            assert post(url, body(), ISSUER.token("carol"))[0] == 401  # not this pool's key


def test_a_local_riders_token_from_the_cli_books_a_ride(
    app: Deployed, rides: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m workflows token NAME`, as the README shows: the user is made once, signed in each time."""
    for _ in range(2):
        assert cli.main(["token", "dave"]) == 0
    token = capsys.readouterr().out.split()[-1]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(authorizer, "user_pool_verifier", USER_POOL_VERIFIER)
        with serve(create_app(app.env)) as url:
            status, ride, _ = post(url, body(), token)
    assert status == 201 and ride["rider"] == "dave", ride


def test_an_express_start_from_the_cli_prints_its_output_or_its_error(
    app: Deployed, rides: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """StartSyncExecution returns the ended execution: without --wait, `start` says how it ended."""
    ride = {"request_id": f"cli-{uuid.uuid4().hex[:12]}", "rider": "ann", "pickup": DOWNTOWN}
    assert cli.main(["start", WF, "--input", json.dumps(ride)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("started arn:") and lines[1].startswith("SUCCEEDED in ") and err == ""
    output = json.loads("\n".join(lines[2:]))
    assert (output["request_id"], output["rider"], output["unicorn"]["base_cents"]) == (
        ride["request_id"],
        "ann",
        1200,
    )

    far = {
        **ride,
        "request_id": f"cli-{uuid.uuid4().hex[:12]}",
        "pickup": {"latitude": 40.7, "longitude": -74.0},
    }
    assert cli.main(["start", WF, "--input", json.dumps(far)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[1].startswith("FAILED in ")
    assert err.strip() == "error: NoUnicornAvailable: no unicorn available within 25 km of the pickup"


# Failures of tasks that cannot fail for real (pure functions) or of SNS itself: mocked test cases.
MOCKS = mocks(
    {
        "ride-request": {
            "ValidateCrashes": {"Validate Request": "Crash"},
            "FindRecordedCrashes": {"Find Recorded Ride": "Crash"},
            # another body with the same id, recorded between Find Recorded Ride and the put
            "RecordConflicts": {"Record Ride": "Conflict"},
            "FindUnicornCrashes": {"Find Unicorn": "Crash"},
            "ApplyCrashes": {"Apply Discount": "Crash"},
        }
    },
    {
        "Crash": {"0": {"Throw": {"Error": "Crash", "Cause": "bug"}}},
        "Conflict": {"0": {"Throw": {"Error": "RequestIdConflict", "Cause": "request_id used"}}},
    },
)


@pytest.fixture
def mocked(rides: str, app: Deployed) -> Iterator[Deployed]:
    with mock_config.loaded(MOCKS):
        yield app


@pytest.mark.parametrize(
    ("case", "error", "tail"),
    [
        ("ValidateCrashes", "Crash", ["Validate Request", *ALERT]),
        ("FindRecordedCrashes", "Crash", ["Find Recorded Ride", *ALERT]),
        ("RecordConflicts", "RequestIdConflict", ["Record Ride", "Request Rejected"]),
        ("FindUnicornCrashes", "Crash", ["Find Ride", *ALERT]),
        ("ApplyCrashes", "Crash", ["Apply Discount", *ALERT]),
    ],
)
def test_every_failure_ends_alerted_or_rejected(
    mocked: Deployed, case: str, error: str, tail: list[str]
) -> None:
    run = mocked.run(f"{WF}#{case}", {**body(), "rider": "ann"})

    assert run.status == "FAILED" and run.error == error
    # The failing state, then the tail (Parallel branch states may come in between).
    assert tail[0] in run.states and run.states[-(len(tail) - 1) :] == tail[1:]
    assert recorded(mocked) == []


def test_a_flaky_alert_is_retried_and_sent(app: Deployed, rides: str) -> None:
    a_flaky_alert_is_retried_and_sent(app, WF, "Record Ride", "Crash", {**body(), "rider": "ann"})


def test_an_alert_that_cannot_be_sent_does_not_hide_the_failure(app: Deployed, rides: str) -> None:
    an_alert_that_cannot_be_sent_does_not_hide_the_failure(
        app, WF, "Record Ride", "Crash", {**body(), "rider": "ann"}
    )


def test_repeated_alerts_are_emailed_once_an_hour(app: Deployed, rides: str) -> None:
    repeated_alerts_are_emailed_once_an_hour(app, WF, "Record Ride", {**body(), "rider": "ann"})
