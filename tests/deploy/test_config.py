"""Bad configuration stops the deploy before any change, with a message naming the problem."""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ProfileNotFound

import deploy
import infra
from console.__main__ import main as console_main
from infra.environments import ConfigError, Subscriber, access_problem, load
from infra.names import Names
from tests.deploy.conftest import environment
from tests.deploy.probe import probe
from workflows import WORKFLOWS, cli
from workflows.asl import StateMachineType
from workflows.registry import Access, Bucket, Function, Stream, StreamTrigger, Workflow


def test_unknown_environment_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match=r"unknown environment 'qa'.*local, staging, prod"):
        load("qa")
    assert deploy.main(["--env", "qa"]) == 2
    assert "unknown environment 'qa'" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--d", "--dest", "--pl", "--seed"])
def test_a_shortened_flag_is_refused_not_taken_for_the_one_it_begins(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--d` is no --destroy: a typo must not delete an environment, nor --pl plan it."""
    with pytest.raises(SystemExit) as refused:
        deploy.main(["--env", "local", flag])
    assert refused.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(f"error: unrecognized arguments: {flag}")


@pytest.mark.parametrize("key", ["region", "log_level"])
def test_a_missing_region_or_log_level_is_named(tmp_path: Path, key: str) -> None:
    settings = {"region": "eu-west-1", "log_level": "INFO"}
    del settings[key]
    config = tmp_path / "environments.toml"
    config.write_text(
        'app = "pyflows"\n[environments.staging]\n' + "".join(f'{k} = "{v}"\n' for k, v in settings.items())
    )
    with pytest.raises(ConfigError, match=f"environment 'staging': {key} is missing in environments.toml"):
        load("staging", config)


def staging_with(tmp_path: Path, line: str) -> Path:
    config = tmp_path / "environments.toml"
    config.write_text(
        f'app = "pyflows"\n[environments.staging]\nregion = "eu-west-1"\nlog_level = "INFO"\n{line}\n'
    )
    return config


@pytest.mark.parametrize(
    "origin",
    [
        "https://www.example.com/app",
        "www.example.com",
        "ftp://files.example.com",
        "https://",
        "https://www.example.com:443",  # a browser's Origin never names the default port
    ],
)
def test_a_cors_origin_that_is_not_an_origin_is_named(tmp_path: Path, origin: str) -> None:
    config = staging_with(tmp_path, f'cors_origins = ["https://ok.example.com", "{origin}"]')
    with pytest.raises(ConfigError) as refused:
        load("staging", config)
    assert str(refused.value) == (
        f"environment 'staging': cors_origins has {origin!r}, not an origin: a page's scheme://host[:port], "
        'without a path or a default port, such as https://www.example.com (or "*": any)'
    )
    with pytest.raises(ConfigError, match=r"cors_origins in environments\.toml must be a list of origins"):
        load("staging", staging_with(tmp_path, 'cors_origins = "https://www.example.com"'))


@pytest.mark.parametrize(
    "endpoint",
    [
        "deals.example.com",  # an email without @
        "89161234567",  # a phone without its country code
        "+7 916 123-45-67",  # spaced: not E.164
        "+7916123456789012",  # 16 digits
        "someone@localhost",
    ],
)
def test_a_subscriber_that_is_no_email_address_nor_an_e164_phone_is_named(
    tmp_path: Path, endpoint: str
) -> None:
    config = staging_with(
        tmp_path, f'[environments.staging.subscribers]\nflight-deals.deals = ["+79161234567", "{endpoint}"]'
    )
    with pytest.raises(ConfigError) as refused:
        load("staging", config)
    assert str(refused.value) == (
        f"environment 'staging': subscribers.flight-deals.deals in environments.toml: {endpoint!r} is not "
        "an email address (name@example.com) or a phone number in E.164 (+, the country code and the "
        "number, digits only: +79161234567)"
    )


def test_subscribers_are_read_per_topic_as_sns_takes_them(tmp_path: Path) -> None:
    config = staging_with(
        tmp_path,
        "[environments.staging.subscribers]\n"
        'flight-deals.deals = ["+79161234567", "deals@example.com", "+79161234567"]\n'
        'lottery.announcements = ["hr@example.com"]',
    )
    assert load("staging", config).subscribers == {
        ("flight-deals", "deals"): (
            Subscriber("sms", "+79161234567"),
            Subscriber("email", "deals@example.com"),
        ),
        ("lottery", "announcements"): (Subscriber("email", "hr@example.com"),),
    }
    assert load("staging", staging_with(tmp_path, "")).subscribers == {}
    for line, message in [
        ('subscribers = ["+79161234567"]', "subscribers in environments.toml must be a table of"),
        (
            'subscribers = {lottery = ["a@example.com"]}',
            "subscribers.lottery in environments.toml names no topic",
        ),
        ('subscribers.lottery.announcements = "a@example.com"', "must be a list of email addresses"),
        ('alert_email = "oncall"', "alert_email in environments.toml: 'oncall' is not an email address"),
        ('alert_email = "+79161234567"', "'\\+79161234567' is not an email address \\(name@example.com\\)$"),
    ]:
        with pytest.raises(ConfigError, match=message):
            load("staging", staging_with(tmp_path, line))


def test_cors_origins_are_read_as_api_gateway_takes_them(tmp_path: Path) -> None:
    config = staging_with(
        tmp_path, 'cors_origins = ["https://www.example.com/", "http://localhost:3000", "*"]'
    )
    assert load("staging", config).cors_origins == ("https://www.example.com", "http://localhost:3000", "*")
    assert load("staging", staging_with(tmp_path, "")).cors_origins == ()


def test_the_local_consoles_address_is_what_a_local_deploys_links_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """environments.toml's `console`, or PYFLOWS_CONSOLE: the console on another port than 8080."""
    assert load("local").console == "http://127.0.0.1:8080/"
    monkeypatch.setenv("PYFLOWS_CONSOLE", "http://127.0.0.1:8090")
    local = load("local")
    assert local.console == "http://127.0.0.1:8090/"
    assert Names(local, "123456789012").execution_link() == "http://127.0.0.1:8090/#/executions/"
    assert infra.runner.console_url(local) == (
        "http://127.0.0.1:8090/  (start it: python -m console --env local --port 8090; the alerts' "
        "links name this address: export PYFLOWS_CONSOLE=<another> before deploying to name another)"
    )
    monkeypatch.setenv("PYFLOWS_CONSOLE", "127.0.0.1:8090")
    with pytest.raises(ConfigError, match=r"the console's address '127\.0\.0\.1:8090' .*PYFLOWS_CONSOLE"):
        load("local")
    assert load("staging").name == "staging"  # the AWS console's links: it has no say


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("http://127.0.0.1:abc/", "Port could not be cast to integer value as 'abc'"),
        ("http://127.0.0.1:99999/", "Port out of range 0-65535"),
    ],
)
def test_a_console_address_whose_port_is_no_port_is_refused_before_the_console_serves(
    address: str, why: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """python -m console serves on the address's port: one that is not a port is said in one line
    (exit 2), as an address that is no URL is, not met later as a traceback."""
    monkeypatch.setenv("PYFLOWS_CONSOLE", address)
    with pytest.raises(ConfigError, match=re.escape(f"the console's address {address!r}")):
        load("local")
    assert console_main(["--env", "local"]) == 2
    said = capsys.readouterr().err
    assert said.startswith("error: environment 'local': the console's address") and said.count("\n") == 1
    assert said.endswith(f"has no valid port: {why}\n")


@pytest.mark.parametrize("endpoint", ["127.0.0.1:4610", "http://127.0.0.1:notaport", "http://127.0.0.1"])
def test_an_endpoint_that_is_no_http_url_with_a_port_is_refused_by_every_command_in_one_line(
    endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not boto3's ValueError as a traceback, nor (no scheme) "nothing answers" at a host named
    127.0.0.1:4610: exit 2 from deploy, the CLI and the console, before anything is called."""
    monkeypatch.setenv("PYFLOWS_ENDPOINT", endpoint)
    said = (
        f"PYFLOWS_ENDPOINT: {endpoint!r} is not an http:// URL with a host and port "
        "(e.g. http://127.0.0.1:4566)\n"
    )
    assert deploy.main(["--env", "local", "--plan"]) == 2
    assert capsys.readouterr().err == f"deploy: {said}"
    assert cli.main(["list"]) == 2
    assert capsys.readouterr().err == f"error: {said}"
    assert console_main(["--env", "local", "--port", "0"]) == 2
    assert capsys.readouterr().err == f"error: {said}"
    assert load("staging").endpoint is None  # AWS's: PYFLOWS_ENDPOINT has no say


def test_an_endpoint_in_environments_toml_that_is_no_http_url_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYFLOWS_ENDPOINT", raising=False)
    for line in ('endpoint = "localhost:4566"', 'endpoint = ""', "endpoint = 4566"):
        with pytest.raises(ConfigError) as refused:
            load("staging", staging_with(tmp_path, line))
        value = line.split(" = ")[1].strip('"')
        shown = repr(int(value) if value.isdigit() else value)
        assert str(refused.value) == (
            f"environment 'staging': endpoint in environments.toml: {shown} is not an http:// URL with a "
            "host and port (e.g. http://127.0.0.1:4566)"
        )
    monkeypatch.setenv("PYFLOWS_ENDPOINT", "http://127.0.0.1:4610")  # overridden, the file is still wrong
    with pytest.raises(ConfigError, match=re.escape("endpoint in environments.toml: 'localhost:4566'")):
        load("staging", staging_with(tmp_path, 'endpoint = "localhost:4566"'))
    assert load("staging", staging_with(tmp_path, 'endpoint = "http://localhost:4566"')).endpoint == (
        "http://127.0.0.1:4610"
    )


def test_a_stale_definition_stops_the_deploy_naming_the_build(local_cloud: Any, tmp_path: Path) -> None:
    """Deploy and the workflow tests read definitions/: a builder changed without a build is refused."""
    env = environment(local_cloud.endpoint, "stale")
    changed = probe(tmp_path)
    changed.definition_path.write_text(changed.definition_path.read_text().replace('"Done"', '"Finished"'))
    with pytest.raises(ConfigError, match=r"probe.asl.json is stale: .*python -m workflows build"):
        infra.deploy(env, workflows=[changed], out=lambda line: None)


def test_a_call_the_workflow_does_not_grant_stops_the_deploy(local_cloud: Any, tmp_path: Path) -> None:
    """Its role would lack the right: the publish would fail at run time."""
    env = environment(local_cloud.endpoint, "ungranted")
    ungranted = dataclasses.replace(probe(tmp_path), integrations=(Access("alerts", ("sns:Publish",)),))
    with pytest.raises(
        ConfigError, match=r'probe.asl.json: Notify: calls sns:Publish on \$\{NewsTopicArn\}.*Access\("news"'
    ):
        infra.deploy(env, workflows=[ungranted], out=lambda line: None)


def roles_made(env: infra.Environment) -> list[str]:
    """The IAM roles named after the environment: none when a deploy stopped before any change."""
    prefix = f"{env.app}-{env.name}"
    return [
        r["RoleName"] for r in env.client("iam").list_roles()["Roles"] if r["RoleName"].startswith(prefix)
    ]


def test_a_token_without_value_stops_before_any_change(local_cloud: Any, tmp_path: Path) -> None:
    env = environment(local_cloud.endpoint, "badtoken")
    broken = probe(tmp_path, extra_token="GhostTableName")
    with pytest.raises(ConfigError, match=r"probe.asl.json: no value for \$\{GhostTableName\}"):
        # The good workflow comes first: nothing of it may be created either.
        infra.deploy(env, workflows=[*WORKFLOWS.values(), broken], out=lambda line: None)
    tagging = env.client("resourcegroupstaggingapi")
    found = tagging.get_resources(TagFilters=[{"Key": "env", "Values": ["badtoken"]}])[
        "ResourceTagMappingList"
    ]
    assert found == []
    assert roles_made(env) == []


def test_subscribers_of_a_topic_that_takes_none_stop_the_deploy_before_any_change(local_cloud: Any) -> None:
    """etf-signal's subscribers subscribe through its API; a misspelt workflow or topic is named."""
    for workflow, topic in [("etf-signal", "signals"), ("flight-deal", "deals")]:
        env = dataclasses.replace(
            environment(local_cloud.endpoint, "subscribers"),
            subscribers={(workflow, topic): (Subscriber("email", "a@example.com"),)},
        )
        with pytest.raises(ConfigError) as refused:
            infra.deploy(env, out=lambda line: None)
        assert str(refused.value) == (
            f"environment 'subscribers': subscribers.{workflow}.{topic} in environments.toml names no topic "
            "whose subscribers it declares; those are: flight-deals.deals, lottery.announcements, "
            "ticket-ranking.deals"
        )
        assert roles_made(env) == []
        assert [
            t for t in env.client("sns").list_topics()["Topics"] if "-subscribers-" in t["TopicArn"]
        ] == []


def test_an_unreachable_endpoint_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    env = environment("http://127.0.0.1:9", "nowhere")  # the discard port: nothing listens
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(ConfigError, match=re.escape("cannot reach http://127.0.0.1:9")):
        infra.deploy(env, out=lambda line: None)


def test_prod_without_a_terminal_refuses_to_ask_as_bad_usage(
    local_cloud: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # an environment made to ask, as prod does, with credentials (the local cloud's) to ask with
    asking = dataclasses.replace(environment(local_cloud.endpoint, "asking"), confirm=True)
    monkeypatch.setattr(infra, "load", lambda name: asking)
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(isatty=lambda: False))
    assert deploy.main(["--env", "asking"]) == 2  # --yes is missing: bad options, as the README's table
    assert capsys.readouterr().err == "deploy: Deploy to asking? Refusing without a terminal; pass --yes.\n"
    machines = asking.client("stepfunctions").list_state_machines()["stateMachines"]
    assert not [m for m in machines if m["name"].startswith("pyflows-asking-")]  # nothing deployed


@pytest.mark.parametrize("argv", [["--env", "prod"], ["--env", "staging", "--destroy"]])
def test_missing_credentials_are_said_before_the_question(
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_aws_credentials: None,
) -> None:
    """Not learnt only after answering yes (or after --yes, without a terminal)."""
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(isatty=lambda: True))
    asked: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "no")
    assert deploy.main(argv) == 2
    assert capsys.readouterr().err.startswith("deploy: no AWS credentials: configure them with aws configure")
    assert asked == []


def test_unknown_workflow_is_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown workflow.*nope"):
        infra.runner.selected(["nope"])


def test_a_name_aws_would_reject_stops_before_any_change(local_cloud: Any, tmp_path: Path) -> None:
    env = environment(local_cloud.endpoint, "longname")
    long = probe(tmp_path, name="a-workflow-name-so-long-that-its-function-names-pass-sixty-four")
    with pytest.raises(ConfigError, match=r"characters, AWS allows 64"):
        infra.deploy(env, workflows=[long], out=lambda line: None)
    assert roles_made(env) == []


def _workflow(name: str = "w", **fields: Any) -> Workflow:
    return Workflow(name, "names at AWS's limits", StateMachineType.STANDARD, dict, {}, **fields)


# what is named -> (AWS's limit, what comes before and after the part the test sizes, the workflow)
NAMED: dict[str, tuple[int, str, str, Callable[[str], Workflow]]] = {
    "scheduler role": (64, "pyflows-staging-", "-scheduler", _workflow),
    "function": (
        64,
        "pyflows-staging-w-",
        "",
        lambda part: _workflow(functions=(Function(part, "tasks.lottery.draw_winners.handler", ""),)),
    ),
    "pipe role": (
        64,
        "pyflows-staging-w-",
        "-pipe",
        lambda part: _workflow(streams=(Stream(part),), triggers=(StreamTrigger(part),)),
    ),
    "bucket": (63, "pyflows-staging-w-", "", lambda part: _workflow(buckets=(Bucket(part),))),
}


@pytest.mark.parametrize("named", sorted(NAMED))
def test_a_name_at_awss_limit_passes_and_one_character_more_stops_before_any_change(named: str) -> None:
    limit, before, after, workflow = NAMED[named]
    names = Names(load("staging"), "123456789012")

    def part(length: int) -> str:
        return "x" * (length - len(before) - len(after))

    names.check(workflow(part(limit)))
    too_long = before + part(limit + 1) + after
    with pytest.raises(
        ConfigError, match=re.escape(f"name {too_long!r} is {limit + 1} characters, AWS allows {limit}")
    ):
        names.check(workflow(part(limit + 1)))


def test_a_function_granted_a_resource_its_workflow_lacks_stops_before_any_change(
    local_cloud: Any, tmp_path: Path
) -> None:
    env = environment(local_cloud.endpoint, "ghostgrant")
    base = probe(tmp_path)
    [draw] = base.functions
    granted = dataclasses.replace(draw, access=(*draw.access, Access("ghost", ("dynamodb:GetItem",))))
    with pytest.raises(ConfigError, match=r"workflow probe: no resource named 'ghost'"):
        infra.deploy(env, workflows=[dataclasses.replace(base, functions=(granted,))], out=lambda line: None)
    assert roles_made(env) == []


def test_a_key_prefix_on_a_grant_it_cannot_narrow_stops_before_any_change(
    local_cloud: Any, tmp_path: Path
) -> None:
    """A table has no keys to narrow to: its policy would grant the whole table, as check says."""
    env = environment(local_cloud.endpoint, "prefixed")
    base = probe(tmp_path)
    [draw] = base.functions
    granted = dataclasses.replace(draw, access=(Access("items", ("dynamodb:PutItem",), prefix="2026/"),))
    refused = "workflow probe: function draw: access to 'items': prefix '2026/': a key prefix narrows a bucket's grant only"
    with pytest.raises(ConfigError, match=re.escape(refused)):
        infra.deploy(env, workflows=[dataclasses.replace(base, functions=(granted,))], out=lambda line: None)
    assert roles_made(env) == []


def test_a_resource_the_workflow_lacks_is_named_with_the_ones_it_has() -> None:
    names = Names(load("staging"), "123456789012")
    known = re.escape(
        "workflow lottery: no resource named 'winner' "
        "(did you mean 'winners'? known: alert-windows, alerts, announcements, employees, state-machine, winners)"
    )
    for lookup in (names.value, names.resource_arn):
        with pytest.raises(ConfigError, match=known):
            lookup(WORKFLOWS["lottery"], "winner")


def test_seeding_before_the_tables_are_deployed_says_to_deploy_and_loads_nothing(local_cloud: Any) -> None:
    env = environment(local_cloud.endpoint, "unseeded")
    dynamodb = env.client("dynamodb")
    dynamodb.create_table(  # one table of the two: neither is loaded
        TableName="pyflows-unseeded-lottery-employees",
        KeySchema=[{"AttributeName": "employee_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "employee_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(ConfigError) as refused:
        infra.seed(env, [WORKFLOWS["lottery"], WORKFLOWS["ride-request"]], out=lambda line: None)
    assert str(refused.value) == (
        "the demo data's tables are not deployed in unseeded (pyflows-unseeded-ride-request-unicorns): "
        "run python deploy.py --env unseeded first"
    )
    assert dynamodb.scan(TableName="pyflows-unseeded-lottery-employees", Select="COUNT")["Count"] == 0


def test_seeding_a_local_cloud_that_is_not_running_says_so_and_starts_none(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A local cloud started for it would be empty: seeding says to start or deploy instead."""
    monkeypatch.setenv("PYFLOWS_ENDPOINT", "http://127.0.0.1:9")
    assert deploy.main(["--env", "local", "--seed-only"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("deploy: cannot reach http://127.0.0.1:9/: is the local cloud running?")
    assert "Starting the local cloud" not in out


def test_seed_only_is_refused_outside_the_local_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy.main(["--env", "staging", "--seed-only"]) == 2  # before any AWS call
    assert capsys.readouterr().err == (
        "deploy: --seed-only loads the demo data into the local cloud only (--env local), not staging\n"
    )


def test_missing_credentials_are_worded_as_the_cli_words_them(
    capsys: pytest.CaptureFixture[str], no_aws_credentials: None
) -> None:
    assert deploy.main(["--env", "staging"]) == 2
    deployed = capsys.readouterr().err
    assert deployed.startswith("deploy: no AWS credentials: configure them with aws configure")
    assert cli.main(["--env", "staging", "list"]) == 2  # both: the environment must change
    assert capsys.readouterr().err.removeprefix("error: ") == deployed.removeprefix("deploy: ")


def test_refused_credentials_and_a_missing_profile_say_what_to_do() -> None:
    refused = ClientError(
        {
            "Error": {
                "Code": "ExpiredToken",
                "Message": "The security token included in the request is expired",
            }
        },
        "GetCallerIdentity",
    )
    assert (
        access_problem(refused)
        == "AWS refused the credentials (ExpiredToken): renew them (aws sso login, or aws configure)"
    )
    assert access_problem(ProfileNotFound(profile="nope")) == (
        "The config profile (nope) could not be found: name a profile of ~/.aws/config in AWS_PROFILE, or unset it"
    )
    other = ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "GetCallerIdentity"
    )
    assert access_problem(other) is None
