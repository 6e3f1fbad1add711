"""Errors the task Lambdas raise. The class name is the error name the workflow's ErrorEquals matches."""


class TaskError(Exception):
    """A business or validation error: the workflow never retries these."""


class InvalidInput(TaskError):
    """The event does not match the task's schema; the message names the field."""
