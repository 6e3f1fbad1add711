"""A Lambda function acts as its execution role, as on AWS: what the role's policies do not allow
is answered AccessDenied.

moto checks no permissions (its IAM enforcement authenticates IAM users against every request,
and checks actions only against resource "*"). Here a function's worker signs its requests with
credentials of its own role session (`credentials`), and every request made with them is checked
against the role's inline and attached policies (Allow and Deny by action and resource), for the
resource the request names (a table, index, topic, object, parameter...). A grant that deploy
forgot then fails in the local cloud's tests as it would on AWS, instead of after the deploy.
Requests of anyone else (deploy, the console, tests) are not checked, as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlparse

from localcloud import pins

_BaseResponse = pins.resolve("moto.core.responses", "BaseResponse")
pins.resolve("moto.core.responses", "BaseResponse", "_authenticate_and_authorize_action")
_iam_backends = pins.resolve("moto.iam.models", "iam_backends")
_XmlError = pins.resolve("moto.core.exceptions", "_RESTError")
_JsonError = pins.resolve("moto.core.exceptions", "JsonRESTError")
_S3AccessDenied = pins.resolve("moto.s3.exceptions", "S3AccessDeniedError")

LOG = logging.getLogger(__name__)
_lock = threading.Lock()
_sessions: dict[str, tuple[str, str]] = {}  # access key id -> (role ARN, session name)
# services whose errors are XML with their own code for a denial; the others answer JSON
_QUERY_DENIAL = {"sns": "AuthorizationError"}


def credentials(role_arn: str, session: str) -> dict[str, str]:
    """The environment of a worker acting as `role_arn` (session: the function's name)."""
    key = "ASIA" + hashlib.sha256(f"{role_arn}|{session}".encode()).hexdigest()[:16].upper()
    with _lock:
        _sessions[key] = (role_arn, session)
    return {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": f"local-{key}"}


def _caller(headers: Any) -> tuple[str, str, str] | None:
    """(access key, signing service, region) of a SigV4 request, when the key is a role session's."""
    auth = str(headers.get("Authorization") or "")
    scope = auth.partition("Credential=")[2].partition(",")[0].split("/")
    if len(scope) < 4 or scope[0] not in _sessions:
        return None
    return scope[0], scope[3], scope[2]


def _json_body(response: Any) -> dict[str, Any]:
    body = response.body  # DynamoDB's handler has parsed it already
    if not isinstance(body, dict):
        try:
            body = json.loads(body or "{}")
        except (TypeError, ValueError):
            return {}
    return body if isinstance(body, dict) else {}


def _param(response: Any, name: str) -> str:
    values = (getattr(response, "querystring", None) or {}).get(name) or [""]
    return str(values[0])


# DynamoDB has no IAM action for its transactions: each item is authorised as its own operation
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _asked(service: str, operation: str, response: Any, region: str, account: str) -> list[tuple[str, str]]:
    """(IAM action, resource) pairs a request needs, as IAM sees them; resource "*" when it
    names none."""
    arn = f"arn:aws:{service}:{region}:{account}"
    body = _json_body(response)
    action = f"{service}:{operation}"
    if service == "dynamodb":
        if "TransactItems" in body:
            return [
                (f"dynamodb:{_TRANSACT_ACTIONS[kind]}", f"{arn}:table/{op['TableName']}")
                for item in body["TransactItems"]
                for kind, op in item.items()
                if kind in _TRANSACT_ACTIONS
            ]
        tables = [body["TableName"]] if "TableName" in body else list(body.get("RequestItems", {}))
        index = f"/index/{body['IndexName']}" if "IndexName" in body else ""
        return [(action, f"{arn}:table/{t}{index}") for t in tables] or [(action, "*")]
    if service == "states":
        return [(action, body.get("stateMachineArn") or body.get("executionArn") or "*")]
    if service == "sns":
        return [(action, _param(response, "TopicArn") or "*")]
    if service == "ssm":
        names = [body["Name"]] if "Name" in body else body.get("Names", [])
        return [(action, f"{arn}:parameter{n if n.startswith('/') else '/' + n}") for n in names] or [
            (action, "*")
        ]
    if service == "secretsmanager":
        secret = str(body.get("SecretId", "*"))
        # a secret's ARN ends with 6 random characters, which grants match as "-??????"
        return [
            (
                action,
                secret if secret.startswith("arn:") or secret == "*" else f"{arn}:secret:{secret}-xxxxxx",
            )
        ]
    if service == "kinesis":
        stream = body.get("StreamARN") or (
            f"{arn}:stream/{body['StreamName']}" if "StreamName" in body else "*"
        )
        return [(action, stream)]
    if service == "sqs":
        url = body.get("QueueUrl") or _param(response, "QueueUrl")
        return [(action, f"{arn}:{urlparse(url).path.rsplit('/', 1)[-1]}" if url else "*")]
    return [(action, "*")]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _matches(statement: dict[str, Any], action: str, resource: str) -> bool:
    actions, resources = _listed(statement.get("Action")), _listed(statement.get("Resource"))
    return any(fnmatchcase(action.lower(), a.lower()) for a in actions) and any(
        fnmatchcase(resource, r) for r in resources
    )


def _permitted(role_arn: str, action: str, resource: str) -> bool:
    """IAM's rule for identity policies: allowed by a statement, and denied by none. (moto's own
    evaluator turns a `?` wildcard, as in a secret's `-??????`, into an invalid regex.)"""
    account = role_arn.split(":")[4]
    try:
        role = _iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:  # the role is gone (a reset): nothing is allowed
        return False
    attached = (v.document for p in role.managed_policies.values() for v in p.versions if v.is_default)
    documents = [*role.policies.values(), *attached]
    statements = [statement for document in documents for statement in _statements(document)]
    if any(st.get("Effect") == "Deny" and _matches(st, action, resource) for st in statements):
        return False
    return any(st.get("Effect") == "Allow" and _matches(st, action, resource) for st in statements)


@lru_cache(maxsize=1024)
def _statements(document: str) -> tuple[dict[str, Any], ...]:
    """A policy document's statements, parsed once: every request of a function reads them."""
    statements = json.loads(document).get("Statement", [])
    return (statements,) if isinstance(statements, dict) else tuple(statements)


def _refuse(service: str, message: str) -> Exception:
    if service == "s3":
        return _S3AccessDenied()
    if service in _QUERY_DENIAL:
        error = _XmlError(_QUERY_DENIAL[service], message)
        error.code = 403
        return error
    return _JsonError("AccessDeniedException", message)


def _checked(authorize: Callable[..., None]) -> Callable[..., None]:
    def authorize_as_role(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        caller = _caller(self.headers)
        if caller is None:
            return authorize(self, iam_request_cls, resource)
        key, service, region = caller
        role_arn, session = _sessions[key]
        operation, account = self._get_action(), role_arn.split(":")[4]
        if resource != "*":  # moto names S3's bucket or object, and its IAM action (ListBucket...)
            asked = [(f"{service}:{self.data.get('Action') or operation}", unquote(resource))]
        else:
            asked = _asked(service, operation, self, region, account)
        for action, arn in asked:
            if not _permitted(role_arn, action, arn):
                who = f"arn:aws:sts::{account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/{session}"
                message = (
                    f"User: {who} is not authorized to perform: {action} on resource: {arn} "
                    f"because no identity-based policy allows the {action} action"
                )
                LOG.warning("AccessDenied: %s", message)
                raise _refuse(service, message)
        return None

    authorize_as_role.__localcloud_original__ = authorize  # type: ignore[attr-defined]
    return authorize_as_role


def install() -> None:
    """Check role sessions' requests (idempotent)."""
    current = _BaseResponse._authenticate_and_authorize_action
    if not hasattr(current, "__localcloud_original__"):
        _BaseResponse._authenticate_and_authorize_action = _checked(current)
