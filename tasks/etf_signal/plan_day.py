"""Plan Day: which trading day (Asia/Shanghai) and which of the configured funds to signal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from tasks.etf_signal import config
from tasks.etf_signal.schemas import PLAN
from tasks.shared.errors import InvalidInput
from tasks.shared.handler import task

SHANGHAI = timezone(timedelta(hours=8))  # no daylight saving in China


@task(PLAN)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request = event["request"]
    day = request.get("date") or datetime.now(UTC).astimezone(SHANGHAI).date().isoformat()
    configured = config.funds()
    wanted = request.get("funds")
    if wanted:
        unknown = sorted(set(wanted) - {f["ts_code"] for f in configured})
        if unknown:
            raise InvalidInput(f"funds: not in the configured fund list: {', '.join(unknown)}")
        configured = [f for f in configured if f["ts_code"] in wanted]
    return {"date": day, "funds": configured, "history_days": config.strategy().history_days}
