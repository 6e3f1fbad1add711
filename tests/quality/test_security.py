"""Security of what deploy produced, read back from the local cloud (not from the code that wrote it).

- IAM: no wildcard action; `*` as a resource only for X-Ray and the log-delivery calls AWS
  cannot scope; every role names the resources of one workflow only (plus the environment's
  alerts topic); each state machine invokes only its own functions' alias ARNs.
- No secret in any Lambda environment value or state machine definition: key and token shapes,
  high-entropy strings, the environment's known fake secret values.
- Every bucket blocks public access and encrypts by default; every table has PITR.
- Every table, topic, bucket, stream, function, role and state machine is tagged app and env.
- The routes that need auth answer 401 to a request without a valid token, over real HTTP on the
  console's routes, and start nothing.
"""

from __future__ import annotations

import base64
import json
import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from bench.load import http
from console.authorizer import LocalIssuer
from infra.environments import CONFIG_FILE
from localcloud import metering
from tests.quality.conftest import Quality, app_buckets, app_tables, app_topics
from workflows import WORKFLOWS
from workflows.registry import ALERT_WINDOWS, SHARED, HttpRoute, Route, Table

# What AWS cannot scope to a resource: X-Ray, and the log-delivery calls Step Functions makes.
UNSCOPED_PREFIXES = ("xray:",)
LOG_DELIVERY = re.compile(r"^logs:(\w+LogDelivery|ListLogDeliveries|\w+ResourcePolic\w+|DescribeLogGroups)$")
SECRET_SHAPES = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\."),
    "credential assignment": re.compile(
        r"(?i)\b(password|passwd|secret|api[_-]?key|token)\b\s*[:=]\s*\S{4,}"
    ),
    "URL with credentials": re.compile(r"://[^/\s:@]+:[^/\s@]+@"),
}
SECRET_NAMES = re.compile(r"(?i)(password|passwd|secret|token|api_?key|credential)")


# -- reading what was deployed ---------------------------------------------------------------------


def roles(quality: Quality) -> dict[str, list[dict[str, Any]]]:
    """Role name -> its policy statements (inline and attached), for the environment's roles."""
    iam, prefix = quality.app.client("iam"), quality.env.resource_name("")
    found: dict[str, list[dict[str, Any]]] = {}
    for page in iam.get_paginator("get_account_authorization_details").paginate(Filter=["Role"]):
        for role in page["RoleDetailList"]:
            if not role["RoleName"].startswith(prefix):
                continue
            assert not role.get("AttachedManagedPolicies"), f"{role['RoleName']}: managed policies attached"
            statements = []
            for inline in role.get("RolePolicyList", []):
                document = inline["PolicyDocument"]
                document = json.loads(unquote(document)) if isinstance(document, str) else document
                statements += document["Statement"]
            found[role["RoleName"]] = statements
    return found


def listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def resources_of(statements: list[dict[str, Any]], action: str | None = None) -> set[str]:
    return {
        r
        for s in statements
        if action is None or action in listed(s["Action"])
        for r in listed(s["Resource"])
        if r != "*"
    }


def workflow_prefix(quality: Quality, workflow: str) -> str:
    return quality.env.resource_name(workflow)


def owner(quality: Quality, resource: str) -> set[str]:
    """The workflows whose names a resource ARN carries (`<app>-<env>-<workflow>` or `/<app>/<env>/<workflow>/`)."""
    app, env = quality.env.app, quality.env.name
    return {
        w
        for w in WORKFLOWS
        if f"{app}-{env}-{w}" in resource
        or f"/{app}/{env}/{w}/" in resource
        or f"{app}/{env}/{w}/" in resource
    }


def parameter_arns(quality: Quality, workflow: str) -> set[str]:
    """The SSM parameters and secrets the registry lets a workflow's functions read."""
    app, env = quality.env.app, quality.env.name
    found = set()
    for fn in WORKFLOWS[workflow].functions:
        for name in fn.parameters.values():
            name = name.format(app=app, env=env)
            found.add(name if name.startswith("/") else f"{name}-??????")
    return found


