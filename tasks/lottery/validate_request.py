"""Validate Request: is the draw possible with the employees who can still win?"""

from __future__ import annotations

import os
from typing import Any

from tasks.lottery import winners
from tasks.lottery.draw import check_enough
from tasks.lottery.schemas import DRAW_REQUEST
from tasks.shared import clients
from tasks.shared.handler import task


def count_items(table_name: str) -> int:
    pages = clients.client("dynamodb").get_paginator("scan").paginate(TableName=table_name, Select="COUNT")
    return sum(page["Count"] for page in pages)


@task(DRAW_REQUEST, checks_request=True)
def handler(request: dict[str, Any]) -> dict[str, Any]:
    employees = count_items(os.environ["EMPLOYEES_TABLE"])
    check_enough(request["winners"], employees, winners.count_taken())
    return {"winners": request["winners"], "employees": employees, "seed": request.get("seed")}
