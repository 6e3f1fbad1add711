"""A fake Tushare Pro server: the same POST request and {code, msg, data{fields, items}} answer.

    with FakeTushare(holidays={date(2026, 10, 1)}) as tushare:   # serves the configured funds
        tushare.url
        tushare.throttle(times=2)            # the next 2 calls hit the per-minute limit (code 40203)
        tushare.fail(times=None, ts_code=X)  # calls for fund X answer HTTP 503 until recover()
        tushare.holiday(date(2026, 11, 20))  # no bars that day
        tushare.leave_out("trade_date")      # fund_daily answers garbage: bars without it, until recover()

Prices are a seeded random walk per fund from a fixed anchor, on a weekday calendar minus the
holidays, so the same seed always serves the same bars (`fund_daily` only; `trade_cal` too). As on
Tushare, there are no bars after today (Asia/Shanghai); the calendar is known ahead.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from localcloud.fakes.server import FakeServer
from tasks.etf_signal.tushare import FUND_DAILY_FIELDS, today  # the same wire format and calendar

FUNDS_FILE = Path(__file__).resolve().parents[2] / "tasks" / "etf_signal" / "data" / "funds.json"
ANCHOR = date(2024, 1, 2)
DEFAULT_HOLIDAYS = frozenset({date(2026, 1, 1), *(date(2026, 10, d) for d in range(1, 9))})
# Tushare's own messages, full-width punctuation included.
RATE_LIMIT = (
    40203,
    "抱歉，您每分钟最多访问该接口200次，权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。",  # noqa: RUF001
)
BAD_TOKEN = (40101, "抱歉，您输入的TOKEN无效！")  # noqa: RUF001
MAX_ROWS = 2000


@dataclass
class FakeTushare(FakeServer):
    funds: list[str] = field(default_factory=lambda: configured_funds())
    seed: int = 2024
    token: str = "fake-tushare-token"
    holidays: set[date] = field(default_factory=lambda: set(DEFAULT_HOLIDAYS))
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._fail: dict[str | None, int | None] = {}  # ts_code (None: every call) -> remaining
        self._throttle: int | None = 0
        self._left_out: set[str] = set()  # fields fund_daily leaves out of its answers
        self._series: dict[str, tuple[date, dict[date, dict[str, Any]]]] = {}  # walked up to a day

    # -- control ------------------------------------------------------------------------------

    def fail(self, times: int | None = None, ts_code: str | None = None) -> None:
        with self._lock:
            self._fail[ts_code] = times

    def throttle(self, times: int | None = None) -> None:
        with self._lock:
            self._throttle = times

    def leave_out(self, field_name: str) -> None:
        with self._lock:
            self._left_out.add(field_name)

    def recover(self) -> None:
        with self._lock:
            self._fail.clear()
            self._throttle = 0
            self._left_out.clear()

    def holiday(self, day: date) -> None:
        with self._lock:
            self.holidays.add(day)
            self._series.clear()

    def trading_days(self, start: date, end: date) -> list[date]:
        days, day = [], start
        while day <= end:
            if day.weekday() < 5 and day not in self.holidays:
                days.append(day)
            day += timedelta(days=1)
        return days

    # -- server -------------------------------------------------------------------------------

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self)

    # -- the API ------------------------------------------------------------------------------

    def answer(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        params = request.get("params") or {}
        with self._lock:
            self.calls.append(request)
            for key in (params.get("ts_code"), None):
                if key in self._fail:
                    remaining = self._fail[key]
                    if remaining is not None:
                        self._fail[key] = remaining - 1
                        if remaining - 1 <= 0:
                            del self._fail[key]
                    return 503, {"message": "Service Temporarily Unavailable"}
            if self._throttle is None or self._throttle > 0:
                if self._throttle is not None:
                    self._throttle -= 1
                return 200, _error(*RATE_LIMIT)
        if request.get("token") != self.token:
            return 200, _error(*BAD_TOKEN)
        api = request.get("api_name")
        if api == "fund_daily":
            return 200, self._fund_daily(params, request.get("fields") or "")
        if api == "trade_cal":
            return 200, self._trade_cal(params)
        return 200, _error(40001, f"接口名 {api} 不存在")

    def _fund_daily(self, params: dict[str, Any], fields: str) -> dict[str, Any]:
        names = [f for f in str(fields).split(",") if f in FUND_DAILY_FIELDS] or list(FUND_DAILY_FIELDS)
        with self._lock:
            names = [n for n in names if n not in self._left_out]
        code = params.get("ts_code")
        if code not in self.funds:
            return _ok(names, [])
        start, end = _day(params.get("start_date"), ANCHOR), _day(params.get("end_date"), today())
        bars = self._bars(code)
        rows = [bars[d] for d in sorted(bars, reverse=True) if start <= d <= end][:MAX_ROWS]  # newest first
        return _ok(names, [[row[n] for n in names] for row in rows])

    def _trade_cal(self, params: dict[str, Any]) -> dict[str, Any]:
        start, end = _day(params.get("start_date"), ANCHOR), _day(params.get("end_date"), today())
        open_days = set(self.trading_days(start, end))
        items, day = [], start
        while day <= end:
            items.append(["SSE", day.strftime("%Y%m%d"), int(day in open_days)])
            day += timedelta(days=1)
        return _ok(["exchange", "cal_date", "is_open"], items)

    def _bars(self, code: str) -> dict[date, dict[str, Any]]:
        """The fund's bars up to today: none for a day to come, whatever end_date asks."""
        with self._lock:
            day = today()
            walked = self._series.get(code)
            if walked is None or walked[0] != day:
                walked = self._series[code] = (day, self._walk(code, day))
            return walked[1]

    def _walk(self, code: str, end: date) -> dict[date, dict[str, Any]]:
        rng = random.Random(f"{self.seed}:{code}")
        close = round(rng.uniform(0.8, 5.0), 3)
        drift = rng.uniform(-0.0004, 0.0008)
        bars = {}
        for day in self.trading_days(ANCHOR, end):
            pre = close
            close = round(max(pre * (1 + drift + rng.gauss(0, 0.013)), 0.05), 3)
            high = round(max(pre, close) * (1 + abs(rng.gauss(0, 0.004))), 3)
            low = round(min(pre, close) * (1 - abs(rng.gauss(0, 0.004))), 3)
            vol = round(rng.uniform(2e5, 5e6), 2)
            bars[day] = {
                "ts_code": code,
                "trade_date": day.strftime("%Y%m%d"),
                "pre_close": pre,
                "open": round(pre * (1 + rng.gauss(0, 0.003)), 3),
                "high": high,
                "low": low,
                "close": close,
                "change": round(close - pre, 3),
                "pct_chg": round((close - pre) / pre * 100, 4),
                "vol": vol,
                "amount": round(vol * close / 10, 3),  # thousands of yuan, as Tushare reports
            }
        return bars


def configured_funds() -> list[str]:
    return [f["ts_code"] for f in json.loads(FUNDS_FILE.read_text())["funds"]]


def _day(value: Any, default: date) -> date:
    return datetime.strptime(str(value), "%Y%m%d").date() if value else default


def _ok(fields: list[str], items: list[list[Any]]) -> dict[str, Any]:
    data = {"fields": fields, "items": items, "has_more": False}
    return {"request_id": str(uuid.uuid4()), "code": 0, "msg": "", "data": data}


def _error(code: int, msg: str) -> dict[str, Any]:
    return {"request_id": str(uuid.uuid4()), "code": code, "msg": msg, "data": None}


def _handler(fake: FakeTushare) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                request = {}
            status, body = fake.answer(request if isinstance(request, dict) else {})
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read fake.calls
            pass

    return Handler
