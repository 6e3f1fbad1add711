"""Alerts a function sends itself, emailed as the workflows' are (workflows.policies.alert_window):
the first of an error in ALERT_WINDOW_SECONDS is emailed, the next ones only reach the alerts inbox.
The window is an item of the environment's alert-windows table, written only when none is open, so
that functions failing at once agree on one email.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

# One email per source and error in this long: in an outage everything fails alike.
ALERT_WINDOW_SECONDS = 3600
# The message attribute the alerts' email subscription filters on ("yes" or "no").
EMAILED = "emailed"


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
        emailed = "yes" if self._opens_window(error) else "no"
        self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=subject[:100],
            Message=message,
            MessageAttributes={EMAILED: {"DataType": "String", "StringValue": emailed}},
        )

    def _opens_window(self, error: str) -> bool:
        now = int(self.clock())
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item={
                    "alert": {"S": f"{self.source} {error}"},
                    "expires": {"N": str(now + ALERT_WINDOW_SECONDS)},
                },
                ConditionExpression="attribute_not_exists(#alert) OR #expires <= :now",
                ExpressionAttributeNames={"#alert": "alert", "#expires": "expires"},
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ClientError as problem:
            return problem.response["Error"]["Code"] != "ConditionalCheckFailedException"
        return True
