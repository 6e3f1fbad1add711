"""API Gateway's JWT authorizer, for the routes the console serves on the local cloud.

On AWS, an HTTP API route with a JWT authorizer refuses a request without a valid token (401
{"message": "Unauthorized"}) before its function runs, and hands the function the token's claims
in `requestContext.authorizer.jwt.claims`. The console does the same with the environment's
Cognito user pool (`<app>-<env>-users`, app client `<app>-<env>-api`), whose keys the local cloud
serves at `<endpoint>/<pool id>/.well-known/jwks.json`.

Tokens are checked as that authorizer does: RS256 signature by a key of the issuer's JWKS (by
`kid`), `iss`, `exp`/`nbf`/`iat`, and `aud` (ID token) or `client_id` (access token) among the
allowed audiences. LocalIssuer signs such tokens with a key generated on the spot, for tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from console.errors import BadRequest, NotDeployed
from infra import auth
from tasks.shared.http import request_json


class Unauthorized(Exception):
    """No token, or a token that is not valid for this API."""


class UnknownKey(Unauthorized):
    """A token the verifier's pool did not issue: signed by a key it does not have, or for another
    issuer or client. The environment's pool may have been replaced since it was looked up (a
    restarted local cloud makes a new pool, signed with the key of the old one)."""


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
                raise UnknownKey("token signed by an unknown key")
            claims: dict[str, Any] = jwt.decode(
                token,
                keys[kid].key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iat", "iss"], "verify_aud": False},
            )
        except jwt.InvalidIssuerError as problem:
            raise UnknownKey(f"invalid token: {problem}") from None
        except jwt.PyJWTError as problem:
            raise Unauthorized(f"invalid token: {problem}") from None
        audience = claims.get("aud") or []
        audiences = {*(audience if isinstance(audience, list) else [audience]), claims.get("client_id")}
        if not audiences & set(self.audiences):
            raise UnknownKey("token not issued for this API")
        return claims


def with_claims(event: dict[str, Any], claims: Mapping[str, Any]) -> dict[str, Any]:
    """The event as API Gateway passes it on: claims as strings, lists as `[a b]`."""
    shown = {
        name: f"[{' '.join(map(str, value))}]" if isinstance(value, list) else str(value)
        for name, value in claims.items()
    }
    context = {**event.get("requestContext", {}), "authorizer": {"jwt": {"claims": shown, "scopes": None}}}
    return {**event, "requestContext": context}


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


def cognito_verifier(issuer: str, client_id: str, jwks_url: str | None = None) -> JwtVerifier:
    """Tokens of a Cognito user pool (issuer `https://cognito-idp.<region>.amazonaws.com/<pool id>`).
    The keys come from `<issuer>/.well-known/jwks.json`; the local cloud serves them at `jwks_url`."""
    answer = request_json("GET", jwks_url or f"{issuer}/.well-known/jwks.json")
    if answer.status != 200 or not isinstance(answer.body, dict):
        raise RuntimeError(f"no JWKS for {issuer}: HTTP {answer.status}")
    return JwtVerifier(issuer, (client_id,), answer.body)


def user_pool(env: Any) -> tuple[str, str]:
    """(pool id, app client id) of the environment's user pool, as deploy made it."""
    cognito = env.client("cognito-idp")
    pool = auth.find_pool(cognito, auth.pool_name(env))
    if pool is None:
        raise NotDeployed(f"no user pool {auth.pool_name(env)} in {env.name}: run {env.deploy_command}")
    client_id = auth.find_client(cognito, pool, auth.client_name(env))
    if client_id is None:
        raise NotDeployed(
            f"user pool {pool} has no app client {auth.client_name(env)}: run {env.deploy_command}"
        )
    return pool, client_id


LOCAL_PASSWORD = "Local-user-0nly!"  # the local cloud's users' password: nobody's account is at stake


def local_token(env: Any, username: str) -> str:
    """An ID token of `username` in the local environment's user pool (made a user, with
    LOCAL_PASSWORD, if need be), as the app's sign-in would give it."""
    if not env.is_local:
        raise BadRequest(
            f"tokens are made here only for the local cloud; in {env.name}, sign in through the app"
        )
    if not 1 <= len(username) <= 128 or any(c.isspace() or not c.isprintable() for c in username):
        # Cognito's rule for user names, which the local cloud does not check
        raise BadRequest(f"invalid user name {username!r}: 1 to 128 characters, no spaces")
    pool, client = user_pool(env)
    cognito = env.client("cognito-idp")
    with contextlib.suppress(cognito.exceptions.UsernameExistsException):
        cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=username, Password=LOCAL_PASSWORD, Permanent=True
    )
    signed_in = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": LOCAL_PASSWORD},
    )
    return str(signed_in["AuthenticationResult"]["IdToken"])


class PoolKeys:
    """The environment's user pool's verifier, looked up when first needed and again after
    LIFETIME seconds, or sooner when a token is signed by a key it does not have (a redeploy may
    have replaced the pool: a restarted local cloud makes a new one), but not more than once every
    RELOOK_AFTER seconds, whatever tokens come."""

    LIFETIME = 60.0
    RELOOK_AFTER = 5.0

    def __init__(self, env: Any) -> None:
        self.env = env
        self._lock = threading.Lock()  # one lookup at a time; requests are served by many threads
        self._kept: tuple[JwtVerifier, float] | None = None  # the verifier and when it was looked up

    def claims(self, event: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self._verifier(stale=False).claims(event)
        except UnknownKey:
            return self._verifier(stale=True).claims(event)

    def _verifier(self, stale: bool) -> JwtVerifier:
        with self._lock:
            now = time.monotonic()
            if self._kept is not None:
                verifier, at = self._kept
                if now - at < (self.RELOOK_AFTER if stale else self.LIFETIME):
                    return verifier
            verifier = user_pool_verifier(self.env)
            self._kept = (verifier, now)
            return verifier


def user_pool_verifier(env: Any) -> JwtVerifier:
    """The environment's user pool, as deploy made it."""
    pool, client_id = user_pool(env)
    # The local cloud serves the keys at <endpoint>/<pool id>/.well-known/jwks.json.
    return cognito_verifier(
        auth.issuer(env, pool),
        client_id,
        f"{env.endpoint}/{pool}/.well-known/jwks.json" if env.endpoint else None,
    )
