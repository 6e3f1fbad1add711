"""Schemas of the ticket-ranking events; RUN_REQUEST is also the workflow's input schema."""

from typing import Any

from tasks.shared.documents import DATE

# A run's performances are ranked in pages, one Map item each: a scheduled run of 120 days ranks
# about 550 performances (4 theatres, 8 shows a week), and a Map item per performance would take
# the worst-case history (about 64 events an item, retries counted) past Step Functions' 25,000
# events beyond some 350. 80 pages of 25 cover a year of these theatres (about 1,700).
PAGE_SIZE = 25
MAX_PERFORMANCES = 2_000
MAX_PAGES = -(-MAX_PERFORMANCES // PAGE_SIZE)  # bounds the Map (and the history the linter computes for it)
DEFAULT_SHOW = "hamilton"
ID = {"type": "string", "minLength": 1, "maxLength": 128}
# a broker performer slug: the run request's show and GET /tickets/search's
SHOW: dict[str, Any] = {
    "type": "string",
    "pattern": "^[a-z0-9-]{1,64}$",
    "x-pattern": 'a show\'s slug: 1 to 64 lowercase letters, digits or "-"',
}

RUN_REQUEST: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Ticket ranking run",
    "type": "object",
    "properties": {
        "show": {**SHOW, "description": "Broker performer slug"},
        "days_ahead": {
            "type": "integer",
            "minimum": 1,
            "maximum": 365,
            "description": "How far ahead to rank performances",
        },
    },
    "additionalProperties": False,
}

FETCH: dict[str, Any] = {
    "type": "object",
    "properties": {"run_id": ID, "request": RUN_REQUEST},
    "required": ["run_id", "request"],
}

# a page of a run's performances, with their listings as fetched (raw/) or ranked (ranked/), in S3
RANK: dict[str, Any] = {
    "type": "object",
    "properties": {"run_id": ID, "key": {"type": "string", "pattern": "^raw/"}},
    "required": ["run_id", "key"],
}

STORE: dict[str, Any] = {
    "type": "object",
    "properties": {"run_id": ID, "ranked_key": {"type": "string", "pattern": "^ranked/"}},
    "required": ["run_id", "ranked_key"],
}

# The dates a run asked the broker for, both included: what it may become current for.
DATES = {
    "type": "object",
    "properties": {"from": DATE, "to": DATE},
    "required": ["from", "to"],
    "additionalProperties": False,
}

MARK_CURRENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "run_id": ID,
        "show": {"type": "string", "minLength": 1},
        "fetched_at": {"type": "string", "minLength": 1},
        "dates": DATES,
    },
    "required": ["run_id", "show", "fetched_at", "dates"],
}

# The dates the run is current for (Mark Current's): its deals on other dates are another run's.
FIND_DEALS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "run_id": ID,
        "show": {"type": "string"},
        "dates": {"type": "array", "items": DATES},
    },
    "required": ["run_id", "show", "dates"],
}

DEAL = {
    "type": "object",
    "properties": {"performance_id": ID, "listing_id": ID, "score": {"type": "number"}},
    "required": ["performance_id", "listing_id", "score"],
}

RECORD_DEALS: dict[str, Any] = {
    "type": "object",
    "properties": {"run_id": ID, "deals": {"type": "array", "items": DEAL, "maxItems": 100}},
    "required": ["run_id", "deals"],
}
