"""Get Discount: the promo for this rider at this place (deterministic; see tasks.ride_request.rides)."""

from __future__ import annotations

from typing import Any

from tasks.ride_request.rides import promo
from tasks.ride_request.schemas import DISCOUNT_REQUEST
from tasks.shared.handler import task


@task(DISCOUNT_REQUEST)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    return promo(event["rider"], event["pickup"])
