"""DynamoDB requests answered one at a time per account and region.

moto's DynamoDB backend is not thread-safe: TransactWriteItems deep-copies every table it touches
(to roll back on a failed condition) while another request thread may be writing to it, which
raises "dictionary changed size during iteration" and answers 500; a Scan can trip over the
same. AWS serialises conflicting writes and isolates transactions, so here each backend (one per
account and region) answers one request at a time. Its requests take well under a millisecond.
"""

from __future__ import annotations

import threading
from typing import Any

from localcloud import pins

_DynamoHandler = pins.resolve("moto.dynamodb.responses", "DynamoHandler")
pins.resolve("moto.dynamodb.responses", "DynamoHandler", "call_action")

_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_lock = threading.Lock()


def _lock_for(account: str, region: str) -> threading.Lock:
    with _locks_lock:
        return _locks.setdefault((account, region), threading.Lock())


def install() -> None:
    """Idempotent."""
    call_action = _DynamoHandler.call_action
    if getattr(call_action, "_serialised", False):
        return

    def serialised_call_action(self: Any) -> Any:
        with _lock_for(str(self.current_account), str(self.region)):
            return call_action(self)

    serialised_call_action._serialised = True  # type: ignore[attr-defined]
    _DynamoHandler.call_action = serialised_call_action
