"""A fake ticket broker speaking the broker's JSON API over real HTTP (see tasks/ticket_ranking/broker.py).

    with FakeTicketBroker(seed=7, performances=36) as broker:
        broker.url                  # http://127.0.0.1:<port>
        broker.fail(times=2)        # the next 2 requests answer 503, then it recovers
        broker.fail()               # down until recover()
        broker.throttle(times=3)    # the next 3 requests answer 429 with Retry-After

Inventory is seeded and deterministic: the same seed serves the same performances and listings,
spread over the theatres we have seat data for (plus one we do not), each theatre playing
`shows_per_week` (a real run plays 8: 120 days of 4 theatres are about 550 performances, so
`performances=700, shows_per_week=8` is the volume a scheduled run ranks), with realistic prices:
a markup over face value, cheaper rear and obstructed seats, "Obstructed view" notes on most of
the obstructed ones.
"""

from __future__ import annotations

import json
import random
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, NamedTuple

from localcloud.fakes.server import FakeServer

THEATRES_DIR = Path(__file__).resolve().parents[2] / "tasks" / "ticket_ranking" / "data" / "theatres"
UNMAPPED = {"id": "saenger-nola", "name": "Saenger Theatre", "city": "New Orleans, LA"}
EVENTS_PER_PAGE = 25
LISTINGS_PER_PAGE = 100
TIMEZONES = {"New York, NY": "-05:00", "Chicago, IL": "-06:00"}


class Bargain(NamedTuple):
    """A listing far below the others, on sale (FakeTicketBroker.add_bargain)."""

    date: date  # of its performance
    sell: Callable[[], None]  # takes it off sale


@dataclass
class _Faults:
    status: int | None = None
    remaining: int | None = None  # None: until recover()
    retry_after: int = 1

    def take(self) -> int | None:
        if self.status is None:
            return None
        status = self.status
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                self.status = None
        return status


@dataclass
class FakeTicketBroker(FakeServer):
    seed: int = 7
    performances: int = 36
    listings: tuple[int, int] = (20, 60)
    api_key: str = "fake-broker-key"
    show: str = "hamilton"
    start_date: date | None = None
    shows_per_week: int = 7
    unmapped_theatre: bool = True
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._faults = _Faults()
        self._lock = threading.Lock()
        self.events, self.inventory = _generate(self)

    # -- control ------------------------------------------------------------------------------

    def fail(self, times: int | None = None, status: int = 503) -> None:
        with self._lock:
            self._faults = _Faults(status, times)

    def throttle(self, times: int | None = None, retry_after: int = 1) -> None:
        with self._lock:
            self._faults = _Faults(429, times, retry_after)

    def recover(self) -> None:
        with self._lock:
            self._faults = _Faults()

    def reseed(self, **changes: Any) -> None:
        """Serve another inventory (e.g. `performances=50`) from the same URL."""
        for name, value in changes.items():
            setattr(self, name, value)
        self.events, self.inventory = _generate(self)

    def add_listing(self, performance_id: str, listing: dict[str, Any]) -> None:
        """Put a listing on sale (tests: a new great deal appears)."""
        self.inventory[performance_id].append(listing)

    def add_bargain(self) -> Bargain:
        """Put a listing far below the others (5.00, id "bargain") on sale at the first performance
        of a theatre whose seats are mapped, so that it is ranked (tests: the best deal of its date)."""
        target = next(e for e in self.events if e["venue"]["id"] != UNMAPPED["id"])
        listing = {**self.inventory[target["id"]][0], "id": "bargain", "price": 5.0}
        self.add_listing(target["id"], listing)
        return Bargain(
            date.fromisoformat(target["starts_at"][:10]), lambda: self.inventory[target["id"]].remove(listing)
        )

    # -- server -------------------------------------------------------------------------------

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self)

    # -- the API ------------------------------------------------------------------------------

    def answer(
        self, path: str, query: dict[str, str], api_key: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.requests.append(path)
            status = self._faults.take()
            retry_after = self._faults.retry_after
        if status == 429:
            return (
                429,
                {"error": "rate_limited", "message": "Too many requests"},
                {"Retry-After": str(retry_after)},
            )
        if status is not None:
            return status, {"error": "unavailable", "message": "Inventory service unavailable"}, {}
        if api_key != self.api_key:
            return 401, {"error": "unauthorized", "message": "Missing or invalid API key"}, {}
        page = max(int(query.get("page", "1") or 1), 1)
        parts = [p for p in path.split("/") if p]
        if parts == ["v1", "events"]:
            performer = query.get("performer", self.show)
            if performer != self.show:
                return 404, {"error": "not_found", "message": f"no performer {performer}"}, {}
            events = [
                e
                for e in self.events
                if query.get("from", "0000") <= e["starts_at"][:10] <= query.get("to", "9999")
            ]
            return 200, _page("events", events, page, EVENTS_PER_PAGE), {}
        if len(parts) == 4 and parts[:2] == ["v1", "events"] and parts[3] == "listings":
            if parts[2] not in self.inventory:
                return 404, {"error": "not_found", "message": f"no event {parts[2]}"}, {}
            return 200, _page("listings", self.inventory[parts[2]], page, LISTINGS_PER_PAGE), {}
        return 404, {"error": "not_found", "message": path}, {}


def _page(key: str, items: list[dict[str, Any]], page: int, size: int) -> dict[str, Any]:
    pages = max((len(items) + size - 1) // size, 1)
    return {key: items[(page - 1) * size : page * size], "page": page, "total_pages": pages}


def _handler(fake: FakeTicketBroker) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parsed.query))
            status, body, headers = fake.answer(parsed.path, query, self.headers.get("X-Api-Key"))
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read fake.requests
            pass

    return Handler


