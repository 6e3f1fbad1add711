"""Store Ranking: every listing of each performance of a page, ranked, of this run into the rankings table.

Every listing, not the top few: a search's filters (price cap, quantity, section, theatre) must
find whatever listing meets them. A performance's listings go in one item (numbered chunks when
they would near DynamoDB's 400 KB), as a write is billed per KB of item and not per listing;
its best listing goes in a small item of its own, the one the sparse index of bests copies.

Items are keyed by run, so a retry rewrites the same items and a failed run leaves nothing
that readers see: they read the run named current, which Mark Current sets at the very end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tasks.shared.handler import task
from tasks.shared.numbers import to_dynamo
from tasks.ticket_ranking import store
from tasks.ticket_ranking.schemas import STORE

KEPT = ("listing_id", "section", "row", "seats", "quantity", "price", "face_value", "notes")
RANKED = ("rank", "score", "quality", "obstructed", "reasons", *KEPT)


def chunks(listings: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The listings in order, in runs of at most store.CHUNK_BYTES as compact JSON."""
    chunk: list[dict[str, Any]] = []
    size = 0
    for listing in listings:
        length = len(json.dumps(listing, separators=(",", ":"))) + 1
        if chunk and size + length > store.CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(listing)
        size += length
    if chunk:
        yield chunk


def ranking_items(
    run_id: str, performance: dict[str, Any], ranking: list[dict[str, Any]], expires_at: int
) -> Iterator[dict[str, Any]]:
    """The performance's chunks, then its best item (none for a performance without listings)."""
    pid = performance["performance_id"]
    common = {k: performance[k] for k in store.PERFORMANCE_FIELDS} | {
        "run_id": run_id,
        "expires_at": expires_at,
    }
    listings = [{k: r[k] for k in RANKED} for r in ranking]
    for n, chunk in enumerate(chunks(listings)):
        date_key = f"{performance['date']}#{pid}#{n:04d}"
        yield to_dynamo(
            common | {"rank_key": store.chunk_key(run_id, n), "date_key": date_key, "listings": chunk}
        )
    if listings:  # only this item carries best_of_run: the index of bests copies it alone
        best = {"rank_key": store.best_key(run_id), store.BEST_OF_RUN: run_id}
        yield to_dynamo(common | listings[0] | best)


@task(STORE)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    page = store.get_json(event["ranked_key"])["performances"]
    expires_at = store.expires(store.RANKING_TTL_SECONDS)
    with store.rankings_table().batch_writer() as batch:
        for performance in page:
            for item in ranking_items(
                event["run_id"], performance["performance"], performance["ranking"], expires_at
            ):
                batch.put_item(Item=item)
    return {"performances": len(page), "stored": sum(len(p["ranking"]) for p in page)}
