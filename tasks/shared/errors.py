"""Errors the task Lambdas raise. The class name is the error name the workflow's ErrorEquals matches."""

from __future__ import annotations

import json


class TaskError(Exception):
    """A business or validation error: the workflow never retries these."""


class InvalidInput(TaskError):
    """The request does not match the schema of the task that checks it; the message names the
    field. The caller's mistake: a workflow may reject it unalerted."""


class MalformedTaskInput(TaskError):
    """The task was sent what no correct definition sends: an event that is not the envelope
    workflows send, or an input its schema refuses when the task does not check the caller's
    request (a state before it made the wrong shape). The definition's mistake, never the
    caller's: no workflow rejects it, so it is alerted."""


def cause_message(cause: str | None) -> str:
    """What a person reads of an execution's cause: a Lambda error's is its JSON error document
    (with a stack trace), whose errorMessage is kept; a Fail state's is plain text, which may end
    in such a document (the alert was not sent (...): {...}), read alike."""
    text = cause or ""
    starts = [i for i, c in enumerate(text) if c == "{"][:20]  # the document's is among the first
    for start in starts:
        try:
            document = json.loads(text[start:])
        except ValueError:
            continue
        if isinstance(document, dict) and "errorMessage" in document:
            return text[:start] + str(document["errorMessage"])
        break
    return text
