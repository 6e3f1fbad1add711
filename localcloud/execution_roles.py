"""A Lambda function acts as its execution role, and a state machine's Tasks as the state
machine's, as on AWS: what the role's policies do not allow is answered AccessDenied.

moto checks no permissions (its IAM enforcement authenticates IAM users against every request,
and checks actions only against resource "*"). Here a function's worker signs its requests with
credentials of its own role session (`credentials`), and every request made with them is checked
against the role's inline and attached policies (Allow and Deny by action and resource), for the
resource the request names (a table, index, topic, object, parameter...), and a GetObject of a
missing key is refused, as S3 refuses it, to a role that may not list the bucket. A grant that deploy
forgot then fails in the local cloud's tests as it would on AWS, instead of after the deploy.
A statement's Condition is evaluated, as IAM does, for the condition keys the local cloud knows
of a request: `sns:Protocol` and `sns:Endpoint` of an SNS Subscribe, `s3:prefix` and `s3:delimiter`
of a ListObjects (V1 or V2), with the operators StringEquals, StringNotEquals, StringLike and
StringNotLike and their `...IfExists` forms. A condition on any other key, or with any other operator,
is not evaluated: the statement applies as if it had none.
The engine's Tasks act as their state machine's role, or their own Credentials' role
(`state_machine_authorization`, and `state_machine_refusal` for the Lambda Invoke it makes without
a request), except when IAM has never had the role: AWS refuses to make a state machine with one,
moto does not, and tests and recorded cases name made-up roles. A role that IAM has had and no
longer has allows nothing. Not checked: the EventBridge rule grants AWS also requires of a `.sync`
Task's role (the engine polls without a rule), and requests of anyone else (deploy, the console,
tests).
"""

from __future__ import annotations

import hashlib
import json
import logging
import operator
import re
import threading
import uuid
from collections.abc import Callable
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import unquote, urlparse
from xml.sax.saxutils import escape

from localcloud import pins
from localcloud.lambda_names import whole_arn

_BaseResponse = pins.resolve("moto.core.responses", "BaseResponse")
pins.resolve("moto.core.responses", "BaseResponse", "_authenticate_and_authorize_action")
_iam_backends = pins.resolve("moto.iam.models", "iam_backends")
_XmlError = pins.resolve("moto.core.exceptions", "_RESTError")
_JsonError = pins.resolve("moto.core.exceptions", "JsonRESTError")
_S3AccessDenied = pins.resolve("moto.s3.exceptions", "S3AccessDeniedError")
_s3_backends = pins.resolve("moto.s3.models", "s3_backends")

LOG = logging.getLogger(__name__)


class _Session(NamedTuple):
    role_arn: str
    name: str
    unknown_role_allowed: bool  # a state machine's, whose role IAM may not have (see above)


_lock = threading.Lock()
_sessions: dict[str, _Session] = {}  # by access key id
# the roles IAM has had: a state machine's role that is gone is not taken for a made-up one
_roles_seen: set[str] = set()
# services whose errors are XML with their own code for a denial; the others answer JSON
_QUERY_DENIAL = {"sns": "AuthorizationError"}
_JSON_DENIAL_STATUS = {"lambda": 403}  # the others answer AccessDeniedException with 400
_SHOWN_SERVICE = {"sns": "SNS"}  # how a service writes its actions in a refusal
# services that sign requests under another name than IAM's for their actions
_IAM_NAME = {"monitoring": "cloudwatch", "tagging": "tag", "iotdata": "iot"}


def unrestricted_role(iam: Any, name: str) -> str:
    """The ARN of role `name` (made if missing), which functions and state machines may assume
    and which may do anything: for tests of the runtime and the engine, not of their grants."""
    try:
        arn: str = iam.get_role(RoleName=name)["Role"]["Arn"]
        return arn
    except iam.exceptions.NoSuchEntityException:
        pass
    principals = ["lambda.amazonaws.com", "states.amazonaws.com"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": principals}, "Action": "sts:AssumeRole"}],
    }
    anything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="anything", PolicyDocument=json.dumps(anything))
    return arn


def _session_key(role_arn: str, session: str, unknown_role_allowed: bool) -> str:
    key = (
        "ASIA"
        + hashlib.sha256(f"{role_arn}|{session}|{unknown_role_allowed}".encode()).hexdigest()[:16].upper()
    )
    with _lock:
        _sessions[key] = _Session(role_arn, session, unknown_role_allowed)
    return key


