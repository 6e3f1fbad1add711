"""A function's requests are checked against its execution role, as on AWS."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.localcloud.helpers import deploy, deploy_source, invoke, on_demand_table, run

ACCOUNT = "arn:aws:{service}:us-east-1:123456789012"
# Calls the AWS API named in the event with its arguments; answers the result or the error code.
CALLER = """
import boto3

def handler(event, context):
    client = boto3.client(event["service"])
    try:
        getattr(client, event["operation"])(**event["args"])
    except client.exceptions.ClientError as error:
        response = error.response
        return {
            "error": response["Error"]["Code"],
            "message": response["Error"]["Message"],
            "status": response["ResponseMetadata"]["HTTPStatusCode"],
        }
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
    # as each service answers a denial: DynamoDB with 400, Lambda with 403
    assert denied["status"] == 400
    invoked = caller("lambda", "invoke", FunctionName="caller")
    assert (invoked["error"], invoked["status"]) == ("AccessDeniedException", 403)
    assert (
        "lambda:InvokeFunction on resource: " + ACCOUNT.format(service="lambda") + ":function:caller"
        in (invoked["message"])
    )
    # a key that is not there, to a role that may read objects but not list the bucket: 403, as S3
    assert caller("s3", "get_object", Bucket="granted-bucket", Key="nothing")["error"] == "AccessDenied"


def test_a_missing_key_is_no_such_key_to_a_role_that_may_list_the_bucket(
    caller: Any, cloud: LocalCloud
) -> None:
    listing = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::granted-bucket"}
    policy = {"Version": "2012-10-17", "Statement": [listing]}
    cloud.client("iam").put_role_policy(
        RoleName="caller-role", PolicyName="list", PolicyDocument=json.dumps(policy)
    )
    assert caller("s3", "get_object", Bucket="granted-bucket", Key="nothing")["error"] == "NoSuchKey"
    assert caller("s3", "get_object", Bucket="granted-bucket", Key="k") == {"error": None}


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


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _grant(cloud: LocalCloud, name: str, *statements: dict[str, Any], role: str = "caller-role") -> None:
    cloud.client("iam").put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=_document(*statements))


def test_an_explicit_deny_wins_over_an_allow(caller: Any, cloud: LocalCloud) -> None:
    table = ACCOUNT.format(service="dynamodb") + ":table/granted"
    _grant(cloud, "deny", {"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": table})

    assert (
        caller("dynamodb", "get_item", TableName="granted", Key=key("1"))["error"] == "AccessDeniedException"
    )
    assert caller("sns", "publish", TopicArn=caller.topics["granted"], Message="hi") == {"error": None}


def test_a_policy_s_actions_match_whatever_their_case(caller: Any, cloud: LocalCloud) -> None:
    table = ACCOUNT.format(service="dynamodb") + ":table/granted"
    _grant(cloud, "lower", {"Effect": "Allow", "Action": "DynamoDB:putitem", "Resource": table})

    assert caller("dynamodb", "put_item", TableName="granted", Item=key("5")) == {"error": None}


