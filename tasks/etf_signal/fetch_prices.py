"""Fetch Fund Prices: one fund's daily bars up to the day, from Tushare to S3.

`no_data` means Tushare has no bar for the day itself: a holiday, or the data is not out yet.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from tasks.etf_signal import storage
from tasks.etf_signal.schemas import FETCH
from tasks.etf_signal.tushare import TushareClient
from tasks.shared.handler import task
from tasks.shared.parameters import setting

CALENDAR_PER_TRADING_DAY = 1.6  # weekends and holidays: calendar days needed per trading day


def tushare() -> TushareClient:
    return TushareClient(setting("TUSHARE_URL_PARAMETER"), setting("TUSHARE_TOKEN_SECRET"))


@task(FETCH)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    day, ts_code = date.fromisoformat(event["date"]), event["fund"]["ts_code"]
    start = day - timedelta(days=int(event["history_days"] * CALENDAR_PER_TRADING_DAY))
    rows = tushare().fund_daily(ts_code, start.strftime("%Y%m%d"), day.strftime("%Y%m%d"))
    if not rows or rows[-1]["trade_date"] != day.strftime("%Y%m%d"):
        return {"ts_code": ts_code, "status": "no_data", "key": None, "rows": len(rows)}
    key = storage.prices_key(event["date"], ts_code)
    storage.put(key, json.dumps(rows), "application/json")
    return {"ts_code": ts_code, "status": "ok", "key": key, "rows": len(rows)}
