"""Settings read at run time: a missing one is a business error, an unreadable one is retried;
cached by a warm worker until it fails."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tasks.shared import clients, parameters
from tasks.shared.errors import TaskError
from tasks.shared.handler import task
from tasks.shared.parameters import SettingMissing, SettingUnavailable, setting
from tests.unit.conftest import envelope, lambda_context


class Refused(TaskError):
    """The service at the configured URL refused the call."""


@task({"type": "object"})
def call_service(event: dict[str, Any]) -> dict[str, Any]:
    """A task that reads its URL setting and fails while it is the dead one."""
    url = setting("URL_PARAMETER")
    if url == "http://127.0.0.1:9":
        raise Refused(f"GET {url}/inventory: connection refused")
    return {"url": url}


@pytest.fixture(autouse=True)
def fresh(aws: None) -> None:
    parameters.clear()


def test_a_parameter_and_a_secret_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("ssm").put_parameter(Name="/app/url", Value="https://api", Type="String")
    boto3.client("secretsmanager").create_secret(Name="app/key", SecretString="s3cret")
    monkeypatch.setenv("URL_PARAMETER", "/app/url")
    monkeypatch.setenv("KEY_SECRET", "app/key")
    assert (setting("URL_PARAMETER"), setting("KEY_SECRET")) == ("https://api", "s3cret")


@pytest.mark.parametrize("name", ["/app/absent", "app/absent"])
def test_a_parameter_or_secret_that_does_not_exist_is_missing(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOME_PARAMETER", name)
    with pytest.raises(SettingMissing, match=f"SOME_PARAMETER: '{name}' does not exist"):
        setting("SOME_PARAMETER")


def test_an_unset_variable_is_missing() -> None:
    with pytest.raises(SettingMissing, match="environment variable NOT_SET_PARAMETER"):
        setting("NOT_SET_PARAMETER")


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerError", "AccessDeniedException"])
def test_a_store_that_cannot_be_read_is_unavailable_not_missing(
    code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ssm = boto3.client("ssm")
    with Stubber(ssm) as stub:
        stub.add_client_error("get_parameter", service_error_code=code, http_status_code=400)
        clients.override("ssm", ssm)
        monkeypatch.setenv("URL_PARAMETER", "/app/url")
        with pytest.raises(SettingUnavailable, match=code):
            setting("URL_PARAMETER")


def test_a_warm_task_keeps_a_value_it_read_while_it_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/app/url", Value="https://old", Type="String")
    monkeypatch.setenv("URL_PARAMETER", "/app/url")
    assert call_service(envelope({}), lambda_context()) == {"url": "https://old"}

    ssm.put_parameter(Name="/app/url", Value="https://new", Type="String", Overwrite=True)

    assert call_service(envelope({}), lambda_context()) == {"url": "https://old"}  # cached


def test_a_task_that_failed_reads_a_corrected_value_at_its_next_invocation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/app/url", Value="http://127.0.0.1:9", Type="String")
    monkeypatch.setenv("URL_PARAMETER", "/app/url")
    with pytest.raises(Refused):
        call_service(envelope({}), lambda_context())

    ssm.put_parameter(Name="/app/url", Value="https://fixed", Type="String", Overwrite=True)

    assert call_service(envelope({}), lambda_context()) == {"url": "https://fixed"}