def function_configs(quality: Quality) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(workflow, function, configuration) of every function, as its alias (what runs) has it."""
    lam = quality.app.client("lambda")
    for workflow, where in quality.app.outputs.items():
        for fn, names in where["functions"].items():
            yield (
                workflow,
                fn,
                lam.get_function_configuration(FunctionName=names["name"], Qualifier=quality.env.name),
            )


def definitions(quality: Quality) -> dict[str, str]:
    sfn = quality.app.client("stepfunctions")
    return {
        w: sfn.describe_state_machine(stateMachineArn=where["state_machine_arn"])["definition"]
        for w, where in quality.app.outputs.items()
    }


def invoked_functions(definition: Any) -> set[str]:
    """The Lambda ARNs a definition's Task states invoke (Parameters.FunctionName or Resource)."""
    found: set[str] = set()
    if isinstance(definition, dict):
        if definition.get("Type") == "Task":
            resource = str(definition.get("Resource", ""))
            if resource.startswith("arn:aws:lambda:"):
                found.add(resource)
            elif resource.startswith("arn:aws:states:::lambda:invoke"):
                found.add(str(definition.get("Parameters", {}).get("FunctionName")))
        for value in definition.values():
            found |= invoked_functions(value)
    elif isinstance(definition, list):
        for value in definition:
            found |= invoked_functions(value)
    return found


# -- IAM -------------------------------------------------------------------------------------------


def test_no_wildcard_action_and_star_resources_only_where_aws_cannot_scope(quality: Quality) -> None:
    found = roles(quality)
    assert len(found) >= sum(len(w.functions) + 1 for w in WORKFLOWS.values())
    problems = []
    for role, statements in found.items():
        for statement in statements:
            actions = listed(statement["Action"])
            if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
                problems.append(f"{role}: unexpected statement shape {statement}")
            problems += [f"{role}: wildcard action {a}" for a in actions if "*" in a]
            if "*" in listed(statement["Resource"]):
                problems += [
                    f"{role}: {a} on *"
                    for a in actions
                    if not a.startswith(UNSCOPED_PREFIXES) and not LOG_DELIVERY.match(a)
                ]
    assert problems == []


def test_every_function_role_names_only_its_own_workflows_resources(quality: Quality) -> None:
    found, problems = roles(quality), []
    # the environment's shared ones: the alerts topic, and the table of their email windows
    alerts, windows = (quality.app.resource("lottery", logical) for logical in ("alerts", ALERT_WINDOWS))
    for workflow, fn, config in function_configs(quality):
        role = config["Role"].rsplit("/", 1)[-1]
        allowed = parameter_arns(quality, workflow)
        for resource in resources_of(found[role]):
            owners = owner(quality, resource)
            declared = any(
                resource.endswith(f"parameter{p}") or resource.endswith(f"secret:{p}") for p in allowed
            )
            shared = resource == alerts or resource.endswith(f":table/{windows}")
            if not (owners == {workflow} or declared or shared):
                problems.append(
                    f"{workflow}/{fn} ({role}): {resource} (belongs to {sorted(owners) or 'nobody'})"
                )
    assert problems == []


def test_every_role_stays_within_one_workflow(quality: Quality) -> None:
    """Trigger and API roles too: none may reach two workflows' resources."""
    alerts = quality.app.resource("lottery", "alerts")
    reach = {
        role: set().union(*(owner(quality, r) for r in resources_of(statements) if r != alerts))
        for role, statements in roles(quality).items()
    }
    assert {role: sorted(found) for role, found in reach.items() if len(found) > 1} == {}


def test_each_state_machine_invokes_only_its_own_functions_aliases(quality: Quality) -> None:
    found, sfn, problems = roles(quality), quality.app.client("stepfunctions"), []
    for workflow, where in quality.app.outputs.items():
        own = {f["alias_arn"] for f in where["functions"].values()}
        role = sfn.describe_state_machine(stateMachineArn=where["state_machine_arn"])["roleArn"].rsplit(
            "/", 1
        )[-1]
        granted = resources_of(found[role], "lambda:InvokeFunction")
        if not granted <= own:
            problems.append(f"{workflow}: may invoke {sorted(granted - own)}")
        invoked = invoked_functions(json.loads(definitions(quality)[workflow]))
        if not invoked <= granted:
            problems.append(f"{workflow}: invokes {sorted(invoked - granted)} without a grant")
        if any(not arn.endswith(f":{quality.env.name}") for arn in invoked):
            problems.append(f"{workflow}: invokes an unqualified function: {sorted(invoked)}")
    assert problems == []


def test_each_state_machine_may_invoke_exactly_the_functions_its_definition_invokes(quality: Quality) -> None:
    found, sfn = roles(quality), quality.app.client("stepfunctions")
    extra = {}
    for workflow, where in quality.app.outputs.items():
        role = sfn.describe_state_machine(stateMachineArn=where["state_machine_arn"])["roleArn"].rsplit(
            "/", 1
        )[-1]
        granted = resources_of(found[role], "lambda:InvokeFunction")
        invoked = invoked_functions(json.loads(definitions(quality)[workflow]))
        if granted - invoked:
            extra[workflow] = sorted(a.rsplit(":", 2)[-2] for a in granted - invoked)
    assert extra == {}


