"""Tushare Pro's HTTP API: one POST for every interface.

    POST {base}  {"api_name": "fund_daily", "token": "...", "params": {...}, "fields": "a,b,c"}
    -> {"request_id": "...", "code": 0, "msg": "", "data": {"fields": [...], "items": [[...], ...]}}

Tushare answers errors with HTTP 200 and a non-zero `code`: 40203 (or a message saying "最多访问"
/ "频率超限") is its per-minute rate limit, retried with jitter as TushareRateLimited; no answer
or a 5xx is TushareUnavailable, retried with backoff; any other code (bad token, no permission)
is a business error, and so is an answer without the data asked for (TushareMalformed, naming
what is missing): asked again, it would answer the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from tasks.shared.errors import TaskError
from tasks.shared.http import HttpUnreachable, request_json

SHANGHAI_HOURS = 8  # trading days are China's; no daylight saving there
SHANGHAI = timezone(timedelta(hours=SHANGHAI_HOURS))
RATE_LIMIT_CODE = 40203
RATE_LIMIT_WORDS = ("最多访问", "频率超限")
FUND_DAILY_FIELDS = (
    "ts_code",
    "trade_date",
    "pre_close",
    "open",
    "high",
    "low",
    "close",
    "change",
    "pct_chg",
    "vol",
    "amount",
)
FUND_DAILY_NEEDED = ("trade_date", "close")  # what the fetch and the signals read of each bar


def today() -> date:
    """The trading calendar's today (Asia/Shanghai): Tushare has no bar for a later day."""
    return datetime.now(UTC).astimezone(SHANGHAI).date()


class TushareUnavailable(Exception):
    """Tushare did not answer, or answered 5xx."""


class TushareRateLimited(Exception):
    """Tushare's per-minute limit for the interface was reached."""


class TushareError(TaskError):
    """Tushare refused the call (token, permission, parameters) or answered nonsense."""


class TushareMalformed(TushareError):
    """Tushare said yes but its answer lacks what was asked for (a field, its rows): named, not a
    KeyError further on, so that the fund's reason says the provider answered garbage."""


@dataclass(frozen=True)
class TushareClient:
    base_url: str
    token: str
    timeout: float = 15.0

    def query(self, api_name: str, params: dict[str, Any], fields: tuple[str, ...]) -> list[dict[str, Any]]:
        """Rows as dicts, in the order Tushare returns them."""
        body = {"api_name": api_name, "token": self.token, "params": params, "fields": ",".join(fields)}
        try:
            answer = request_json("POST", self.base_url, body=body, timeout=self.timeout)
        except HttpUnreachable as error:
            raise TushareUnavailable(str(error)) from None
        if answer.status >= 500:
            raise TushareUnavailable(f"{api_name}: HTTP {answer.status}")
        result = answer.body if isinstance(answer.body, dict) else {}
        if answer.status != 200 or "code" not in result:
            raise TushareError(f"{api_name}: HTTP {answer.status}: {str(answer.body)[:200]}")
        message = str(result.get("msg") or "")
        if result["code"] == RATE_LIMIT_CODE or any(w in message for w in RATE_LIMIT_WORDS):
            raise TushareRateLimited(f"{api_name}: {message}")
        if result["code"] != 0:
            raise TushareError(f"{api_name}: code {result['code']}: {message}")
        data = result.get("data") or {}
        if not isinstance(data, dict) or not all(isinstance(item, list) for item in data.get("items") or []):
            raise TushareMalformed(f"{api_name}: data that are not fields and items: {str(data)[:200]}")
        names = data.get("fields") or []
        return [dict(zip(names, item, strict=False)) for item in data.get("items") or []]

    def fund_daily(self, ts_code: str, start_date: str, end_date: str) -> list[dict[str, Any]]:
        """Daily bars of an exchange-traded fund, oldest first (dates as YYYYMMDD)."""
        params = {"ts_code": ts_code, "start_date": start_date, "end_date": end_date}
        rows = self.query("fund_daily", params, FUND_DAILY_FIELDS)
        for row in rows:
            missing = [name for name in FUND_DAILY_NEEDED if row.get(name) is None]
            if missing:
                raise TushareMalformed(
                    f"fund_daily {ts_code}: a bar without {', '.join(missing)}: {str(row)[:200]}"
                )
        return sorted(rows, key=lambda r: str(r["trade_date"]))
