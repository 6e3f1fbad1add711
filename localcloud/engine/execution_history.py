"""GetExecutionHistory served in pages, as AWS serves it, and written as JSON directly.

moto answers with every event at once whatever maxResults asks (AWS: 100 by default, at most
1,000, then a nextToken), ignores reverseOrder and includeExecutionData, copies the whole history,
and writes each event through its generic shape-walking serialiser: about 0.7 ms an event, five
seconds for the 6,000 events of a 1,500-item Map. Code that reads only the first page works
against moto and misses events on AWS. Here the page is cut from the execution's event list and
written with json.dumps; the event fields are moto's, unchanged.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import calendar
import datetime
import json
from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks

DEFAULT_PAGE, MAX_PAGE = 100, 1000
_DATA = ("input", "output")  # left out when includeExecutionData is false, as on AWS
_EVENTS = "moto.stepfunctions.parser.asl.eval.event.event_manager:EventManager"


def _paged(_moto: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def get_execution_history(self: Any) -> tuple[str, dict[str, str]]:
        from moto.stepfunctions.exceptions import InvalidToken, ValidationException

        arn = self._get_param("executionArn")
        size = self._get_param("maxResults") or DEFAULT_PAGE
        if not 0 < size <= MAX_PAGE:
            raise ValidationException(
                f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
                f"constraint: Member must have value less than or equal to {MAX_PAGE}"
            )
        reverse = bool(self._get_param("reverseOrder", False))
        with_data = self._get_param("includeExecutionData", True) is not False
        events = _events(self.stepfunction_backend.describe_execution(arn))  # ExecutionDoesNotExist
        ids = [event["id"] for event in events]
        token = self._get_param("nextToken")
        if token is None:
            page = events[-size:][::-1] if reverse else events[:size]
        else:
            after = _read_token(token, arn, reverse)
            if after is None:
                raise InvalidToken(token)
            cut = bisect.bisect_left(ids, after) if reverse else bisect.bisect_right(ids, after)
            page = events[max(0, cut - size) : cut][::-1] if reverse else events[cut : cut + size]
        body: dict[str, Any] = {"events": [_event(e, with_data) for e in page]}
        if page and (page[-1]["id"] > ids[0] if reverse else page[-1]["id"] < ids[-1]):
            body["nextToken"] = _token(arn, reverse, page[-1]["id"])
        return json.dumps(body, separators=(",", ":"), default=str), {
            "Content-Type": "application/x-amz-json-1.0"
        }

    return get_execution_history


def _events(execution: Any) -> list[dict[str, Any]]:
    """The events recorded so far, in id order: a copy of the list, not of the events (moto never
    changes an event once it is recorded)."""
    env = getattr(getattr(execution, "exec_worker", None), "env", None)
    if env is None:  # not started yet
        return []
    manager = env.event_manager
    with manager._mutex:
        return list(manager._history_event_list)


def _event(event: dict[str, Any], with_data: bool) -> dict[str, Any]:
    out = {**event, "type": str(event["type"].value), "timestamp": _epoch(event["timestamp"])}
    if not with_data:
        for key, details in event.items():
            if key.endswith("EventDetails") and isinstance(details, dict):
                out[key] = {k: v for k, v in details.items() if k not in _DATA}
    return out


def _epoch(timestamp: str | datetime.datetime) -> float:
    """Seconds since the epoch to the millisecond, as moto's serialiser and AWS send them."""
    moment = (
        timestamp if isinstance(timestamp, datetime.datetime) else datetime.datetime.fromisoformat(timestamp)
    )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return calendar.timegm(moment.utctimetuple()) + (moment.microsecond // 1000) / 1000


def _token(arn: str, reverse: bool, last_id: int) -> str:
    text = json.dumps({"executionArn": arn, "reverseOrder": reverse, "after": last_id})
    return base64.urlsafe_b64encode(text.encode()).decode()


def _read_token(token: str, arn: str, reverse: bool) -> int | None:
    """The id the page goes on from; None for a token not issued for this history and order."""
    try:
        fields = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(fields, dict) or fields.get("executionArn") != arn:
        return None
    after = fields.get("after")
    if fields.get("reverseOrder") != reverse or not isinstance(after, int):
        return None
    return after


def install() -> None:
    _hooks.resolve(f"{_EVENTS}.get_event_history")  # moto's own reader of the list and lock read here
    _hooks.resolve("moto.stepfunctions.exceptions:InvalidToken")
    _hooks.patch("moto.stepfunctions.responses:StepFunctionResponse.get_execution_history", _paged)
