"""Validate Request: check the ride request again at the first task, and give it its identity."""

from __future__ import annotations

from typing import Any

from tasks.ride_request.rides import fingerprint, ride_id
from tasks.ride_request.schemas import RIDE_REQUEST
from tasks.shared.handler import task


@task(RIDE_REQUEST, checks_request=True)
def handler(request: dict[str, Any]) -> dict[str, Any]:
    return {
        "ride_id": ride_id(request["rider"], request["request_id"]),
        "request_id": request["request_id"],
        "rider": request["rider"],
        "pickup": request["pickup"],
        "fingerprint": fingerprint(request),
    }
