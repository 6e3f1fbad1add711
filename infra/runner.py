"""Deploy and destroy an environment: check everything first, then apply in dependency order,
printing one line per change and a summary at the end."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlparse

from infra import (
    alarms,
    api,
    auth,
    buckets,
    functions,
    iam,
    layers,
    logs,
    packaging,
    parameters,
    pipes,
    queues,
    schedules,
    statemachines,
    streams,
    tables,
    topics,
    undeclared,
)
from infra.environments import ConfigError, Environment, access_problem
from infra.names import Names
from infra.plan import Action, Change, Context
from workflows import WORKFLOWS, definitions
from workflows.registry import (
    ALERT_WINDOWS,
    ALERT_WINDOWS_TABLE,
    ALERTS_TOPIC,
    SHARED,
    Bucket,
    Stream,
    Table,
    Topic,
    Workflow,
)


@dataclass
class WorkflowResult:
    name: str
    state_machine_arn: str
    functions: list[functions.Deployed] = field(default_factory=list)


@dataclass
class Result:
    env: Environment
    planned: bool
    changes: list[Change]
    workflows: list[WorkflowResult]
    api_url: str | None
    console_url: str
    # data no workflow declares any more, which a deploy keeps (and names)
    kept: list[undeclared.Kept] = field(default_factory=list)

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.action is not Action.UNCHANGED]


def names_for(env: Environment) -> Names:
    try:
        return Names(env, *env.identity())
    except Exception as error:
        where = env.endpoint or f"AWS in {env.region}"
        problem = access_problem(error)  # worded as the CLI and the console word it
        raise ConfigError(problem or f"environment {env.name!r}: cannot reach {where}: {error}") from None


def selected(only: Iterable[str] | None) -> list[Workflow]:
    if only is None:
        return list(WORKFLOWS.values())
    unknown = sorted(set(only) - set(WORKFLOWS))
    if unknown:
        raise ConfigError(f"unknown workflow(s) {', '.join(unknown)}; known: {', '.join(WORKFLOWS)}")
    return [WORKFLOWS[name] for name in only]


@dataclass
class Checked:
    definitions: dict[str, str]  # workflow -> definition with its tokens substituted
    packages: dict[str, packaging.Package]  # handler -> its zip
    layer: layers.Layer


def check(names: Names, workflows: list[Workflow]) -> Checked:
    """Everything that can be wrong in the configuration, before any change: subscribers declared
    for a topic that takes none, the definitions with their tokens substituted, names AWS would
    reject, a key prefix that cannot narrow its grant, the code of every handler and the
    dependencies layer."""
    rendered, packages = {}, {}
    if not names.env.is_local:
        names.powertools_layer()
    topics.check_subscribers(names.env, {**WORKFLOWS, **{wf.name: wf for wf in workflows}}.values())
    for wf in workflows:
        names.check(wf)
        if problems := definitions.prefix_problems(wf):
            raise ConfigError(f"workflow {wf.name}: {'; '.join(problems)}")
        rendered[wf.name] = statemachines.render(names, wf)
        for fn in wf.functions:
            for logical in (*fn.environment.values(), *(a.resource for a in fn.access)):
                names.value(wf, logical)
            try:
                packages[fn.handler] = packaging.build(fn.handler)
            except (FileNotFoundError, SyntaxError) as error:
                raise ConfigError(f"workflow {wf.name}, function {fn.name}: {error}") from None
    try:
        layer = layers.build()
    except layers.LayerError as error:
        raise ConfigError(str(error)) from None
    return Checked(rendered, packages, layer)


class Declined(Exception):
    """The deploy was not confirmed; nothing was changed."""


# Workflows are independent of each other: deploying them side by side hides the API latency.
PARALLEL_WORKFLOWS = 8


def deploy(
    env: Environment,
    *,
    plan: bool = False,
    only: Iterable[str] | None = None,
    workflows: Iterable[Workflow] | None = None,
    complete: bool | None = None,
    confirmed: Iterable[Change] | None = None,
    ask: Callable[[], Iterable[Change] | None] | None = None,
    out: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> Result:
    """Create or update everything `workflows` (default: the registry, or those named in `only`)
    need; with `plan`, only read and report. ConfigError before any change when something is wrong.
    When `complete` (default: deploying the whole registry), `workflows` are all the environment
    runs: what else deploy made of it is removed (infra/undeclared.py). `confirmed`: the removals
    (of `removals`) the user was shown and agreed to, which are the only ones made, said once.
    `ask`: called once the checks have passed, before anything is said or changed, to confirm:
    what it returns is `confirmed`; None declines, and Declined is raised."""
    complete = only is None and workflows is None if complete is None else complete
    workflows = list(workflows) if workflows is not None else selected(only)
    names = names_for(env)
    checked = check(names, workflows)
    ctx = Context(env, names, apply=not plan, out=out, sleep=sleep, packages=dict(checked.packages))
    # what no update can do stops the deploy before any change
    statemachines.check_types(ctx, workflows)
    tables.check(ctx, workflows)
    if ask is not None:
        if (confirmed := ask()) is None:
            raise Declined(f"not deployed to {env.name}: nothing changed")
        ctx.forget_all()  # the answer may come minutes after the checks read the tables
    started = time.monotonic()
    out(f"{'Planning' if plan else 'Deploying'} {len(workflows)} workflow(s) to {_where(env)}")
    ctx.unreservable = functions.unreservable(ctx, workflows)  # asked once, not by each workflow's thread
    ctx.dependencies_layer = layers.ensure(ctx, checked.layer)  # before the functions that list it
    topics.ensure(ctx, env.resource_name(ALERTS_TOPIC), names.alerts_topic_arn(), "Alerts")
    topics.ensure_email(ctx, names.alerts_topic_arn(), env.alert_email)
    tables.ensure(ctx, ALERT_WINDOWS_TABLE, env.resource_name(ALERT_WINDOWS))
    queues.ensure(ctx)  # where `python -m workflows alerts` reads them
    if any(schedules.schedules(wf) for wf in workflows):
        schedules.ensure_group(ctx)
        alarms.ensure_dropped(ctx, schedules.group(ctx))
    parameters.ensure(ctx, workflows)
    # One API serves every workflow: deploying a few of them keeps the routes of the others that
    # are deployed, and makes none for those that are not (they would lead nowhere).
    others = [wf for wf in WORKFLOWS.values() if wf.name not in {w.name for w in workflows}]
    routed = workflows if only is None else workflows + api.deployed(ctx, others)
    with ThreadPoolExecutor(max_workers=PARALLEL_WORKFLOWS) as pool:
        http_api = pool.submit(api.ensure, ctx, routed)
        results = list(pool.map(lambda wf: _workflow(ctx, wf, checked.definitions[wf.name]), workflows))
        deployed_api = http_api.result()
    if deployed_api:
        api.permit(ctx, workflows, deployed_api)  # others' were granted when they deployed
    # Last: a state machine or route that used what goes (a renamed function) uses its successor by then.
    kept = _remove(ctx, workflows, confirmed) if complete else []
    api_url = deployed_api.url if deployed_api else None
    result = Result(env, plan, ctx.changes, results, api_url, console_url(env), kept)
    summary(result, out, time.monotonic() - started)
    return result


def _remove(
    ctx: Context, workflows: list[Workflow], confirmed: Iterable[Change] | None
) -> list[undeclared.Kept]:
    """Remove what no workflow declares (only what was `confirmed`, when a list was), then name
    what is kept."""
    listed = None if confirmed is None else frozenset((c.kind, c.name) for c in confirmed)
    ctx.confirmed, start = listed, len(ctx.changes)
    try:
        kept = undeclared.remove(ctx, workflows)
    finally:
        ctx.confirmed = None  # only the removal pass is bound by what was confirmed
    if listed:  # said once, before the question: now only how many were deleted
        done = sum(c.action is Action.DELETE for c in ctx.changes[start:])
        which = f"the {done}" if done == len(listed) else f"{done} of the {len(listed)}"
        gone = "" if done == len(listed) else f" (the other {len(listed) - done} were gone already)"
        ctx.say(f"  {'deleted':<16} {which} resource(s) listed before the confirmation{gone}")
    for item in kept:
        ctx.say(item.line())
    return kept


def removals(env: Environment, *, out: Callable[[str], None] = print) -> list[Change]:
    """What a deploy of the registry would remove (planned, nothing changed), each said, for a
    confirmation to show; pass them to `deploy` as `confirmed` once agreed to."""
    ctx = Context(env, names_for(env), apply=False, out=out)
    undeclared.remove(ctx, WORKFLOWS.values())
    return ctx.changed


def _workflow(ctx: Context, wf: Workflow, definition: str) -> WorkflowResult:
    names = ctx.names
    for logical, resource in wf.resources().items():
        if logical in SHARED:
            continue  # created once for every workflow
        name = names.resource(wf, logical)
        if isinstance(resource, Table):
            tables.ensure(ctx, resource, name)
        elif isinstance(resource, Topic):
            arn = names.resource_arn(wf, logical)
            topics.ensure(ctx, name, arn, resource.display_name)
            declared = ctx.env.subscribers.get((wf.name, logical))
            if resource.declared_subscribers and declared is not None:  # not named: left as it is
                topics.ensure_subscribers(ctx, name, arn, declared)
        elif isinstance(resource, Bucket):
            buckets.ensure(ctx, resource, name)
        elif isinstance(resource, Stream):
            streams.ensure(ctx, resource, name)
    result = WorkflowResult(wf.name, names.state_machine_arn(wf))
    for fn in wf.functions:
        role = iam.ensure_role(
            ctx, names.function(wf, fn), "lambda", iam.function_policy(names, wf, fn), f"Lambda {fn.name}"
        )
        logs.ensure(ctx, names.function_log_group(wf, fn))
        result.functions.append(functions.ensure(ctx, wf, fn, role))
    role = iam.ensure_role(
        ctx,
        names.role(wf.name, "sfn"),
        "states",
        iam.state_machine_policy(names, wf),
        f"State machine {wf.name}",
    )
    logs.ensure(ctx, names.state_machine_log_group(wf))
    statemachines.ensure(ctx, wf, definition, role)
    alarms.ensure(ctx, wf)
    schedules.ensure(ctx, wf)
    for trigger in pipes.triggers(wf):  # each pipe's dead-letter queue before the pipe that names it
        queues.ensure_dead_letters(ctx, wf, trigger)
        alarms.ensure_dead_letters(ctx, wf, trigger)
    pipes.ensure(ctx, wf)
    return result


def destroy(
    env: Environment, *, out: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep
) -> list[Change]:
    """Delete every resource tagged with this environment's app and env, consumers first."""
    ctx = Context(env, names_for(env), out=out, sleep=sleep)
    out(f"Destroying {env.app}-{env.name} in {_where(env)}")
    consumers = (api, auth, pipes, schedules, alarms, statemachines, functions, iam)
    for module in (*consumers, layers, tables, topics, queues, buckets, streams, logs, parameters):
        module.destroy(ctx)
    out(f"Deleted {len(ctx.changed)} resource(s)." if ctx.changed else "Nothing to delete.")
    return ctx.changes


