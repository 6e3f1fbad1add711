"""The console's JWT authorizer: tokens checked as API Gateway's JWT (Cognito) authorizer does."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from console.authorizer import JwtVerifier, LocalIssuer, Unauthorized, with_claims

ISSUER = LocalIssuer()


def event(authorization: str | None) -> dict[str, Any]:
    headers = {"authorization": authorization} if authorization is not None else {}
    return {"version": "2.0", "headers": headers, "requestContext": {"requestId": "r1"}}


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
def test_a_token_the_authorizer_would_refuse_is_unauthorized(token: str | None, reason: str) -> None:
    with pytest.raises(Unauthorized, match=reason):
        ISSUER.verifier().claims(event(f"Bearer {token}" if token else None))


def test_id_tokens_match_on_aud_and_access_tokens_on_client_id_bare_or_bearer() -> None:
    assert ISSUER.verifier().claims(event(f"Bearer {ISSUER.token('ann')}"))["cognito:username"] == "ann"
    access = ISSUER.token("ann", audience="x", client_id=ISSUER.audience, token_use="access")
    assert ISSUER.verifier().claims(event(access))["client_id"] == ISSUER.audience
    other_api = JwtVerifier(ISSUER.issuer, ("other",), ISSUER.jwks())  # same keys, another app client
    with pytest.raises(Unauthorized, match="not issued for this API"):
        other_api.claims(event(access))


def test_claims_reach_the_function_as_api_gateway_passes_them() -> None:
    passed = with_claims(
        event("Bearer t"), {"cognito:username": "ann", "exp": 1700000000, "groups": ["a", "b"]}
    )
    assert passed["requestContext"] == {
        "requestId": "r1",
        "authorizer": {
            "jwt": {
                "claims": {"cognito:username": "ann", "exp": "1700000000", "groups": "[a b]"},
                "scopes": None,
            }
        },
    }
