"""Schemas of the etf-signal events; DAY_REQUEST is also the workflow's input schema."""

from typing import Any

MAX_FUNDS = 50
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
TS_CODE = {"type": "string", "pattern": r"^\d{6}\.(SH|SZ)$"}
FUND = {
    "type": "object",
    "properties": {"ts_code": TS_CODE, "name": {"type": "string"}},
    "required": ["ts_code", "name"],
}

DAY_REQUEST: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "ETF signal day",
    "type": "object",
    "properties": {
        "date": {**DATE, "description": "Trading day (Asia/Shanghai); today when absent"},
        "funds": {
            "type": "array",
            "items": TS_CODE,
            "minItems": 1,
            "maxItems": MAX_FUNDS,
            "uniqueItems": True,
            "description": "A subset of the configured funds (ts codes); all when absent",
        },
    },
    "additionalProperties": False,
}

PLAN: dict[str, Any] = {"type": "object", "properties": {"request": DAY_REQUEST}, "required": ["request"]}

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
        "subject": {"type": "string", "minLength": 1, "maxLength": 100},
        "text_key": {"type": "string", "minLength": 1},
    },
    "required": ["date", "subject", "text_key"],
}
