"""A function's requests are checked against its execution role, as on AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.localcloud.helpers import deploy_source, invoke, on_demand_table

ACCOUNT = "arn:aws:{service}:us-east-1:123456789012"
# Calls the AWS API named in the event with its arguments; answers the result or the error code.
CALLER = """
import boto3

def handler(event, context):
    client = boto3.client(event["service"])
    try:
        getattr(client, event["operation"])(**event["args"])
    except client.exceptions.ClientError as error:
        return {"error": error.response["Error"]["Code"], "message": error.response["Error"]["Message"]}
    return {"error": None}
"""


@pytest.fixture
def caller(cloud: LocalCloud) -> Any:
    """A function whose role may read one table, update items in it, publish to one topic, read
    one bucket's objects and one secret (by the `-??????` pattern deploy writes)."""
    iam = cloud.client("iam")
    for name in ("granted", "other"):
        on_demand_table(cloud, name, key="id")
    sns, s3 = cloud.client("sns"), cloud.client("s3")
    topics = {name: sns.create_topic(Name=name)["TopicArn"] for name in ("granted", "other")}
    for bucket in ("granted-bucket", "other-bucket"):
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    cloud.client("secretsmanager").create_secret(Name="app/token", SecretString="s")
    table = ACCOUNT.format(service="dynamodb") + ":table/granted"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"], "Resource": [table]},
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": topics["granted"]},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::granted-bucket/*"},
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": ACCOUNT.format(service="secretsmanager") + ":secret:app/token-??????",
            },
        ],
    }
    role = iam.create_role(RoleName="caller-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.put_role_policy(RoleName="caller-role", PolicyName="p", PolicyDocument=json.dumps(policy))
    deploy_source(cloud, "caller", CALLER, timeout=10, Role=role)

    def call(service: str, operation: str, **args: Any) -> dict[str, Any]:
        answer, error = invoke(cloud, "caller", {"service": service, "operation": operation, "args": args})
        assert error is None, answer
        return dict(answer)

    call.topics = topics  # type: ignore[attr-defined]
    return call


def key(id_: str) -> dict[str, Any]:
    return {"id": {"S": id_}}


def test_what_the_role_allows_is_answered(caller: Any) -> None:
    assert caller("dynamodb", "get_item", TableName="granted", Key=key("1")) == {"error": None}
    update = {"Update": {"TableName": "granted", "Key": key("1"), "UpdateExpression": "SET n = :n",
                         "ExpressionAttributeValues": {":n": {"N": "1"}}}}  # fmt: skip
    assert caller("dynamodb", "transact_write_items", TransactItems=[update]) == {"error": None}
    assert caller("sns", "publish", TopicArn=caller.topics["granted"], Message="hi") == {"error": None}
    assert caller("s3", "get_object", Bucket="granted-bucket", Key="k") == {"error": None}
    assert caller("secretsmanager", "get_secret_value", SecretId="app/token") == {"error": None}


def test_anything_else_is_access_denied_naming_the_action_and_resource(caller: Any) -> None:
    denied = caller("dynamodb", "put_item", TableName="granted", Item=key("1"))
    assert denied["error"] == "AccessDeniedException"
    assert (
        "assumed-role/caller-role/caller is not authorized to perform: dynamodb:PutItem" in denied["message"]
    )
    assert "on resource: arn:aws:dynamodb:us-east-1:123456789012:table/granted" in denied["message"]
    assert caller("dynamodb", "get_item", TableName="other", Key=key("1"))["error"] == "AccessDeniedException"
    put = {"Put": {"TableName": "granted", "Item": key("2")}}  # a transaction's Put needs PutItem
    assert caller("dynamodb", "transact_write_items", TransactItems=[put])["error"] == "AccessDeniedException"
    publish = caller("sns", "publish", TopicArn=caller.topics["other"], Message="hi")
    assert publish["error"] == "AuthorizationError"
    assert caller("s3", "get_object", Bucket="other-bucket", Key="k")["error"] == "AccessDenied"
    assert caller("s3", "put_object", Bucket="granted-bucket", Key="k", Body="x")["error"] == "AccessDenied"


def test_a_refused_request_changes_nothing_and_other_callers_are_not_checked(
    caller: Any, cloud: LocalCloud
) -> None:
    caller("dynamodb", "put_item", TableName="granted", Item=key("3"))
    # the test's own client is not a function's role session
    assert "Item" not in cloud.client("dynamodb").get_item(TableName="granted", Key=key("3"))


def test_an_attached_managed_policy_allows_as_an_inline_one_does(caller: Any, cloud: LocalCloud) -> None:
    assert (
        caller("dynamodb", "put_item", TableName="granted", Item=key("4"))["error"] == "AccessDeniedException"
    )
    table = ACCOUNT.format(service="dynamodb") + ":table/granted"
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table}],
    }
    iam = cloud.client("iam")
    policy = iam.create_policy(PolicyName="writes", PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="caller-role", PolicyArn=policy)
    assert caller("dynamodb", "put_item", TableName="granted", Item=key("4")) == {"error": None}
