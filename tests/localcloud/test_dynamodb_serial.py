"""Concurrent DynamoDB requests behave as on AWS: none fails for another's sake, conditions hold."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from botocore.exceptions import ClientError

from localcloud import LocalCloud


def _table(cloud: LocalCloud) -> str:
    name = f"serial-{uuid.uuid4().hex[:8]}"
    cloud.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _in_threads(count: int, work: Callable[[], None]) -> None:
    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _put(table: str, key: str, only_new: bool = False) -> dict:
    put: dict = {"TableName": table, "Item": {"pk": {"S": key}}}
    if only_new:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": put}


def test_concurrent_transactions_and_writes_all_land(cloud: LocalCloud) -> None:
    table, errors = _table(cloud), []

    def work() -> None:
        ddb = cloud.client("dynamodb", retries={"max_attempts": 0})  # a 500 must not be retried away
        for _ in range(30):
            key = uuid.uuid4().hex
            try:
                ddb.transact_write_items(
                    TransactItems=[_put(table, key, only_new=True), _put(table, key + "-b")]
                )
                ddb.put_item(TableName=table, Item={"pk": {"S": key + "-c"}})
            except ClientError as exc:
                errors.append(exc.response["Error"])

    _in_threads(6, work)
    assert errors == []
    assert cloud.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"] == 6 * 30 * 3


def test_racing_conditional_transactions_on_one_key_let_exactly_one_win(cloud: LocalCloud) -> None:
    table, outcomes = _table(cloud), []

    def work() -> None:
        ddb = cloud.client("dynamodb", retries={"max_attempts": 0})
        try:
            ddb.transact_write_items(TransactItems=[_put(table, "draw-1", only_new=True)])
            outcomes.append("won")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])

    _in_threads(8, work)
    assert sorted(outcomes) == ["TransactionCanceledException"] * 7 + ["won"]
