"""POST /etf/subscriptions {"email"}: subscribe an email address to the daily signals (SNS email).

SNS sends the address a confirmation link; subscribing the same address again returns the same
subscription, so a second click is harmless. HTTP API (payload 2.0) route handler.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tasks.shared import clients
from tasks.shared.api import invalid, json_body, not_json, response, route
from tasks.shared.documents import NotJson

SUBSCRIBE: dict[str, Any] = {
    "type": "object",
    "properties": {
        # RFC 5322 is far wider; this is what an email subscription can actually reach.
        "email": {
            "type": "string",
            "maxLength": 254,
            "pattern": r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
            "x-pattern": "an email address",
        }
    },
    "required": ["email"],
    "additionalProperties": False,
}


@route("etf-signal", "api-subscribe")
def handler(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    try:
        body = json_body(event)
    except NotJson as problem:
        return not_json(problem)
    rejected = invalid(SUBSCRIBE, body)
    if rejected:
        return rejected
    email = body["email"].strip().lower()
    answer = clients.client("sns").subscribe(
        TopicArn=os.environ["SIGNALS_TOPIC"], Protocol="email", Endpoint=email, ReturnSubscriptionArn=True
    )
    return response(
        202, {"email": email, "subscription": answer["SubscriptionArn"], "status": "pending confirmation"}
    )