def test_a_query_of_an_index_needs_a_grant_of_the_index(caller: Any, cloud: LocalCloud) -> None:
    table = ACCOUNT.format(service="dynamodb") + ":table/granted"
    _grant(cloud, "query", {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": table})
    query = {
        "TableName": "granted",
        "KeyConditionExpression": "id = :id",
        "ExpressionAttributeValues": {":id": {"S": "1"}},
    }

    assert caller("dynamodb", "query", **query) == {"error": None}
    denied = caller("dynamodb", "query", IndexName="by-name", **query)
    assert denied["error"] == "AccessDeniedException"
    assert f"on resource: {table}/index/by-name " in denied["message"]


def test_a_subscribe_allowed_only_by_email_is_refused_any_other_protocol(
    caller: Any, cloud: LocalCloud
) -> None:
    topic = caller.topics["granted"]
    email_only = {"StringEquals": {"sns:Protocol": "email"}}
    _grant(cloud, "subscribe", {"Effect": "Allow", "Action": "sns:Subscribe", "Resource": topic,
                                "Condition": email_only})  # fmt: skip

    assert caller("sns", "subscribe", TopicArn=topic, Protocol="email", Endpoint="a@example.com") == {
        "error": None
    }
    for protocol, endpoint in (("http", "http://127.0.0.1:9/hook"), ("sms", "+15555550100")):
        refused = caller("sns", "subscribe", TopicArn=topic, Protocol=protocol, Endpoint=endpoint)
        assert (refused["error"], refused["status"]) == ("AuthorizationError", 403), protocol
        assert f"SNS:Subscribe on resource: {topic}" in refused["message"]
    subscribed = cloud.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["Protocol"] for s in subscribed] == ["email"]


def test_a_listing_narrowed_by_prefix_lists_only_under_it(caller: Any, cloud: LocalCloud) -> None:
    _grant(cloud, "list", {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::granted-bucket",
                           "Condition": {"StringLike": {"s3:prefix": ["reports/*", "inbox/?/"]}}})  # fmt: skip

    assert caller("s3", "list_objects_v2", Bucket="granted-bucket", Prefix="reports/2026") == {"error": None}
    assert caller("s3", "list_objects", Bucket="granted-bucket", Prefix="inbox/a/") == {"error": None}
    for prefix in ("other/", "inbox/ab/", "Reports/"):
        listed = caller("s3", "list_objects_v2", Bucket="granted-bucket", Prefix=prefix)
        assert listed["error"] == "AccessDenied", prefix
    # a listing without a prefix has no s3:prefix, which StringLike then does not match
    assert caller("s3", "list_objects_v2", Bucket="granted-bucket")["error"] == "AccessDenied"


def test_each_operator_and_key_of_a_condition_must_hold(caller: Any, cloud: LocalCloud) -> None:
    condition = {
        "StringNotEquals": {"sns:Protocol": ["sms", "sqs"]},
        "StringNotLike": {"sns:Endpoint": "*@example.org"},
        "StringEqualsIfExists": {"sns:Protocol": "email"},
    }
    _grant(cloud, "subscribe", {"Effect": "Allow", "Action": "sns:Subscribe", "Resource": "*",
                                "Condition": condition})  # fmt: skip
    topic = caller.topics["granted"]

    assert caller("sns", "subscribe", TopicArn=topic, Protocol="email", Endpoint="a@example.com") == {
        "error": None
    }
    refused = caller("sns", "subscribe", TopicArn=topic, Protocol="email", Endpoint="a@example.org")
    assert refused["error"] == "AuthorizationError"
    refused = caller("sns", "subscribe", TopicArn=topic, Protocol="sms", Endpoint="+15555550100")
    assert refused["error"] == "AuthorizationError"


def test_a_condition_on_a_key_the_local_cloud_cannot_know_is_not_evaluated(
    caller: Any, cloud: LocalCloud
) -> None:
    """The principal's tags are no key of the local cloud's requests: that key holds, the others count."""
    topic = caller.topics["granted"]
    condition = {"StringEquals": {"aws:PrincipalTag/team": "payments", "sns:Protocol": "email"}}
    _grant(cloud, "subscribe", {"Effect": "Allow", "Action": "sns:Subscribe", "Resource": topic,
                                "Condition": condition})  # fmt: skip

    assert caller("sns", "subscribe", TopicArn=topic, Protocol="email", Endpoint="a@example.com") == {
        "error": None
    }
    refused = caller("sns", "subscribe", TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/")
    assert refused["error"] == "AuthorizationError"
    table = ACCOUNT.format(service="dynamodb") + ":table/granted"
    only_tagged = {"StringEquals": {"aws:PrincipalTag/team": "payments"}}
    _grant(cloud, "put", {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table,
                          "Condition": only_tagged})  # fmt: skip
    assert caller("dynamodb", "put_item", TableName="granted", Item=key("6")) == {"error": None}


def test_a_deny_with_a_condition_denies_only_what_it_matches(caller: Any, cloud: LocalCloud) -> None:
    topic = caller.topics["granted"]
    no_http = {"StringLike": {"sns:Protocol": "http*"}}
    _grant(cloud, "subscribe", {"Effect": "Allow", "Action": "sns:Subscribe", "Resource": topic},
           {"Effect": "Deny", "Action": "sns:Subscribe", "Resource": "*", "Condition": no_http})  # fmt: skip

    assert caller("sns", "subscribe", TopicArn=topic, Protocol="email", Endpoint="a@example.com") == {
        "error": None
    }
    for protocol in ("http", "https"):
        refused = caller("sns", "subscribe", TopicArn=topic, Protocol=protocol, Endpoint=f"{protocol}://x")
        assert refused["error"] == "AuthorizationError", protocol


# A state machine's Tasks act as the state machine's role.
MACHINE_ROLE = "arn:aws:iam::123456789012:role/machine-role"
FUNCTION = ACCOUNT.format(service="lambda") + ":function:{}"


@pytest.fixture
def machine(cloud: LocalCloud) -> Any:
    """Runs one Task in a state machine whose role may invoke `granted` (any version or alias),
    `plain` (unqualified only) and `aliased` (its alias `live` only), and publish to the topic
    `granted`, and put CloudWatch metrics, and nothing else; answers the execution as DescribeExecution does."""
    lam = cloud.client("lambda")
    for name in ("granted", "other", "plain", "aliased"):
        deploy(cloud, name, "echo")
        lam.create_alias(
            FunctionName=name, Name="live", FunctionVersion=lam.publish_version(FunctionName=name)["Version"]
        )
    for name in ("granted", "other"):
        cloud.client("sns").create_topic(Name=name)
    on_demand_table(cloud, "rows", key="id")
    invokable = [FUNCTION.format("granted"), FUNCTION.format("granted:*"), FUNCTION.format("plain")]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": invokable},
            {
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": FUNCTION.format("aliased:live"),
            },
            {
                "Effect": "Allow",
                "Action": "sns:Publish",
                "Resource": ACCOUNT.format(service="sns") + ":granted",
            },
            {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"},
        ],
    }
    iam = cloud.client("iam")
    iam.create_role(RoleName="machine-role", AssumeRolePolicyDocument="{}")
    iam.put_role_policy(RoleName="machine-role", PolicyName="p", PolicyDocument=json.dumps(policy))

    def execute(task: dict[str, Any], role: str = MACHINE_ROLE) -> dict[str, Any]:
        definition = {"StartAt": "T", "States": {"T": {"Type": "Task", **task, "End": True}}}
        arn = cloud.client("stepfunctions").create_state_machine(
            name=f"m-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition), roleArn=role
        )["stateMachineArn"]
        return run(cloud, arn, {"n": 1})

    return execute


def invoke_task(function: str) -> dict[str, Any]:
    return {
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function, "Payload.$": "$"},
    }


