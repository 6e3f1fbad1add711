"""GET /etf/signals (past signal dates, newest first) and GET /etf/signals/{date} (one day's report).

HTTP API (payload 2.0) route handler, one function for both routes: the path decides.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tasks.etf_signal import storage
from tasks.shared import clients
from tasks.shared.api import error, invalid, response, route
from tasks.shared.documents import DATE

DAY_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # signals/<date>/
PATH = {"type": "object", "properties": {"date": DATE}}
MAX_DATES = 366


def signal_dates() -> list[str]:
    pages = (
        clients.client("s3")
        .get_paginator("list_objects_v2")
        .paginate(Bucket=storage.bucket(), Prefix=storage.SIGNALS_PREFIX, Delimiter="/")
    )
    found = [
        p["Prefix"][len(storage.SIGNALS_PREFIX) : -1]
        for page in pages
        for p in page.get("CommonPrefixes", [])
    ]
    return sorted((d for d in found if DAY_FOLDER.match(d)), reverse=True)[:MAX_DATES]


@route("etf-signal", "api-signals")
def handler(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    day = (event.get("pathParameters") or {}).get("date")
    if day is None:
        return response(200, {"dates": signal_dates()})
    rejected = invalid(PATH, {"date": day})
    if rejected:
        return rejected
    report = storage.find_json(storage.report_key(day, "json"))
    if report is None:
        return error(404, "NotFound", f"no signals for {day}")
    return response(200, report)
