"""Lambda functions: code from a deterministic zip, configuration from the registry, one version
published when something changed, and the alias named after the environment pointing at it.

The alias's description holds a fingerprint of the code and configuration it was published
from: when it matches, the function is up to date and nothing is uploaded or published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from infra import environments, packaging
from infra.iam import parameter_name
from infra.plan import UNDECLARED, Action, Context, owned
from infra.waits import IN_PROGRESS, ROLE_NOT_READY, retry, until
from workflows.registry import Function, Workflow

RUNTIME = "python3.11"
# Lambda keeps this much of an account's concurrency unreserved, for the functions that reserve
# none: "You can reserve up to the Unreserved account concurrency value that is shown, minus 100
# for functions that don't have reserved concurrency"
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html). An account whose
# quota is lower keeps all of it (a new account's 10: AWS's refusal names 10 as the minimum).
MINIMUM_UNRESERVED = 100
# Where to ask for a higher quota, for what the account cannot spare.
QUOTA_INCREASE = "Service Quotas, AWS Lambda, 'Concurrent executions'"
# Powertools and its extras come from AWS's public Powertools layer (Names.powertools_layer), the
# other third-party packages the handlers import from the environment's dependencies layer
# (infra/layers.py). Locally only the Powertools layer is left out: it is AWS's, and the local
# cloud's workers run with the venv's packages; the dependencies layer is published there too.


@dataclass(frozen=True)
class Deployed:
    name: str
    version: str  # what the alias points at; "" when only planned


def configuration(ctx: Context, wf: Workflow, fn: Function, role_arn: str) -> dict[str, Any]:
    """The function's configuration, in the shape UpdateFunctionConfiguration takes."""
    env, names = ctx.env, ctx.names
    variables = {
        "POWERTOOLS_SERVICE_NAME": wf.name,
        "POWERTOOLS_METRICS_NAMESPACE": env.app,
        "POWERTOOLS_LOG_LEVEL": env.log_level,
        **({"POWERTOOLS_TRACE_DISABLED": "true"} if env.is_local else {}),
        **{var: names.value(wf, logical) for var, logical in fn.environment.items()},
        **{var: parameter_name(names, name) for var, name in fn.parameters.items()},
    }
    return {
        "Role": role_arn,
        "Handler": fn.handler,
        "Runtime": RUNTIME,
        "Description": fn.description,
        "Timeout": fn.timeout,
        "MemorySize": fn.memory,
        "Environment": {"Variables": variables},
        "TracingConfig": {"Mode": "Active" if environments.TRACED and not env.is_local else "PassThrough"},
        "Layers": [
            *([] if env.is_local else [names.powertools_layer()]),
            *([ctx.dependencies_layer] if ctx.dependencies_layer else []),
        ],
    }


def _drift(current: dict[str, Any], desired: dict[str, Any]) -> list[str]:
    seen = {
        **{k: current.get(k) for k in ("Role", "Handler", "Runtime", "Description", "Timeout", "MemorySize")},
        "Environment": {"Variables": current.get("Environment", {}).get("Variables", {})},
        "TracingConfig": {"Mode": current.get("TracingConfig", {}).get("Mode", "PassThrough")},
        "Layers": [layer["Arn"] for layer in current.get("Layers", [])],
    }
    return [key for key, value in desired.items() if seen[key] != value]


def fingerprint(sha256: str, desired: dict[str, Any]) -> str:
    digest = hashlib.sha256((sha256 + json.dumps(desired, sort_keys=True)).encode()).hexdigest()
    return f"deploy {digest[:20]}"


