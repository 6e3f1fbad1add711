"""The alerts inbox (infra/queues.py): every alert published on the environment's alerts topic, read
back for `python -m workflows alerts`.

Reading peeks: each message received is made visible again at once, so that the alerts stay in
the inbox (14 days) until someone acknowledges them (`ack`, which deletes those read).
"""

from __future__ import annotations

import json
import re
from typing import Any

from botocore.exceptions import ClientError

from console.errors import ConsoleError, NotDeployed
from console.graph import runs
from console.service import ExecutionService
from infra.environments import Environment
from infra.queues import inbox_name
from tasks.shared.alerts import EMAILED_ONCE_A_FUNCTION
from tasks.shared.errors import cause_message
from workflows.policies import EMAILED, EMAILED_ONCE

# Alert Failure's message (workflows/policies.alert_and_fail): the cause runs up to the link, which
# ends it; a note (flight-deals' parked batch) may follow, then what is emailed (earlier alerts
# had not that sentence).
_FAILURE = re.compile(
    r"Workflow (?P<workflow>\S+) execution (?P<execution>arn:\S+) failed with (?P<error>.*?): "
    r"(?P<cause>.*) \(see it: (?P<link>\S+)\)(?: (?P<note>.*?))??(?: " + re.escape(EMAILED_ONCE) + ")?",
    re.DOTALL,
)
# An HTTP API function's (tasks/shared/api.unexpected): its subject names the workflow, function
# and error; its message the request and what happened (a traceback, or the execution it ran), then
# what is emailed (the function's sentence; earlier alerts ended with the workflow's).
_FUNCTION_SUBJECT = re.compile(r"\[(?P<workflow>[^\]]+)\] (?P<function>\S+) failed: (?P<error>.+)")
_FUNCTION = re.compile(
    r"(?P<function>\S+), request (?P<request>\S+): (?P<detail>.*?)"
    rf"(?:\n\n(?:{re.escape(EMAILED_ONCE_A_FUNCTION)}|{re.escape(EMAILED_ONCE)}))?",
    re.DOTALL,
)
_EXECUTION = re.compile(r"arn:[\w-]+:states:[\w-]+:\d+:(?:express|execution):\S+")
# Hidden from another reader while this one reads; a reader that dies shows them again after it.
_READING_SECONDS = 30


def parse(body: str) -> dict[str, Any]:
    """One inbox message (an SNS envelope) as an alert: when and what was sent, whether by email
    too, and for a failed execution its workflow, execution, error, cause (whole and readable) and
    link."""
    envelope = json.loads(body)
    message = str(envelope.get("Message", ""))
    # only a failed execution's alert says; the email subscription takes any other
    emailed = envelope.get("MessageAttributes", {}).get(EMAILED, {}).get("Value", "yes")
    alert: dict[str, Any] = {
        "sent": envelope.get("Timestamp"),
        "subject": envelope.get("Subject"),
        "message": message,
        "emailed": emailed == "yes",
    }
    failure = _FAILURE.fullmatch(message)
    if failure:
        found = failure.groupdict()
        alert.update(found, name=found["execution"].split(":")[7], reason=cause_message(found["cause"]))
        return alert
    subject, function = _FUNCTION_SUBJECT.fullmatch(str(alert["subject"] or "")), _FUNCTION.fullmatch(message)
    if subject and function:
        detail = function["detail"]
        alert.update(subject.groupdict(), request=function["request"], reason=_last_line(detail))
        if execution := _EXECUTION.search(detail):  # the run it started, which timed out...
            alert.update(execution=execution[0], name=execution[0].split(":")[7])
        return alert
    try:  # a CloudWatch alarm's (schedules dropped, an execution timed out) is a JSON document
        alarm = json.loads(message)
    except ValueError:
        return alert
    if isinstance(alarm, dict) and "AlarmName" in alarm:
        alert["alarm"] = alarm["AlarmName"]
        alert["reason"] = f"{alarm.get('NewStateValue', '?')}: {alarm.get('NewStateReason', '')}"
    return alert


def _last_line(detail: str) -> str:
    """What a person reads first of what a function met: a traceback's last line (the exception
    and its message), else the text."""
    lines = [line for line in detail.splitlines() if line.strip()]
    return lines[-1].strip() if detail.startswith("Traceback") and lines else detail


def poll_seconds(env: Environment) -> int:
    """How long each receive of `receive_all` waits for messages. On AWS a second: a long poll asks
    every SQS server, where a short one samples some and may answer empty while messages are left.
    On the local cloud none: its SQS is one server, which a short poll reads exactly, and the empty
    receive that ends every read would wait that second for nothing."""
    return 0 if env.is_local else 1


def receive_all(sqs: Any, url: str, env: Environment) -> list[dict[str, Any]]:
    """Every message in `env`'s queue (all are read: the newest are among any of them), each
    received hidden so that the next call gets others, until a receive finds none."""
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=_READING_SECONDS,
        WaitTimeSeconds=poll_seconds(env),
    ).get("Messages", []):
        found += batch
    return found


def settle(sqs: Any, url: str, handles: list[str], delete: bool) -> None:
    """The messages received (`receive_all`) deleted, or put back (visible again at once: read,
    not taken)."""
    for start in range(0, len(handles), 10):
        entries: list[dict[str, Any]] = [
            {"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles[start : start + 10])
        ]
        if delete:
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        else:
            visible = [{**entry, "VisibilityTimeout": 0} for entry in entries]
            sqs.change_message_visibility_batch(QueueUrl=url, Entries=visible)


class AlertInbox:
    def __init__(self, service: ExecutionService) -> None:
        self.service = service
        self.sqs = service.env.client("sqs")
        name = inbox_name(service.env)
        try:
            self.url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except self.sqs.exceptions.QueueDoesNotExist:
            raise NotDeployed(
                f"no alerts inbox in {service.env.name} (no queue {name}): run {service.env.deploy_command}"
            ) from None

    def read(self, limit: int, ack: bool = False) -> list[dict[str, Any]]:
        """The newest `limit` alerts, each with the state its execution failed in; `ack` deletes
        those returned, else every one received is put back."""
        received = receive_all(self.sqs, self.url, self.service.env)
        alerts = sorted(
            ((parse(m["Body"]), m["ReceiptHandle"]) for m in received),
            key=lambda pair: str(pair[0]["sent"]),
            reverse=True,
        )
        shown, rest = alerts[:limit], alerts[limit:]
        settle(self.sqs, self.url, [handle for _, handle in shown], delete=ack)
        settle(self.sqs, self.url, [handle for _, handle in rest], delete=False)
        for alert, _ in shown:
            if alert.get("execution"):
                alert["failedIn"] = self._failed_in(alert["execution"])
        return [alert for alert, _ in shown]

    def _failed_in(self, execution: str) -> str | None:
        """Where the execution failed, as `describe` says it; None when its history cannot be read
        (AWS keeps none of an Express execution, or the execution is gone)."""
        try:
            return runs.failed_in(self.service.history(execution))
        except (ConsoleError, ClientError):  # an alert is still worth reading without it
            return None
