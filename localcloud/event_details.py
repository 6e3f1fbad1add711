"""PutEvents refuses an entry whose Detail is JSON but not an object, as EventBridge does.

moto accepts a Detail such as '"text"' or '[1]' with a warning that AWS ignores it. AWS answers
that entry with ErrorCode MalformedDetail ("Detail is malformed.") and counts it in
FailedEntryCount; a Step Functions `events:putEvents` Task then fails with EventBridge.FailedEntry
(recorded on AWS, in ../shared/conformance). The other entries of the request go through.
"""

from __future__ import annotations

import json
from typing import Any

from localcloud import pins

_BACKEND = pins.resolve("moto.events.models", "EventsBackend")
MALFORMED = {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
_MOST_ENTRIES = 10  # beyond it PutEvents refuses the whole request (moto checks that first)


def _not_an_object(entry: dict[str, Any]) -> bool:
    try:
        return not isinstance(json.loads(entry.get("Detail") or "{}"), dict)
    except ValueError:  # not JSON at all: moto answers MalformedDetail itself
        return False


def install() -> None:
    """Idempotent."""
    put_events = _BACKEND.put_events
    if getattr(put_events, "__localcloud_original__", None) is not None:
        return

    def checked_put_events(backend: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        refused = [_not_an_object(entry) for entry in events]
        if not any(refused) or len(events) > _MOST_ENTRIES:
            return put_events(backend, events)
        sent = iter(put_events(backend, [e for e, bad in zip(events, refused, strict=True) if not bad]))
        return [dict(MALFORMED) if bad else next(sent) for bad in refused]

    checked_put_events.__localcloud_original__ = put_events  # type: ignore[attr-defined]
    _BACKEND.put_events = checked_put_events
