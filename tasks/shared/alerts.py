"""Alerts a function sends itself, emailed as the workflows' are (workflows.policies.alert_window):
the first of an error in ALERT_WINDOW_SECONDS is emailed, the next ones only reach the alerts inbox.
The window is an item of the environment's alert-windows table, written only when none is open, so
that functions failing at once agree on one email. A function that alerts is given the topic and
the table in its environment (TOPIC_VARIABLE, WINDOWS_VARIABLE: workflows.policies.ALERT_ENVIRONMENT).
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tasks.shared import clients

# One email per source and error in this long: in an outage everything fails alike.
ALERT_WINDOW_SECONDS = 3600
# A workflow's alerts of one error are emailed once in ALERT_WINDOW_SECONDS (a function's own, once
# per function and error): in an outage every run fails alike, and the on-call needs the first, not one email
# per run. Every alert still goes to the inbox. The alerts' messages end with this.
_EVERY_ONE_KEPT = "the alerts inbox keeps every one (python -m workflows alerts)."
EMAILED_ONCE = f"Alerts of one workflow and error are emailed once an hour; {_EVERY_ONE_KEPT}"
# The same for a function's own alerts, whose window is the function's (WindowedAlert's source).
EMAILED_ONCE_A_FUNCTION = f"Alerts of one function and error are emailed once an hour; {_EVERY_ONE_KEPT}"
# The message attribute the alerts' email subscription filters on ("yes" or "no").
EMAILED = "emailed"
# A window is an item: `alert` (what alerts, and the error) until `expires` (epoch seconds, also
# DynamoDB's time to live, which deletes late), written by its `owner`. The conditions that open
# one (none there, or expired at `:now`) and that release the owner's (`:owner`), here for the
# workflows' window states (workflows.policies) and for the functions' alerts alike.
FREE = "attribute_not_exists(#alert) OR #expires <= :now"
FREE_NAMES = {"#alert": "alert", "#expires": "expires"}
OWNED = "#owner = :owner"
OWNED_NAMES = {"#owner": "owner"}
# where a function finds the alerts topic's ARN and the windows table's name
TOPIC_VARIABLE, WINDOWS_VARIABLE = "ALERTS_TOPIC_ARN", "ALERT_WINDOWS_TABLE"
# A function may alert in its last seconds (api-ride, after a run timed out at 25 of its 29): the
# window is read briefly, or the function would time out before the alert and the answer go.
WINDOW_READ = Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 2})
Alert = Callable[[str, str, str], None]  # (subject, message, the error: what its window is of)


@dataclass
class WindowedAlert:
    """Publishes an alert on the alerts topic, marked emailed when it opens the window of its
    `source` and `error` (a window that cannot be read emails: a second email rather than none)."""

    sns: Any
    topic_arn: str
    dynamodb: Any
    table: str
    source: str  # what alerts, as the window's key begins: "ride-request POST /ride"
    clock: Callable[[], float] = field(default=time.time)

    def __call__(self, subject: str, message: str, error: str) -> None:
        key, mine = {"alert": {"S": f"{self.source} {error}"}}, uuid.uuid4().hex
        opened, emailed = self._open(key, mine)
        try:
            self.sns.publish(
                TopicArn=self.topic_arn,
                Subject=subject[:100],
                Message=message,
                MessageAttributes={
                    EMAILED: {"DataType": "String", "StringValue": "yes" if emailed else "no"}
                },
            )
        except Exception:
            if opened:  # not sent: the next alert of its error must be emailed
                self._release(key, mine)
            raise

    def _open(self, key: dict[str, Any], mine: str) -> tuple[bool, bool]:
        """(whether this alert opened the window, whether it is emailed)."""
        now = int(self.clock())
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item={**key, "expires": {"N": str(now + ALERT_WINDOW_SECONDS)}, "owner": {"S": mine}},
                ConditionExpression=FREE,
                ExpressionAttributeNames=FREE_NAMES,
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ClientError as problem:
            return False, problem.response["Error"]["Code"] != "ConditionalCheckFailedException"
        except BotoCoreError:  # unreachable: a window that cannot be read emails
            return False, True
        return True, True

    def _release(self, key: dict[str, Any], mine: str) -> None:
        with contextlib.suppress(ClientError, BotoCoreError):  # else it expires within the hour
            self.dynamodb.delete_item(
                TableName=self.table,
                Key=key,
                ConditionExpression=OWNED,
                ExpressionAttributeNames=OWNED_NAMES,
                ExpressionAttributeValues={":owner": {"S": mine}},
            )


def of_function(source: str) -> Alert:
    """`source`'s alerts on the topic and table the function's environment names, read at each
    alert: a function not given them fails to alert (KeyError) only when it has something to say.
    Its clients are made for each alert, which is rare, so that a test's clients.override holds."""

    def send(subject: str, message: str, error: str) -> None:
        dynamodb = clients.configured("dynamodb", WINDOW_READ)
        topic_arn, table = os.environ[TOPIC_VARIABLE], os.environ[WINDOWS_VARIABLE]
        WindowedAlert(clients.client("sns"), topic_arn, dynamodb, table, source)(subject, message, error)

    return send


def error_name(problem: BaseException) -> str:
    """An AWS error's code (ThrottlingException), else the exception's class: what a window is of."""
    if isinstance(problem, ClientError):
        return str(problem.response.get("Error", {}).get("Code") or type(problem).__name__)
    return type(problem).__name__
