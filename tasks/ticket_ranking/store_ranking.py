"""Store Ranking: every listing of each performance of a page, ranked, of this run into the rankings table.

Every listing, not the top few: a search's filters (price cap, quantity, section, theatre) must
find whatever listing meets them. One item per listing keeps each item far below DynamoDB's
400 KB, and packing listings into fewer items would save no read (a Query is charged by the
bytes it reads) while capping the listings a performance may have.

Items are keyed by run, so a retry rewrites the same items and a failed run leaves nothing
that readers see: they read the run named current, which Mark Current sets at the very end.
"""

from __future__ import annotations

from typing import Any

from tasks.shared.handler import task
from tasks.shared.numbers import to_dynamo
from tasks.ticket_ranking import store
from tasks.ticket_ranking.schemas import STORE

KEPT = ("listing_id", "section", "row", "seats", "quantity", "price", "face_value", "notes")


def ranking_item(
    run_id: str, performance: dict[str, Any], ranked: dict[str, Any], expires_at: int
) -> dict[str, Any]:
    pid, rank = performance["performance_id"], ranked["rank"]
    item = {
        "performance_id": pid,
        "rank_key": f"{run_id}#{rank:04d}",
        "run_id": run_id,
        "date_key": f"{performance['date']}#{pid}#{rank:04d}",
        "date": performance["date"],
        "theatre_id": performance["theatre_id"],
        "theatre_name": performance["theatre_name"],
        "rank": rank,
        "score": ranked["score"],
        "quality": ranked["quality"],
        "obstructed": ranked["obstructed"],
        "reasons": ranked["reasons"],
        "expires_at": expires_at,
        **{k: ranked[k] for k in KEPT},
    }
    if rank == 1:  # the other ranks stay out of the index of bests, which DynamoDB then does not write
        item[store.BEST_OF_RUN] = run_id
    return to_dynamo(item)


@task(STORE)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    page = store.get_json(event["ranked_key"])["performances"]
    expires_at = store.expires(store.RANKING_TTL_SECONDS)
    with store.rankings_table().batch_writer() as batch:
        for performance in page:
            for ranked in performance["ranking"]:
                batch.put_item(
                    Item=ranking_item(event["run_id"], performance["performance"], ranked, expires_at)
                )
    return {"performances": len(page), "stored": sum(len(p["ranking"]) for p in page)}
