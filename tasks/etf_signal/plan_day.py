"""Plan Day: which trading day (Asia/Shanghai) and which of the configured funds to signal.

The console, API and CLI check the request's shape at the door, but a run can be started
directly (StartExecution), and a date of the right shape may not be on the calendar
(2026-02-30): both are refused here, naming the field, before any provider is called.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from tasks.etf_signal import config
from tasks.etf_signal.schemas import PLAN
from tasks.shared.errors import InvalidInput
from tasks.shared.handler import task

SHANGHAI = timezone(timedelta(hours=8))  # no daylight saving in China


def calendar_day(text: str) -> str:
    """The date as given, once it is known to be a real calendar day (the schema checked its shape)."""
    try:
        date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"date: {text} is not a calendar date") from None
    return text


@task(PLAN)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = event["request"]
    day = calendar_day(request.get("date") or datetime.now(UTC).astimezone(SHANGHAI).date().isoformat())
    configured = config.funds()
    wanted = request.get("funds")
    if wanted:
        unknown = sorted(set(wanted) - {f["ts_code"] for f in configured})
        if unknown:
            raise InvalidInput(f"funds: not in the configured fund list: {', '.join(unknown)}")
        configured = [f for f in configured if f["ts_code"] in wanted]
    return {"date": day, "funds": configured, "history_days": config.strategy().history_days}