def credentials(role_arn: str, session: str) -> dict[str, str]:
    """The environment of a worker acting as `role_arn` (session: the function's name)."""
    key = _session_key(role_arn, session, unknown_role_allowed=False)
    return {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": f"local-{key}"}


@lru_cache(maxsize=1024)
def state_machine_session(role_arn: str) -> str:
    """The name of the session a state machine's Tasks act in (on AWS, 32 random characters)."""
    return hashlib.sha256(role_arn.encode()).hexdigest()[:32]


def state_machine_authorization(role_arn: str, region: str, service: str) -> str:
    """The Authorization header that marks an engine request as made by `role_arn`'s session
    (the engine's requests never leave the process, and are not signed)."""
    key = _session_key(role_arn, state_machine_session(role_arn), unknown_role_allowed=True)
    scope = f"{key}/20000101/{region}/{service}/aws4_request"
    return f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"


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


# The condition keys the local cloud knows of a request, by IAM action, and the request parameters
# they are read from; IAM reads keys' names whatever their case
_CONTEXT_PARAMETERS = {
    "sns:subscribe": {"sns:protocol": "Protocol", "sns:endpoint": "Endpoint"},
    "s3:listbucket": {"s3:prefix": "prefix", "s3:delimiter": "delimiter"},
}
_KNOWN_KEYS = {key for parameters in _CONTEXT_PARAMETERS.values() for key in parameters}


def _context(action: str, response: Any) -> dict[str, str]:
    """The known condition keys of a request for `action`, by lower-cased name: a parameter the
    request leaves out is a key it does not have."""
    given = getattr(response, "querystring", None) or {}
    parameters = _CONTEXT_PARAMETERS.get(action.lower(), {})
    return {key: _param(response, name) for key, name in parameters.items() if name in given}


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
    if service == "lambda" and operation == "Invoke":
        name = unquote(str(response.path).split("/functions/", 1)[-1].split("/", 1)[0])
        return [("lambda:InvokeFunction", function_arn(name, _param(response, "Qualifier"), region, account))]
    if service == "sqs":
        url = body.get("QueueUrl") or _param(response, "QueueUrl")
        return [(action, f"{arn}:{urlparse(url).path.rsplit('/', 1)[-1]}" if url else "*")]
    return [(action, "*")]


def function_arn(name: str, qualifier: str | None, region: str, account: str) -> str:
    """The ARN IAM authorises an Invoke of `name` (a name, `name:alias`, a partial or a whole ARN)
    against."""
    arn = whole_arn(name, region, account)
    return f"{arn}:{qualifier}" if qualifier and arn.count(":") == 6 else arn


def _account(arn: str) -> str:
    return (arn.split(":") + [""] * 5)[4]


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _matches(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    actions, resources = _listed(statement.get("Action")), _listed(statement.get("Resource"))
    return (
        any(fnmatchcase(action.lower(), a.lower()) for a in actions)
        and any(fnmatchcase(resource, r) for r in resources)
        and _condition_holds(statement.get("Condition") or {}, context)
    )


def _string_like(value: str, pattern: str) -> bool:
    """IAM's StringLike: `*` stands for any characters, `?` for any one, and nothing else is special
    (fnmatch would read `[...]` too)."""
    any_one = (".".join(map(re.escape, part.split("?"))) for part in pattern.split("*"))
    return re.fullmatch(".*".join(any_one), value, re.DOTALL) is not None


# IAM's string condition operators: how a request's value matches one of the policy's, and whether
# the operator holds when none matches
_STRING_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (operator.eq, False),
    "StringNotEquals": (operator.eq, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
}


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """IAM's rule: every operator, and every key under it, must hold
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html)."""
    return all(
        _key_holds(operator_name, key, values, context)
        for operator_name, keys in condition.items()
        for key, values in (keys or {}).items()
    )


def _key_holds(operator_name: str, key: str, values: Any, context: dict[str, str]) -> bool:
    """Whether one key's condition holds, as the condition operators' reference says
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
    the request's value matches any of the policy's values; a key the request does not have makes
    the condition false, except a negated operator's and an `...IfExists` one's, which hold."""
    name = operator_name.removesuffix("IfExists")
    if name not in _STRING_OPERATORS or key.lower() not in _KNOWN_KEYS:
        return True  # a key the local cloud cannot know, or an operator it lacks: as if no condition
    match, negated = _STRING_OPERATORS[name]
    value = context.get(key.lower())
    if value is None:
        return negated or name != operator_name
    return any(match(value, str(v)) for v in _listed(values)) != negated


# the role last found under an ARN: checked against IAM's roles on each use (a scan of them all
# took half of a Task's check), so that a deleted or remade role is never taken for it
_found: dict[str, Any] = {}


def _role(arn: str) -> Any:
    """The role IAM has under `arn`, or None."""
    account = _account(arn)
    if not (account.isdigit() and len(account) == 12):
        return None
    roles = _iam_backends[account]["aws"].roles
    found = _found.get(arn)
    if found is not None and roles.get(found.id) is found:
        return found
    # a copy: a deploy may be making roles meanwhile, and moto's own lookup iterates them unlocked
    found = next((role for role in list(roles.values()) if role.arn == arn), None)
    if found is not None:
        _found[arn] = found
    return found


def _permitted(session: _Session, action: str, resource: str, context: dict[str, str]) -> bool:
    """IAM's rule for identity policies: allowed by a statement, and denied by none
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html),
    a statement counting only when its condition holds. (moto's own
    evaluator turns a `?` wildcard, as in a secret's `-??????`, into an invalid regex.)"""
    role = _role(session.role_arn)
    if role is None:  # made up (a state machine's may be), or deleted: then nothing is allowed
        return session.unknown_role_allowed and session.role_arn not in _roles_seen
    _roles_seen.add(session.role_arn)
    attached = (v.document for p in role.managed_policies.values() for v in p.versions if v.is_default)
    documents = (*role.policies.values(), *attached)
    return _allowed(documents, action, resource, tuple(sorted(context.items())))


@lru_cache(maxsize=4096)
def _allowed(
    documents: tuple[str, ...], action: str, resource: str, context_items: tuple[tuple[str, str], ...]
) -> bool:
    """`_permitted`'s answer for the role's policy documents as they are now: keyed by their text,
    a changed, added or removed policy is a new question."""
    context = dict(context_items)
    statements = [statement for document in documents for statement in _statements(document)]
    if any(st.get("Effect") == "Deny" and _matches(st, action, resource, context) for st in statements):
        return False
    return any(st.get("Effect") == "Allow" and _matches(st, action, resource, context) for st in statements)


def _refusal(
    session: _Session, action: str, resource: str, context: dict[str, str] | None = None
) -> str | None:
    """Why the session may not do `action` on `resource` (with the request's condition keys
    `context`), as AWS words it (and logged); None if it may."""
    if _permitted(session, action, resource, context or {}):
        return None
    account, role = _account(session.role_arn), session.role_arn.rsplit("/", 1)[-1]
    who = f"arn:aws:sts::{account}:assumed-role/{role}/{session.name}"
    service, _, operation = action.partition(":")
    shown = f"{_SHOWN_SERVICE.get(service, service)}:{operation}"  # SNS writes "SNS:Publish"
    message = (
        f"User: {who} is not authorized to perform: {shown} on resource: {resource} "
        f"because no identity-based policy allows the {shown} action"
    )
    LOG.warning("AccessDenied: %s", message)
    return message


def state_machine_refusal(role_arn: str, action: str, resource: str) -> str | None:
    """`_refusal` for a state machine's Tasks, for a call the engine makes without a request."""
    return _refusal(_Session(role_arn, state_machine_session(role_arn), True), action, resource)


def forget_roles() -> None:
    """After a reset: the roles IAM had are gone, and no longer known to have been."""
    _roles_seen.clear()
    _found.clear()


@lru_cache(maxsize=1024)
def _statements(document: str) -> tuple[dict[str, Any], ...]:
    """A policy document's statements, parsed once: every request of a function reads them."""
    statements = json.loads(document).get("Statement", [])
    return (statements,) if isinstance(statements, dict) else tuple(statements)


def _refuse(service: str, message: str) -> Exception:
    if service == "s3":
        return _S3AccessDenied()
    if service in _QUERY_DENIAL:
        code = _QUERY_DENIAL[service]
        error = _XmlError(code, message)
        error.code = 403
        # as AWS answers, with the request id that SDKs read from the body
        error.description = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}"
            f"</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
        )
        return error
    error = _JsonError("AccessDeniedException", message)
    error.code = _JSON_DENIAL_STATUS.get(service, 400)
    return error


