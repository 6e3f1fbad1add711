"""Environments (`environments.toml`): where each one lives and how its resources are named."""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ProfileNotFound

CONFIG_FILE = Path(__file__).resolve().parent.parent / "environments.toml"
# Credentials the local cloud accepts; never used against AWS.
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# The local web console's address when environments.toml gives none (python -m console's default)
LOCAL_CONSOLE = "http://127.0.0.1:8080/"
# X-Ray traces every execution and every function call (on AWS: the local cloud has no X-Ray, and
# its functions pass a trace header through); the cost estimate reads it too
TRACED = True
# what AWS answers to credentials it does not accept (expired, revoked, mistyped)
_REFUSED_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
}


class ConfigError(Exception):
    """The environment configuration is wrong; the message names what."""


# Who SNS can reach from environments.toml: an email address, or a phone number in E.164 (+, the
# country code and the number, 15 digits at most), which SNS texts. SNS refuses an SMS endpoint
# otherwise only at the Subscribe, with the deploy half done.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_PHONE = re.compile(r"\+[1-9][0-9]{1,14}")
ENDPOINT_FORMS = (
    "an email address (name@example.com) or a phone number in E.164 (+, the country code and the "
    "number, digits only: +79161234567)"
)


@dataclass(frozen=True)
class Subscriber:
    """A topic's subscriber that environments.toml declares: SNS's protocol and endpoint."""

    protocol: str  # "email" or "sms"
    endpoint: str


def subscriber(where: str, endpoint: Any) -> Subscriber:
    """The subscriber an address or phone number is; ConfigError naming it when it is neither."""
    if isinstance(endpoint, str) and _PHONE.fullmatch(endpoint):
        return Subscriber("sms", endpoint)
    if isinstance(endpoint, str) and _EMAIL.fullmatch(endpoint):
        return Subscriber("email", endpoint)
    raise ConfigError(f"{where}: {endpoint!r} is not {ENDPOINT_FORMS}")


def access_problem(error: Exception) -> str | None:
    """Why an environment cannot be used, with what to do, in one line (the same for deploy, the
    CLI, the console and the producer): no AWS credentials, or nothing answering at its endpoint;
    None for any other error."""
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials: configure them with aws configure (a named profile: set AWS_PROFILE), "
            "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(error, ProfileNotFound):
        return f"{error}: name a profile of ~/.aws/config in AWS_PROFILE, or unset it"
    code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None
    if code in _REFUSED_CREDENTIALS:
        return f"AWS refused the credentials ({code}): renew them (aws sso login, or aws configure)"
    if isinstance(error, EndpointConnectionError):
        url = str(error.kwargs.get("endpoint_url"))
        where = urlparse(url)
        if where.hostname in LOOPBACK:
            return (
                f"cannot reach {url}: is the local cloud running? Start it with "
                f"python -m localcloud --port {where.port or 80}, or python deploy.py --env local "
                "(which starts one and deploys)"
            )
        return f"cannot reach {url}: {error}"
    return None


def exit_for_aws_error(error: Exception, prefix: str = "") -> int:
    """An operator command's end on a failed AWS call: the failure in one line on stderr (after
    `prefix`), and its exit: 2 when the environment cannot be used (access_problem: the command
    must change), else 1 (the call failed)."""
    problem = access_problem(error)
    print(f"{prefix}{problem or error}", file=sys.stderr)
    return 1 if problem is None else 2


