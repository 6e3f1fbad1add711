"""POST /ride's function: the rider from the JWT authorizer's claims, body validation, result mapping."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tasks.ride_request.api import WORKFLOW_TIMEOUT_SECONDS, RideApi, sync_client
from workflows import WORKFLOWS

ANN = {
    "cognito:username": "ann",
    "iss": "https://cognito-idp.us-east-1.amazonaws.com/pool",
    "token_use": "id",
}
BODY = {"request_id": "req-0000001", "pickup": {"latitude": 47.6062, "longitude": -122.3321}}
RIDE = {"ride_id": "r1", "request_id": "req-0000001", "rider": "ann", "fare": {"total_cents": 1200}}


def event(body: Any = BODY, claims: Mapping[str, str] | None = ANN, raw: str | None = None) -> dict[str, Any]:
    """The v2 event as API Gateway passes it on once the route's JWT authorizer accepted the token."""
    context: dict[str, Any] = {"requestId": "api-req-1", "http": {"method": "POST", "path": "/ride"}}
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": dict(claims), "scopes": None}}
    return {
        "version": "2.0",
        "routeKey": "POST /ride",
        "headers": {"content-type": "application/json", "authorization": "Bearer eyJ..."},
        "requestContext": context,
        "body": raw if raw is not None else json.dumps(body),
        "isBase64Encoded": False,
    }


class Recorder:
    def __init__(self, result: Mapping[str, Any] | Exception) -> None:
        self.result = result
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.alerts: list[tuple[str, str, str]] = []

    def start(self, name: str, document: str) -> Mapping[str, Any]:
        self.calls.append((name, json.loads(document)))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result

    def alert(self, subject: str, message: str, failure: str) -> None:
        self.alerts.append((subject, message, failure))

    def api(self) -> RideApi:
        return RideApi(start_sync=self.start, alert=self.alert)


def answer(api: RideApi, request: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    out = api(request)
    return out["statusCode"], json.loads(out["body"]), out["headers"]


def succeeded(output: Mapping[str, Any] = RIDE) -> dict[str, Any]:
    return {"status": "SUCCEEDED", "output": json.dumps(output), "executionArn": "arn:x"}


def failed(error: str, message: str) -> dict[str, Any]:
    cause = json.dumps({"errorType": error, "errorMessage": message, "stackTrace": []})
    return {"status": "FAILED", "error": error, "cause": cause, "executionArn": "arn:x"}


def test_a_valid_request_starts_the_workflow_as_the_tokens_rider_and_answers_201() -> None:
    recorder = Recorder(succeeded())
    status, body, headers = answer(recorder.api(), event())
    assert status == 201 and body == RIDE and headers["X-Request-Id"] == "api-req-1"
    [(name, document)] = recorder.calls
    assert name == "ride-api-req-1" and document == {**BODY, "rider": "ann"}


@pytest.mark.parametrize(
    ("claims", "reason"),
    [(None, "no authorizer claims"), ({"iss": "https://issuer", "token_use": "id"}, "token names no user")],
)
def test_without_a_verified_rider_the_answer_is_401_and_nothing_starts(
    claims: dict[str, str] | None, reason: str
) -> None:
    recorder = Recorder(succeeded())
    status, body, headers = answer(recorder.api(), event(claims=claims))
    assert status == 401 and body["error"] == "Unauthorized" and reason in body["message"]
    assert headers["WWW-Authenticate"].startswith("Bearer") and recorder.calls == []


@pytest.mark.parametrize(
    ("claims", "rider"),
    [
        ({"cognito:username": "ann", "sub": "1f0c"}, "ann"),  # an ID token
        ({"username": "bob", "client_id": "app", "token_use": "access"}, "bob"),  # an access token
        ({"sub": "1f0c"}, "1f0c"),
    ],
)
def test_the_rider_is_who_the_authorizers_claims_name(claims: dict[str, str], rider: str) -> None:
    recorder = Recorder(succeeded())
    assert answer(recorder.api(), event(claims=claims))[0] == 201
    assert recorder.calls[0][1]["rider"] == rider


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "pickup": {"latitude": 91, "longitude": 0}}, "pickup.latitude"),
        ({"pickup": BODY["pickup"]}, "request_id"),
        ({**BODY, "request_id": "short"}, "request_id"),
        ({**BODY, "rider": "someone-else"}, "rider"),
        ([1, 2], "$"),
    ],
)
def test_an_invalid_body_is_400_naming_the_field_and_nothing_starts(body: Any, field: str) -> None:
    recorder = Recorder(succeeded())
    status, answer_body, _ = answer(recorder.api(), event(body))
    assert status == 400 and answer_body["error"] == "InvalidInput"
    assert answer_body["fields"][0]["field"] == field and recorder.calls == []


