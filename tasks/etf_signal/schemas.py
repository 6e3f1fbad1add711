"""Schemas of the etf-signal events; DAY_REQUEST is also the workflow's input schema."""

from typing import Any

from tasks.etf_signal import config, tushare
from tasks.shared.documents import DATE

MAX_FUNDS = 50
TS_CODE = {"type": "string", "pattern": r"^\d{6}\.(SH|SZ)$", "x-pattern": "a fund code such as 510300.SH"}
FUND = {
    "type": "object",
    "properties": {"ts_code": TS_CODE, "name": {"type": "string"}},
    "required": ["ts_code", "name"],
}

# The fund list ships with the code (data/funds.json), so the door knows it: the console, the API
# and the CLI refuse a code that is not configured, naming the field, before anything starts.
CONFIGURED_TS_CODE = {**TS_CODE, "enum": [f["ts_code"] for f in config.funds()]}

# What EventBridge Scheduler writes for `<aws.scheduler.scheduled-time>` (UTC, to the second).
SCHEDULED_TIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
    "x-pattern": "a UTC time written YYYY-MM-DDTHH:MM:SSZ",
}


def _day_request(fund: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": "ETF signal day",
        "type": "object",
        "properties": {
            "date": {
                **DATE,
                # Tushare has no prices for a day to come, nor is the day closed: refused at the door
                "x-not-after-today": {"zone": "Asia/Shanghai", "utc_offset_hours": tushare.SHANGHAI_HOURS},
                "description": "Trading day (Asia/Shanghai), today at the latest; when absent, the "
                "scheduled time's day, or today",
            },
            "scheduled_time": {
                **SCHEDULED_TIME,
                "description": "The occurrence a scheduled run stands for (set by the schedule): "
                "its day in Asia/Shanghai is the trading day, however late the run starts",
            },
            "funds": {
                "type": "array",
                "items": fund,
                "minItems": 1,
                "maxItems": MAX_FUNDS,
                "uniqueItems": True,
                "description": "A subset of the configured funds (ts codes); all when absent",
            },
        },
        "additionalProperties": False,
    }


# "$schema" at the top only: a subschema naming it is checked by plain Draft 7, without the
# project's keywords (x-not-after-today)
DAY_REQUEST: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    **_day_request(CONFIGURED_TS_CODE),
}

# Plan Day checks the codes against the configuration itself, to name every unknown one in a
# single message (a schema enum names one code at a time), and refuses a scheduled time whose day
# is still to come.
PLAN: dict[str, Any] = {
    "type": "object",
    "properties": {"request": _day_request(TS_CODE)},
    "required": ["request"],
}

FETCH: dict[str, Any] = {
    "type": "object",
    "properties": {"date": DATE, "fund": FUND, "history_days": {"type": "integer", "minimum": 30}},
    "required": ["date", "fund", "history_days"],
}

FETCHED = {
    "type": "object",
    "properties": {
        "ts_code": TS_CODE,
        "status": {"enum": ["ok", "no_data", "missing"]},
        "key": {"type": ["string", "null"]},
        "error": {"type": "string"},
    },
    "required": ["ts_code", "status"],
}

COMPUTE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "date": DATE,
        "funds": {"type": "array", "items": FUND, "maxItems": MAX_FUNDS},
        "fetched": {"type": "array", "items": FETCHED, "maxItems": MAX_FUNDS},
    },
    "required": ["date", "funds", "fetched"],
}

SEND: dict[str, Any] = {
    "type": "object",
    "properties": {
        "date": DATE,
        "run": {"type": "string", "minLength": 1, "description": "the execution sending it"},
    },
    "required": ["date", "run"],
}