def ensure(ctx: Context, wf: Workflow, fn: Function, role_arn: str) -> Deployed:
    lam, name = ctx.client("lambda"), ctx.names.function(wf, fn)
    package = ctx.packages.get(fn.handler) or packaging.build(fn.handler)
    desired = configuration(ctx, wf, fn, role_arn)
    mark = fingerprint(package.sha256, desired)
    config = ctx.inventory("functions", lambda: _functions(ctx)).get(name)
    if config is None:
        if not ctx.change("function", name, Action.CREATE, f"{len(package.zip) // 1024 + 1} KiB"):
            return Deployed(name, "")
        retry(
            lambda: lam.create_function(
                FunctionName=name, Code={"ZipFile": package.zip}, Tags=ctx.env.tags(), **desired
            ),
            ROLE_NOT_READY,
            sleep=ctx.sleep,
        )
        _wait_ready(ctx, name)
        if fn.reserved_concurrency is not None and name not in ctx.unreservable:
            _reserve(ctx, name, fn.reserved_concurrency)
        return Deployed(name, _publish(ctx, name, package.sha256, mark, alias=None))
    drift = (["code"] if config["CodeSha256"] != package.sha256 else []) + _drift(config, desired)
    alias = _alias(ctx, name)
    # not part of a version: a cap changed by hand is put back without publishing one; one the
    # account cannot spare is left as it is (said once, by `unreservable`)
    concurrency = name not in ctx.unreservable and _reserved(ctx, name) != fn.reserved_concurrency
    published = alias is not None and alias.get("Description") == mark
    if alias is not None and published and not drift and not concurrency:
        ctx.same("function", name)
        return Deployed(name, alias["FunctionVersion"])
    # Tags are set on creation; checked again whenever the function changes.
    untagged = not owned(ctx.env, lam.list_tags(Resource=config["FunctionArn"])["Tags"])
    alias_only = [] if drift or published else ["alias"]
    detail = ", ".join(
        drift
        + (["reserved concurrency"] if concurrency else [])
        + (["tags"] if untagged else [])
        + alias_only
    )
    if not ctx.change("function", name, Action.UPDATE, detail):
        return Deployed(name, alias["FunctionVersion"] if alias else "")
    if untagged:
        lam.tag_resource(Resource=config["FunctionArn"], Tags=ctx.env.tags())
    if concurrency:
        _reserve(ctx, name, fn.reserved_concurrency)
    if alias is not None and published and not drift:
        return Deployed(name, alias["FunctionVersion"])
    if "code" in drift:
        retry(
            lambda: lam.update_function_code(FunctionName=name, ZipFile=package.zip),
            IN_PROGRESS,
            sleep=ctx.sleep,
        )
        _wait_ready(ctx, name)
    if [d for d in drift if d != "code"]:
        retryable = {**IN_PROGRESS, **ROLE_NOT_READY}
        retry(
            lambda: lam.update_function_configuration(FunctionName=name, **desired),
            retryable,
            sleep=ctx.sleep,
        )
        _wait_ready(ctx, name)
    return Deployed(name, _publish(ctx, name, package.sha256, mark, alias))


def _reserved(ctx: Context, name: str) -> int | None:
    """The function's reserved concurrency, asked once per deploy: `unreservable` and `ensure`
    both need it."""

    def read() -> int | None:
        found = ctx.client("lambda").get_function_concurrency(FunctionName=name)
        return found.get("ReservedConcurrentExecutions")

    reserved: int | None = ctx.read("concurrency", name, read)
    return reserved


def _reserve(ctx: Context, name: str, reserved: int | None) -> None:
    """Reserve the function's concurrency (for every version), or give it back to the account's
    unreserved pool."""
    lam = ctx.client("lambda")
    ctx.forget("concurrency", name)
    if reserved is None:
        lam.delete_function_concurrency(FunctionName=name)
        return
    try:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    except ClientError as refused:
        # A new account's quota (10) leaves nothing to reserve: AWS keeps the unreserved pool at
        # its minimum. The function then runs unreserved, which is what it did before the cap.
        error = refused.response["Error"]
        if "UnreservedConcurrentExecution" not in error.get("Message", ""):
            raise
        ctx.say(
            f"    {name}: concurrency not reserved ({error['Message']}); it runs unreserved until the "
            f"account's Lambda concurrency quota is raised ({QUOTA_INCREASE})"
        )


def unreservable(ctx: Context, workflows: Iterable[Workflow]) -> frozenset[str]:
    """The functions of `workflows` whose declared reserved concurrency the account cannot spare:
    more than its quota leaves unreserved (after every reservation made, these functions' own
    included) beyond the pool Lambda keeps unreserved. Asked of Lambda once per deploy and said
    once: deploy leaves those functions unreserved and counts no change for them, where it would
    otherwise try, and be refused, on every deploy."""
    declared = {
        ctx.names.function(wf, fn): fn.reserved_concurrency
        for wf in workflows
        for fn in wf.functions
        if fn.reserved_concurrency is not None
    }
    if not declared:
        return frozenset()
    limit = ctx.client("lambda").get_account_settings()["AccountLimit"]
    quota, unreserved = limit["ConcurrentExecutions"], limit["UnreservedConcurrentExecutions"]
    kept = min(MINIMUM_UNRESERVED, quota)
    spare, taken, refused = unreserved - kept, 0, dict[str, int]()
    for name, wanted in sorted(declared.items()):
        # only an increase is counted: the workflows deploy side by side, so a reservation this
        # deploy lowers may not be lowered yet when another is asked for
        more = max(0, wanted - ((_reserved(ctx, name) or 0) if exists(ctx, name) else 0))
        if more > max(spare, 0):
            refused[name] = wanted
        else:
            spare, taken = spare - more, taken + more
    if refused:
        others = f", and this deploy's other reservations take {taken}" if taken > 0 else ""
        ctx.say(
            f"  unreserved: {', '.join(refused)} {'runs' if len(refused) == 1 else 'run'} without the "
            f"reserved concurrency declared ({sum(refused.values())} in all), which the account cannot "
            f"spare: its Lambda quota in {ctx.env.region} is {quota} concurrent executions, {unreserved} "
            f"of them unreserved, and Lambda keeps {kept} unreserved for the functions that reserve "
            f"none{others}; ask for a higher quota ({QUOTA_INCREASE}), then deploy again to reserve it"
        )
    return frozenset(refused)


