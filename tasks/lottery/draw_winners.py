"""Draw Winners: pick distinct lottery serials and read those employees."""

from __future__ import annotations

import os
from typing import Any

from boto3.dynamodb.conditions import Key

from tasks.lottery.draw import pick_serials
from tasks.lottery.schemas import DRAW
from tasks.shared import clients
from tasks.shared.errors import TaskError
from tasks.shared.handler import task
from tasks.shared.numbers import from_dynamo

SERIAL_INDEX = "lottery_serial-index"


class EmployeeNotFound(TaskError):
    """A lottery serial in 1..N has no employee: the employees table is not numbered 1..N."""


def employee_by_serial(serial: int) -> dict[str, Any]:
    table = clients.table(os.environ["EMPLOYEES_TABLE"])
    query = {"IndexName": SERIAL_INDEX, "KeyConditionExpression": Key("lottery_serial").eq(serial)}
    items = table.query(**query)["Items"]
    if not items:
        raise EmployeeNotFound(f"no employee has lottery_serial {serial}")
    item = from_dynamo(items[0])
    return {k: item[k] for k in ("employee_id", "employee_name", "lottery_serial")}


@task(DRAW)
def handler(draw: dict[str, Any]) -> dict[str, Any]:
    serials = pick_serials(draw["winners"], draw["employees"], draw.get("seed"), draw["attempt"])
    return {"winners": [employee_by_serial(s) for s in serials]}
