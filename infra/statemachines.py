"""State machines from `definitions/`, every `${Token}` substituted, with logging and X-Ray on."""

from __future__ import annotations

import json
from typing import Any

from infra import environments
from infra.environments import ConfigError, Environment
from infra.names import Names
from infra.plan import UNDECLARED, Action, Context, owned, tag_dict, tag_list
from infra.waits import IN_PROGRESS, ROLE_NOT_READY, live, retry
from workflows import definitions
from workflows.definitions import TOKEN
from workflows.registry import Workflow


def render(names: Names, wf: Workflow) -> str:
    """The definition with its tokens replaced; ConfigError naming any token without a value."""
    path = wf.definition_path
    try:
        text = path.read_text()
    except OSError:
        raise ConfigError(f"workflow {wf.name}: {path} is missing; run `python -m workflows build`") from None
    if definitions.is_stale(wf, text):  # deploy what the builder builds, not a file it no longer makes
        raise ConfigError(
            f"{path.name} is stale: {wf.name}'s builder builds another; run `python -m workflows build`"
        )
    ungranted = definitions.grant_problems(wf, json.loads(text))
    if ungranted:  # the role deploy makes would lack them: the calls would fail at run time
        raise ConfigError(f"{path.name}: " + "; ".join(ungranted))
    values = names.tokens(wf)
    unknown = sorted({t for t in TOKEN.findall(text) if t not in values})
    if unknown:
        listed = ", ".join("${" + t + "}" for t in unknown)
        raise ConfigError(f"{path.name}: no value for {listed} (not a function or resource of {wf.name})")
    rendered = TOKEN.sub(lambda m: values[m.group(1)], text)
    if names.partition != "aws":  # definitions name service integrations in AWS's main partition
        rendered = rendered.replace('"arn:aws:states:::', f'"arn:{names.partition}:states:::')
    if "${" in rendered:
        raise ConfigError(f"{path.name}: a placeholder is left after substitution: {_around(rendered)}")
    json.loads(rendered)  # a value that broke the JSON would fail here, before any change
    return rendered


def _around(text: str) -> str:
    at = text.index("${")
    return text[at : at + 60].split("\n")[0]


def execution_logging(env: Environment) -> tuple[str, bool]:
    """(level, includeExecutionData) of the environment's execution logs: every event with its
    data everywhere but prod, where the data may be personal and only errors are logged."""
    prod = env.name == "prod"
    return ("ERROR" if prod else "ALL"), not prod


def logging_config(names: Names, wf: Workflow) -> dict[str, Any]:
    level, with_data = execution_logging(names.env)
    return {
        "level": level,
        "includeExecutionData": with_data,
        "destinations": [
            {
                "cloudWatchLogsLogGroup": {
                    "logGroupArn": names.log_group_arn(names.state_machine_log_group(wf))
                }
            }
        ],
    }


def exists(ctx: Context, wf: Workflow) -> bool:
    return _deployed(ctx, wf) is not None


def _deployed(ctx: Context, wf: Workflow) -> dict[str, Any] | None:
    """The workflow's state machine as DescribeStateMachine gives it; None when there is none."""
    sfn = ctx.client("stepfunctions")
    try:
        found: dict[str, Any] = sfn.describe_state_machine(stateMachineArn=ctx.names.state_machine_arn(wf))
    except sfn.exceptions.StateMachineDoesNotExist:
        return None
    return found


def check_types(ctx: Context, workflows: list[Workflow]) -> None:
    """ConfigError, before any change, for a workflow whose deployed state machine is of another
    type (STANDARD or EXPRESS): UpdateStateMachine cannot change it, and replacing the machine
    would delete its execution history and fail its running executions, so the user chooses."""
    problems = []
    for wf in workflows:
        current = _deployed(ctx, wf)
        problem = None if current is None else _type_changed(ctx, wf, current)
        if problem:
            problems.append(problem)
    if problems:
        raise ConfigError("; ".join(problems))


def _type_changed(ctx: Context, wf: Workflow, current: dict[str, Any]) -> str | None:
    deployed, wanted = current.get("type"), wf.type.value
    if current.get("status") == "DELETING" or deployed in (None, wanted):
        return None
    arn = ctx.names.state_machine_arn(wf)
    return (
        f"state machine {ctx.names.state_machine(wf)} is deployed as {deployed} but workflow {wf.name} "
        f"is now {wanted}, and Step Functions cannot change a state machine's type: set the type back, "
        f"rename the workflow, or once none of its executions runs delete it (its execution history "
        f"goes with it: aws stepfunctions delete-state-machine --state-machine-arn {arn}) and deploy again"
    )


