"""Alerts as the inbox holds them (SNS envelopes), read back for `python -m workflows alerts`."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from console.alerts import parse, receive_all
from infra.environments import load
from tasks.shared.alerts import (
    ALERT_WINDOW_SECONDS,
    EMAILED,
    EMAILED_ONCE_A_FUNCTION,
    TOPIC_VARIABLE,
    WINDOWS_VARIABLE,
    WindowedAlert,
)
from tasks.shared.api import error, route
from tasks.shared.errors import cause_message
from tests.conftest import Inbox
from tests.unit.conftest import create_table
from workflows.policies import EMAILED_ONCE, UNALERTED_CAUSE
from workflows.registry import ALERT_WINDOWS_TABLE

EXPRESS = "arn:aws:states:eu-west-1:123456789012:express:pyflows-staging-flight-deals:run-1:0a1b"
LINK = "https://console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/"


def envelope(
    message: str, subject: str = "[flight-deals] execution failed", emailed: str | None = None
) -> str:
    attributes = {"MessageAttributes": {"emailed": {"Type": "String", "Value": emailed}}} if emailed else {}
    return json.dumps(
        {
            "Type": "Notification",
            "Subject": subject,
            "Message": message,
            "Timestamp": "2026-12-01T09:30:00.000Z",
            **attributes,
        }
    )


@pytest.mark.parametrize(("endpoint", "wait"), [(None, 1), ("http://127.0.0.1:4566", 0)])
def test_the_inbox_is_read_until_a_receive_finds_none_long_polling_on_aws_only(
    endpoint: str | None, wait: int
) -> None:
    """On AWS a short poll samples some SQS servers and may answer empty while messages are left;
    the local cloud's answers exactly. Every message is read: the newest may be in any batch."""
    env = dataclasses.replace(load("local"), endpoint=endpoint)
    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/inbox"
    asked = {"QueueUrl": url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 30, "WaitTimeSeconds": wait}
    batches = [
        [{"MessageId": f"{b}-{i}", "ReceiptHandle": f"{b}-{i}", "Body": "{}"} for i in range(n)]
        for b, n in ((1, 10), (2, 3))
    ]
    with Stubber(sqs) as stub:
        for batch in batches:
            stub.add_response("receive_message", {"Messages": batch}, asked)
        stub.add_response("receive_message", {}, asked)
        assert receive_all(sqs, url, env) == batches[0] + batches[1]
        stub.assert_no_pending_responses()


def test_an_alert_says_whether_it_was_emailed_and_its_note_is_its_own() -> None:
    note = "Its batch is parked at s3://b/parked/x.json."
    failed = f"Workflow flight-deals execution {EXPRESS} failed with Broken: boom (see it: {LINK}{EXPRESS})"

    held = parse(envelope(f"{failed} {note} {EMAILED_ONCE}", emailed="no"))
    sent = parse(envelope(f"{failed} {EMAILED_ONCE}", emailed="yes"))
    alarm = parse(envelope(json.dumps({"AlarmName": "a", "NewStateValue": "ALARM"})))  # carries none

    assert (held["emailed"], held["note"], held["cause"]) == (False, note, "boom")
    assert (sent["emailed"], sent["note"], sent["link"]) == (True, None, LINK + EXPRESS)
    assert alarm["emailed"] is True


def test_a_failures_alert_gives_its_execution_error_cause_link_and_note() -> None:
    cause = "Store Records: 3 of 20 records not stored (see it: the table)"  # its own parentheses
    note = "Its batch is parked at s3://b/parked/x.json: once the cause is fixed, python -m tasks.flight_deals.replay --env staging --key parked/x.json runs it again."
    message = f"Workflow flight-deals execution {EXPRESS} failed with RecordsNotStored: {cause} (see it: {LINK}{EXPRESS}) {note}"

    alert = parse(envelope(message))

    assert alert["workflow"] == "flight-deals" and alert["execution"] == EXPRESS and alert["name"] == "run-1"
    assert (alert["error"], alert["cause"], alert["reason"]) == ("RecordsNotStored", cause, cause)
    assert alert["link"] == LINK + EXPRESS and alert["note"] == note
    assert alert["sent"] == "2026-12-01T09:30:00.000Z" and alert["message"] == message


