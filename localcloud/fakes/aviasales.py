"""A fake Aviasales (Travelpayouts) Data API: `GET /v2/prices/month-matrix` over real HTTP.

    with FakeAviasales(seed=3, token="t0k3n") as api:
        api.url                     # http://127.0.0.1:<port>
        api.fail(times=2)           # the next 2 requests answer 503
        api.throttle(times=1)       # the next request answers 429

Same JSON as the real API (see tasks/flight_deals/aviasales.py): `{"success", "data", "error"}`,
the token in `X-Access-Token` or the `token` query parameter, gzip when asked. Prices are seeded
and deterministic: the same (seed, route, month, currency) always serves the same days, one entry
per day and number of changes (0-2), sold by a handful of gates with prices around a fare that
grows with the route's distance, so that some are cheap enough to be deals.
"""

from __future__ import annotations

import calendar
import gzip
import hashlib
import json
import random
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler
from typing import Any

from localcloud.fakes.server import FakeServer

GATES = ("Aeroflot", "S7", "Pobeda", "Ural Airlines", "UTair", "Biletix", "OneTwoTrip")
# Great-circle km between the cities the demo flies; other routes get a seeded distance.
DISTANCES = {
    frozenset({"LED", "KZN"}): 1200,
    frozenset({"LED", "MOW"}): 630,
    frozenset({"MOW", "KZN"}): 720,
    frozenset({"LED", "HKT"}): 8015,
    frozenset({"MOW", "AER"}): 1360,
    frozenset({"LED", "AER"}): 1950,
}
RATES = {"rub": 1.0, "usd": 0.011, "eur": 0.010}
_IATA = re.compile(r"^[A-Z]{2,3}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})(-\d{2})?$")


@dataclass
class FakeAviasales(FakeServer):
    seed: int = 0
    token: str = "fake-aviasales-token"
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._fault: tuple[int, int | None] | None = None  # (status, remaining)

    # -- control ------------------------------------------------------------------------------

    def fail(self, times: int | None = None, status: int = 503) -> None:
        with self._lock:
            self._fault = (status, times)

    def throttle(self, times: int | None = None) -> None:
        self.fail(times, 429)

    def recover(self) -> None:
        with self._lock:
            self._fault = None

    # -- server -------------------------------------------------------------------------------

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler(self)

    # -- the API ------------------------------------------------------------------------------

    def _take_fault(self) -> int | None:
        with self._lock:
            if self._fault is None:
                return None
            status, remaining = self._fault
            if remaining is not None:
                self._fault = (status, remaining - 1) if remaining > 1 else None
            return status

    def answer(self, path: str, query: dict[str, str], token: str | None) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(f"{path}?{urllib.parse.urlencode(query)}")
        fault = self._take_fault()
        if fault is not None:
            return fault, {"success": False, "data": None, "error": "Service temporarily unavailable"}
        if (token or query.get("token")) != self.token:
            return 401, {"success": False, "data": None, "error": "Unauthorized"}
        if path.rstrip("/") != "/v2/prices/month-matrix":
            return 404, {"success": False, "data": None, "error": "Not found"}
        origin, destination = query.get("origin", ""), query.get("destination", "")
        currency = query.get("currency", "rub").lower()
        for name, value, ok in (
            ("origin", origin, _IATA.match(origin)),
            ("destination", destination, _IATA.match(destination)),
            ("currency", currency, currency in RATES),
        ):
            if not ok:
                return 400, {"success": False, "data": None, "error": f"{name}: invalid value {value!r}"}
        text = query.get("month", "2026-12")
        month = _month(text)
        if month is None:
            error = f"month: invalid value {text!r}, expected YYYY-MM or YYYY-MM-DD"
            return 400, {"success": False, "data": None, "error": error}
        data = self.month_matrix(origin, destination, *month, currency)
        return 200, {"success": True, "data": data, "error": None}

    def month_matrix(
        self, origin: str, destination: str, year: int, month: int, currency: str
    ) -> list[dict[str, Any]]:
        rng = random.Random(f"{self.seed}:{origin}:{destination}:{year}-{month}:{currency}")
        distance = DISTANCES.get(frozenset({origin, destination})) or _distance(origin, destination)
        fare = (2000 + distance * 3.2) * RATES[currency]
        data = []
        for day in range(1, calendar.monthrange(year, month)[1] + 1):
            for changes in range(3):
                if rng.random() < 0.15:  # not every day has every number of changes
                    continue
                value = round(fare * rng.uniform(0.45, 1.6) * (1 - 0.08 * changes))
                found_day = max(day - rng.randrange(1, 4), 1)
                data.append(
                    {
                        "show_to_affiliates": True,
                        "trip_class": 0,
                        "origin": origin,
                        "destination": destination,
                        "depart_date": f"{year:04d}-{month:02d}-{day:02d}",
                        "return_date": "",
                        "number_of_changes": changes,
                        "value": max(value, 1),
                        "gate": rng.choice(GATES),
                        "found_at": f"{year:04d}-{month:02d}-{found_day:02d}T{rng.randrange(24):02d}:"
                        f"{rng.randrange(60):02d}:00+03:00",
                        "duration": round(distance / 12) + 90 * changes + rng.randrange(0, 60),
                        "distance": distance,
                        "actual": True,
                    }
                )
        return data


def _month(text: str) -> tuple[int, int] | None:
    """(year, month) of a YYYY-MM or YYYY-MM-DD that is a real date, else None."""
    found = _MONTH.match(text)
    if found is None:
        return None
    year, month = int(found[1]), int(found[2])
    try:
        date(year, month, int(found[3][1:]) if found[3] else 1)
    except ValueError:
        return None
    return year, month


def _distance(origin: str, destination: str) -> int:
    digest = hashlib.sha256("".join(sorted((origin, destination))).encode()).digest()
    return 400 + int.from_bytes(digest[:2], "big") % 6000


def _handler(fake: FakeAviasales) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parsed.query))
            status, body = fake.answer(parsed.path, query, self.headers.get("X-Access-Token"))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            if "gzip" in (self.headers.get("Accept-Encoding") or ""):
                data = gzip.compress(data)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read fake.requests
            pass

    return Handler
