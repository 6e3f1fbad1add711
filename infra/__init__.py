"""What deploy uses: environments, names, packaging and one module per kind of resource.

Other code calls:
    infra.deploy(env, plan=False, only=None) -> Result   create/update (or plan) everything, and
                                                          remove what no workflow declares any more
                                                          (`ask`: confirm once its checks have passed)
    infra.removals(env) -> list[Change]                   what that removal would delete (planned), to
                                                          confirm and pass to deploy as `confirmed`
    infra.destroy(env) -> list[Change]                    delete what is tagged for env
    infra.outputs(env) -> dict                            state machine ARNs, function names/aliases
    infra.api_url(env) -> str | None                      the HTTP API's URL, once deployed
    infra.seed(env) -> {table: items}                     demo data into tables with a `seed`
"""

from __future__ import annotations

from typing import Any

from infra import api
from infra.environments import ConfigError, Environment, load
from infra.plan import Change, Context
from infra.runner import Declined, Result, deploy, destroy, names_for, removals, selected
from infra.seed import seed
from workflows import WORKFLOWS


def outputs(env: Environment) -> dict[str, Any]:
    """Where each workflow lives in `env` (computed, not looked up: valid once deployed)."""
    names = names_for(env)
    return {
        wf.name: {
            "state_machine_arn": names.state_machine_arn(wf),
            "functions": {
                fn.name: {"name": names.function(wf, fn), "alias_arn": names.alias_arn(wf, fn)}
                for fn in wf.functions
            },
            "resources": {logical: names.value(wf, logical) for logical in wf.resources()},
        }
        for wf in WORKFLOWS.values()
    }


def api_url(env: Environment) -> str | None:
    return api.url(Context(env, names_for(env)))


__all__ = [
    "Change",
    "ConfigError",
    "Declined",
    "Environment",
    "Result",
    "api_url",
    "deploy",
    "destroy",
    "load",
    "names_for",
    "outputs",
    "removals",
    "seed",
    "selected",
]
