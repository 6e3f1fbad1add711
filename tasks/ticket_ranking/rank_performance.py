"""Rank Performance: rank one performance's listings (raw in S3) and store the full ranking in S3."""

from __future__ import annotations

from typing import Any

from tasks.shared.handler import task
from tasks.ticket_ranking import store
from tasks.ticket_ranking.ranking import load_theatre, rank
from tasks.ticket_ranking.schemas import RANK


@task(RANK)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    performance = event["performance"]
    raw = store.get_json(performance["key"])
    ranking = rank(raw["listings"], load_theatre(performance["theatre_id"]))
    key = store.ranked_key(event["run_id"], performance["performance_id"])
    store.put_json(key, {"performance": performance, "ranking": ranking})
    return {
        "ranked_key": key,
        "listings": len(ranking),
        "best_score": ranking[0]["score"] if ranking else None,
    }
