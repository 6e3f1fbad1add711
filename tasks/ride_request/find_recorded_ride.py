"""Find Recorded Ride: a request whose id was already used is answered before a unicorn is looked
for. A replay gets the recorded ride back even when no unicorn is free any more; the same id with
another body is RequestIdConflict, whatever its pickup."""

from __future__ import annotations

import os
from typing import Any

from tasks.ride_request.record_ride import recorded
from tasks.ride_request.schemas import REQUEST_IDENTITY
from tasks.shared import clients
from tasks.shared.handler import task


@task(REQUEST_IDENTITY)
def handler(request: dict[str, Any]) -> dict[str, Any]:
    return {"ride": recorded(clients.table(os.environ["RIDES_TABLE"]), request)}