def test_a_lambda_errors_cause_is_read_as_its_message_as_describe_reads_it() -> None:
    document = {
        "errorMessage": "2 winners requested but only 1",
        "errorType": "NotEnoughEligibleEmployees",
        "stackTrace": ["  File ...\n"] * 40,
    }
    cause = json.dumps(document)
    message = f"Workflow lottery execution {EXPRESS} failed with NotEnoughEligibleEmployees: {cause} (see it: {LINK}{EXPRESS})"

    alert = parse(envelope(message, "[lottery] execution failed"))

    assert (alert["error"], alert["cause"]) == ("NotEnoughEligibleEmployees", cause)
    assert alert["reason"] == "2 winners requested but only 1"  # no JSON, no stack trace


def test_an_alarms_alert_and_any_other_are_kept_as_sent() -> None:
    alarm = {
        "AlarmName": "pyflows-prod-schedules-dropped",
        "NewStateValue": "ALARM",
        "NewStateReason": "1 dropped",
    }
    alert = parse(envelope(json.dumps(alarm), "ALARM: schedules dropped"))
    assert alert["alarm"] == "pyflows-prod-schedules-dropped" and alert["reason"] == "ALARM: 1 dropped"
    other = parse(envelope("sent by hand", "a test"))
    assert "execution" not in other and "reason" not in other and other["message"] == "sent by hand"


def test_a_functions_own_alerts_are_emailed_once_an_hour_per_error(aws: None) -> None:
    """As the workflows' (policies.alert_window): the first of an error in the window is emailed,
    the next ones only reach the inbox, another error has its own window, and a window that cannot
    be read (its table gone) emails."""
    sns, dynamodb = boto3.client("sns"), boto3.client("dynamodb")
    create_table(ALERT_WINDOWS_TABLE, "windows")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    inbox = Inbox(boto3.client, topic, raw=False)
    now = [1_000_000.0]
    alert = WindowedAlert(sns, topic, dynamodb, "windows", "ride-request POST /ride", clock=lambda: now[0])

    alert("[ride-request] POST /ride failed", "one", "ThrottlingException")
    alert("[ride-request] POST /ride failed", "two", "ThrottlingException")
    alert("[ride-request] POST /ride failed", "three", "TIMED_OUT")
    now[0] += ALERT_WINDOW_SECONDS
    alert("[ride-request] POST /ride failed", "four", "ThrottlingException")
    dynamodb.delete_table(TableName="windows")
    alert("[ride-request] POST /ride failed", "five", "ThrottlingException")

    sent = [json.loads(body) for body in inbox.messages()]
    assert [(s["Message"], s["MessageAttributes"][EMAILED]["Value"]) for s in sent] == [
        ("one", "yes"),
        ("two", "no"),
        ("three", "yes"),
        ("four", "yes"),
        ("five", "yes"),
    ]


def test_a_functions_alert_that_cannot_be_sent_releases_its_window(aws: None) -> None:
    """As the workflows' Release Alert Window: the next alert of its error is emailed."""
    sns, dynamodb = boto3.client("sns"), boto3.client("dynamodb")
    create_table(ALERT_WINDOWS_TABLE, "windows")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    inbox = Inbox(boto3.client, topic, raw=False)
    gone = WindowedAlert(sns, topic + "-gone", dynamodb, "windows", "ride-request POST /ride")

    with pytest.raises(ClientError):
        gone("[ride-request] POST /ride failed", "lost", "ThrottlingException")
    WindowedAlert(sns, topic, dynamodb, "windows", "ride-request POST /ride")(
        "[ride-request] POST /ride failed", "sent", "ThrottlingException"
    )

    [sent] = [json.loads(body) for body in inbox.messages()]
    assert (sent["Message"], sent["MessageAttributes"][EMAILED]["Value"]) == ("sent", "yes")


