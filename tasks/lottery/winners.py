"""The winners table: one item per employee who won, written only under a condition.

An employee belongs to at most one draw. Check Past Winners claims the drawn employees for its
draw in one transaction, so two draws running at once cannot both pick the same person; Record
Winners then confirms the claim. Either write is conditional on the employee not belonging to
another draw, and repeats for the same draw (retries, redrives) change nothing.

A claim that was never confirmed (its draw failed, or was stopped, before Record Winners) lapses
after CLAIM_LEASE: the employee can win again, in a draw that claims them afresh. A draw takes
seconds, and Record Winners' retries under a minute.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tasks.shared import clients

CLAIM_LEASE = timedelta(hours=1)
# a claim never confirmed, made before :lapsed (a claimed_at that is not a string compares false)
LAPSED = "attribute_not_exists(won_at) AND claimed_at < :lapsed"
NOT_ANOTHER_DRAWS = f"attribute_not_exists(employee_id) OR draw_id = :draw OR ({LAPSED})"
# an item that keeps its employee from winning: any but a lapsed claim (a win, a claim in its
# lease, an item of no known kind, written by hand or by an older version). Exactly what the
# claim's condition refuses to another draw, so a draw never picks whom it cannot claim.
TAKEN = f"NOT ({LAPSED})"
# why DynamoDB cancels a transaction, besides a condition, for a moment: another transaction on an
# item, throttling. Nothing was written, and no one is taken.
CONTENDED = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


class WinnersContended(Exception):
    """The winners' transaction was cancelled though no condition failed (another transaction on
    one of its items, throttling), or the same request is still in progress: nothing was written.
    Retryable (not a TaskError): the workflow runs the task again after a backoff, never taking
    it for a winner of another draw."""


def lapsed(now: datetime) -> str:
    """Claims made before this time, and never confirmed, have lapsed."""
    return (now - CLAIM_LEASE).isoformat()


def _update(draw_id: str, winner: dict[str, Any], now: datetime, stamp: str) -> dict[str, Any]:
    # a claim of a lapsed claim is a claim of its own: it starts a lease of its own
    stamping = ":now" if stamp == "claimed_at" else f"if_not_exists({stamp}, :now)"
    return {
        "Update": {
            "TableName": os.environ["WINNERS_TABLE"],
            "Key": {"employee_id": {"S": winner["employee_id"]}},
            "UpdateExpression": f"SET draw_id = :draw, employee_name = :name, {stamp} = {stamping}",
            "ConditionExpression": NOT_ANOTHER_DRAWS,
            "ExpressionAttributeValues": {
                ":draw": {"S": draw_id},
                ":name": {"S": winner["employee_name"]},
                ":now": {"S": now.isoformat()},
                ":lapsed": {"S": lapsed(now)},
            },
        }
    }


def request_token(draw_id: str, winners: list[dict[str, Any]], stamp: str) -> str:
    """DynamoDB's idempotency token for one write: a retry of the same write repeats it, while
    the claim and the record, or another set of winners for the draw, never share one (a reused
    token with other items fails with IdempotentParameterMismatch). Tokens are at most 36 long."""
    ids = ",".join(sorted(w["employee_id"] for w in winners))
    return hashlib.sha256(f"{stamp}|{draw_id}|{ids}".encode()).hexdigest()[:36]


def write(draw_id: str, winners: list[dict[str, Any]], stamp: str) -> list[str]:
    """Write every winner for `draw_id` in one transaction, setting `stamp` once; return the ids
    that belong to another draw (then nothing at all is written). WinnersContended when it may
    succeed if run again; a transaction cancelled for another reason raises as DynamoDB said."""
    now, dynamodb = datetime.now(UTC), clients.client("dynamodb")
    items = [_update(draw_id, w, now, stamp) for w in winners]
    try:
        try:
            dynamodb.transact_write_items(
                TransactItems=items, ClientRequestToken=request_token(draw_id, winners, stamp)
            )
        except dynamodb.exceptions.IdempotentParameterMismatchException:
            # the token's write, made within DynamoDB's ten minutes (a retry's), stamped another
            # time; the conditions alone keep a repeat from changing anything: made again without it
            dynamodb.transact_write_items(TransactItems=items)
    except dynamodb.exceptions.TransactionCanceledException as error:
        codes = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
        # only a failed condition means taken: the item belongs to another draw
        taken = [
            w["employee_id"]
            for w, code in zip(winners, codes, strict=False)
            if code == "ConditionalCheckFailed"
        ]
        if taken:
            return sorted(taken)
        if contended := sorted(CONTENDED.intersection(codes)):
            raise WinnersContended(f"the transaction was cancelled: {', '.join(contended)}") from error
        raise
    except dynamodb.exceptions.TransactionInProgressException as error:
        raise WinnersContended("the same transaction is still in progress") from error
    return []


def _taken(**scan: Any) -> Iterator[dict[str, Any]]:
    """The pages of a scan of the items that keep their employees from winning (TAKEN)."""
    pages = (
        clients.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=os.environ["WINNERS_TABLE"],
            FilterExpression=TAKEN,
            ExpressionAttributeValues={":lapsed": {"S": lapsed(datetime.now(UTC))}},
            **scan,
        )
    )
    yield from pages


def taken_ids() -> set[str]:
    """The employees who cannot win: past winners, and those a draw has claimed."""
    return {
        item["employee_id"]["S"]
        for page in _taken(ProjectionExpression="employee_id")
        for item in page["Items"]
    }


def count_taken() -> int:
    return sum(page["Count"] for page in _taken(Select="COUNT"))
