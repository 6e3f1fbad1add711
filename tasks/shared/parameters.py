"""Settings read at run time from SSM Parameter Store or Secrets Manager (Powertools parameters).

The registry's `Function.parameters` maps an environment variable to a parameter *name*; the value
is fetched here and cached for five minutes per warm process: a value changed by hand, or by
deploy, may take that long to reach a warm function, except one that fails, which forgets what it
cached (tasks.shared.handler) and reads the value afresh at its next invocation. As deploy's IAM
policy assumes, a name starting with `/` is an SSM parameter (SecureString values are decrypted),
any other name a Secrets Manager secret.
Secrets never sit in code, definitions or environment values.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

from tasks.shared import clients
from tasks.shared.errors import TaskError

MAX_AGE_SECONDS = 300

# client -> provider: a client replaced in tests (clients.override/reset) gets a fresh cache.
_providers: dict[str, tuple[Any, Any]] = {}


class SettingMissing(TaskError):
    """The function's environment does not name the parameter, or the parameter does not exist."""


class SettingUnavailable(Exception):
    """The parameter or secret could not be read (throttled, denied, the service failing): not
    the same as missing, and worth another attempt."""


# what SSM and Secrets Manager answer for a name that does not exist
_NOT_FOUND = {"ParameterNotFound", "ResourceNotFoundException"}


def _provider(service: str) -> Any:
    client = clients.client(service)
    cached = _providers.get(service)
    if cached is None or cached[0] is not client:
        provider = (
            SSMProvider(boto3_client=client) if service == "ssm" else SecretsProvider(boto3_client=client)
        )
        _providers[service] = (client, provider)
        cached = _providers[service]
    return cached[1]


def setting(variable: str) -> str:
    """The value of the parameter or secret whose name the environment variable `variable` holds."""
    name = os.environ.get(variable)
    if not name:
        raise SettingMissing(f"environment variable {variable} (a parameter name) is not set")
    try:
        if name.startswith("/"):
            value = _provider("ssm").get(name, max_age=MAX_AGE_SECONDS, decrypt=True)
        else:
            value = _provider("secretsmanager").get(name, max_age=MAX_AGE_SECONDS)
    except Exception as error:  # Powertools wraps every provider failure in GetParameterError
        if _code(error.__context__) in _NOT_FOUND:
            raise SettingMissing(f"{variable}: {name!r} does not exist") from None
        raise SettingUnavailable(f"{variable}: cannot read {name!r}: {error}") from None
    return str(value)


def _code(error: BaseException | None) -> str:
    """The AWS error code of a botocore ClientError (raised within Powertools' wrapper)."""
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def clear() -> None:
    """Forget every cached value: the next `setting` reads it from the store."""
    _providers.clear()