def exists(ctx: Context, name: str) -> bool:
    return name in ctx.inventory("functions", lambda: _functions(ctx))


def _functions(ctx: Context) -> dict[str, Any]:
    """$LATEST configuration of the environment's functions, listed in a few calls."""
    prefix, pages = ctx.env.resource_name(""), ctx.client("lambda").get_paginator("list_functions").paginate()
    return {
        f["FunctionName"]: f
        for page in pages
        for f in page["Functions"]
        if f["FunctionName"].startswith(prefix)
    }


def _alias(ctx: Context, name: str) -> dict[str, Any] | None:
    lam = ctx.client("lambda")
    try:
        alias: dict[str, Any] = lam.get_alias(FunctionName=name, Name=ctx.env.name)
        return alias
    except lam.exceptions.ResourceNotFoundException:
        return None


def _publish(ctx: Context, name: str, sha256: str, mark: str, alias: dict[str, Any] | None) -> str:
    """Publish $LATEST (AWS returns the last version when nothing changed) and move the alias."""
    lam = ctx.client("lambda")
    published = retry(
        lambda: lam.publish_version(FunctionName=name, CodeSha256=sha256, Description=mark),
        IN_PROGRESS,
        sleep=ctx.sleep,
    )
    version = str(published["Version"])
    until(
        lambda: lam.get_function_configuration(FunctionName=name, Qualifier=version),
        lambda c: c.get("State", "Active") == "Active",
        f"function {name} version {version}",
        sleep=ctx.sleep,
    )
    fields = {"FunctionName": name, "Name": ctx.env.name, "FunctionVersion": version, "Description": mark}
    if alias is None:
        lam.create_alias(**fields)
    else:
        retry(lambda: lam.update_alias(**fields), IN_PROGRESS, sleep=ctx.sleep)
    ctx.say(f"    {name}: version {version}, alias {ctx.env.name} -> {version}")
    return version


def _wait_ready(ctx: Context, name: str) -> None:
    """A new function is Pending and an updated one InProgress until Lambda has applied it."""
    lam = ctx.client("lambda")

    def ready(config: dict[str, Any]) -> bool:
        if config.get("State") == "Failed" or config.get("LastUpdateStatus") == "Failed":
            reason = config.get("StateReason") or config.get("LastUpdateStatusReason")
            raise RuntimeError(f"function {name} failed to deploy: {reason}")
        return bool(
            config.get("State", "Active") == "Active" and config.get("LastUpdateStatus") != "InProgress"
        )

    until(
        lambda: lam.get_function_configuration(FunctionName=name), ready, f"function {name}", sleep=ctx.sleep
    )


def remove_undeclared(ctx: Context, keep: set[str]) -> None:
    """Delete the environment's functions not in `keep`: its alias, versions and the permissions
    given to the API go with each."""
    for name in _mine(ctx, ctx.inventory("functions", lambda: _functions(ctx)), keep):
        if ctx.change("function", name, Action.DELETE, UNDECLARED):
            ctx.client("lambda").delete_function(FunctionName=name)


def _mine(ctx: Context, functions: dict[str, Any], keep: set[str]) -> list[str]:
    """The names of the environment's functions among `functions`, but those in `keep`."""
    lam = ctx.client("lambda")
    return [
        name
        for name, config in sorted(functions.items())
        if name not in keep and owned(ctx.env, lam.list_tags(Resource=config["FunctionArn"])["Tags"])
    ]


def destroy(ctx: Context) -> None:
    for name in _mine(ctx, _functions(ctx), set()):
        if ctx.change("function", name, Action.DELETE):
            ctx.client("lambda").delete_function(FunctionName=name)
