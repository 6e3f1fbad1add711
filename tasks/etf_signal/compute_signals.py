"""Compute Signals: the day's signals from the prices in S3, and the report (JSON and text) beside them.

A fund whose prices could not be fetched is listed as missing in the report: a partial report
is worth more to subscribers than none. The result says so (`complete`, `failed`, `rerun`), for
the workflow to alert once the others are emailed. Another run of the same day adds to the day's
report: funds it did not signal keep what an earlier run found (signals.report); two runs at once
do not overwrite each other (the report is written only if unchanged since it was read). The day
is closed (nothing written, nothing sent) only when every fund answered that it has no bar for
it. When no fund could be signalled and at least one failed (every fund failing, or some failing
and the rest without a bar: a suspended fund during a provider outage is no holiday), the run
fails and alerts, naming the failed funds.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from tasks.etf_signal import config, signals, storage
from tasks.etf_signal.schemas import COMPUTE
from tasks.shared.errors import TaskError
from tasks.shared.handler import task
from tasks.shared.powertools import metrics

NO_BAR = "no_data"  # a fund's status, and its reason in the report, when it has no bar for the day


class NoPrices(TaskError):
    """No fund could be signalled and some failed: there is nothing to report and someone should look."""


class ReportContended(Exception):
    """Another run of the day wrote its report between this one's read and write; retryable (not
    a TaskError): the workflow runs the task again, which reads the report and merges anew."""


@task(COMPUTE)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    day, names = event["date"], {f["ts_code"]: f["name"] for f in event["funds"]}
    fetched = {f["ts_code"]: f for f in event["fetched"]}
    ok = [f for f in fetched.values() if f["status"] == "ok"]
    if not ok:
        no_bar = sorted(code for code, f in fetched.items() if f["status"] == NO_BAR)
        if fetched and len(no_bar) == len(fetched):
            return {"market_open": False, "date": day}
        failed = ", ".join(
            f"{code} ({f.get('error') or f['status']})"
            for code, f in sorted(fetched.items())
            if f["status"] != NO_BAR
        )
        without = f"; no bar for the day: {', '.join(no_bar)}" if no_bar else ""
        raise NoPrices(f"{day}: no fund could be fetched: {failed}{without}")
    strategy = config.strategy()
    found = [
        signals.fund_signal(
            {"ts_code": f["ts_code"], "name": names[f["ts_code"]]},
            storage.get_json(f["key"]),
            strategy.short_window,
            strategy.long_window,
            strategy.rsi_period,
        )
        for f in ok
    ]
    missing = [
        {"ts_code": code, "name": names[code], "reason": f.get("error") or f["status"]}
        for code, f in sorted(fetched.items())
        if f["status"] != "ok"
    ]
    json_key, text_key = storage.report_key(day, "json"), storage.report_key(day, "txt")
    earlier, version = storage.find_json_tagged(json_key)
    day_report = signals.report(day, found, missing, asdict(strategy), earlier)
    # the text first: the run whose JSON lands last has written its text before it
    storage.put(text_key, signals.text(day_report), "text/plain; charset=utf-8")
    report_text = json.dumps(day_report, ensure_ascii=False)
    if not storage.put_unless_changed(json_key, report_text, "application/json", version):
        raise ReportContended(f"the report of {day} changed while this run merged into it")
    metrics.add_metric(name="FundsMissing", unit=MetricUnit.Count, value=len(missing))
    return {
        "market_open": True,
        "date": day,
        "summary": day_report["summary"],
        "missing": [m["ts_code"] for m in day_report["missing"]],
        **_failed(day, day_report["missing"]),
    }


def _failed(day: str, missing: list[dict[str, str]]) -> dict[str, Any]:
    """Whether every fund of the day's report has its signal or no bar. When not, the funds whose
    prices could not be fetched and the input of a run of the day for them alone, shell-quoted
    (the workflow alerts with both: another run once the provider is back makes the day good)."""
    failed = [m for m in missing if m["reason"] != NO_BAR]
    if not failed:
        return {"complete": True}
    rerun = {"date": day, "funds": [m["ts_code"] for m in failed]}
    return {
        "complete": False,
        "failed": ", ".join(f"{m['ts_code']} ({m['reason']})" for m in failed),
        "rerun": shlex.quote(json.dumps(rerun)),
    }
