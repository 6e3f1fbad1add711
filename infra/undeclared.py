"""What a deploy of every workflow does with what the registry no longer declares (a workflow, a
function, a route, a trigger): the environment's resources (tagged with its app and env, as
`--destroy` finds them) that hold no data are removed, consumers first; those that hold data
(tables, buckets, streams, topics, log groups, settings) are kept and named, with the command
that deletes each; so is a pipe's dead-letter queue, which describes what is to be recovered. An
index a declared table no longer declares goes, as it is derived from the table's items, which
stay. Routes carry no tags: only those deploy made (infra/api.py `mark`) are removed, and one added
by hand on the environment's API is kept and named too.

A `--workflow` deploy removes nothing: it does not say what the other workflows need.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from infra import (
    alarms,
    api,
    buckets,
    functions,
    iam,
    logs,
    parameters,
    pipes,
    queues,
    schedules,
    statemachines,
    streams,
    tables,
    topics,
)
from infra.names import Names
from infra.plan import Context
from workflows.registry import (
    SHARED,
    Bucket,
    Stream,
    StreamTrigger,
    Table,
    Topic,
    Workflow,
)


@dataclass(frozen=True)
class Declared:
    """The names of what `workflows` need, per kind."""

    functions: set[str]
    state_machines: set[str]
    pipes: set[str]
    alarms: set[str]
    roles: set[str]
    tables: set[str]
    buckets: set[str]
    streams: set[str]
    topics: set[str]
    log_groups: set[str]
    queues: set[str]


def declared(names: Names, workflows: Iterable[Workflow]) -> Declared:
    env, workflows = names.env, list(workflows)
    found = Declared(*(set() for _ in range(11)))
    kinds = {Table: found.tables, Bucket: found.buckets, Stream: found.streams, Topic: found.topics}
    for logical, resource in SHARED.items():  # whichever workflows deploy
        kinds[type(resource)].add(env.resource_name(logical))
    found.queues.add(queues.inbox_name(env))
    if api.routes(workflows):
        found.roles.add(env.resource_name("api"))
    if api.routes(workflows) or api.served(workflows):
        found.log_groups.add(names.api_log_group())
    if any(schedules.schedules(wf) for wf in workflows):
        found.alarms.add(alarms.dropped_name(env))
    for wf in workflows:
        found.state_machines.add(names.state_machine(wf))
        found.alarms.add(env.resource_name(wf.name, "timed-out"))
        found.alarms.update(alarms.errors_name(env, wf, function) for function in alarms.route_functions(wf))
        found.roles.add(names.role(wf.name, "sfn"))
        found.log_groups.add(names.state_machine_log_group(wf))
        if schedules.schedules(wf):
            found.roles.add(names.role(wf.name, "scheduler"))
        for fn in wf.functions:
            found.functions.add(names.function(wf, fn))
            found.roles.add(names.function(wf, fn))  # each function's role is named after it
            found.log_groups.add(names.function_log_group(wf, fn))
        for trigger in wf.triggers:
            if isinstance(trigger, StreamTrigger):
                found.pipes.add(env.resource_name(wf.name, trigger.stream))
                found.roles.add(names.role(wf.name, trigger.stream, "pipe"))
                found.queues.add(names.dead_letter_queue(wf, trigger))
                found.alarms.add(alarms.dead_letters_name(env, wf, trigger))
        for logical, resource in wf.resources().items():
            if type(resource) in kinds:
                kinds[type(resource)].add(names.resource(wf, logical))
    return found


def declared_tables(names: Names, workflows: Iterable[Workflow]) -> dict[str, Table]:
    """The tables `workflows` declare, by their deployed names."""
    return {
        names.resource(wf, logical): resource
        for wf in workflows
        for logical, resource in wf.resources().items()
        if isinstance(resource, Table)
    }


@dataclass(frozen=True)
class Kept:
    kind: str
    name: str
    command: str  # what deletes it, for the user to run if it is not wanted
    why: str = "no workflow declares it"

    def line(self) -> str:
        return f"  kept             {self.kind:<14} {self.name} ({self.why}; delete it: {self.command})"


# why a route on the environment's API that no workflow declares is not removed
BY_HAND = "no workflow declares it, and deploy did not make it: added by hand?"


def remove(ctx: Context, workflows: Iterable[Workflow]) -> list[Kept]:
    """Remove (or plan to) what no workflow of `workflows` declares and holds no data, each after
    what uses it: routes and schedules before the state machines and functions they start, a pipe
    before its state machine, an index after the functions (each deployed by then: none reads it),
    roles last. Return what is kept: data, and routes deploy did not make, each with the command
    that deletes it."""
    workflows = list(workflows)
    keep = declared(ctx.names, workflows)
    aws = parameters.aws_cli(ctx.env)
    routes = [
        Kept(
            "route",
            r.key,
            f"{aws} apigatewayv2 delete-route --api-id {r.api_id} --route-id {r.route_id}",
            BY_HAND,
        )
        for r in api.remove_undeclared(ctx, workflows, keep.functions)
    ]
    schedules.remove_undeclared(ctx, workflows)
    pipes.remove_undeclared(ctx, keep.pipes)
    alarms.remove_undeclared(ctx, keep.alarms)
    statemachines.remove_undeclared(ctx, keep.state_machines)
    functions.remove_undeclared(ctx, keep.functions)
    tables.remove_undeclared_indexes(ctx, declared_tables(ctx.names, workflows))
    iam.remove_undeclared(ctx, keep.roles)
    return [*routes, *_data(ctx, workflows, keep)]


def _data(ctx: Context, workflows: list[Workflow], keep: Declared) -> list[Kept]:
    aws, names = parameters.aws_cli(ctx.env), ctx.names
    return [
        *(
            Kept("table", n, f"{aws} dynamodb delete-table --table-name {n}")
            for n in tables.undeclared(ctx, keep.tables)
        ),
        *(Kept("bucket", n, f"{aws} s3 rb s3://{n} --force") for n in buckets.undeclared(ctx, keep.buckets)),
        *(
            Kept("stream", n, f"{aws} kinesis delete-stream --stream-name {n} --enforce-consumer-deletion")
            for n in streams.undeclared(ctx, keep.streams)
        ),
        *(
            Kept("topic", n, f"{aws} sns delete-topic --topic-arn {names.arn('sns', n)}")
            for n in topics.undeclared(ctx, keep.topics)
        ),
        *(
            Kept("queue", n, f"{aws} sqs delete-queue --queue-url {url}")
            for n, url in queues.undeclared(ctx, keep.queues).items()
        ),
        *(
            Kept("log group", n, f"{aws} logs delete-log-group --log-group-name {n}")
            for n in logs.undeclared(ctx, keep.log_groups)
        ),
        *(
            Kept("parameter", n, parameters.delete_command(ctx.env, n))
            for n in parameters.undeclared(ctx, workflows)
        ),
    ]