# -- secrets ---------------------------------------------------------------------------------------


def known_secret_values() -> set[str]:
    """The environments' values of secrets (names without a leading `/` are Secrets Manager's)."""
    config = tomllib.loads(CONFIG_FILE.read_text())
    return {
        str(value)
        for env in config.get("environments", {}).values()
        for name, value in env.get("parameters", {}).items()
        if not str(name).startswith("/")
    } | {"testing"}  # the local cloud's fake AWS secret key


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def secrets_in(text: str, known: set[str]) -> list[str]:
    found = [
        f"{kind}: {m.group(0)[:40]}" for kind, shape in SECRET_SHAPES.items() for m in shape.finditer(text)
    ]
    found += [f"known secret value {value!r}" for value in known if value != "testing" and value in text]
    # random-looking runs: what a pasted key or token looks like
    for run in re.findall(r"[A-Za-z0-9+/=_]{24,}", text):
        if (
            entropy(run) > 4.2
            and re.search(r"\d", run)
            and re.search(r"[A-Z]", run)
            and re.search(r"[a-z]", run)
        ):
            found.append(f"high-entropy string {run[:12]}...")
    return found


def test_no_secret_in_any_function_environment(quality: Quality) -> None:
    known, problems = known_secret_values(), []
    for workflow, fn, config in function_configs(quality):
        variables = config.get("Environment", {}).get("Variables", {})
        assert variables, f"{workflow}/{fn} has no environment: the scan would prove nothing"
        for name, value in variables.items():
            problems += [f"{workflow}/{fn} {name}: {p}" for p in secrets_in(value, known)]
            if value in known:
                problems.append(f"{workflow}/{fn} {name}: holds a known secret value")
            if SECRET_NAMES.search(name) and not (
                value.startswith("/") or value.startswith("arn:") or "/" in value
            ):
                problems.append(f"{workflow}/{fn} {name}={value!r}: a secret's value, not its name")
    assert problems == []


def test_no_secret_in_any_state_machine_definition(quality: Quality) -> None:
    known = known_secret_values()
    found = {w: secrets_in(text, known) for w, text in definitions(quality).items()}
    assert {w: p for w, p in found.items() if p} == {}


def test_the_secret_scan_finds_what_it_looks_for() -> None:
    """The scanner itself: each shape it claims to find, it finds."""
    known = {"fake-broker-key"}
    leaks = [
        "AKIAIOSFODNN7EXAMPLE",
        "-----BEGIN RSA PRIVATE KEY-----",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
        "password=hunter22",
        "https://user:pass@example.com/",
        "x fake-broker-key y",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ]
    assert [text for text in leaks if not secrets_in(text, known)] == []
    assert (
        secrets_in("arn:aws:dynamodb:us-east-1:123456789012:table/pyflows-local-lottery-winners", known) == []
    )


# -- data at rest ----------------------------------------------------------------------------------


def test_every_bucket_blocks_public_access_and_encrypts_by_default(quality: Quality) -> None:
    s3, problems = quality.app.client("s3"), []
    buckets = app_buckets(quality)
    assert len(buckets) == sum(len(w.buckets) for w in WORKFLOWS.values())
    for bucket in buckets:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        if not all(
            block.get(k)
            for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        ):
            problems.append(f"{bucket}: public access not fully blocked: {block}")
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        algorithms = {r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules}
        if not algorithms or not algorithms <= {"AES256", "aws:kms", "aws:kms:dsse"}:
            problems.append(f"{bucket}: default encryption {algorithms}")
    assert problems == []


def test_every_table_has_point_in_time_recovery(quality: Quality) -> None:
    dynamodb = quality.app.client("dynamodb")
    tables = app_tables(quality)
    shared = [r for r in SHARED.values() if isinstance(r, Table)]  # the environment's alert windows
    assert len(tables) == sum(len(w.tables) for w in WORKFLOWS.values()) + len(shared)
    status = {
        t: dynamodb.describe_continuous_backups(TableName=t)["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"
        ]["PointInTimeRecoveryStatus"]
        for t in tables
    }
    assert {t: s for t, s in status.items() if s != "ENABLED"} == {}