def test_a_pattern_broken_is_said_in_words_with_the_pattern() -> None:
    status, body, _ = answer(Recorder(succeeded()).api(), event({**BODY, "request_id": "r-9"}))
    assert status == 400
    assert body["fields"][0]["message"] == (
        '"r-9" is not 8 to 64 letters, digits, "_" or "-" (the pattern ^[A-Za-z0-9_-]{8,64}$)'
    )


@pytest.mark.parametrize(
    ("request_event", "reason"),
    [
        (event(raw="{oops"), "Expecting property name enclosed in double quotes"),
        ({**event(), "body": None}, "the request has no body"),
        ({**event(), "body": "not base64!", "isBase64Encoded": True}, "not base64-encoded UTF-8"),
    ],
)
def test_a_body_that_is_not_json_is_400_saying_why_and_nothing_starts(
    request_event: dict[str, Any], reason: str
) -> None:
    recorder = Recorder(succeeded())
    status, body, _ = answer(recorder.api(), request_event)
    assert status == 400 and body["error"] == "InvalidInput" and recorder.calls == []
    assert body["message"].startswith("the request body is not JSON: ") and reason in body["message"]
    assert body["fields"] == [{"field": "$", "message": body["message"]}]


@pytest.mark.parametrize(
    ("result", "status", "error"),
    [
        (failed("RequestIdConflict", "request_id 'req-0000001' was already used"), 409, "RequestIdConflict"),
        (failed("NoUnicornAvailable", "no unicorn available within 25 km"), 503, "NoUnicornAvailable"),
        (
            failed("InvalidInput", "pickup.latitude: 91 is greater than the maximum of 90"),
            400,
            "InvalidInput",
        ),
        (failed("States.Runtime", "boom"), 500, "InternalError"),
    ],
)
def test_workflow_failures_map_to_their_status(result: dict[str, Any], status: int, error: str) -> None:
    recorder = Recorder(result)
    got, body, _ = answer(recorder.api(), event())
    assert (got, body["error"]) == (status, error)
    if status == 500:
        assert body["request_id"] == "api-req-1" and "api-req-1" in body["message"]
    if status == 400:
        assert body["fields"][0]["field"] == "pickup.latitude"
    assert recorder.alerts == []  # a failed execution alerted from its own failure path


THROTTLED = ClientError(
    {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartSyncExecution"
)


@pytest.mark.parametrize(
    ("result", "status", "failure"),
    [
        (RuntimeError("Step Functions unreachable"), 502, "RuntimeError"),
        (THROTTLED, 502, "ThrottlingException"),
        ({"status": "TIMED_OUT", "executionArn": "arn:x"}, 504, "TIMED_OUT"),
        # stopped: its alert never ran either
        ({"status": "ABORTED", "executionArn": "arn:x"}, 504, "ABORTED"),
    ],
)
def test_the_apis_own_failures_are_5xx_with_the_request_id_and_alerted(
    result: Any, status: int, failure: str
) -> None:
    """Alerted with what failed, which the alert's window is of (tasks.shared.alerts)."""
    recorder = Recorder(result)
    got, body, headers = answer(recorder.api(), event())
    assert got == status and body["request_id"] == "api-req-1" == headers["X-Request-Id"]
    [(subject, message, alerted)] = recorder.alerts
    assert "ride-request" in subject and "api-req-1" in message and alerted == failure


def test_the_client_waits_for_the_workflows_answer_once_and_no_longer_than_the_function_runs() -> None:
    """StartSyncExecution answers TIMED_OUT at the workflow's timeout: the read outlasts it, and the
    function outlasts the read, so that the answer and the alert still go; a start is not retried
    (it would run the workflow again, past the function's end)."""
    config = sync_client().meta.config
    function = WORKFLOWS["ride-request"].function("api-ride")
    assert WORKFLOWS["ride-request"].timeout_seconds == WORKFLOW_TIMEOUT_SECONDS
    assert WORKFLOW_TIMEOUT_SECONDS < config.read_timeout < function.timeout
    assert config.retries["total_max_attempts"] == 1
