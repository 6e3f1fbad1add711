"""The environment's SQS queues: the alerts inbox, and each pipe's dead-letter queue.

The alerts inbox is subscribed to the environment's alerts topic, in every environment. The topic's
email subscription is for people, and locally no email goes out at all; the inbox keeps every alert
(14 days, the longest SQS keeps a message) where `python -m workflows alerts` reads it, on AWS as
locally, with the state each failed execution failed in. Only the alerts topic may send to it (its
queue policy); reading it takes the reader's own sqs:ReceiveMessage.

A pipe's dead-letter queue keeps, for 14 days, the description of each batch the pipe gave up on
(its shard and sequence numbers: the records stay in the stream until they expire). The pipe
sends to it with its own role's sqs:SendMessage, so it needs no queue policy; its alarm
(infra/alarms.py) tells the on-call. It holds what is to be recovered: a deploy keeps one no
workflow declares (infra/undeclared.py), and names it.
"""

from __future__ import annotations

import json
from typing import Any

from infra.environments import Environment
from infra.names import Names
from infra.plan import Action, Context, owned
from infra.topics import subscriptions
from infra.waits import Retryable, retry
from workflows.registry import StreamTrigger, Workflow

INBOX = "alerts-inbox"
RETENTION_SECONDS = 14 * 24 * 3600
# SQS refuses a queue of a name deleted less than 60 seconds ago (a deploy right after a --destroy):
# its code as AWS's answer gives it (x-amzn-query-error), and as botocore's model names it
DELETED_RECENTLY: Retryable = {
    "QueueDeletedRecently": ("",),
    "AWS.SimpleQueueService.QueueDeletedRecently": ("",),
}


def inbox_name(env: Environment) -> str:
    return env.resource_name(INBOX)


def inbox_arn(names: Names) -> str:
    return names.arn("sqs", inbox_name(names.env))


def attributes(names: Names) -> dict[str, str]:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AlertsTopicOnly",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": inbox_arn(names),
                "Condition": {"ArnEquals": {"aws:SourceArn": names.alerts_topic_arn()}},
            }
        ],
    }
    return {
        "Policy": json.dumps(policy, separators=(",", ":")),
        "MessageRetentionPeriod": str(RETENTION_SECONDS),
        "SqsManagedSseEnabled": "true",
    }


def _differs(key: str, found: str | None, wanted: str) -> bool:
    if key == "Policy":  # the same document, however AWS spaces it
        return found is None or json.loads(found) != json.loads(wanted)
    return found != wanted


def dead_letter_attributes() -> dict[str, str]:
    return {"MessageRetentionPeriod": str(RETENTION_SECONDS), "SqsManagedSseEnabled": "true"}


def ensure(ctx: Context) -> None:
    """The inbox with its policy, retention and encryption, and its one subscription to the alerts
    topic (not raw: the SNS envelope keeps the subject and when the alert was sent)."""
    _ensure_queue(ctx, inbox_name(ctx.env), attributes(ctx.names), "the alerts inbox")
    _subscribe(ctx)


def ensure_dead_letters(ctx: Context, wf: Workflow, trigger: StreamTrigger) -> None:
    """The dead-letter queue of the pipe of `trigger`, before the pipe that names it."""
    name = ctx.names.dead_letter_queue(wf, trigger)
    _ensure_queue(ctx, name, dead_letter_attributes(), f"batches the {trigger.stream} pipe gave up on")


def _ensure_queue(ctx: Context, name: str, wanted: dict[str, str], purpose: str) -> None:
    sqs = ctx.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        if ctx.change("queue", name, Action.CREATE, purpose):
            retry(
                lambda: sqs.create_queue(QueueName=name, Attributes=wanted, tags=ctx.env.tags()),
                DELETED_RECENTLY,
                sleep=ctx.sleep,
            )
        return
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    differ = [key for key, value in wanted.items() if _differs(key, found.get(key), value)]
    if not differ:
        ctx.same("queue", name)
    elif ctx.change("queue", name, Action.UPDATE, ", ".join(differ)):
        sqs.set_queue_attributes(QueueUrl=url, Attributes={key: wanted[key] for key in differ})


def _subscribe(ctx: Context) -> None:
    topic, queue = ctx.names.alerts_topic_arn(), inbox_arn(ctx.names)
    if any(s["Protocol"] == "sqs" and s["Endpoint"] == queue for s in subscriptions(ctx, topic)):
        ctx.same("subscription", queue)
    elif ctx.change("subscription", queue, Action.CREATE, "alerts into the inbox"):
        ctx.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)


def _owned(ctx: Context) -> dict[str, str]:
    """Name -> URL of the environment's queues (by their tags: another environment's names may
    start with this one's)."""
    sqs, found = ctx.client("sqs"), {}
    for page in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=ctx.env.resource_name("")):
        for url in page.get("QueueUrls", []):
            tags: dict[str, Any] = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
            if owned(ctx.env, tags):
                found[url.rsplit("/", 1)[1]] = url
    return found


def undeclared(ctx: Context, keep: set[str]) -> dict[str, str]:
    """Name -> URL of the environment's queues not in `keep` (dead-letter queues of pipes no
    longer declared): kept, for what they describe may still be recovered."""
    return {name: url for name, url in sorted(_owned(ctx).items()) if name not in keep}


def destroy(ctx: Context) -> None:
    """The environment's queues (the topic's deletion ends the inbox's subscription)."""
    for name, url in sorted(_owned(ctx).items()):
        if ctx.change("queue", name, Action.DELETE):
            ctx.client("sqs").delete_queue(QueueUrl=url)
