"""Run-time settings: deploy writes the values an environment gives and names the missing ones."""

from __future__ import annotations

import dataclasses
from typing import Any

import infra
from infra.environments import Environment
from workflows import WORKFLOWS


def env_for(local_cloud: Any, name: str, parameters: dict[str, str]) -> Environment:
    return dataclasses.replace(
        infra.load("local"), name=name, endpoint=local_cloud.endpoint, parameters=parameters
    )


def test_given_values_are_written_once_and_missing_ones_are_named(local_cloud: Any) -> None:
    env = env_for(
        local_cloud,
        "ptest",
        {
            "/pyflows/ptest/tushare/base-url": "http://127.0.0.1:4572",
            "pyflows/ptest/tushare/token": "fake-tushare-token",
        },
    )
    etf = [WORKFLOWS["etf-signal"]]
    lines: list[str] = []
    infra.deploy(env, workflows=etf, out=lines.append)
    text = "\n".join(lines)
    assert "create           parameter      /pyflows/ptest/tushare/base-url" in text
    assert "create           parameter      pyflows/ptest/tushare/token" in text
    assert env.client("ssm").get_parameter(Name="/pyflows/ptest/tushare/base-url")["Parameter"]["Value"] == (
        "http://127.0.0.1:4572"
    )
    assert env.client("secretsmanager").get_secret_value(SecretId="pyflows/ptest/tushare/token")[
        "SecretString"
    ] == ("fake-tushare-token")

    again: list[str] = []
    infra.deploy(env, workflows=etf, out=again.append)
    assert not any("parameter" in line for line in again)

    bare = env_for(local_cloud, "ptest2", {})
    lines.clear()
    infra.deploy(bare, workflows=etf, plan=True, out=lines.append)
    missing = [line for line in lines if line.strip().startswith("missing")]
    assert len(missing) == 2
    # the command reaches the environment's own endpoint (here the local cloud), as printed
    assert missing[0].endswith(
        "/pyflows/ptest2/tushare/base-url (set it once: AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
        f"aws --region us-east-1 --endpoint-url {local_cloud.endpoint} ssm put-parameter "
        "--name /pyflows/ptest2/tushare/base-url --type String --value ...)"
    )

    infra.destroy(env, out=lambda line: None)
    assert env.client("ssm").get_parameters(Names=["/pyflows/ptest/tushare/base-url"])["Parameters"] == []