@dataclass(frozen=True)
class Environment:
    app: str
    name: str
    region: str
    endpoint: str | None
    log_level: str
    schedules: bool
    alert_email: str | None
    confirm: bool
    # parameter/secret name -> value deploy writes; only for settings that are not secret
    parameters: dict[str, str] = field(default_factory=dict)
    # AWS's Powertools layer, when not the one of AWS's main partition (`{region}` is filled in)
    powertools_layer: str | None = None
    # the web pages (origins, or "*") whose scripts may call the HTTP API's routes (CORS)
    cors_origins: tuple[str, ...] = ()
    # locally, the web console's address, which deploy's links (alerts, summary) name
    console: str = LOCAL_CONSOLE
    # (workflow, topic) -> who its topic tells (`subscribers`): deploy subscribes exactly these to a
    # topic whose subscribers are declared (registry.Topic.declared_subscribers)
    subscribers: Mapping[tuple[str, str], tuple[Subscriber, ...]] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return self.endpoint is not None

    def resource_name(self, *parts: str) -> str:
        """`<app>-<env>-<part>-...`, the name of every resource of this environment."""
        return "-".join((self.app, self.name, *parts))

    def setting_name(self, template: str) -> str:
        """A run-time setting's name: registry names carry `{app}` and `{env}` placeholders."""
        return template.format(app=self.app, env=self.name)

    def give_settings(self, values: Mapping[str, str]) -> None:
        """Values deploy writes for these settings (named as in the registry)."""
        self.parameters.update({self.setting_name(k): str(v) for k, v in values.items()})

    @property
    def deploy_command(self) -> str:
        """What deploys this environment, for messages that say to deploy first."""
        return f"python deploy.py --env {self.name}"

    def tags(self) -> dict[str, str]:
        return {"app": self.app, "env": self.name}

    @cached_property
    def session(self) -> boto3.Session:
        credentials = LOCAL_CREDENTIALS if self.is_local else {}
        return boto3.Session(region_name=self.region, **credentials)

    def client(self, service: str, **config: Any) -> Any:
        # StartSyncExecution's host prefix ("sync-") cannot resolve on a loopback endpoint.
        config.setdefault("retries", {"mode": "standard"})
        cfg = Config(inject_host_prefix=not self.is_local, **config)
        return self.session.client(service, endpoint_url=self.endpoint, config=cfg)

    def identity(self) -> tuple[str, str]:
        """(account, partition) of the credentials in use: every ARN deploy builds names both
        (the partition is `aws` but in China, `aws-cn`, and GovCloud, `aws-us-gov`)."""
        caller = self.client("sts").get_caller_identity()
        return str(caller["Account"]), str(caller["Arn"]).split(":")[1]


def load(name: str, config_file: Path = CONFIG_FILE) -> Environment:
    """The environment `name`; `PYFLOWS_ENDPOINT` overrides the local endpoint (tests, other ports),
    `PYFLOWS_CONSOLE` the local console's address."""
    try:
        config = tomllib.loads(config_file.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{config_file}: {error}") from None
    environments = config.get("environments", {})
    if name not in environments:
        known = ", ".join(environments)
        raise ConfigError(f"unknown environment {name!r}; {config_file.name} defines: {known}")
    env = environments[name]
    for key in ("region", "log_level"):
        if not env.get(key):
            raise ConfigError(f"environment {name!r}: {key} is missing in {config_file.name}")
    endpoint = env.get("endpoint")
    if endpoint is not None:  # checked even when overridden: the file is wrong either way
        endpoint = _endpoint(f"environment {name!r}: endpoint in {config_file.name}", endpoint)
        if os.environ.get("PYFLOWS_ENDPOINT"):
            endpoint = _endpoint("PYFLOWS_ENDPOINT", os.environ["PYFLOWS_ENDPOINT"])
    console = (os.environ.get("PYFLOWS_CONSOLE") or env.get("console") if endpoint else None) or LOCAL_CONSOLE
    app = config.get("app") or "pyflows"
    environment = Environment(
        app=app,
        name=name,
        region=env["region"],
        endpoint=endpoint,
        log_level=env["log_level"],
        schedules=bool(env.get("schedules", False)),
        alert_email=_alert_email(name, env.get("alert_email"), config_file.name),
        confirm=bool(env.get("confirm", False)),
        powertools_layer=env.get("powertools_layer"),
        cors_origins=_origins(name, env.get("cors_origins", []), config_file.name),
        console=_console(name, console, config_file.name),
        subscribers=_subscribers(name, env.get("subscribers", {}), config_file.name),
    )
    environment.give_settings(env.get("parameters", {}))  # named as in the registry
    return environment


def _endpoint(where: str, address: Any) -> str:
    """The local cloud's endpoint, refused here when it is no http://host:port URL: boto3 would
    raise its ValueError at the first client, or (no scheme) take the port for a host that never
    answers."""
    url = urlparse(address) if isinstance(address, str) else None
    try:
        valid = url is not None and url.scheme in ("http", "https") and bool(url.hostname) and bool(url.port)
    except ValueError:  # a port that is not a number, or out of 0-65535
        valid = False
    if not valid:
        raise ConfigError(
            f"{where}: {address!r} is not an http:// URL with a host and port (e.g. http://127.0.0.1:4566)"
        )
    return str(address)


def _console(env: str, address: Any, config: str) -> str:
    """The local console's address (`console`, or PYFLOWS_CONSOLE), ending in "/" as the page's
    routes follow it. python -m console serves on its port: one that is no port is refused here."""
    where = (
        f"environment {env!r}: the console's address {address!r} (console in {config}, or PYFLOWS_CONSOLE)"
    )
    url = urlparse(address) if isinstance(address, str) else None
    if url is None or url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"{where} is not an http:// URL such as http://127.0.0.1:8080/")
    try:
        url.port  # noqa: B018 (urllib checks the port when asked for it)
    except ValueError as error:  # not a number, or out of 0-65535
        raise ConfigError(f"{where} has no valid port: {error}") from None
    return address.rstrip("/") + "/"


