"""Ride-request decisions: request identity, nearest unicorn, the seeded promo, the fare."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from tasks.ride_request.rides import (
    CAMPAIGN,
    NoUnicornAvailable,
    distance_km,
    fare,
    fingerprint,
    nearest_unicorn,
    promo,
    ride_id,
)
from tests.unit.conftest import seed_items
from workflows.ride_request import WORKFLOW

STABLE = seed_items(WORKFLOW.tables[1])
PIKE_PLACE = {"latitude": 47.6097, "longitude": -122.3422}


def test_a_request_id_is_scoped_by_rider_and_its_fingerprint_covers_the_body() -> None:
    assert ride_id("ann", "req-00001") == ride_id("ann", "req-00001")
    assert ride_id("ann", "req-00001") != ride_id("bob", "req-00001")
    request = {"request_id": "req-00001", "rider": "ann", "pickup": PIKE_PLACE}
    assert fingerprint(request) == fingerprint({**request, "pickup": dict(reversed(PIKE_PLACE.items()))})
    assert fingerprint(request) != fingerprint({**request, "pickup": {**PIKE_PLACE, "latitude": 47.61}})


def test_the_nearest_available_unicorn_is_found() -> None:
    assert round(distance_km(47.6062, -122.3321, 47.6205, -122.3493), 1) == 2.0
    near_space_needle = nearest_unicorn(STABLE, {"latitude": 47.6200, "longitude": -122.3490})
    assert near_space_needle["name"] == "Shadowfax" and near_space_needle["base_cents"] == 1500
    assert near_space_needle["eta_seconds"] >= 60
    # Binky (Tacoma) is not available: a Tacoma pickup gets a Seattle-area unicorn or none.
    with pytest.raises(NoUnicornAvailable):
        nearest_unicorn(STABLE, {"latitude": 47.05, "longitude": -122.6})
    with pytest.raises(NoUnicornAvailable):
        nearest_unicorn(STABLE, {"latitude": 0, "longitude": 0})


def test_the_promo_is_deterministic_and_follows_the_documented_tiers() -> None:
    assert promo("ann", PIKE_PLACE) == promo("ann", {"latitude": 47.60971, "longitude": -122.34221})
    offers = Counter(promo(f"rider-{i}", PIKE_PLACE)["percent_off"] for i in range(4000))
    assert set(offers) == {0, 10, 20, 50}
    shares = {k: v / 4000 for k, v in offers.items()}
    assert abs(shares[0] - 0.50) < 0.03 and abs(shares[10] - 0.25) < 0.03
    assert abs(shares[20] - 0.15) < 0.03 and abs(shares[50] - 0.10) < 0.03
    riders = [f"rider-{i}" for i in range(50)]
    other = [promo(r, PIKE_PLACE, campaign="other")["percent_off"] for r in riders]
    assert other != [promo(r, PIKE_PLACE)["percent_off"] for r in riders]  # another campaign draws anew
    none = next(
        promo(f"r{i}", PIKE_PLACE) for i in range(100) if promo(f"r{i}", PIKE_PLACE)["percent_off"] == 0
    )
    assert none == {"percent_off": 0, "code": None, "status": "none"}


def test_the_fare_is_in_cents_with_the_discount_rounded_half_up() -> None:
    assert fare(1500, 0) == {"base_cents": 1500, "discount_cents": 0, "total_cents": 1500, "currency": "USD"}
    assert fare(1500, 10)["total_cents"] == 1350
    assert fare(1250, 10) == {
        "base_cents": 1250,
        "discount_cents": 125,
        "total_cents": 1125,
        "currency": "USD",
    }
    assert fare(1255, 10)["discount_cents"] == 126  # 125.5 -> 126
    assert fare(999, 50)["total_cents"] == 499


def test_an_unavailable_unicorn_is_never_sent_even_to_its_own_stable() -> None:
    binky = next(u for u in STABLE if u["name"] == "Binky")
    assert binky["available"] is False
    at_its_stable = {"latitude": binky["latitude"], "longitude": binky["longitude"]}
    assert nearest_unicorn(STABLE, at_its_stable)["name"] == "Pegasus"  # 24 km away, Binky 0 km
    with pytest.raises(NoUnicornAvailable):
        nearest_unicorn([binky], at_its_stable)


def _bucket(rider: str, place: dict[str, float]) -> int:
    """The documented hash bucket of (campaign, rider, pickup rounded to 0.01 degree)."""
    key = f"{CAMPAIGN}:{rider}:{place['latitude']:.2f},{place['longitude']:.2f}"
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % 100


@pytest.mark.parametrize(
    ("bucket", "percent_off", "code"),
    [(0, 0, None), (49, 0, None), (50, 10, "RIDE10"), (74, 10, "RIDE10"), (75, 20, "RIDE20"),
     (89, 20, "RIDE20"), (90, 50, "HALFOFF"), (99, 50, "HALFOFF")],
)  # fmt: skip
def test_each_promo_tier_starts_and_ends_at_its_documented_bucket(
    bucket: int, percent_off: int, code: str | None
) -> None:
    rider = next(f"rider-{i}" for i in range(10_000) if _bucket(f"rider-{i}", PIKE_PLACE) == bucket)
    offer = promo(rider, PIKE_PLACE)
    assert (offer["percent_off"], offer["code"]) == (percent_off, code)
