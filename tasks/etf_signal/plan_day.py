"""Plan Day: which trading day (Asia/Shanghai) and which of the configured funds to signal.

The console, API and CLI check the request at the door (a malformed date, one not on the
calendar such as 2026-02-30, a fund not configured), but a run can be started directly
(StartExecution): the schema refuses it here too, naming the field. A day still to come is
refused as well: Tushare has no prices for it, and the day is not closed either.
"""

from __future__ import annotations

from typing import Any

from tasks.etf_signal import config, tushare
from tasks.etf_signal.schemas import PLAN
from tasks.shared.errors import InvalidInput
from tasks.shared.handler import task


@task(PLAN)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request, today = event["request"], tushare.today().isoformat()
    day = request.get("date") or today
    if day > today:
        raise InvalidInput(f"date: {day} is in the future (today is {today} in Asia/Shanghai)")
    configured = config.funds()
    wanted = request.get("funds")
    if wanted:
        unknown = sorted(set(wanted) - {f["ts_code"] for f in configured})
        if unknown:
            raise InvalidInput(f"funds: not in the configured fund list: {', '.join(unknown)}")
        configured = [f for f in configured if f["ts_code"] in wanted]
    return {"date": day, "funds": configured, "history_days": config.strategy().history_days}
