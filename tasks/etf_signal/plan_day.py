"""Plan Day: which trading day (Asia/Shanghai) and which of the configured funds to signal.

The console, API and CLI check the request at the door (a malformed date, one not on the
calendar such as 2026-02-30 or still to come, a fund not configured), but a run can be started
directly (StartExecution): the schema refuses it here too, naming the field. A scheduled time
whose day is still to come is refused as well: Tushare has no prices for it, and the day is not
closed either.

A scheduled run carries the time it was scheduled for (`scheduled_time`), so its day is that
occurrence's day in Shanghai, not the day the run happens to start: a start retried or fired
late, or the run started again by hand with the same input the next day, signals the day the
schedule meant. A date given by hand wins over it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tasks.etf_signal import config, tushare
from tasks.etf_signal.schemas import PLAN
from tasks.shared.errors import InvalidInput
from tasks.shared.handler import task


def scheduled_day(scheduled_time: str | None) -> str | None:
    """The Shanghai day of a schedule's occurrence (`2026-11-20T09:30:00Z` -> `2026-11-20`)."""
    if scheduled_time is None:
        return None
    try:
        when = datetime.fromisoformat(scheduled_time)
    except ValueError:
        raise InvalidInput(f"scheduled_time: {scheduled_time} is not a time on the calendar") from None
    return when.astimezone(tushare.SHANGHAI).date().isoformat()


@task(PLAN, checks_request=True)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    request, today = event["request"], tushare.today().isoformat()
    day = request.get("date") or scheduled_day(request.get("scheduled_time")) or today
    if day > today:  # a date is refused by the schema; here, a scheduled time's day
        raise InvalidInput(
            f"scheduled_time: {request.get('scheduled_time')} is on {day}, in the future "
            f"(today is {today} in Asia/Shanghai)"
        )
    configured = config.funds()
    wanted = request.get("funds")
    if wanted:
        unknown = sorted(set(wanted) - {f["ts_code"] for f in configured})
        if unknown:
            raise InvalidInput(f"funds: not in the configured fund list: {', '.join(unknown)}")
        configured = [f for f in configured if f["ts_code"] in wanted]
    return {"date": day, "funds": configured, "history_days": config.strategy().history_days}
