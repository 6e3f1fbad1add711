"""Record Deals Told: confirm the run's claims as told, after the publish (tasks.ticket_ranking.told).

A score told is only raised, so a retry or a redrive changes nothing, and a run recording after
a run that told a better deal for a performance leaves that one told.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tasks.shared.handler import task
from tasks.ticket_ranking import told
from tasks.ticket_ranking.schemas import RECORD_DEALS


@task(RECORD_DEALS)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"recorded": sum(told.record(event["run_id"], deal, now) for deal in event["deals"])}
