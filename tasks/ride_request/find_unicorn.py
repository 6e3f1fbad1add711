"""Find Unicorn: the nearest available unicorn of the stable (a small table, read whole)."""

from __future__ import annotations

import os
from typing import Any

from tasks.ride_request.rides import nearest_unicorn
from tasks.ride_request.schemas import FIND_UNICORN
from tasks.shared import clients
from tasks.shared.handler import task
from tasks.shared.numbers import from_dynamo


def stable() -> list[dict[str, Any]]:
    table = clients.table(os.environ["UNICORNS_TABLE"])
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        items += [from_dynamo(i) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


@task(FIND_UNICORN)
def handler(event: dict[str, Any]) -> dict[str, Any]:
    return nearest_unicorn(stable(), event["pickup"])
