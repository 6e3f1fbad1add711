"""Deploy's AWS clients answered by botocore Stubbers: no cloud, answers shaped as AWS's."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.stub import Stubber

from infra.environments import load
from infra.names import Names
from infra.plan import Context

ACCOUNT = "123456789012"


def staging_context(slept: list[float]) -> Context:
    """Staging in eu-west-1, its waits noted in `slept` instead of slept."""
    env = dataclasses.replace(load("staging"), region="eu-west-1")
    return Context(env, Names(env, ACCOUNT), out=lambda line: None, sleep=slept.append)


def client_for(ctx: Context, service: str) -> Any:
    """A client deploy's steps will use for `service` (to stub)."""
    client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    ctx._clients[service] = client
    return client


def stubbed(ctx: Context, service: str) -> Iterator[Stubber]:
    """For a fixture: the stubbed client of `service`; every answer given must have been asked for."""
    with Stubber(client_for(ctx, service)) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
