"""`POST /ride`: the HTTP side of ride-request (API Gateway HTTP API v2 event in, response out).

    api = RideApi(start_sync=sfn_starter(sfn, machine_arn), authenticate=verifier.claims,
                  alert=sns_alerter(sns, alerts_topic_arn))
    api(event) -> {"statusCode", "headers", "body"}
    api = for_environment(infra.load("local"))   # wired to a deployed environment and its user pool

The rider is who the token says (never a body field). The body is validated with the workflow's
schema before anything starts, then the Express state machine runs synchronously:

    201 the ride | 400 InvalidInput, naming the fields | 401 no valid token
    409 RequestIdConflict (the request id was used with another body) | 503 NoUnicornAvailable
    500/502/504 anything unexpected, with the request id; alerted (a failed execution has
    already alerted from its own failure path, so only the API's own failures alert here)

Tokens are checked as API Gateway's JWT (Cognito) authorizer does: RS256 signature by a key of
the issuer's JWKS (by `kid`), `iss`, `exp`/`nbf`/`iat`, and `aud` (ID token) or `client_id`
(access token) among the allowed audiences. LocalIssuer signs such tokens with a key generated
on the spot, for the local cloud and tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tasks.ride_request.schemas import RIDE_BODY
from tasks.shared.api import error, invalid, json_body, response
from tasks.shared.http import request_json

StartSync = Callable[[str, str], Mapping[str, Any]]  # (execution name, input JSON) -> StartSyncExecution
Authenticate = Callable[[Mapping[str, Any]], Mapping[str, Any]]  # v2 event -> verified claims
Alert = Callable[[str, str], None]  # (subject, message)

# Workflow errors that are the request's fault -> status; anything else is a 500.
REJECTIONS = {"InvalidInput": 400, "RequestIdConflict": 409, "NoUnicornAvailable": 503}
_NAME = re.compile(r"[^A-Za-z0-9_-]")


class Unauthorized(Exception):
    """No token, or a token that is not valid for this API."""


@dataclass
class JwtVerifier:
    issuer: str
    audiences: tuple[str, ...]
    jwks: Mapping[str, Any]  # {"keys": [...]}, as served at <issuer>/.well-known/jwks.json
    leeway_seconds: int = 0

    def claims(self, event: Mapping[str, Any]) -> dict[str, Any]:
        header = (event.get("headers") or {}).get("authorization") or ""
        token = header[7:].strip() if header[:7].lower() == "bearer " else header.strip()
        if not token:
            raise Unauthorized("missing bearer token")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(dict(self.jwks)).keys}
            if kid not in keys:
                raise Unauthorized("token signed by an unknown key")
            claims: dict[str, Any] = jwt.decode(
                token,
                keys[kid].key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iat", "iss"], "verify_aud": False},
            )
        except jwt.PyJWTError as problem:
            raise Unauthorized(f"invalid token: {problem}") from None
        audience = claims.get("aud") or []
        audiences = {*(audience if isinstance(audience, list) else [audience]), claims.get("client_id")}
        if not audiences & set(self.audiences):
            raise Unauthorized("token not issued for this API")
        return claims


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


class LocalIssuer:
    """A token issuer for the local cloud and tests: an RSA key made now, tokens shaped like Cognito's."""

    def __init__(self, issuer: str = "https://issuer.local/pyflows", audience: str = "pyflows-local") -> None:
        self.issuer, self.audience = issuer, audience
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = hashlib.sha256(str(self._key.public_key().public_numbers().n).encode()).hexdigest()[:16]

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def token(
        self, username: str, *, audience: str | None = None, expires_in: int = 3600, **claims: Any
    ) -> str:
        now = int(time.time())
        payload = {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.issuer}/{username}")),
            "cognito:username": username,
            "iss": self.issuer,
            "aud": audience or self.audience,
            "token_use": "id",
            "auth_time": now,
            "iat": now,
            "exp": now + expires_in,
            **claims,
        }
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})

    def verifier(self) -> JwtVerifier:
        return JwtVerifier(self.issuer, (self.audience,), self.jwks())


def sfn_starter(sfn: Any, state_machine_arn: str) -> StartSync:
    """StartSyncExecution with a boto3 client (on loopback: Config(inject_host_prefix=False))."""

    def start(name: str, document: str) -> Mapping[str, Any]:
        result: Mapping[str, Any] = sfn.start_sync_execution(
            stateMachineArn=state_machine_arn, name=name, input=document
        )
        return result

    return start


