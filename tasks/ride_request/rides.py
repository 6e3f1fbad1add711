"""Ride-request decisions as pure functions: identity of a request, nearest unicorn, promo, fare.

The promo discount is deterministic:
a hash of (campaign, rider, pickup rounded to ~1 km) picks a tier, so the same rider at the same
place always gets the same offer and tests can predict it. Tiers, out of 100 hash buckets:

    0-49 no promo | 50-74 RIDE10 (10 % off) | 75-89 RIDE20 (20 % off) | 90-99 HALFOFF (50 % off)
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Iterable
from typing import Any

from tasks.shared.errors import TaskError

CAMPAIGN = "wild-rydes-2026"  # the seed: change it to run a new promo with fresh offers
TIERS: tuple[tuple[int, int, str | None], ...] = (
    (50, 0, None),
    (75, 10, "RIDE10"),
    (90, 20, "RIDE20"),
    (100, 50, "HALFOFF"),
)
MAX_PICKUP_KM = 25.0
UNICORN_SPEED_KMH = 40.0
CURRENCY = "USD"
_RIDES = uuid.UUID("0b9b8f5e-4a6e-4d2c-9a43-2f1f5d0c7e11")


class NoUnicornAvailable(TaskError):
    """No unicorn of the stable is available near the pickup."""


def ride_id(rider: str, request_id: str) -> str:
    """Request ids are chosen by clients: scoped by rider so one rider cannot collide with another."""
    return str(uuid.uuid5(_RIDES, f"{rider}\n{request_id}"))


def fingerprint(request: dict[str, Any]) -> str:
    """What makes two requests with one id the same request (a replay) or not (a conflict)."""
    canonical = {k: request[k] for k in ("request_id", "rider", "pickup")}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def nearest_unicorn(unicorns: Iterable[dict[str, Any]], pickup: dict[str, float]) -> dict[str, Any]:
    lat, lon = pickup["latitude"], pickup["longitude"]
    ranked = sorted(
        (distance_km(lat, lon, u["latitude"], u["longitude"]), u["name"], u)
        for u in unicorns
        if u.get("available", True)
    )
    if not ranked or ranked[0][0] > MAX_PICKUP_KM:
        raise NoUnicornAvailable(f"no unicorn available within {MAX_PICKUP_KM:g} km of the pickup")
    km, _, unicorn = ranked[0]
    return {
        "name": unicorn["name"],
        "color": unicorn["color"],
        "distance_km": round(km, 2),
        "eta_seconds": round(km / UNICORN_SPEED_KMH * 3600) + 60,
        "base_cents": int(unicorn["fare_cents"]),
    }


def promo(rider: str, pickup: dict[str, float], campaign: str = CAMPAIGN) -> dict[str, Any]:
    place = f"{pickup['latitude']:.2f},{pickup['longitude']:.2f}"
    bucket = int(hashlib.sha256(f"{campaign}:{rider}:{place}".encode()).hexdigest(), 16) % 100
    _, percent, code = next(t for t in TIERS if bucket < t[0])
    if not percent:
        return {"percent_off": 0, "code": None, "status": "none"}
    return {"percent_off": percent, "code": code, "status": "applied"}


def fare(base_cents: int, percent_off: int) -> dict[str, Any]:
    """Integer cents, the discount rounded half up: no float ever touches money."""
    discount = (base_cents * percent_off + 50) // 100
    return {
        "base_cents": base_cents,
        "discount_cents": discount,
        "total_cents": base_cents - discount,
        "currency": CURRENCY,
    }