def test_a_cause_ending_in_a_lambda_error_document_is_read_with_its_message() -> None:
    """A failure whose alert could not be sent keeps the Lambda error's document after what the
    alert met: read as that, with the document's message, not its JSON and stack trace."""
    document = {
        "errorMessage": 'show: the broker has no show "x"',
        "errorType": "InvalidInput",
        "stackTrace": ["  File ...\n"] * 40,
    }
    said = UNALERTED_CAUSE.format("SNS.NotFoundException", "Topic does not exist {arn}", json.dumps(document))
    assert cause_message(said) == (
        'the alert was not sent (SNS.NotFoundException: Topic does not exist {arn}): show: the broker has no show "x"'
    )
    assert cause_message(json.dumps(document)) == document["errorMessage"]
    for kept in ("a Fail state's text", "ends in {not json", '{"no": "errorMessage"}', ""):
        assert cause_message(kept) == kept


def _search(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("queryStringParameters") is None:
        return error(400, "InvalidInput", "from: is a required property")
    raise KeyError("performance_id")


def test_a_routes_unexpected_failure_is_500_and_alerted_naming_the_function_and_the_error(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tasks.shared.api.route: every route's function, emailed once an hour per function and error,
    as the message ends by saying; a client's mistake (400) alerts no one."""
    sns = boto3.client("sns")
    create_table(ALERT_WINDOWS_TABLE, "windows")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    monkeypatch.setenv(TOPIC_VARIABLE, topic)
    monkeypatch.setenv(WINDOWS_VARIABLE, "windows")
    inbox = Inbox(boto3.client, topic, raw=False)
    handler = route("ticket-ranking", "api-search")(_search)

    assert handler({"queryStringParameters": None}, None)["statusCode"] == 400
    answers = [
        handler({"requestContext": {"requestId": f"r{i}"}, "queryStringParameters": {}}, None) for i in (1, 2)
    ]

    for i, answer in enumerate(answers, 1):
        body = json.loads(answer["body"])
        assert answer["statusCode"] == 500 and body == {
            "error": "InternalError",
            "message": f"the request failed (request id r{i})",
            "request_id": f"r{i}",
        }
        assert answer["headers"]["X-Request-Id"] == f"r{i}"
    sent = [json.loads(body) for body in inbox.messages()]
    assert [s["Subject"] for s in sent] == ["[ticket-ranking] api-search failed: KeyError"] * 2
    assert [s["MessageAttributes"][EMAILED]["Value"] for s in sent] == ["yes", "no"]
    assert sent[0]["Message"].startswith("api-search, request r1: Traceback")
    assert "KeyError: 'performance_id'" in sent[0]["Message"] and sent[0]["Message"].endswith(
        EMAILED_ONCE_A_FUNCTION
    )


def test_a_route_whose_alert_cannot_be_sent_still_answers_500(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOPIC_VARIABLE, raising=False)
    answer = route("ticket-ranking", "api-search")(_search)({"queryStringParameters": {}}, None)
    assert answer["statusCode"] == 500 and json.loads(answer["body"])["error"] == "InternalError"


def test_an_api_functions_alert_names_its_workflow_function_error_and_what_it_met() -> None:
    """Read as a failure's: the workflow, function, error and request; the reason a traceback's
    last line; a run it started (that timed out) as its execution, to open."""
    traceback = (
        'Traceback (most recent call last):\n  File "api_search.py", line 9, in handler\n'
        "botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling Query\n"
    )
    crashed = parse(
        envelope(
            f"api-search, request r-1: {traceback}\n\n{EMAILED_ONCE_A_FUNCTION}",
            "[ticket-ranking] api-search failed: AccessDeniedException",
        )
    )
    assert {k: crashed[k] for k in ("workflow", "function", "error", "request", "reason")} == {
        "workflow": "ticket-ranking",
        "function": "api-search",
        "error": "AccessDeniedException",
        "request": "r-1",
        "reason": "botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling Query",
    }
    assert "execution" not in crashed
    run = "arn:aws:states:us-east-1:123456789012:express:pyflows-local-ride-request:ride-r-2:5f2c"
    timed_out = parse(
        envelope(
            f"api-ride, request r-2: execution {run} TIMED_OUT\n\n{EMAILED_ONCE}",  # as alerts ended before
            "[ride-request] api-ride failed: TIMED_OUT",
        )
    )
    assert (timed_out["execution"], timed_out["name"], timed_out["reason"]) == (
        run,
        "ride-r-2",
        f"execution {run} TIMED_OUT",
    )
    other = parse(envelope("a message of someone's own", "[ride-request] api-ride failed: X"))
    assert "function" not in other and "reason" not in other
