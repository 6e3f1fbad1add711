"""Fetch Inventory: a show's performances and their listings from the broker, raw to S3.

Only pointers travel on: the performances go to S3 in pages of PAGE_SIZE, each with its raw
listings, and the state output is the list of the pages' keys (one Map item each). Performances
in theatres without seat data are skipped (reported, and alerted once a week: unmapped.py)
rather than ranked blind.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from tasks.shared.errors import TaskError
from tasks.shared.handler import task
from tasks.shared.parameters import setting
from tasks.shared.powertools import logger, metrics
from tasks.ticket_ranking import store, unmapped
from tasks.ticket_ranking.broker import BrokerClient
from tasks.ticket_ranking.ranking import known_theatres
from tasks.ticket_ranking.schemas import DEFAULT_SHOW, FETCH, MAX_PERFORMANCES, PAGE_SIZE

DEFAULT_DAYS_AHEAD = 120


class TooManyPerformances(TaskError):
    """More performances than one run may rank; narrow days_ahead."""


def broker() -> BrokerClient:
    return BrokerClient(setting("BROKER_URL_PARAMETER"), setting("BROKER_API_KEY_SECRET"))


@task(FETCH, checks_request=True)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    show = event["request"].get("show", DEFAULT_SHOW)
    now = datetime.now(UTC)
    until = now + timedelta(days=event["request"].get("days_ahead", DEFAULT_DAYS_AHEAD))
    dates = {"from": now.date().isoformat(), "to": until.date().isoformat()}
    client, theatres = broker(), known_theatres()
    found = client.performances(show, dates["from"], dates["to"])
    wanted = [p for p in found if p["theatre_id"] in theatres]
    if len(wanted) > MAX_PERFORMANCES:
        raise TooManyPerformances(f"{len(wanted)} performances, at most {MAX_PERFORMANCES} per run")
    listings, pages = 0, list[str]()
    for number, start in enumerate(range(0, len(wanted), PAGE_SIZE), 1):
        page = [
            {"performance": p, "listings": client.listings(p["performance_id"])}
            for p in wanted[start : start + PAGE_SIZE]
        ]
        pages.append(store.raw_key(event["run_id"], number))
        store.put_json(pages[-1], {"performances": page})
        listings += sum(len(p["listings"]) for p in page)
    skipped = sorted({p["theatre_id"] for p in found} - theatres)
    if skipped:
        logger.warning("theatres without seat data skipped", extra={"theatres": skipped})
        unmapped.alert_new(show, skipped)
    metrics.add_metric(name="ListingsFetched", unit=MetricUnit.Count, value=listings)
    return {
        "run_id": event["run_id"],
        "show": show,
        "fetched_at": now.isoformat(),
        "dates": dates,
        "listings": listings,
        "performances": len(wanted),
        "pages": pages,
        "skipped_theatres": skipped,
    }
