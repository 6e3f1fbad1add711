"""Apply Discount: the fare of the ride, from the unicorn's base fare and the discount found."""

from __future__ import annotations

from typing import Any

from tasks.ride_request.rides import fare
from tasks.ride_request.schemas import APPLY
from tasks.shared.handler import task


@task(APPLY)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    return fare(event["base_cents"], event["discount"]["percent_off"])