def _unlisted_missing_key(session: _Session, action: str, arn: str, account: str) -> str | None:
    """S3 answers a GetObject of a key that does not exist 403, not NoSuchKey, to a caller that may
    not list the bucket (it would tell what the bucket holds): a task that expects NoSuchKey needs
    s3:ListBucket too."""
    if action != "s3:GetObject":
        return None
    bucket, _, key = arn.split(":::", 1)[-1].partition("/")
    try:
        found = _s3_backends[account]["global"].get_object(bucket, key)
    except Exception:  # no such bucket: S3 says so, whoever asks
        return None
    return None if found is not None else _refusal(session, "s3:ListBucket", f"{arn.split('/', 1)[0]}")


def _checked(authorize: Callable[..., None]) -> Callable[..., None]:
    def authorize_as_role(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        caller = _caller(self.headers)
        if caller is None:
            return authorize(self, iam_request_cls, resource)
        key, signing_name, region = caller
        service = _IAM_NAME.get(signing_name, signing_name)
        session = _sessions[key]
        operation, account = self._get_action(), _account(session.role_arn)
        if resource != "*":  # moto names S3's bucket or object, and its IAM action (ListBucket...)
            asked = [(f"{service}:{self.data.get('Action') or operation}", unquote(resource))]
        else:
            asked = _asked(service, operation, self, region, account)
        for action, arn in asked:
            message = _refusal(session, action, arn, _context(action, self)) or _unlisted_missing_key(
                session, action, arn, account
            )
            if message is not None:
                raise _refuse(service, message)
        return None

    authorize_as_role.__localcloud_original__ = authorize  # type: ignore[attr-defined]
    return authorize_as_role


def install() -> None:
    """Check role sessions' requests (idempotent)."""
    current = _BaseResponse._authenticate_and_authorize_action
    if not hasattr(current, "__localcloud_original__"):
        _BaseResponse._authenticate_and_authorize_action = _checked(current)
