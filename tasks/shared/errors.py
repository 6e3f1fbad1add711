"""Errors the task Lambdas raise. The class name is the error name the workflow's ErrorEquals matches."""

from __future__ import annotations

import json


class TaskError(Exception):
    """A business or validation error: the workflow never retries these."""


class InvalidInput(TaskError):
    """The event does not match the task's schema; the message names the field."""


def cause_message(cause: str | None) -> str:
    """What a person reads of an execution's cause: a Lambda error's is its JSON error document
    (with a stack trace), whose errorMessage is kept; a Fail state's is plain text."""
    try:
        document = json.loads(cause or "")
    except ValueError:
        return cause or ""
    return str(document.get("errorMessage", cause)) if isinstance(document, dict) else str(cause)
