"""Settings read at run time: a missing one is a business error, an unreadable one is retried."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from tasks.shared import clients, parameters
from tasks.shared.parameters import SettingMissing, SettingUnavailable, setting


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
