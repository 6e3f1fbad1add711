"""The told items: per performance, the deal subscribers were told, and the claim of a run about to tell one.

Runs overlap (a slow one and the next scheduled one, or one started by hand), so a run claims
each deal before it publishes it: a conditional write on the performance's item that succeeds
only if subscribers were told no deal as good, and no other run holds a claim on one as good.
Find New Deals claims, publishes only what it claimed, and Record Deals Told confirms the score
as told. A run's own claim never stands in its way, so a retry or a redrive claims again and
changes nothing; a better deal wins over any claim, and goes out.

A claim never confirmed (its run failed, or was stopped, before Record Deals Told) lapses after
CLAIM_LEASE: a later run announces the deal (once more, if the run had published it and could
not record it: better than a deal never announced). From claim to record a run takes seconds,
and the publish's and the record's retries a few minutes at worst. What was told stays beside
the claim, so a lapsed claim of a better deal brings back no deal told before it.

A claim and a record both set the item's expires_at, the table's TTL, three days ahead
(store.TOLD_TTL_SECONDS). DynamoDB deletes an expired item lazily, up to about two days late, and
reads return it until then, so an expired item counts as absent wherever one is read or
conditioned on: it bars no deal, a claim on it drops what it told (the claim's fresh expires_at
would bring that back), and a record writes over it, a lower score included.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tasks.shared.numbers import from_dynamo, to_dynamo
from tasks.ticket_ranking import store

CLAIM_LEASE = timedelta(hours=1)
PREFIX = "told#"
# an item whose TTL has passed by :epoch (now, in epoch seconds), not yet deleted (a missing
# expires_at compares false: the item lives)
EXPIRED = "expires_at <= :epoch"
LIVE = f"NOT ({EXPIRED})"
# a claim of another run in its lease: that run may still announce its deal (a missing claimed_at
# compares false)
HELD = "claimed_at >= :lapsed AND claim_run <> :run"
# what subscribers were told, and the attributes a record sets for it
TOLD = "attribute_exists(score)"
TOLD_ATTRIBUTES = "score, listing_id, run_id, told_at"
# a deal scoring :score that the run :run may announce on a live item: better than what was told,
# and than any deal another run holds. Exactly what `bars` reads, so a run claims what it found new.
CLAIMABLE = f"{LIVE} AND (NOT {TOLD} OR score < :score) AND (NOT ({HELD}) OR claim_score < :score)"
# a told score is only ever raised: a run recording after one that told a better deal lowers nothing
RECORDABLE = f"{EXPIRED} OR NOT {TOLD} OR score <= :score"


def key(performance_id: str) -> dict[str, str]:
    return {"key": f"{PREFIX}{performance_id}"}


def epoch(now: datetime) -> int:
    return int(now.timestamp())


def expires(now: datetime) -> int:
    return epoch(now) + store.TOLD_TTL_SECONDS


def lapsed(now: datetime) -> str:
    """Claims made before this time, and never confirmed, have lapsed."""
    return (now - CLAIM_LEASE).isoformat()


def _scores(attribute: str, condition: str, values: dict[str, Any], now: datetime) -> dict[str, float]:
    """Per performance, `attribute` of the told items live at `now` that meet `condition`."""
    table = store.state_table()
    scores: dict[str, float] = {}
    scan: dict[str, Any] = {
        "FilterExpression": f"{LIVE} AND ({condition})",
        "ProjectionExpression": f"#k, {attribute}",
        "ExpressionAttributeNames": {"#k": "key"},  # a reserved word
        "ExpressionAttributeValues": {":epoch": epoch(now), **values},
    }
    while True:
        page = table.scan(**scan)
        for item in page["Items"]:
            scores[item["key"].removeprefix(PREFIX)] = float(from_dynamo(item[attribute]))
        if "LastEvaluatedKey" not in page:
            return scores
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def bars(run_id: str, now: datetime) -> dict[str, float]:
    """Per performance, the score a deal of `run_id` must beat: what subscribers were told, or
    the deal another run holds a claim on, whichever is better."""
    bar = _scores("score", TOLD, {}, now)
    held = _scores("claim_score", HELD, {":run": run_id, ":lapsed": lapsed(now)}, now)
    for performance_id, score in held.items():
        bar[performance_id] = max(score, bar.get(performance_id, score))
    return bar


def _write(deal: dict[str, Any], update: str, condition: str, values: dict[str, Any]) -> bool:
    table = store.state_table()
    try:
        table.update_item(
            Key=key(deal["performance_id"]),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeValues=to_dynamo({":score": deal["score"], **values}),
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def claim(run_id: str, deal: dict[str, Any], now: datetime) -> bool:
    """Claims `deal` for `run_id`; False when subscribers were told as good a deal for its
    performance, or another run holds a claim on one."""
    update = (
        "SET claim_score = :score, claim_listing = :listing, claim_run = :run, claimed_at = :now, "
        "expires_at = :expires"  # as a record does: the TTL never deletes a claim in its lease
    )
    values = {
        ":listing": deal["listing_id"],
        ":run": run_id,
        ":now": now.isoformat(),
        ":expires": expires(now),
        ":epoch": epoch(now),
    }
    # An expired item is claimed as if absent, what it told dropped. That write goes first: should
    # another run's write come between the two, the item is live again and CLAIMABLE weighs its deal.
    forgetting = f"{update} REMOVE {TOLD_ATTRIBUTES}"
    return _write(deal, forgetting, EXPIRED, values) or _write(
        deal, update, CLAIMABLE, {**values, ":lapsed": lapsed(now)}
    )


def record(run_id: str, deal: dict[str, Any], now: datetime) -> bool:
    """Confirms `deal` as told; False when a better deal was told meanwhile (it stays told)."""
    update = "SET score = :score, listing_id = :listing, run_id = :run, told_at = :now, expires_at = :expires"
    values = {
        ":listing": deal["listing_id"],
        ":run": run_id,
        ":now": now.isoformat(),
        ":expires": expires(now),
        ":epoch": epoch(now),
    }
    return _write(deal, update, RECORDABLE, values)
