"""Which run's rankings readers see, date by date: the latest run that covered the date.

A run covers the dates it asked the broker for (`from` to `to`, both included), whether or not
a performance falls on them. A run of a few days ahead is current for those days only: it
cannot hide the rankings an earlier, wider run made of the days after them. Pure functions over
spans {run_id, fetched_at, from, to}, which never overlap and are kept in date order.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

Span = dict[str, Any]


def _shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def _outside(span: Span, first: str, last: str) -> list[Span]:
    """The parts of `span` before `first` and after `last`."""
    if span["to"] < first or span["from"] > last:
        return [span]
    before = [{**span, "to": _shift(first, -1)}] if span["from"] < first else []
    after = [{**span, "from": _shift(last, 1)}] if span["to"] > last else []
    return before + after


def merge(spans: list[Span], run: Span, expired_before: str = "") -> tuple[list[Span], list[Span]]:
    """The spans once `run` is stored, and the spans it is current for (none: newer runs cover
    all its dates). A newer run keeps its dates (a slow run finishing late brings back nothing it
    replaced); days before the run's first one are past, and dropped; so are the spans of runs
    fetched before `expired_before`, whose rankings have expired: their dates read no run."""
    kept, won = [], [run]
    for span in spans:
        if span["fetched_at"] < expired_before:
            continue
        if span["fetched_at"] > run["fetched_at"]:
            kept.append(span)
            won = [part for mine in won for part in _outside(mine, span["from"], span["to"])]
        else:
            kept += _outside(span, run["from"], run["to"])
    ahead = [{**s, "from": max(s["from"], run["from"])} for s in kept + won if s["to"] >= run["from"]]
    return sorted(ahead, key=lambda s: s["from"]), won


def within(spans: list[Span], first: str, last: str) -> list[Span]:
    """The spans' parts between `first` and `last`: which run to read for which dates."""
    return [
        {**s, "from": max(s["from"], first), "to": min(s["to"], last)}
        for s in spans
        if s["from"] <= last and s["to"] >= first
    ]
