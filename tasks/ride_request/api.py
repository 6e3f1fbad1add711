"""`POST /ride`: the HTTP side of ride-request, the function behind the route (API Gateway HTTP
API v2 event in, response out).

The route's JWT authorizer has checked the rider's token (on AWS, API Gateway's; on the local
cloud, the console's, console/authorizer.py); the rider is who its claims say, never a body field.
The body is validated with the workflow's schema before anything starts, then the Express state
machine runs synchronously:

    201 the ride | 400 InvalidInput, naming the fields | 401 no claims
    409 RequestIdConflict (the request id was used with another body) | 503 NoUnicornAvailable
    500/502/504 anything unexpected, with the request id; alerted (a failed execution has
    already alerted from its own failure path, so only the API's own failures alert here, through
    tasks.shared.api.unexpected as every route's do)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from tasks.ride_request.schemas import RIDE_BODY
from tasks.shared import alerts, clients
from tasks.shared.api import error, invalid, json_body, not_json, request_id_of, response, route, unexpected
from tasks.shared.documents import NotJson
from tasks.shared.errors import cause_message

StartSync = Callable[[str, str], Mapping[str, Any]]  # (execution name, input JSON) -> StartSyncExecution
Authenticate = Callable[[Mapping[str, Any]], Mapping[str, Any]]  # v2 event -> verified claims
WORKFLOW, FUNCTION = "ride-request", "api-ride"

# How long the ride-request workflow may run (its TimeoutSeconds, which its Workflow declares with
# this value): StartSyncExecution answers TIMED_OUT then, within this function's 29 s, which leaves
# it the time to answer 504 and alert. A ride is five Lambda tasks in a row of milliseconds each,
# and a discount of at most 2 s tried twice: a run still going at 25 s has a task throttled through
# its back-off (up to 51 s), which no rider waits for.
WORKFLOW_TIMEOUT_SECONDS = 25
# StartSyncExecution answers by the workflow's timeout: waiting longer for it leaves no time to
# answer. One attempt: a sync start retried would run the workflow again, past the function's end.
SYNC_START = Config(read_timeout=WORKFLOW_TIMEOUT_SECONDS + 2, retries={"total_max_attempts": 1})
# Workflow errors that are the request's fault -> status; anything else is a 500.
REJECTIONS = {"InvalidInput": 400, "RequestIdConflict": 409, "NoUnicornAvailable": 503}
_NAME = re.compile(r"[^A-Za-z0-9_-]")


class Unauthorized(Exception):
    """The request carries no verified identity."""


def gateway_claims(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """On AWS the route's JWT authorizer has verified the token: its claims are in the event."""
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims")
    if not claims:
        raise Unauthorized("no authorizer claims")
    return dict(claims)


def rider_of(claims: Mapping[str, Any]) -> str:
    """The user name as Cognito puts it in ID tokens, access tokens, or the subject."""
    rider = claims.get("cognito:username") or claims.get("username") or claims.get("sub")
    if not rider:
        raise Unauthorized("token names no user")
    return str(rider)


def sfn_starter(sfn: Any, state_machine_arn: str) -> StartSync:
    """StartSyncExecution with a boto3 client (on loopback: Config(inject_host_prefix=False))."""

    def start(name: str, document: str) -> Mapping[str, Any]:
        result: Mapping[str, Any] = sfn.start_sync_execution(
            stateMachineArn=state_machine_arn, name=name, input=document
        )
        return result

    return start


@dataclass
class RideApi:
    start_sync: StartSync
    authenticate: Authenticate = gateway_claims
    alert: alerts.Alert | None = None
    schema: Mapping[str, Any] = field(default_factory=lambda: RIDE_BODY)

    def __call__(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        request_id = request_id_of(event)
        answer = self._answer(event, request_id)
        answer["headers"] = {**answer.get("headers", {}), "X-Request-Id": request_id}
        return answer

    def _answer(self, event: Mapping[str, Any], request_id: str) -> dict[str, Any]:
        try:
            rider = rider_of(self.authenticate(event))
        except Unauthorized as problem:
            answer = error(401, "Unauthorized", str(problem))
            answer["headers"]["WWW-Authenticate"] = 'Bearer realm="ride"'
            return answer
        try:
            body = json_body(event)
        except NotJson as problem:
            return not_json(problem)
        rejected = invalid(self.schema, body)
        if rejected is not None:
            return rejected
        name = _NAME.sub("-", f"ride-{request_id}")[:80]
        try:
            result = self.start_sync(name, json.dumps({**body, "rider": rider}))
        except Exception as problem:  # the API could not run the workflow at all: alert, 502
            detail = f"StartSyncExecution failed: {problem!r}"
            return self._unexpected(502, request_id, detail, alerts.error_name(problem))
        status = result.get("status")
        if status == "SUCCEEDED":
            return response(201, json.loads(result.get("output") or "{}"))
        if status != "FAILED":  # TIMED_OUT, ABORTED: the workflow's own alert never ran
            return self._unexpected(
                504, request_id, f"execution {result.get('executionArn')} {status}", str(status)
            )
        failure, message = str(result.get("error")), cause_message(result.get("cause"))
        if failure == "InvalidInput":
            field_name = message.split(":", 1)[0] if ":" in message else "$"
            return error(400, failure, message, fields=[{"field": field_name, "message": message}])
        if failure in REJECTIONS:
            return error(REJECTIONS[failure], failure, message)
        # Failed through the workflow's failure path, which has alerted already.
        return error(
            500,
            "InternalError",
            f"the ride could not be requested (request id {request_id})",
            request_id=request_id,
        )

    def _unexpected(self, status: int, request_id: str, detail: str, failure: str) -> dict[str, Any]:
        said = "the ride could not be requested"
        return unexpected(self.alert, WORKFLOW, FUNCTION, status, request_id, detail, failure, said)


def sync_client() -> Any:
    """Step Functions for StartSyncExecution, as SYNC_START says."""
    return clients.configured("stepfunctions", SYNC_START)


@cache
def _api() -> RideApi:
    return RideApi(
        start_sync=sfn_starter(sync_client(), os.environ["STATE_MACHINE_ARN"]),
        alert=alerts.of_function(f"{WORKFLOW} {FUNCTION}"),
    )


@route(WORKFLOW, FUNCTION)
def handler(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    return _api()(event, context)
