"""The console's errors: each carries its HTTP status; the API answers {error, message} with it,
the CLI prints the message."""

from __future__ import annotations

from typing import Any

from tasks.shared.documents import described


class ConsoleError(Exception):
    status = 500
    code: str | None = None

    def body(self) -> dict[str, Any]:
        return {"error": self.code or type(self).__name__, "message": str(self)}


class NotFound(ConsoleError):
    status = 404


class NotDeployed(ConsoleError):
    """The workflow is in the registry but its state machine is not in this environment."""

    status = 409


class Conflict(ConsoleError):
    status = 409


class NameUsed(Conflict):
    """A Standard start named as an execution that ended, or that has another input: Step Functions
    refuses the name, nothing was started (the same name and input while it runs is that run)."""


class FutileRedrive(Conflict):
    """A redrive that would only run again the Fail state the execution ended in
    (runs.futile_redrive): refused, nothing done, unless forced."""


class NotSupported(ConsoleError):
    status = 501


class BadRequest(ConsoleError):
    status = 400


class Forbidden(ConsoleError):
    status = 403


class Misdirected(ConsoleError):
    """A request naming a host that is not this machine (HTTP's 421 Misdirected Request)."""

    status = 421


class InvalidInput(BadRequest):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(described(errors))
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {**super().body(), "fields": self.errors}


class Unavailable(ConsoleError):
    """The environment cannot be reached or used (no local cloud running, no AWS credentials)."""

    status = 503


def from_aws(error: Exception) -> ConsoleError:
    """An AWS client error as a console error: 4xx keep their code and status, the rest is 502."""
    from botocore.exceptions import ClientError

    from infra.environments import access_problem

    problem = access_problem(error)
    if problem is not None:
        return Unavailable(problem)
    if isinstance(error, ClientError):
        found = ConsoleError(error.response["Error"].get("Message") or str(error))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 502)
        found.status = status if 400 <= status < 500 else 502
        found.code = error.response["Error"].get("Code", "AWSError")
        return found
    if type(error).__name__ == "GraphvizMissing":
        return Unavailable(str(error))
    return ConsoleError(str(error))
