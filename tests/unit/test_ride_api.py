"""POST /ride's handler: token checks as a Cognito JWT authorizer does, body validation, result mapping."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jwt
import pytest

from tasks.ride_request.api import JwtVerifier, LocalIssuer, RideApi, Unauthorized, gateway_claims

ISSUER = LocalIssuer()
BODY = {"request_id": "req-0000001", "pickup": {"latitude": 47.6062, "longitude": -122.3321}}
RIDE = {"ride_id": "r1", "request_id": "req-0000001", "rider": "ann", "fare": {"total_cents": 1200}}


def event(body: Any = BODY, token: str | None = None, raw: str | None = None) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return {
        "version": "2.0",
        "routeKey": "POST /ride",
        "headers": headers,
        "requestContext": {"requestId": "api-req-1", "http": {"method": "POST", "path": "/ride"}},
        "body": raw if raw is not None else json.dumps(body),
        "isBase64Encoded": False,
    }


class Recorder:
    def __init__(self, result: Mapping[str, Any] | Exception) -> None:
        self.result = result
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.alerts: list[tuple[str, str]] = []

    def start(self, name: str, document: str) -> Mapping[str, Any]:
        self.calls.append((name, json.loads(document)))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result

    def alert(self, subject: str, message: str) -> None:
        self.alerts.append((subject, message))

    def api(self) -> RideApi:
        return RideApi(start_sync=self.start, authenticate=ISSUER.verifier().claims, alert=self.alert)


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
    status, body, headers = answer(recorder.api(), event(token=ISSUER.token("ann")))
    assert status == 201 and body == RIDE and headers["X-Request-Id"] == "api-req-1"
    [(name, document)] = recorder.calls
    assert name == "ride-api-req-1" and document == {**BODY, "rider": "ann"}


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "missing bearer token"),
        ("not-a-jwt", "invalid token"),
        (ISSUER.token("ann", expires_in=-10), "Signature has expired"),
        (ISSUER.token("ann", audience="another-app"), "not issued for this API"),
        (LocalIssuer().token("ann"), "unknown key"),  # same issuer name, another key
        (ISSUER.token("ann", iss="https://evil.example"), "Invalid issuer"),
        (
            jwt.encode(
                {
                    "cognito:username": "ann",
                    "iss": ISSUER.issuer,
                    "aud": ISSUER.audience,
                    "iat": 1,
                    "exp": 2**31,
                },
                "a-shared-secret-of-at-least-32-bytes",
                algorithm="HS256",
                headers={"kid": ISSUER.kid},
            ),
            "invalid token",
        ),
    ],
)
def test_without_a_valid_token_the_answer_is_401_and_nothing_starts(token: str | None, reason: str) -> None:
    recorder = Recorder(succeeded())
    status, body, headers = answer(recorder.api(), event(token=token))
    assert status == 401 and body["error"] == "Unauthorized" and reason in body["message"]
    assert headers["WWW-Authenticate"].startswith("Bearer") and recorder.calls == []


def test_access_tokens_match_on_client_id_and_gateway_claims_are_read_from_the_event() -> None:
    access = ISSUER.token("ann", audience="x", client_id=ISSUER.audience, token_use="access")
    request = event(token=access)
    request["headers"]["authorization"] = access  # the authorizer also takes a bare token
    assert ISSUER.verifier().claims(request)["client_id"] == ISSUER.audience
    verified = {"requestContext": {"authorizer": {"jwt": {"claims": {"username": "ann"}}}}}
    assert gateway_claims(verified) == {"username": "ann"}
    with pytest.raises(Unauthorized):
        gateway_claims(event())
    assert JwtVerifier(ISSUER.issuer, ("other",), ISSUER.jwks()) is not None


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
    status, answer_body, _ = answer(recorder.api(), event(body, token=ISSUER.token("ann")))
    assert status == 400 and answer_body["error"] == "InvalidInput"
    assert answer_body["fields"][0]["field"] == field and recorder.calls == []


def test_a_body_that_is_not_json_is_400() -> None:
    status, body, _ = answer(Recorder(succeeded()).api(), event(raw="{oops", token=ISSUER.token("ann")))
    assert status == 400 and body["fields"] == [{"field": "$"}]


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
    got, body, _ = answer(recorder.api(), event(token=ISSUER.token("ann")))
    assert (got, body["error"]) == (status, error)
    if status == 500:
        assert body["request_id"] == "api-req-1" and "api-req-1" in body["message"]
    if status == 400:
        assert body["fields"][0]["field"] == "pickup.latitude"
    assert recorder.alerts == []  # a failed execution alerted from its own failure path


@pytest.mark.parametrize(
    ("result", "status"),
    [
        (RuntimeError("Step Functions unreachable"), 502),
        ({"status": "TIMED_OUT", "executionArn": "arn:x"}, 504),
    ],
)
def test_the_apis_own_failures_are_5xx_with_the_request_id_and_alerted(result: Any, status: int) -> None:
    recorder = Recorder(result)
    got, body, headers = answer(recorder.api(), event(token=ISSUER.token("ann")))
    assert got == status and body["request_id"] == "api-req-1" == headers["X-Request-Id"]
    [(subject, message)] = recorder.alerts
    assert "ride-request" in subject and "api-req-1" in message
