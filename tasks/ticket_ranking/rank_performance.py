"""Rank Performance: rank the listings of each performance of a page (raw in S3), the page ranked to S3."""

from __future__ import annotations

from typing import Any

from tasks.shared.handler import task
from tasks.ticket_ranking import store
from tasks.ticket_ranking.ranking import load_theatre, rank
from tasks.ticket_ranking.schemas import RANK


@task(RANK)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    ranked = [
        {
            "performance": p["performance"],
            "ranking": rank(p["listings"], load_theatre(p["performance"]["theatre_id"])),
        }
        for p in store.get_json(event["key"])["performances"]
    ]
    key = store.ranked_key(event["key"])
    store.put_json(key, {"performances": ranked})
    return {"ranked_key": key, "listings": sum(len(r["ranking"]) for r in ranked)}