def _alert_email(env: str, address: Any, config: str) -> str | None:
    where = f"environment {env!r}: alert_email in {config}"
    if address is not None and subscriber(where, address).protocol != "email":
        raise ConfigError(f"{where}: {address!r} is not an email address (name@example.com)")
    return address if address is None else str(address)


def _subscribers(env: str, value: Any, config: str) -> dict[tuple[str, str], tuple[Subscriber, ...]]:
    """`subscribers`: `<workflow>.<topic> = [...]`, each an email address or a phone number."""
    form = "<workflow>.<topic> = [email addresses and phone numbers]"
    if not isinstance(value, dict):
        raise ConfigError(f"environment {env!r}: subscribers in {config} must be a table of {form}")
    found = {}
    for workflow, topics in value.items():
        if not isinstance(topics, dict):
            raise ConfigError(
                f"environment {env!r}: subscribers.{workflow} in {config} names no topic: {form}"
            )
        for topic, endpoints in topics.items():
            where = f"environment {env!r}: subscribers.{workflow}.{topic} in {config}"
            if not isinstance(endpoints, list):
                raise ConfigError(f"{where} must be a list of email addresses and phone numbers")
            declared = dict.fromkeys(subscriber(where, endpoint) for endpoint in endpoints)  # once each
            found[workflow, topic] = tuple(declared)
    return found


def _origins(env: str, value: Any, config: str) -> tuple[str, ...]:
    """`cors_origins`: "*" or web origins, `scheme://host[:port]`, as API Gateway takes them."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"environment {env!r}: cors_origins in {config} must be a list of origins")
    for origin in value:
        if origin == "*":
            continue
        parts = urlparse(origin)
        default_port = parts.port == {"http": 80, "https": 443}.get(parts.scheme)  # browsers leave it out
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or default_port
            or origin.rstrip("/") != f"{parts.scheme}://{parts.netloc}"
        ):
            raise ConfigError(
                f"environment {env!r}: cors_origins has {origin!r}, not an origin: a page's "
                "scheme://host[:port], without a path or a default port, such as https://www.example.com "
                '(or "*": any)'
            )
    return tuple(origin.rstrip("/") for origin in value)


def names() -> list[str]:
    return list(tomllib.loads(CONFIG_FILE.read_text()).get("environments", {}))
