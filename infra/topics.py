"""SNS topics, the environment's alerts topic and its email subscription, and the subscribers
environments.toml declares for the workflows' topics that take them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from infra.environments import ConfigError, Environment, Subscriber
from infra.plan import Action, Context, owned, tag_dict, tag_list
from workflows.policies import EMAIL_FILTER
from workflows.registry import Workflow

# the protocols of the subscribers environments.toml declares; others (a queue) are not deploy's
DECLARED_PROTOCOLS = ("email", "sms")


def ensure(ctx: Context, name: str, arn: str, display_name: str = "") -> None:
    sns = ctx.client("sns")
    try:
        attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    except sns.exceptions.NotFoundException:
        if ctx.change("topic", name, Action.CREATE):
            attrs = {"DisplayName": display_name} if display_name else {}
            sns.create_topic(Name=name, Attributes=attrs, Tags=tag_list(ctx.env.tags()))
        return
    if attributes.get("DisplayName", "") == display_name:
        ctx.same("topic", name)
    elif ctx.change("topic", name, Action.UPDATE, "display name"):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue=display_name)


def subscriptions(ctx: Context, arn: str) -> list[dict[str, Any]]:
    """The topic's subscriptions; none while the topic is only planned."""
    sns = ctx.client("sns")
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)  # 100 a page
    try:
        return [subscription for page in pages for subscription in page["Subscriptions"]]
    except sns.exceptions.NotFoundException:
        return []


def ensure_email(ctx: Context, arn: str, email: str | None) -> None:
    """Exactly one email subscription: the configured address (AWS sends it a confirmation), which
    takes only the alerts marked to be emailed (policies.EMAIL_FILTER); the inbox takes them all."""
    sns = ctx.client("sns")
    emails = [s for s in subscriptions(ctx, arn) if s["Protocol"] == "email"]
    for old in emails:
        # Unconfirmed subscriptions have no ARN yet and cannot be removed; they expire after 3 days.
        stale = old["Endpoint"] != email and old["SubscriptionArn"].startswith("arn:")
        if stale and ctx.change("subscription", old["Endpoint"], Action.DELETE, "alert address changed"):
            sns.unsubscribe(SubscriptionArn=old["SubscriptionArn"])
    if not email:
        return
    current = next((s for s in emails if s["Endpoint"] == email), None)
    if current is None:
        if ctx.change("subscription", email, Action.CREATE, "alerts by email"):
            attributes = {"FilterPolicy": json.dumps(EMAIL_FILTER)}
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=email, Attributes=attributes)
    elif not _filtered(ctx, current["SubscriptionArn"]):
        # one made before the filter: each alert of an outage would be emailed (until confirmed it
        # has no ARN, and the filter it was made with, if any, cannot be read or set)
        if ctx.change("subscription", email, Action.UPDATE, "email only the alerts marked emailed"):
            sns.set_subscription_attributes(
                SubscriptionArn=current["SubscriptionArn"],
                AttributeName="FilterPolicy",
                AttributeValue=json.dumps(EMAIL_FILTER),
            )
    else:
        ctx.same("subscription", email)


def check_subscribers(env: Environment, workflows: Iterable[Workflow]) -> None:
    """Every `subscribers.<workflow>.<topic>` names a topic that takes them, before any change."""
    takes = {(wf.name, t.name) for wf in workflows for t in wf.topics if t.declared_subscribers}
    for workflow, topic in env.subscribers:
        if (workflow, topic) not in takes:
            known = ", ".join(f"{w}.{t}" for w, t in sorted(takes))
            raise ConfigError(
                f"environment {env.name!r}: subscribers.{workflow}.{topic} in environments.toml names no "
                f"topic whose subscribers it declares; those are: {known}"
            )


def ensure_subscribers(ctx: Context, name: str, arn: str, declared: Sequence[Subscriber]) -> None:
    """The topic's email and SMS subscribers are exactly `declared` (environments.toml names the
    topic; one it does not name is left as it is): each subscribed once (AWS asks an address to
    confirm first), any other unsubscribed, whoever made it. One still unconfirmed has no ARN and
    cannot be: AWS deletes it once it lapses unconfirmed. Other protocols are left be."""
    sns, wanted = ctx.client("sns"), {(s.protocol, s.endpoint) for s in declared}
    found = [s for s in subscriptions(ctx, arn) if s["Protocol"] in DECLARED_PROTOCOLS]
    for old in found:
        label = f"{name} {old['Endpoint']}"
        if (old["Protocol"], old["Endpoint"]) in wanted:
            continue
        if not old["SubscriptionArn"].startswith("arn:"):
            why = "not declared, but unconfirmed: no ARN to unsubscribe it by; it lapses"
            ctx.say(f"  {'left':<16} {'subscription':<14} {label} ({why})")
        elif ctx.change("subscription", label, Action.DELETE, "not declared in environments.toml"):
            sns.unsubscribe(SubscriptionArn=old["SubscriptionArn"])
    have = {(s["Protocol"], s["Endpoint"]) for s in found}
    for new in declared:
        label = f"{name} {new.endpoint}"
        if (new.protocol, new.endpoint) in have:
            ctx.same("subscription", label)
        elif ctx.change("subscription", label, Action.CREATE, _HOW[new.protocol]):
            sns.subscribe(TopicArn=arn, Protocol=new.protocol, Endpoint=new.endpoint)


_HOW = {"sms": "by SMS", "email": "by email, once the address confirms it"}


def _filtered(ctx: Context, subscription: str) -> bool:
    """Whether a subscription has the email filter, as far as can be read: one not yet confirmed
    cannot be, and is taken as made with it."""
    if not subscription.startswith("arn:"):
        return True
    attributes = ctx.client("sns").get_subscription_attributes(SubscriptionArn=subscription)["Attributes"]
    return json.loads(attributes.get("FilterPolicy") or "null") == EMAIL_FILTER


def _owned(ctx: Context, keep: set[str]) -> list[tuple[str, str]]:
    """(name, ARN) of the environment's topics, but those in `keep`."""
    sns, prefix, found = ctx.client("sns"), ctx.env.resource_name(""), []
    for page in sns.get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            arn = topic["TopicArn"]
            name = arn.rsplit(":", 1)[-1]
            if not name.startswith(prefix) or name in keep:
                continue
            if owned(ctx.env, tag_dict(sns.list_tags_for_resource(ResourceArn=arn)["Tags"])):
                found.append((name, arn))
    return found


def undeclared(ctx: Context, keep: set[str]) -> list[str]:
    """The environment's topics not in `keep`: kept by a deploy, as their subscribers are."""
    return [name for name, _ in _owned(ctx, keep)]


def destroy(ctx: Context) -> None:
    sns = ctx.client("sns")
    for name, arn in _owned(ctx, set()):
        if ctx.change("topic", name, Action.DELETE):
            for sub in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]:
                if sub["SubscriptionArn"].startswith("arn:"):
                    sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
            sns.delete_topic(TopicArn=arn)
