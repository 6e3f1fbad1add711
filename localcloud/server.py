"""The local cloud: moto's server on 127.0.0.1 plus the add-ons that make deployed code run.

    with LocalCloud() as cloud:          # port 0: a free port
        sfn = cloud.client("stepfunctions")
        ...

Starting it: switches on moto's Step Functions interpreter, installs the engine patches
(`localcloud.engine`, when present), the Lambda runtime and the Step Functions API additions,
then serves. One LocalCloud per process: moto's backends and the hooks are process-wide.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import socket
import threading
import urllib.request
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from localcloud import (
    alarms,
    dispatch,
    dynamodb_api,
    dynamodb_speed,
    dynamodb_ttl,
    event_details,
    execution_roles,
    lambda_account,
    lambda_names,
    metering,
    mock_config,
    pins,
    redrive,
    serial_backends,
    streams,
    sync_execution,
    untracked,
)
from localcloud.lambda_runtime import LambdaRuntime
from localcloud.scheduler import Scheduler

# Checked at import, like every hook point.
_CONFIG = pins.resolve("moto.core.config", "default_user_config")

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _switch_on_moto_features() -> None:
    config = _CONFIG
    config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    # The Docker-backed Lambda backend is the one whose _invoke_lambda the runtime replaces.
    config.setdefault("lambda", {})["use_docker"] = True


def _install_engine() -> None:
    # Built separately (clock, parsing, JSONata); the local cloud works without it, more slowly.
    if importlib.util.find_spec("localcloud.engine") is None:
        return
    engine = importlib.import_module("localcloud.engine")
    if hasattr(engine, "install"):
        engine.install()


def _cannot_serve(host: str, port: int, exc: OSError) -> OSError:
    error = OSError(f"cannot serve the local cloud on {host}:{port}: {exc.strerror}")
    error.errno = exc.errno  # EADDRINUSE: another server has the port
    return error


def _check_free(host: str, port: int) -> None:
    # Before the hooks are installed: a busy port fails at once.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise _cannot_serve(host, port, exc) from exc


class LocalCloud:
    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", region: str = REGION, verbose: bool = False
    ) -> None:
        self.verbose = verbose
        self.host = host
        self.requested_port = port
        self.region = region
        self.port = 0
        self._server: Any = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._previous_moto_port: str | None = None
        self.lambda_runtime: LambdaRuntime | None = None
        self.scheduler = Scheduler(self._shared_client)
        self.streams = streams.Streams(self._shared_client)
        self.expiry = dynamodb_ttl.Expiry()
        self.alarms = alarms.Alarms()

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, background: bool = False) -> LocalCloud:
        """Start serving. background=True also runs the scheduler, the stream pollers, DynamoDB's
        TTL sweep and the alarms' evaluation on the wall clock (what `python -m localcloud` does);
        tests leave it off and call fire_due()/drain()/expire()/evaluate()."""
        if self.requested_port:
            _check_free(self.host, self.requested_port)
        _switch_on_moto_features()
        _install_engine()
        sync_execution.install()
        streams.install()
        event_details.install()
        dynamodb_api.install()
        dynamodb_speed.install()
        mock_config.install()
        metering.install()
        execution_roles.install()
        lambda_names.install()
        lambda_account.install()
        serial_backends.install()
        redrive.install()
        untracked.install()
        alarms.install()
        dispatch.install()  # last: it lists the response classes' methods once, so they must be complete
        if not self.verbose:
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        self._server = dispatch.MotoServer(ip_address=self.host, port=self.requested_port, verbose=False)
        try:
            self._server.start()
        except OSError as exc:  # bound by another server since the check
            self._server = None
            raise _cannot_serve(self.host, self.requested_port, exc) from exc
        self.port = self._server.get_host_and_port()[1]
        # moto's Step Functions tasks call the other services at localhost:$MOTO_PORT.
        self._previous_moto_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(self.port)
        self.lambda_runtime = LambdaRuntime(self.endpoint, self.region)
        self.lambda_runtime.install()
        if background:
            self.scheduler.start()
            self.streams.start()
            self.expiry.start()
            self.alarms.start()
        return self

    def stop(self) -> None:
        # A background tick in flight (a schedule firing, a pipe delivering) ends against a server
        # still answering, not in a connection refused; all are halted at once, so the port
        # answers only as long as the longest tick in flight. Then stop answering, before the rest:
        # a client that finds the port answering takes the cloud for running.
        background = (self.scheduler, self.streams, self.expiry, self.alarms)
        for part in background:
            part.halt()
        for part in background:
            part.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
        streams.uninstall()
        if self.lambda_runtime is not None:
            self.lambda_runtime.stop()
        if self._previous_moto_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = self._previous_moto_port

    def reset(self) -> None:
        """Wipe every resource (moto's /moto-api/reset), faults, schedule and stream state.
        Warm Lambda workers survive: they are keyed by code hash, so a redeploy reuses them."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        _switch_on_moto_features()  # moto's reset may restore the default config
        execution_roles.forget_roles()
        if self.lambda_runtime is not None:
            self.lambda_runtime.clear_faults()
        self.scheduler.reset()
        self.streams.reset()
        self.alarms.reset()

    def __enter__(self) -> LocalCloud:
        return self.start() if self._server is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- clients ----------------------------------------------------------------------------

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for this cloud. No host prefix: StartSyncExecution goes to `sync-<host>`,
        which a loopback address does not have."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            config=Config(inject_host_prefix=False, **config),
            **FAKE_CREDENTIALS,
        )

    def _shared_client(self, service: str) -> Any:
        # The add-ons poll often: one client per service, not one per call (clients are thread-safe).
        with self._clients_lock:
            if service not in self._clients:
                client = self.client(service, retries={"max_attempts": 0}, read_timeout=310)
                client.exceptions  # noqa: B018 (botocore makes them when first asked, without a lock)
                self._clients[service] = client
            return self._clients[service]

    def env(self) -> dict[str, str]:
        """The environment variables that point boto3 (and the AWS CLI) at this cloud."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            # StartSyncExecution's `sync-` host prefix cannot resolve on loopback (botocore, 2025 on).
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        }
