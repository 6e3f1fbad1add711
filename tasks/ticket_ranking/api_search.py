"""GET /tickets/search: the best tickets over a date range and a price cap, across performances.

The feature no resale site had: `from`, `to` (dates), optional `max_price`, `quantity`, `section`
(its name or an alias, in any case), `theatre` (its id), `show` and `limit`. Reads, for each
date, the rankings of the latest run that covered it from DynamoDB, an item a performance with
every listing, and filters and ranks those listings here; `run_id` names the latest run read.
An API Gateway HTTP API (payload 2.0) route handler: event in, {statusCode, headers, body} out.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from tasks.shared.api import error, invalid, response, route
from tasks.shared.documents import DATE
from tasks.ticket_ranking import coverage, store
from tasks.ticket_ranking.ranking import known_theatres, load_theatre, same_section
from tasks.ticket_ranking.schemas import DEFAULT_SHOW, SHOW

QUERY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "from": DATE,
        "to": DATE,
        "max_price": {
            "type": "string",
            "pattern": r"^\d+(\.\d+)?$",
            "x-pattern": "a price such as 120 or 99.50",
        },
        "quantity": {"type": "string", "pattern": r"^[1-9]\d?$", "x-pattern": "a whole number from 1 to 99"},
        "limit": {
            "type": "string",
            "pattern": r"^([1-9]|[1-9]\d|100)$",
            "x-pattern": "a whole number from 1 to 100",
        },
        "section": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9 .'&/-]{0,63}$",
            "x-pattern": "a section's name, such as Orchestra or Front Mezzanine",
        },
        "theatre": {"type": "string", "enum": sorted(known_theatres())},  # the theatres ranked
        "show": SHOW,
    },
    "required": ["from", "to"],
    "additionalProperties": False,
}
SHOWN = (
    "performance_id", "date", "theatre_id", "theatre_name", "listing_id", "section", "row", "seats",
    "quantity", "price", "quality", "obstructed", "reasons", "score",
)  # fmt: skip


def meets(ticket: dict[str, Any], query: dict[str, str]) -> bool:
    """Whether a ranked listing meets the query's filters."""
    section, theatre = query.get("section"), query.get("theatre")
    return (
        ticket["price"] <= float(query.get("max_price", "inf"))
        and ticket["quantity"] >= int(query.get("quantity", "1"))
        and theatre in (None, ticket["theatre_id"])
        and (section is None or same_section(load_theatre(ticket["theatre_id"]), ticket["section"], section))
    )


def search(query: dict[str, str]) -> dict[str, Any]:
    current = store.current_run(query.get("show", DEFAULT_SHOW))
    read = coverage.within(store.spans_of(current), query["from"], query["to"])
    if not read:
        return {"run_id": None, "tickets": []}
    limit = int(query.get("limit", "20"))
    found = [
        t
        for span in read
        for t in store.run_by_dates(span["run_id"], span["from"], span["to"])
        if meets(t, query)
    ]
    found.sort(key=lambda t: (-t["score"], t["price"], t["listing_id"]))
    latest = max(read, key=lambda s: s["fetched_at"])["run_id"]
    return {"run_id": latest, "tickets": [{k: t[k] for k in SHOWN} for t in found[:limit]]}


@route("ticket-ranking", "api-search")
def handler(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    # context may be None: the console calls route handlers in-process
    query = dict(event.get("queryStringParameters") or {})
    rejected = invalid(QUERY, query)
    if rejected:
        return rejected
    if query["from"] > query["to"]:
        fields = [{"field": "to", "message": "is before from"}]
        return error(400, "InvalidInput", "to: is before from", fields=fields)
    return response(200, search(query))
