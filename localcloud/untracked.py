"""The records an application writes without end are freed once deleted: moto no longer keeps them.

moto keeps every model object it ever made in a list on its class, for its dashboard
(`/moto-api/data.json`), until a reset. For the records an application writes for as long as it
runs, that list only grows: every DynamoDB item ever written (each update writes a new one), every
log line, every Kinesis record and every SQS message stayed in memory after its table, stream or
queue let it go. One run of `bench/e2e.py` left 56,000 items and 16,000 log events there, and
ticket-ranking writes a thousand items every half hour that its table's TTL deletes a week later
but memory kept. These classes are made without being listed; the dashboard no longer shows them. moto's S3 reads its list of objects at a reset (to close their files), so
S3 keeps its own.
"""

from __future__ import annotations

from typing import Any

from localcloud import pins

UNTRACKED = (
    ("moto.dynamodb.models.dynamo_type", "Item"),
    ("moto.logs.models", "LogEvent"),
    ("moto.kinesis.models", "Record"),
    ("moto.sqs.models", "Message"),
)
_BASE_MODEL = pins.resolve("moto.core.common_models", "BaseModel")


def _new_untracked(cls: type, *args: Any, **kwargs: Any) -> Any:
    return object.__new__(cls)  # BaseModel.__new__, but for its appending to the class's list


def install() -> None:
    """Idempotent. Raises pins.MotoHookMissing if moto moved a class."""
    for module, name in UNTRACKED:
        cls = pins.resolve(module, name)
        if not issubclass(cls, _BASE_MODEL):
            raise pins.MotoHookMissing(f"{module}.{name} is no longer one of moto's BaseModel classes")
        if cls.__dict__.get("__new__") is None:
            cls.__new__ = staticmethod(_new_untracked)
        cls.instances_tracked.clear()  # made before the install, by an earlier local cloud
