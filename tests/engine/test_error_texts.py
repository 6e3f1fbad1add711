"""Failures are named and worded as AWS names and words them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from localcloud import LocalCloud
from tests.engine.conftest import Runner


def test_map_input_that_is_not_an_array_is_shown_as_json(run_definition: Runner) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    }
    run = run_definition(definition, {"foo": "bar"})
    assert run.error == "States.QueryEvaluationError"
    assert run.cause is not None
    assert run.cause.endswith('Map state input must be an array but was: {"foo":"bar"}')


def jsonpath_map(**fields: Any) -> dict[str, Any]:
    """A JSONPath Map state `M` of one Pass iteration."""
    iteration = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    return {"Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **iteration}, **fields}


@pytest.mark.parametrize(
    ("fields", "inpt", "shown"),
    [
        ({"ItemsPath": "$.items"}, {"items": {"a": 1}}, '{"a":1}'),
        ({"ItemsPath": "$.items"}, {"items": None}, "null"),
        ({"ItemsPath": "$.items"}, {"items": "abc"}, '"abc"'),
        ({}, {"a": 1}, '{"a":1}'),
    ],
    ids=["items-path-object", "items-path-null", "items-path-string", "input-object"],
)
def test_a_jsonpath_map_over_what_is_not_an_array_fails_with_a_runtime_error(
    run_definition: Runner, fields: dict[str, Any], inpt: Any, shown: str
) -> None:
    """States.QueryEvaluationError and EvaluationFailed belong to JSONata states; a JSONPath Map
    fails as AWS fails its other runtime errors (a MaxConcurrencyPath that is not a number): the
    execution ends right after MapStateEntered."""
    run = run_definition({"StartAt": "M", "States": {"M": {**jsonpath_map(**fields), "End": True}}}, inpt)

    assert (run.status, run.error) == ("FAILED", "States.Runtime")
    assert run.cause == (
        "An error occurred while executing the state 'M' (entered at the event id #2). "
        f"Map state input must be an array but was: {shown}"
    )
    assert run.types == ["ExecutionStarted", "MapStateEntered", "ExecutionFailed"]


def test_a_jsonpath_map_over_what_is_not_an_array_is_not_caught_by_states_all(run_definition: Runner) -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                **jsonpath_map(ItemsPath="$.items"),
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    run = run_definition(definition, {"items": 1})

    assert (run.status, run.error) == ("FAILED", "States.Runtime")
    assert "PassStateEntered" not in run.types


def test_a_jsonpath_map_over_what_is_not_an_array_fails_its_parallel_branch(run_definition: Runner) -> None:
    branch = {"StartAt": "M", "States": {"M": {**jsonpath_map(ItemsPath="$.items"), "End": True}}}
    run = run_definition(
        {"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "Branches": [branch], "End": True}}},
        {"items": {"a": 1}},
    )

    assert (run.status, run.error) == ("FAILED", "States.Runtime")
    assert run.cause is not None
    assert run.cause.endswith('Map state input must be an array but was: {"a":1}')
    assert "EvaluationFailed" not in run.types


def test_jsonata_timestamp_that_is_not_iso8601(run_definition: Runner) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Timestamp": "{% $states.input.t %}", "End": True}},
    }
    run = run_definition(definition, {"t": "2016-12-05T21:29:29"})
    assert run.error == "States.QueryEvaluationError"
    assert run.cause is not None
    assert run.cause.endswith(
        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: "
        "2016-12-05T21:29:29"
    )
    assert run.types == ["ExecutionStarted", "WaitStateEntered", "EvaluationFailed", "ExecutionFailed"]


def test_a_states_error_in_a_map_iteration_fails_the_map_with_that_error(run_definition: Runner) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "Items": "{% [1] %}",
                "ItemProcessor": {
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "Output": "{% $nope %}", "End": True}},
                },
                "End": True,
            }
        },
    }
    run = run_definition(definition)
    assert run.error == "States.QueryEvaluationError"
    assert run.cause == (
        "An error occurred while executing the state 'P' (entered at the event id #5). "
        "The JSONata expression '$nope' specified for the field 'Output' returned nothing (undefined)."
    )


@pytest.mark.parametrize(
    "error", ["States.TaskFailed", "States.Timeout", "States.Permissions", "States.Mine"]
)
def test_a_fail_state_raises_a_caught_states_error_again(run_definition: Runner, error: str) -> None:
    """The alert-then-fail pattern: the execution ends with the error that was caught."""
    definition = {
        "StartAt": "F",
        "States": {"F": {"Type": "Fail", "ErrorPath": "$.caught.Error", "CausePath": "$.caught.Cause"}},
    }
    run = run_definition(definition, {"caught": {"Error": error, "Cause": "the task's own words"}})
    assert (run.status, run.error, run.cause) == ("FAILED", error, "the task's own words")
    assert run.types == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]


def test_a_states_error_a_fail_state_raises_in_a_map_item_is_caught_by_its_name(
    run_definition: Runner,
) -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "F",
                    "States": {"F": {"Type": "Fail", "Error": "States.TaskFailed", "Cause": "item"}},
                },
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.caught", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    run = run_definition(definition, {"items": [1]})
    assert run.status == "SUCCEEDED"
    assert run.output == {"items": [1], "caught": {"Error": "States.TaskFailed", "Cause": "item"}}


def test_a_dynamodb_error_without_an_sdk_class_is_named_by_the_base_class(run_definition: Runner) -> None:
    """DynamoDB refuses the null Item (left out, as Step Functions' Java SDK leaves a null unset);
    the Java SDK has no ValidationException class, so AWS names it DynamoDB.AmazonDynamoDBException."""
    put = {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:putItem",
        "Parameters": {"TableName": "anything", "Item.$": "$.item"},
        "End": True,
    }
    run = run_definition({"StartAt": "Put", "States": {"Put": put}}, {"item": None})
    assert (run.status, run.error) == ("FAILED", "DynamoDB.AmazonDynamoDBException")
    assert str(run.cause).startswith(
        "1 validation error detected: Value null at 'item' failed to satisfy constraint: "
        "Member must not be null (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ValidationException"
    )


def test_a_dynamodb_error_the_sdk_has_a_class_for_keeps_its_name(
    local_cloud: LocalCloud, run_definition: Runner
) -> None:
    """A Catch of DynamoDB.ConditionalCheckFailedException (a write that must not overwrite) works."""
    table = f"engine-{uuid.uuid4().hex[:12]}"
    dynamodb = local_cloud.client("dynamodb")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "taken"}})
    put = {
        "Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:putItem",
        "Parameters": {
            "TableName": table,
            "Item": {"pk": {"S": "taken"}},
            "ConditionExpression": "attribute_not_exists(pk)",
        },
        "End": True,
    }
    run = run_definition({"StartAt": "Put", "States": {"Put": put}})
    assert (run.status, run.error) == ("FAILED", "DynamoDB.ConditionalCheckFailedException")


def test_an_aws_sdk_task_s_error_is_named_by_the_sdk_s_service_name(run_definition: Runner) -> None:
    read = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:secretsmanager:getSecretValue",
        "Parameters": {"SecretId": f"no-such-secret-{uuid.uuid4().hex[:8]}"},
        "End": True,
    }
    run = run_definition({"StartAt": "Read", "States": {"Read": read}})
    assert (run.status, run.error) == ("FAILED", "SecretsManager.ResourceNotFoundException")


@pytest.mark.parametrize("in_map", [False, True], ids=["top-level", "in-a-map"])
def test_an_intrinsic_function_that_fails_names_the_state_and_the_call(
    run_definition: Runner, in_map: bool
) -> None:
    bad = {"Type": "Pass", "Parameters": {"x.$": "States.MathAdd($.a, 1)"}, "End": True}
    graph = {"StartAt": "Add One", "States": {"Add One": bad}}
    definition = (
        {
            "StartAt": "M",
            "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": graph, "End": True}},
        }
        if in_map
        else graph
    )
    run = run_definition(definition, {"items": [{"a": "x"}]} if in_map else {"a": "x"})

    assert (run.status, run.error) == ("FAILED", "States.Runtime")
    assert run.cause.startswith(
        "An error occurred while executing the state 'Add One' (entered at the event id #"
    )
    assert run.cause.endswith("States.MathAdd($.a, 1) failed: Expected integer value, but got: 'x'.")


def publish(message_path: str, **fields: Any) -> dict[str, Any]:
    """A Task publishing the value at `message_path`, which fails before any request is sent."""
    parameters = {"TopicArn": "arn:aws:sns:us-east-1:123456789012:none", "Message.$": message_path}
    return {"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "Parameters": parameters, **fields}


def test_an_intrinsic_whose_argument_fails_to_evaluate_keeps_that_error(run_definition: Runner) -> None:
    """A variable without the field asked of it is the query's error, which a Catch names, not a
    failure of the function it is passed to."""
    caught = publish(
        "States.Format('{}', $y.z)",
        Catch=[{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Caught"}],
        End=True,
    )
    definition = {
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"y": 1}, "Next": "Publish"},
            "Publish": caught,
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    run = run_definition(definition)
    assert run.status == "SUCCEEDED", (run.error, run.cause)


def test_a_catch_of_states_all_does_not_catch_a_runtime_error(run_definition: Runner) -> None:
    """As AWS documents States.Runtime: the execution fails; a catch-all's alert path does not run."""
    task = publish(
        "$.missing",
        Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}],
        Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Alert"}],
        End=True,
    )
    run = run_definition(
        {"StartAt": "Publish", "States": {"Publish": task, "Alert": {"Type": "Pass", "End": True}}}
    )

    assert (run.status, run.error) == ("FAILED", "States.Runtime")
    entered = [e["stateEnteredEventDetails"]["name"] for e in run.events if "stateEnteredEventDetails" in e]
    assert entered == ["Publish"] and run.types.count("TaskFailed") == 1  # not retried either


