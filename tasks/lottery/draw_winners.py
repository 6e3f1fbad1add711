"""Draw Winners: walk the lottery serials in the draw's random order, reading each employee, and
take the first who have not won yet, nor are claimed by a draw (the winners table, read once).

Check Past Winners still claims them atomically: a draw running at the same time may claim one
in between, and then this draw redraws."""

from __future__ import annotations

import os
from typing import Any

from boto3.dynamodb.conditions import Key

from tasks.lottery import winners
from tasks.lottery.draw import draw_order, first_eligible
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
    past = winners.taken_ids()
    employees = map(employee_by_serial, draw_order(draw["employees"], draw.get("seed"), draw["attempt"]))
    return {"winners": first_eligible(employees, draw["winners"], lambda e: e["employee_id"] not in past)}