# -- tags ------------------------------------------------------------------------------------------


def test_every_resource_is_tagged_with_app_and_env(quality: Quality) -> None:
    client, env = quality.app.client, quality.env
    tags: dict[str, dict[str, str]] = {}
    dynamodb, s3, sns = client("dynamodb"), client("s3"), client("sns")
    for table in app_tables(quality):
        arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
        tags[f"table {table}"] = {
            t["Key"]: t["Value"] for t in dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"]
        }
    for bucket in app_buckets(quality):
        tags[f"bucket {bucket}"] = {
            t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
        }
    for topic in app_topics(quality):
        tags[f"topic {topic}"] = {
            t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=topic)["Tags"]
        }
    lam, sfn, iam, kinesis = client("lambda"), client("stepfunctions"), client("iam"), client("kinesis")
    for workflow, where in quality.app.outputs.items():
        for fn in where["functions"].values():
            arn = lam.get_function(FunctionName=fn["name"])["Configuration"]["FunctionArn"]
            tags[f"function {fn['name']}"] = lam.list_tags(Resource=arn)["Tags"]
        machine = where["state_machine_arn"]
        listed_tags = sfn.list_tags_for_resource(resourceArn=machine)["tags"]
        tags[f"state machine {workflow}"] = {t["key"]: t["value"] for t in listed_tags}
        for stream in WORKFLOWS[workflow].streams:
            name = quality.app.resource(workflow, stream.name).rsplit("/", 1)[-1]
            tags[f"stream {name}"] = {
                t["Key"]: t["Value"] for t in kinesis.list_tags_for_stream(StreamName=name)["Tags"]
            }
    for role in roles(quality):
        tags[f"role {role}"] = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role)["Tags"]}
    expected = env.tags()
    assert len(tags) > 50
    assert {
        what: found for what, found in tags.items() if {k: found.get(k) for k in expected} != expected
    } == {}


# -- routes that need auth -------------------------------------------------------------------------


def auth_routes() -> list[tuple[str, Any]]:
    return [
        (w.name, route)
        for w in WORKFLOWS.values()
        for route in (*w.triggers, *w.routes)
        if isinstance(route, HttpRoute | Route) and route.auth
    ]


def forged_tokens(valid: str) -> dict[str, str | None]:
    """Authorization headers that must not get in: none, malformed, wrong key, tampered, alg none."""
    header, payload, signature = valid.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tampered = base64.urlsafe_b64encode(
        json.dumps({**claims, "cognito:username": "mallory"}).encode()
    ).rstrip(b"=")
    kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]
    none_header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": kid}).encode()).rstrip(b"=")
    stranger = LocalIssuer(issuer=claims["iss"], audience=str(claims.get("aud")))
    return {
        "no header": None,
        "empty bearer": "Bearer ",
        "not a JWT": "Bearer not-a-token",
        "basic auth": "Basic " + base64.b64encode(b"rider:password").decode(),
        "signed by another key": f"Bearer {stranger.token(str(claims.get('cognito:username')))}",
        "tampered claims": f"Bearer {header}.{tampered.decode()}.{signature}",
        "alg none": f"Bearer {none_header.decode()}.{payload}.",
        "scheme glued to the token": f"bearer{valid}",
    }


def test_routes_that_need_auth_refuse_requests_without_a_valid_token(quality: Quality) -> None:
    routes = auth_routes()
    assert routes, "no route needs auth: nothing to test"
    metering.install()
    starts = {op: n for (_, op), n in metering.counts().items() if op.startswith("Start")}
    problems = []
    body = json.dumps({"request_id": "auth-check-0001", "pickup": {"latitude": 47.6, "longitude": -122.3}})
    for workflow, route in routes:
        url = quality.url + route.path
        for label, authorization in forged_tokens(quality.token).items():
            headers = {"Authorization": authorization} if authorization is not None else {}
            status, answer = http(route.method, url, body.encode(), headers)
            if status != 401:
                problems.append(f"{workflow} {route.method} {route.path} {label}: {status} {answer}")
    assert problems == []
    assert {op: n for (_, op), n in metering.counts().items() if op.startswith("Start")} == starts


def test_a_valid_token_gets_past_auth(quality: Quality) -> None:
    """The refusals above are about the token: the same route lets a valid one through (to the body check)."""
    for _, route in auth_routes():
        headers = {"Authorization": f"Bearer {quality.token}"}
        status, answer = http(route.method, quality.url + route.path, b'{"request_id": "x"}', headers)
        assert status == 400, answer
