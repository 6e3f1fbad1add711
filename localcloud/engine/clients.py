"""The clients Task states use: one per (service, region, role), talking to the backends in-process.

moto builds a new boto3 client for every Task it runs (about 2 ms each, and boto3's default
session is not safe to build clients from concurrently), and sends the request over HTTP to its
own server, in the same process. Here each client is built once, and its requests are answered
by moto's in-process request handler (the one `mock_aws` uses) before botocore would send them:
the same backends and responses, without the loopback HTTP round trip (several ms per call),
unsigned, and with the User-Agent built once. Each request is marked as made by the Task's role
(its state machine's, or the Task's Credentials), which the local cloud checks it against as IAM
would (see localcloud.execution_roles).
A request that no local backend recognises fails instead of leaving the machine. (A Lambda Task's
Invoke needs no client at all: see lambda_invoke.)
A parameter that is null is left out, as the AWS SDK for Java that Step Functions calls AWS with
leaves a null field unset (the service then names what is missing); botocore would instead fail
to serialise it with a Python error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config

from localcloud import execution_roles
from localcloud.engine import _hooks, response_metadata

_ASL = "moto.stepfunctions.parser.asl"
# Every module that did `from ...boto_client import boto_client_for` holds its own reference.
_USERS = (
    "component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
    "component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "component.state.exec.state_task.lambda_eval_utils",
    "component.state.exec.state_task.service.state_task_service_unsupported",
    "component.state.exec.state_task.service.state_task_service_glue",
    "component.state.exec.state_task.service.state_task_service_events",
    "component.state.exec.state_task.service.state_task_service_ecs",
    "component.state.exec.state_task.service.state_task_service_sqs",
    "component.state.exec.state_task.service.state_task_service_sfn",
    "component.state.exec.state_task.service.state_task_service_dynamodb",
    "component.state.exec.state_task.service.state_task_service_batch",
    "component.state.exec.state_task.service.state_task_service_sns",
    "component.state.exec.state_task.service.state_task_service_aws_sdk",
)

_clients: dict[tuple[str, str, str | None], Any] = {}
_lock = threading.Lock()
_session: Any = None


class NoLocalBackend(RuntimeError):
    pass


def _in_process_sender(authorization: str | None) -> Callable[..., Any]:
    from moto.core.botocore_stubber import BotocoreStubber

    stubber = BotocoreStubber()
    stubber.enabled = True

    def before_send(request: Any, **kwargs: Any) -> Any:
        if authorization is not None:
            request.headers["Authorization"] = authorization
        response = stubber(event_name="before-send", request=request)
        if response is None:
            raise NoLocalBackend(f"no local-cloud backend answers {request.method} {request.url}")
        return response

    return before_send


def _leave_out_nulls(params: dict[str, Any], **_: Any) -> None:
    for key, value in list(params.items()):
        if value is None:
            del params[key]
        elif isinstance(value, dict):
            _leave_out_nulls(value)


def _make_client(region: str, service: str, role_arn: str | None) -> Any:
    global _session
    if _session is None:
        _session = boto3.session.Session()
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    # same settings as moto's boto_client_for, minus the endpoint: requests never leave the process
    client = _session.client(
        service,
        region_name=region,
        aws_access_key_id="ak",
        aws_secret_access_key="sk",
        config=Config(
            parameter_validation=False,
            retries={"max_attempts": 0, "total_max_attempts": 1},
            connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
            read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
            # AWS's own endpoint names: moto's in-process handler routes by them (AWS_ENDPOINT_URL,
            # which tests set for their own clients, would point these at the loopback server)
            ignore_configured_endpoint_urls=True,
            # the request never leaves the process: no signature to compute (moto reads the
            # region from the URL and, without credentials, answers for the default account)
            signature_version=UNSIGNED,
        ),
    )
    authorization = None
    if role_arn is not None:
        signing_name = client.meta.service_model.signing_name
        authorization = execution_roles.state_machine_authorization(role_arn, region, signing_name)
    client.meta.events.register_first("before-send", _in_process_sender(authorization))
    client.meta.events.register("before-parameter-build", _leave_out_nulls)
    client.meta.events.register("after-call", response_metadata.remember_response)
    # botocore rebuilds the User-Agent text on every request (a tenth of a millisecond); the
    # one built with the client is as good
    rebuild = getattr(
        getattr(client, "_user_agent_creator", None), "rebuild_and_replace_user_agent_handler", None
    )
    if rebuild is not None:  # botocore >= 1.36
        client.meta.events.unregister(
            f"request-created.{client.meta.service_model.service_id.hyphenize()}", rebuild
        )
    return client


def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """The shared in-process client the engine's Task states use, acting as the Task's role."""
    key = (region, service, getattr(state_credentials, "role_arn", None))
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = _make_client(*key)
    return client


def _boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    return client_for(region, service, state_credentials)


def install() -> None:
    _hooks.resolve("moto.core.botocore_stubber:BotocoreStubber.process_request")
    _hooks.resolve(f"{_ASL}.component.common.timeouts.timeout:TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS")
    _hooks.patch(f"{_ASL}.utils.boto_client:boto_client_for", lambda _orig: _boto_client_for)
    for module in _USERS:
        _hooks.patch(f"{_ASL}.{module}:boto_client_for", lambda _orig: _boto_client_for)
