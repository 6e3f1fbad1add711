"""The ticket broker's JSON API: performances of a show and the listings of each.

    GET {base}/v1/events?performer=<show>&from=<date>&to=<date>&page=<n>
        -> {"events": [{"id", "name", "starts_at", "venue": {"id", "name", "city"}}], "page", "total_pages"}
           404 {"error": "not_found", ...} for a performer the broker does not know
    GET {base}/v1/events/<id>/listings?page=<n>
        -> {"listings": [{"id", "section", "row", "seats", "quantity", "price", "face_value",
                          "currency", "notes"}], "page", "total_pages"}

The API key travels in `X-Api-Key`. Answers become named errors the workflow's Retry matches:
BrokerUnavailable (5xx, no answer) and BrokerThrottled (429) are retried with backoff and
jitter; a refused key or request is a business error and goes to the alert at once, and a show
the broker does not know is the request's error (InvalidInput naming it), not an empty ranking.
"""

from __future__ import annotations

import json
import math
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tasks.shared.errors import InvalidInput, TaskError
from tasks.shared.http import HttpUnreachable, Response, request_json

MAX_PAGES = 100  # a runaway paginator must not keep a Lambda busy until its timeout; more is refused


class BrokerUnavailable(Exception):
    """The broker did not answer or answered 5xx: worth retrying later."""


class BrokerThrottled(Exception):
    """The broker answered 429: retried with jitter."""


class BrokerRejected(TaskError):
    """The broker refused the request (bad key, bad parameters) or answered nonsense."""


class BrokerNotFound(BrokerRejected):
    """The broker has no such performer or event (404)."""


@dataclass(frozen=True)
class BrokerClient:
    base_url: str
    api_key: str
    timeout: float = 10.0

    def _get(self, path: str, **query: Any) -> dict[str, Any]:
        url = f"{self.base_url.rstrip('/')}{path}?{urllib.parse.urlencode(query)}"
        try:
            answer = request_json("GET", url, headers={"X-Api-Key": self.api_key}, timeout=self.timeout)
        except HttpUnreachable as error:
            raise BrokerUnavailable(str(error)) from None
        return _checked(answer, path)

    def _pages(self, path: str, key: str, **query: Any) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            body = self._get(path, page=page, **query)
            pages = int(body.get("total_pages") or 1)
            if pages > MAX_PAGES:  # a ranking of part of the inventory would look whole
                raise BrokerRejected(f"{path}: {pages} pages, more than the {MAX_PAGES} read")
            yield from body.get(key) or []
            if page >= pages:
                return
            page += 1

    def performances(self, show: str, date_from: str, date_to: str) -> list[dict[str, Any]]:
        dates = {"from": date_from, "to": date_to}
        try:
            return [_performance(e) for e in self._pages("/v1/events", "events", performer=show, **dates)]
        except BrokerNotFound:
            raise InvalidInput(f"show: the broker has no show {json.dumps(show)}") from None

    def listings(self, performance_id: str) -> list[dict[str, Any]]:
        path = f"/v1/events/{urllib.parse.quote(performance_id, safe='')}/listings"
        return [_listing(item) for item in self._pages(path, "listings")]


def _checked(answer: Response, path: str) -> dict[str, Any]:
    if answer.status == 429:
        raise BrokerThrottled(f"{path}: throttled (Retry-After {answer.header('Retry-After') or '?'})")
    if answer.status >= 500:
        raise BrokerUnavailable(f"{path}: HTTP {answer.status}")
    if answer.status == 404:
        raise BrokerNotFound(f"{path}: HTTP 404: {str(answer.body)[:200]}")
    if answer.status >= 400 or not isinstance(answer.body, dict):
        raise BrokerRejected(f"{path}: HTTP {answer.status}: {str(answer.body)[:200]}")
    return answer.body


def _performance(event: dict[str, Any]) -> dict[str, Any]:
    try:
        venue = event["venue"]
        return {
            "performance_id": str(event["id"]),
            "starts_at": event["starts_at"],
            "date": event["starts_at"][:10],
            "theatre_id": venue["id"],
            "theatre_name": venue["name"],
        }
    except (KeyError, TypeError) as error:
        raise BrokerRejected(f"event without {error}: {str(event)[:200]}") from None


def _listing(item: dict[str, Any]) -> dict[str, Any]:
    try:
        return {
            "listing_id": str(item["id"]),
            "section": str(item["section"]),
            "row": str(item["row"]),
            "seats": [int(s) for s in item.get("seats") or []],
            "quantity": int(item["quantity"]),
            "price": _finite(item["price"]),
            "face_value": _finite(item.get("face_value") or 0),
            "notes": [str(n) for n in item.get("notes") or []],
        }
    except (KeyError, TypeError, ValueError) as error:
        raise BrokerRejected(f"listing without a valid {error}: {str(item)[:200]}") from None


def _finite(value: Any) -> float:
    """A number; "NaN" and "Infinity", which float() takes, would rank first (or nowhere)."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"price {value!r}")
    return number
