"""The alerts inbox: an SQS queue subscribed to the environment's alerts topic, in every environment.

The topic's email subscription is for people, and locally no email goes out at all; the inbox keeps
every alert (14 days, the longest SQS keeps a message) where `python -m workflows alerts` reads it,
on AWS as locally, with the state each failed execution failed in. Only the alerts topic may send
to it (its queue policy); reading it takes the reader's own sqs:ReceiveMessage.
"""

from __future__ import annotations

import json
from typing import Any

from infra.environments import Environment
from infra.names import Names
from infra.plan import Action, Context, owned
from infra.topics import subscriptions
from infra.waits import Retryable, retry

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


def ensure(ctx: Context) -> None:
    """The queue with its policy, retention and encryption, and its one subscription to the alerts
    topic (not raw: the SNS envelope keeps the subject and when the alert was sent)."""
    sqs, name, wanted = ctx.client("sqs"), inbox_name(ctx.env), attributes(ctx.names)
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        if ctx.change("queue", name, Action.CREATE, "the alerts inbox"):
            retry(
                lambda: sqs.create_queue(QueueName=name, Attributes=wanted, tags=ctx.env.tags()),
                DELETED_RECENTLY,
                sleep=ctx.sleep,
            )
    else:
        found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        differ = [key for key, value in wanted.items() if _differs(key, found.get(key), value)]
        if not differ:
            ctx.same("queue", name)
        elif ctx.change("queue", name, Action.UPDATE, ", ".join(differ)):
            sqs.set_queue_attributes(QueueUrl=url, Attributes={key: wanted[key] for key in differ})
    _subscribe(ctx)


def _subscribe(ctx: Context) -> None:
    topic, queue = ctx.names.alerts_topic_arn(), inbox_arn(ctx.names)
    if any(s["Protocol"] == "sqs" and s["Endpoint"] == queue for s in subscriptions(ctx, topic)):
        ctx.same("subscription", queue)
    elif ctx.change("subscription", queue, Action.CREATE, "alerts into the inbox"):
        ctx.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)


def destroy(ctx: Context) -> None:
    """The inbox, once its tags say it is the environment's (the topic's deletion ends its subscription)."""
    sqs, name = ctx.client("sqs"), inbox_name(ctx.env)
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        return
    tags: dict[str, Any] = sqs.list_queue_tags(QueueUrl=url).get("Tags", {})
    if owned(ctx.env, tags) and ctx.change("queue", name, Action.DELETE):
        sqs.delete_queue(QueueUrl=url)