def sns_alerter(sns: Any, topic_arn: str) -> Alert:
    def alert(subject: str, message: str) -> None:
        sns.publish(TopicArn=topic_arn, Subject=subject[:100], Message=message)

    return alert


def _cause_message(cause: str | None) -> str:
    """A Lambda error's cause is its JSON error document; a Fail state's is plain text."""
    try:
        document = json.loads(cause or "")
    except ValueError:
        return cause or ""
    return str(document.get("errorMessage", cause)) if isinstance(document, dict) else str(cause)


@dataclass
class RideApi:
    start_sync: StartSync
    authenticate: Authenticate
    alert: Alert | None = None
    schema: Mapping[str, Any] = field(default_factory=lambda: RIDE_BODY)

    def __call__(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        request_id = str((event.get("requestContext") or {}).get("requestId") or uuid.uuid4())
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
        body = json_body(event)
        if not isinstance(body, dict):
            return error(400, "InvalidInput", "the body must be a JSON object", fields=[{"field": "$"}])
        rejected = invalid(self.schema, body)
        if rejected is not None:
            return rejected
        name = _NAME.sub("-", f"ride-{request_id}")[:80]
        try:
            result = self.start_sync(name, json.dumps({**body, "rider": rider}))
        except Exception as problem:  # the API could not run the workflow at all: alert, 502
            return self._unexpected(502, request_id, f"StartSyncExecution failed: {problem!r}")
        status = result.get("status")
        if status == "SUCCEEDED":
            return response(201, json.loads(result.get("output") or "{}"))
        if status != "FAILED":  # TIMED_OUT, ABORTED: the workflow's own alert never ran
            return self._unexpected(504, request_id, f"execution {result.get('executionArn')} {status}")
        failure, message = str(result.get("error")), _cause_message(result.get("cause"))
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

    def _unexpected(self, status: int, request_id: str, detail: str) -> dict[str, Any]:
        if self.alert is not None:
            # An alert that cannot be sent must not change the answer.
            with contextlib.suppress(Exception):
                self.alert("[ride-request] POST /ride failed", f"request {request_id}: {detail}")
        return error(
            status,
            "InternalError",
            f"the ride could not be requested (request id {request_id})",
            request_id=request_id,
        )


def cognito_verifier(issuer: str, client_id: str, jwks_url: str | None = None) -> JwtVerifier:
    """Tokens of a Cognito user pool (issuer `https://cognito-idp.<region>.amazonaws.com/<pool id>`).
    The keys come from `<issuer>/.well-known/jwks.json`; the local cloud serves them at `jwks_url`."""
    answer = request_json("GET", jwks_url or f"{issuer}/.well-known/jwks.json")
    if answer.status != 200 or not isinstance(answer.body, dict):
        raise RuntimeError(f"no JWKS for {issuer}: HTTP {answer.status}")
    return JwtVerifier(issuer, (client_id,), answer.body)


def for_environment(env: Any, authenticate: Authenticate | None = None) -> RideApi:
    """The route wired to a deployed environment (infra.Environment): its state machine, its alerts
    topic and, unless `authenticate` is given, the tokens of its user pool (`<app>-<env>-users`)."""
    import infra  # the API host's side only: not packaged with the task Lambdas

    where = infra.outputs(env)["ride-request"]
    return RideApi(
        start_sync=sfn_starter(env.client("stepfunctions"), where["state_machine_arn"]),
        authenticate=authenticate or user_pool_verifier(env).claims,
        alert=sns_alerter(env.client("sns"), where["resources"]["alerts"]),
    )


def user_pool_verifier(env: Any) -> JwtVerifier:
    """The environment's user pool (`<app>-<env>-users`, app client `<app>-<env>-api`), as deploy made it."""
    cognito = env.client("cognito-idp")
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    pool = next((p["Id"] for p in pools if p["Name"] == env.resource_name("users")), None)
    if pool is None:
        raise RuntimeError(f"no user pool {env.resource_name('users')}: deploy the environment first")
    clients = cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == env.resource_name("api")), None)
    if client_id is None:
        raise RuntimeError(f"user pool {pool} has no app client {env.resource_name('api')}")
    issuer = f"https://cognito-idp.{env.region}.amazonaws.com/{pool}"
    # The local cloud serves the keys at <endpoint>/<pool id>/.well-known/jwks.json.
    return cognito_verifier(
        issuer, client_id, f"{env.endpoint}/{pool}/.well-known/jwks.json" if env.endpoint else None
    )
