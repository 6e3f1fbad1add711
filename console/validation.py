"""Input validation at the door: the same rules as the workflows' own routes (tasks.shared.documents)."""

from tasks.shared.documents import NotJson, errors, loads

__all__ = ["NotJson", "errors", "loads"]
