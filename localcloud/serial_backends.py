"""Requests to moto backends that are not thread-safe, answered one at a time per backend: each
account and region's DynamoDB, each account's S3 (one for all regions, as in moto and AWS).

- DynamoDB: TransactWriteItems deep-copies every table it touches (to roll back on a failed
  condition) while another request thread may be writing to it, which raises "dictionary changed
  size during iteration" and answers 500; a Scan can trip over the same. AWS serialises
  conflicting writes and isolates transactions.
- S3: a PutObject over an existing key closes the replaced object's buffer, and a request still
  reading that object (the PutObject that wrote it, for its ETag, or a GetObject) fails with "I/O
  operation on closed file" and answers 500. On AWS the last writer wins and every reader gets a
  whole object.

Each request takes well under a millisecond; bodies are already in memory when the lock is taken.
moto sends S3's event notifications from inside the request, and a Lambda notified that way calls
S3 back over HTTP, on another request thread, which would wait for the lock until the Lambda timed
out. So they are sent once the request has let go of the lock (still before it answers, as moto
does).
"""

from __future__ import annotations

import threading
from typing import Any

from localcloud import pins

# (service, regional?, module, response class, its method that runs one request on the backend)
_SERIALISED = (
    ("dynamodb", True, "moto.dynamodb.responses", "DynamoHandler", "call_action"),
    ("s3", False, "moto.s3.responses", "S3Response", "_key_response"),
    ("s3", False, "moto.s3.responses", "S3Response", "_bucket_response"),
)
_NOTIFICATIONS = "moto.s3.notifications"
_SENDS = ("_invoke_awslambda", "_send_sqs_message", "_send_sns_message", "_send_event_bridge_message")
for _hook in _SERIALISED:
    pins.resolve(*_hook[2:])  # checked at import, like every hook point
for _send in _SENDS:
    pins.resolve(_NOTIFICATIONS, _send)
_notifications = pins.resolve(_NOTIFICATIONS)

_held = threading.local()  # .sends: the notifications of the S3 request this thread is answering

_locks: dict[tuple[str, str, str], threading.RLock] = {}
_locks_lock = threading.Lock()


def lock_for(service: str, account: str, region: str) -> threading.RLock:
    """The lock that requests to this backend hold ("global" region for S3); other work on the
    backend's data takes it too."""
    with _locks_lock:
        return _locks.setdefault((service, account, region), threading.RLock())


def _serialised(service: str, regional: bool, method: Any) -> Any:
    def serialised(self: Any, *args: Any) -> Any:
        region = str(self.region) if regional else "global"
        outermost = getattr(_held, "sends", None) is None
        if outermost:
            _held.sends = []
        try:
            with lock_for(service, str(self.current_account), region):
                return method(self, *args)
        finally:
            if outermost:
                sends, _held.sends = _held.sends, None
                for send in sends:
                    send()

    serialised._serialised = True  # type: ignore[attr-defined]
    return serialised


def _held_until_unlocked(send: Any) -> Any:
    def held(*args: Any) -> None:
        sends = getattr(_held, "sends", None)
        if sends is None:
            send(*args)
            return
        for arg in args:
            getattr(arg, "etag", None)  # an object's ETag is read from its buffer once: now, locked
        sends.append(lambda: send(*args))

    held._serialised = True  # type: ignore[attr-defined]
    return held


def install() -> None:
    """Idempotent."""
    for service, regional, module, class_name, name in _SERIALISED:
        cls = pins.resolve(module, class_name)
        method = getattr(cls, name)
        if not getattr(method, "_serialised", False):
            setattr(cls, name, _serialised(service, regional, method))
    for name in _SENDS:
        send = getattr(_notifications, name)
        if not getattr(send, "_serialised", False):
            setattr(_notifications, name, _held_until_unlocked(send))
