"""Find New Deals: the run's best ticket per performance, kept when better than what was told, and
claimed for the run before anything is published (tasks.ticket_ranking.told).

Only performances on the dates the run is current for: a newer run owns the others, and a
deal it no longer sees (sold) must not be announced by a slow run that saw it. A deal another
run claimed first, and may be announcing, is left to it; what this run claims is what it tells.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice
from typing import Any

from tasks.shared.handler import task
from tasks.ticket_ranking import store, told
from tasks.ticket_ranking.ranking import deals_message, new_deals
from tasks.ticket_ranking.schemas import FIND_DEALS

MAX_DEALS = 20  # one message; the rest stay new and go out with the next run
SHOWN = (
    "performance_id",
    "listing_id",
    "date",
    "theatre_name",
    "section",
    "row",
    "quantity",
    "price",
    "score",
)


def best_per_performance(run_id: str, dates: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The run's best ticket of each performance on `dates`."""
    return [
        b for b in store.best_per_performance(run_id) if any(d["from"] <= b["date"] <= d["to"] for d in dates)
    ]


def claimed_deals(run_id: str, dates: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The best new deals, up to MAX_DEALS, each claimed for `run_id` (claiming stops there)."""
    now = datetime.now(UTC)
    found = new_deals(best_per_performance(run_id, dates), told.bars(run_id, now))
    return list(islice((d for d in found if told.claim(run_id, d, now)), MAX_DEALS))


@task(FIND_DEALS)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    deals = claimed_deals(event["run_id"], event["dates"]) if event["dates"] else []
    subject, message = deals_message(deals, event["show"]) if deals else ("", "")
    return {
        "count": len(deals),
        "deals": [{k: d[k] for k in SHOWN} | {"obstructed": d["obstructed"]} for d in deals],
        "subject": subject,
        "message": message,
    }
