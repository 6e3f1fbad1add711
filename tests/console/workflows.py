"""Small test workflows without Lambda functions: every state kind the graph draws, a failure
that is retried then caught, a slow one to stop, and a business rejection beside a failure with
the same error. Their state machines are created directly."""

from __future__ import annotations

from typing import Any

from workflows.asl import StateMachineType
from workflows.policies import REJECTED
from workflows.registry import Function, HttpRoute, Route, Workflow

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "minimum": 1, "maximum": 5},
        "label": {"type": "string", "minLength": 1},
    },
    "required": ["count"],
    "additionalProperties": False,
}

SHAPES: dict[str, Any] = {
    "Comment": "Every state kind",
    "StartAt": "Prepare",
    "States": {
        "Prepare": {
            "Type": "Pass",
            "Parameters": {"items.$": "States.ArrayRange(1, $.count, 1)"},
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.items[0]", "NumericEquals": 1, "Next": "Fan Out"}],
            "Default": "Unreachable",
        },
        "Unreachable": {"Type": "Fail", "Error": "Never", "Cause": "the choice always goes on"},
        "Fan Out": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "Result": "left", "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "Result": "right", "End": True}}},
            ],
            "ResultPath": "$.sides",
            "Next": "Each Item",
        },
        "Each Item": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "Square", "States": {"Square": {"Type": "Pass", "End": True}}},
            "ResultPath": "$.squares",
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}

BROKEN: dict[str, Any] = {
    "StartAt": "Start Work",
    "States": {
        "Start Work": {"Type": "Pass", "Next": "Publish"},
        "Publish": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:no-such-topic", "Message": "x"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "IntervalSeconds": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Give Up"}],
            "Next": "Never Here",
        },
        "Never Here": {"Type": "Succeed"},
        "Give Up": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    },
}

SLOW: dict[str, Any] = {
    "StartAt": "Wait A While",
    "States": {
        "Wait A While": {"Type": "Wait", "Seconds": 120, "Next": "Finish"},
        "Finish": {"Type": "Succeed"},
    },
}


# Fails until the test creates its topic; a redrive then finishes it.
FLAKY_TOPIC = "pyflows-local-flaky-announcements"
FLAKY: dict[str, Any] = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Result": "prepared", "ResultPath": "$.prepared", "Next": "Announce"},
        "Announce": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish",
            "Parameters": {
                "TopicArn": f"arn:aws:sns:us-east-1:123456789012:{FLAKY_TOPIC}",
                "Message.$": "$.prepared",
            },
            "ResultPath": "$.announced",
            "Next": "Finish",
        },
        "Finish": {"Type": "Succeed"},
    },
}


# A Parallel whose second branch fails, caught by the Parallel's Catch.
BRANCHY: dict[str, Any] = {
    "StartAt": "Both Sides",
    "States": {
        "Both Sides": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Fine", "States": {"Fine": {"Type": "Pass", "End": True}}},
                {
                    "StartAt": "Broken",
                    "States": {"Broken": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}},
                },
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover"}],
            "Next": "Finish",
        },
        "Recover": {"Type": "Pass", "Next": "Finish"},
        "Finish": {"Type": "Succeed"},
    },
}


def _refusing(state: str, count: int) -> dict[str, Any]:
    """A Parallel that fails with NotAllowed when the input's count is `count`, as a task raising it."""
    judge = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.count", "NumericEquals": count, "Next": "Refuse"}],
        "Default": "Allow",
    }
    refuse = {"Type": "Fail", "Error": "NotAllowed", "Cause": f"{state} refuses a count of {count}"}
    branch = {
        "StartAt": "Judge",
        "States": {"Judge": judge, "Refuse": refuse, "Allow": {"Type": "Pass", "End": True}},
    }
    return {"Type": "Parallel", "Branches": [branch], "ResultPath": None}


# A business rejection and a failure with the same error, as the policies build them: a count of 1
# is refused by Check Request, caught into Request Rejected (unalerted); a count of 2 by Do Work,
# caught into Failed (where the workflows alert first).
PICKY: dict[str, Any] = {
    "StartAt": "Check Request",
    "States": {
        "Check Request": {
            **_refusing("Check Request", 1),
            "Catch": [
                {"ErrorEquals": ["NotAllowed"], "ResultPath": "$.error", "Next": REJECTED},
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"},
            ],
            "Next": "Do Work",
        },
        "Do Work": {
            **_refusing("Do Work", 2),
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
            "Next": "Done",
        },
        REJECTED: {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
        "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
        "Done": {"Type": "Succeed"},
    },
}


def _workflow(name: str, definition: dict[str, Any], **extra: Any) -> Workflow:
    return Workflow(
        name=name,
        description=f"console test workflow {name}",
        type=StateMachineType.STANDARD,
        build=lambda: definition,
        input_schema=SCHEMA,
        example_input={"count": 2},
        **extra,
    )


WORKFLOWS = {
    "shapes": _workflow(
        "shapes",
        SHAPES,
        triggers=(HttpRoute("POST", "/shapes"),),
        routes=(Route("POST", "/echo/{id}", "echo"),),
        functions=(Function("echo", "echo.handler", "answers with what API Gateway sent it"),),
    ),
    "broken": _workflow("broken", BROKEN),
    "slow": _workflow("slow", SLOW),
    "flaky": _workflow("flaky", FLAKY),
    "branchy": _workflow("branchy", BRANCHY),
    "picky": _workflow("picky", PICKY),
}
DEFINITIONS = {
    "shapes": SHAPES,
    "broken": BROKEN,
    "slow": SLOW,
    "flaky": FLAKY,
    "branchy": BRANCHY,
    "picky": PICKY,
}

# The `echo` function behind the route POST /echo/{id}: a Lambda answering an HTTP API v2 event.
ECHO_SOURCE = """
import json


def handler(event, context):
    if event["pathParameters"]["id"] == "boom":
        raise RuntimeError("boom")
    body = {
        "route": event["routeKey"],
        "id": event["pathParameters"]["id"],
        "query": event["queryStringParameters"],
        "got": json.loads(event["body"]),
        "method": event["requestContext"]["http"]["method"],
    }
    if "authorizer" in event["requestContext"]:
        body["claims"] = event["requestContext"]["authorizer"]["jwt"]["claims"]
    headers = {
        "content-type": "application/json",
        "x-echo": "1",
        "access-control-allow-origin": "*",  # as the seeds' functions answered
        "vary": "Accept-Encoding",
    }
    return {"statusCode": 201, "headers": headers, "body": json.dumps(body)}
"""