def _theatres() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(THEATRES_DIR.glob("*.json"))]


def _letters(spec: str) -> list[str]:
    first, _, last = spec.partition("-")
    return [chr(c) for c in range(ord(first), ord(last or first) + 1)]


def _numbers(spec: str) -> set[int]:
    found: set[int] = set()
    for part in spec.split(","):
        low, _, high = part.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return found


def _generate(fake: FakeTicketBroker) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    rng = random.Random(fake.seed)
    theatres = _theatres()
    venues = [{"id": t["theatre_id"], "name": t["name"], "city": t["city"]} for t in theatres]
    if fake.unmapped_theatre:
        venues.append(UNMAPPED)
    first = fake.start_date or (datetime.now(UTC).date() + timedelta(days=1))
    events, inventory = [], {}
    for n in range(fake.performances):
        venue = venues[n % len(venues)]
        day = first + timedelta(days=n // len(venues) * 7 // fake.shows_per_week + rng.randrange(0, 3))
        hour = rng.choice(("14:00", "19:00", "20:00"))
        offset = TIMEZONES.get(venue["city"], "-08:00")
        event_id = f"{venue['id'][:4]}-{fake.seed}-{n:04d}"
        events.append(
            {
                "id": event_id,
                "name": "Hamilton",
                "starts_at": f"{day.isoformat()}T{hour}:00{offset}",
                "venue": venue,
            }
        )
        theatre = next((t for t in theatres if t["theatre_id"] == venue["id"]), theatres[0])
        count = rng.randint(*fake.listings)
        inventory[event_id] = [_listing(rng, theatre, f"{event_id}-L{i:04d}") for i in range(count)]
    events.sort(key=lambda e: (e["starts_at"], e["id"]))
    return events, inventory


def _listing(rng: random.Random, theatre: dict[str, Any], listing_id: str) -> dict[str, Any]:
    section = rng.choices(
        theatre["sections"],
        weights=[s["seats_per_row"] * len(_letters(s["rows"])) for s in theatre["sections"]],
    )[0]
    rows = _letters(section["rows"])
    row_index = rng.randrange(len(rows))
    quantity = rng.choices((1, 2, 3, 4, 6), weights=(2, 10, 2, 4, 1))[0]
    width = section["seats_per_row"]
    first = rng.randint(1, max(width - quantity + 1, 1))
    seats = list(range(first, min(first + quantity, width + 1)))
    obstructed = any(
        rows[row_index] in _letters(o["rows"]) and set(seats) & _numbers(o["seats"])
        for o in section.get("obstructions", [])
    )
    depth = row_index / max(len(rows) - 1, 1)
    quality = section["front_quality"] + (section["back_quality"] - section["front_quality"]) * depth
    face = round(theatre["reference_price"] * (0.45 + 0.6 * quality), 0)
    markup = rng.uniform(1.05, 2.6) * (0.6 if obstructed else 1.0)
    notes = []
    if obstructed and rng.random() < 0.6:
        notes.append("Obstructed view")
    if rng.random() < 0.2:
        notes.append(rng.choice(("Aisle seats", "Mobile entry", "Instant download", "Wheelchair accessible")))
    return {
        "id": listing_id,
        "section": rng.choice([section["name"], *section.get("aliases", [])[:1]]),
        "row": rows[row_index],
        "seats": seats if rng.random() < 0.85 else [],  # some brokers hide seat numbers
        "quantity": len(seats),
        "price": round(face * markup, 2),
        "face_value": face,
        "currency": "USD",
        "notes": notes,
    }