def ensure(ctx: Context, wf: Workflow, definition: str, role_arn: str) -> str:
    sfn, names = ctx.client("stepfunctions"), ctx.names
    name, arn = names.state_machine(wf), names.state_machine_arn(wf)
    desired = {
        "definition": definition,
        "roleArn": role_arn,
        "loggingConfiguration": logging_config(names, wf),
        "tracingConfiguration": {"enabled": environments.TRACED},
    }
    # one still DELETING (StateMachineDeleting refuses a new one of its name) counts as none
    current = live(
        lambda: sfn.describe_state_machine(stateMachineArn=arn),
        sfn.exceptions.StateMachineDoesNotExist,
        lambda found: found.get("status") == "DELETING",
        f"state machine {name}",
        apply=ctx.apply,
        sleep=ctx.sleep,
    )
    if current is None:
        if ctx.change("state machine", name, Action.CREATE, str(wf.type.value)):
            retry(
                lambda: sfn.create_state_machine(
                    name=name, type=wf.type.value, tags=tag_list(ctx.env.tags(), "key", "value"), **desired
                ),
                ROLE_NOT_READY,
                sleep=ctx.sleep,
            )
        return arn
    problem = _type_changed(ctx, wf, current)
    if problem:  # check_types refuses it before any change; this is for one switched since
        raise ConfigError(problem)
    drift = [key for key, value in desired.items() if not _same(key, current.get(key), value)]
    if not drift:
        ctx.same("state machine", name)
    elif ctx.change("state machine", name, Action.UPDATE, ", ".join(drift)):
        retry(
            lambda: sfn.update_state_machine(stateMachineArn=arn, **desired),
            {**ROLE_NOT_READY, **IN_PROGRESS},
            sleep=ctx.sleep,
        )
    return arn


def _same(key: str, current: Any, desired: Any) -> bool:
    if key == "definition":
        return current is not None and json.loads(current) == json.loads(desired)
    if key == "tracingConfiguration":
        return bool((current or {}).get("enabled")) == desired["enabled"]
    return bool(current == desired)


def _owned(ctx: Context, keep: set[str]) -> list[tuple[str, str, str]]:
    """(name, ARN, type) of the environment's state machines, but those in `keep`."""
    sfn, prefix, found = ctx.client("stepfunctions"), ctx.env.resource_name(""), []
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            name, arn = machine["name"], machine["stateMachineArn"]
            if not name.startswith(prefix) or name in keep:
                continue
            tags = tag_dict(sfn.list_tags_for_resource(resourceArn=arn)["tags"], "key", "value")
            if owned(ctx.env, tags):
                found.append((name, arn, str(machine.get("type", "STANDARD"))))
    return found


def stopped(ctx: Context, arn: str, kind: str) -> str:
    """What deleting the machine ends: a Standard machine's running executions fail at their next
    state (DeleteStateMachine), so the plan and prod's confirmation say how many there are."""
    if kind == "EXPRESS":  # ListExecutions refuses an Express machine's; AWS lets them run on
        return "any execution in flight runs on to its end, which AWS does not list for an Express machine"
    pages = ctx.client("stepfunctions").get_paginator("list_executions")
    running = sum(len(p["executions"]) for p in pages.paginate(stateMachineArn=arn, statusFilter="RUNNING"))
    if not running:
        return "none of its executions is running"
    return f"its {running} running execution{'s fail' if running > 1 else ' fails'} at the next state"


def remove_undeclared(ctx: Context, keep: set[str]) -> None:
    """Delete the environment's state machines not in `keep`, saying what runs that it stops."""
    for name, arn, kind in _owned(ctx, keep):
        if ctx.change("state machine", name, Action.DELETE, f"{UNDECLARED}; {stopped(ctx, arn, kind)}"):
            ctx.client("stepfunctions").delete_state_machine(stateMachineArn=arn)


def destroy(ctx: Context) -> None:
    for name, arn, _ in _owned(ctx, set()):
        if ctx.change("state machine", name, Action.DELETE):
            ctx.client("stepfunctions").delete_state_machine(stateMachineArn=arn)