# Locally the web console is its own server, and it serves the workflows' HTTP routes too: the
# local cloud's API Gateway has an address but answers nothing there.


def console_url(env: Environment) -> str:
    if env.endpoint:
        # the alerts' links name this address: said here, before a console elsewhere needs a redeploy
        # its port said: a shell without this deploy's PYFLOWS_CONSOLE would serve on another
        port = urlparse(env.console).port or {"http": 80, "https": 443}[urlparse(env.console).scheme]
        return (
            f"{env.console}  (start it: python -m console --env {env.name} --port {port}; the alerts' "
            "links name this address: export PYFLOWS_CONSOLE=<another> before deploying to name another)"
        )
    return f"https://{env.region}.console.aws.amazon.com/states/home?region={env.region}#/statemachines"


def _where(env: Environment) -> str:
    return f"{env.name} ({env.endpoint or env.region})"


def summary(result: Result, out: Callable[[str], None], seconds: float) -> None:
    changed, total = result.changed, len(result.changes)
    verb = "would change" if result.planned else "changed"
    if not changed:
        out(f"No changes: {total} resources are up to date ({seconds:.1f}s).")
    else:
        counts = {
            a: sum(c.action is a for c in changed) for a in (Action.CREATE, Action.UPDATE, Action.DELETE)
        }
        detail = ", ".join(f"{n} to {a}" if result.planned else f"{n} {a}d" for a, n in counts.items() if n)
        out(f"{len(changed)} of {total} resources {verb} ({detail}) in {seconds:.1f}s.")
    if result.kept:
        out(
            f"Kept {len(result.kept)} resource(s) that no workflow declares (named above): a deploy deletes "
            f"no data, nor a route it did not make; {result.env.deploy_command} --destroy deletes the "
            "whole environment."
        )
    rows = [("workflow", "state machine ARN / function", "version", "alias")]
    for wf in result.workflows:
        rows.append((wf.name, wf.state_machine_arn, "", ""))
        rows += [("", f"  {fn.name}", fn.version or "-", result.env.name) for fn in wf.functions]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    out("")
    for row in rows:
        out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    out("")
    out(f"Console: {result.console_url}")
    if result.api_url and result.env.is_local:
        out(f"API:     {result.env.console}  (the workflows' routes, served by the console)")
    elif result.api_url:
        out(f"API:     {result.api_url}")