def test_a_retry_naming_a_runtime_error_does_not_retry_it(run_definition: Runner) -> None:
    task = publish(
        "$.missing",
        Retry=[{"ErrorEquals": ["States.Runtime"], "MaxAttempts": 3, "IntervalSeconds": 1}],
        End=True,
    )
    run = run_definition({"StartAt": "Publish", "States": {"Publish": task}})

    assert (run.status, run.error) == ("FAILED", "States.Runtime")
    assert run.types.count("TaskFailed") == 1


def choosing(rule: dict[str, Any], then: str, otherwise: str) -> dict[str, Any]:
    """A Choice state `Check` with one rule, going to the Pass state `then` or `otherwise`."""
    choice = {"Type": "Choice", "Choices": [{**rule, "Next": then}], "Default": otherwise}
    passes = {name: {"Type": "Pass", "End": True} for name in (then, otherwise)}
    return {"StartAt": "Check", "States": {"Check": choice, **passes}}


@pytest.mark.parametrize(
    "rule",
    [{"NumericGreaterThan": 5}, {"IsNull": False}, {"StringEqualsPath": "$.name"}],
    ids=["numeric", "is-null", "path-operator"],
)
def test_a_choice_rule_on_an_absent_field_fails_with_a_runtime_error(
    run_definition: Runner, rule: dict[str, Any]
) -> None:
    """AWS fails the execution (a misspelt path would otherwise go to the Default unnoticed);
    only IsPresent may ask about a field that is not there."""
    definition = choosing({"Variable": "$.a.eta", **rule}, then="Rule", otherwise="Default")
    run = run_definition(definition, {"a": {"eta_seconds": 9}, "name": "x"})

    assert (run.status, run.error) == ("FAILED", "States.Runtime")
    assert run.cause.startswith(
        "An error occurred while executing the state 'Check' (entered at the event id #2)."
    )
    assert run.cause.endswith(
        "Invalid path '$.a.eta': The choice state's condition path references an invalid value."
    )


def test_is_present_may_ask_about_an_absent_field(run_definition: Runner) -> None:
    definition = choosing(
        {"Not": {"Variable": "$.a.eta", "IsPresent": True}}, then="Absent", otherwise="Present"
    )
    run = run_definition(definition, {"a": {}})

    assert run.status == "SUCCEEDED"
    assert [e["stateEnteredEventDetails"]["name"] for e in run.events if "stateEnteredEventDetails" in e] == [
        "Check",
        "Absent",
    ]