def publish_task(topic: str, resource: str = "arn:aws:states:::sns:publish") -> dict[str, Any]:
    return {
        "Resource": resource,
        "Parameters": {"TopicArn": ACCOUNT.format(service="sns") + f":{topic}", "Message": "hi"},
    }


def test_a_state_machine_does_what_its_role_allows(machine: Any) -> None:
    for function in ("granted", FUNCTION.format("granted:$LATEST"), "granted:live", "plain", "aliased:live"):
        assert machine(invoke_task(function))["status"] == "SUCCEEDED", function
    assert machine({"Resource": FUNCTION.format("granted")})["status"] == "SUCCEEDED"
    assert machine(publish_task("granted"))["status"] == "SUCCEEDED"


def test_a_grant_of_a_function_covers_only_what_it_names(machine: Any) -> None:
    """As IAM reads a function ARN: unqualified covers only unqualified calls, an alias only itself."""
    for function in ("plain:live", "aliased", FUNCTION.format("aliased:1")):
        failed = machine(invoke_task(function))
        assert failed["error"] == "Lambda.AWSLambdaException", function
    assert (
        "on resource: " + FUNCTION.format("plain:live") + " because"
        in machine(invoke_task("plain:live"))["cause"]
    )


def test_a_task_its_role_does_not_allow_fails_as_on_aws(machine: Any, cloud: LocalCloud) -> None:
    who = "User: arn:aws:sts::123456789012:assumed-role/machine-role/"
    for task in (invoke_task("other"), {"Resource": FUNCTION.format("other")}):
        failed = machine(task)
        assert (failed["status"], failed["error"]) == ("FAILED", "Lambda.AWSLambdaException")
        assert failed["cause"].startswith(who)
        assert (
            f"is not authorized to perform: lambda:InvokeFunction on resource: {FUNCTION.format('other')} "
            "because no identity-based policy allows the lambda:InvokeFunction action "
            "(Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException;"
        ) in failed["cause"]
    published = machine(publish_task("other"))
    assert published["error"] == "SNS.AuthorizationErrorException"
    assert f"SNS:Publish on resource: {ACCOUNT.format(service='sns')}:other" in published["cause"]
    put = {
        "Resource": "arn:aws:states:::dynamodb:putItem",
        "Parameters": {"TableName": "rows", "Item": {"id": {"S": "1"}}},
    }
    written = machine(put)
    assert written["error"] == "DynamoDB.AmazonDynamoDBException"
    assert "Error Code: AccessDeniedException" in written["cause"]
    assert cloud.client("dynamodb").scan(TableName="rows")["Count"] == 0
    start = {
        "Resource": "arn:aws:states:::states:startExecution",
        "Parameters": {"StateMachineArn": ACCOUNT.format(service="states") + ":stateMachine:anything"},
    }
    started = machine(start)
    assert started["error"] == "StepFunctions.AWSStepFunctionsException"
    assert "states:StartExecution on resource" in started["cause"]


def test_an_aws_sdk_task_its_role_does_not_allow_is_named_by_the_sdk(machine: Any) -> None:
    published = machine(publish_task("other", "arn:aws:states:::aws-sdk:sns:publish"))
    assert published["error"] == "Sns.AuthorizationErrorException"
    assert "(Service: Sns, Status Code: 403," in published["cause"]
    invoked = machine(
        {"Resource": "arn:aws:states:::aws-sdk:lambda:invoke", "Parameters": {"FunctionName": "other"}}
    )
    assert invoked["error"] == "Lambda.LambdaException"
    assert "lambda:InvokeFunction on resource: " + FUNCTION.format("other") in invoked["cause"]


