"""Theatres without seat data: their performances are skipped, not ranked blind, until someone adds
the theatre's data file (data/theatres/<id>.json). Alerted once a week per theatre, not every run:
the run that first sees it marks it in the state table (a conditional write, so overlapping runs
alert once), then alerts on the alerts topic through the alert window (tasks.shared.alerts).
"""

from __future__ import annotations

import contextlib
import time

from botocore.exceptions import BotoCoreError, ClientError

from tasks.shared import alerts
from tasks.shared.powertools import logger
from tasks.ticket_ranking import store

PREFIX = "unmapped#"
REMIND_SECONDS = 7 * 24 * 3600  # still skipped a week later: alerted again


def _mark(theatre: str) -> bool:
    """Whether this run marked the theatre (no mark there, or one past its expiry: DynamoDB's TTL
    deletes late)."""
    table, now = store.state_table(), int(time.time())
    try:
        table.put_item(
            Item={"key": PREFIX + theatre, "expires_at": now + REMIND_SECONDS},
            ConditionExpression="attribute_not_exists(#key) OR expires_at <= :now",
            ExpressionAttributeNames={"#key": "key"},
            ExpressionAttributeValues={":now": now},
        )
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return False
    except (BotoCoreError, ClientError):  # the ranking goes on; a later run marks and alerts it
        logger.exception("theatre without seat data not marked", extra={"theatre": theatre})
        return False
    return True


def alert_new(show: str, skipped: list[str]) -> list[str]:
    """Alerts the theatres of `skipped` no run alerted this week; those it alerted."""
    new = [theatre for theatre in skipped if _mark(theatre)]
    if not new:
        return []
    send = alerts.of_function("ticket-ranking Fetch Inventory")
    names = ", ".join(new)
    message = (
        f"Performances of {show} in {names} are not ranked: no seat data. "
        f"Add tasks/ticket_ranking/data/theatres/<id>.json for each, then deploy."
    )
    # the window is of these theatres: another theatre's alert within the hour is emailed too
    error = f"TheatreWithoutSeatData {names}"
    try:
        send(f"[ticket-ranking] theatres without seat data: {names}", message, error)
    except Exception:  # the ranking goes on; the next run alerts them
        logger.exception("theatres without seat data not alerted", extra={"theatres": new})
        for theatre in new:
            with contextlib.suppress(BotoCoreError, ClientError):  # its mark lapses in a week then
                store.state_table().delete_item(Key={"key": PREFIX + theatre})
        return []
    return new