def test_an_aws_sdk_task_is_checked_under_the_services_iam_name(machine: Any) -> None:
    """CloudWatch signs its requests as `monitoring` and names its IAM actions `cloudwatch:`."""
    metric = {"Namespace": "pyflows", "MetricData": [{"MetricName": "Runs", "Value": 1}]}
    put = {"Resource": "arn:aws:states:::aws-sdk:cloudwatch:putMetricData", "Parameters": metric}
    assert machine(put)["status"] == "SUCCEEDED"
    listed = machine({"Resource": "arn:aws:states:::aws-sdk:cloudwatch:listMetrics", "Parameters": {}})
    assert listed["error"] == "CloudWatch.CloudWatchException"  # the Java SDK's base class
    assert "is not authorized to perform: cloudwatch:ListMetrics" in listed["cause"]


def test_a_task_with_credentials_acts_as_their_role(machine: Any) -> None:
    made_up = "arn:aws:iam::123456789012:role/made-up"  # the machine's own: not checked
    as_machine_role = {**publish_task("other"), "Credentials": {"RoleArn": MACHINE_ROLE}}
    assert machine(as_machine_role, role=made_up)["error"] == "SNS.AuthorizationErrorException"
    assert machine(publish_task("other"), role=made_up)["status"] == "SUCCEEDED"


def test_a_role_iam_never_had_is_not_checked_but_a_deleted_one_allows_nothing(
    machine: Any, cloud: LocalCloud
) -> None:
    # moto, unlike AWS, makes a state machine with any role: tests and recorded cases name made-up ones
    made_up = "arn:aws:iam::123456789012:role/made-up"
    assert machine(invoke_task("other"), role=made_up)["status"] == "SUCCEEDED"
    assert machine(publish_task("other"), role=made_up)["status"] == "SUCCEEDED"
    iam = cloud.client("iam")
    assert machine(invoke_task("granted"))["status"] == "SUCCEEDED"
    iam.delete_role_policy(RoleName="machine-role", PolicyName="p")
    iam.delete_role(RoleName="machine-role")
    assert machine(invoke_task("granted"))["error"] == "Lambda.AWSLambdaException"


def test_a_policy_changed_between_two_tasks_is_what_the_next_one_is_checked_against(
    machine: Any, cloud: LocalCloud
) -> None:
    """Decisions are remembered per policy text: a changed, removed or added policy is read anew."""
    iam = cloud.client("iam")
    task = {"Resource": FUNCTION.format("granted")}
    assert machine(task)["status"] == "SUCCEEDED"
    iam.delete_role_policy(RoleName="machine-role", PolicyName="p")
    assert machine(task)["error"] == "Lambda.AWSLambdaException"
    grant = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": FUNCTION.format("granted")}
    _grant(cloud, "q", grant, role="machine-role")
    assert machine(task)["status"] == "SUCCEEDED"
    _grant(cloud, "q", grant, {**grant, "Effect": "Deny"}, role="machine-role")
    assert machine(task)["error"] == "Lambda.AWSLambdaException"


def test_a_managed_policy_s_new_default_version_is_what_the_next_task_is_checked_against(
    machine: Any, cloud: LocalCloud
) -> None:
    iam = cloud.client("iam")
    task = {"Resource": FUNCTION.format("other")}
    assert machine(task)["error"] == "Lambda.AWSLambdaException"
    grant = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": FUNCTION.format("other")}
    arn = iam.create_policy(PolicyName="invoke-other", PolicyDocument=_document(grant))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="machine-role", PolicyArn=arn)
    assert machine(task)["status"] == "SUCCEEDED"
    nothing = {**grant, "Resource": FUNCTION.format("nothing")}
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=_document(nothing), SetAsDefault=True)
    assert machine(task)["error"] == "Lambda.AWSLambdaException"
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    assert machine(task)["status"] == "SUCCEEDED"
    iam.detach_role_policy(RoleName="machine-role", PolicyArn=arn)
    assert machine(task)["error"] == "Lambda.AWSLambdaException"


def test_a_role_made_again_under_the_same_name_is_checked_with_its_own_policies(
    machine: Any, cloud: LocalCloud
) -> None:
    iam = cloud.client("iam")
    task = {"Resource": FUNCTION.format("granted")}
    assert machine(task)["status"] == "SUCCEEDED"
    iam.delete_role_policy(RoleName="machine-role", PolicyName="p")
    iam.delete_role(RoleName="machine-role")
    iam.create_role(RoleName="machine-role", AssumeRolePolicyDocument="{}")
    assert machine(task)["error"] == "Lambda.AWSLambdaException"
    grant = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": FUNCTION.format("granted")}
    _grant(cloud, "p", grant, role="machine-role")
    assert machine(task)["status"] == "SUCCEEDED"
