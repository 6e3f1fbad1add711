"""Concurrent requests to moto backends that are not thread-safe behave as on AWS: none fails for
another's sake, conditions hold, readers see whole objects."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.localcloud.helpers import deploy, on_demand_table


def _table(cloud: LocalCloud) -> str:
    name = f"serial-{uuid.uuid4().hex[:8]}"
    on_demand_table(cloud, name)
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


def test_concurrent_puts_and_gets_of_one_s3_key_all_succeed_and_read_whole_objects(cloud: LocalCloud) -> None:
    s3, bucket, errors = cloud.client("s3"), f"serial-{uuid.uuid4().hex[:8]}", []
    s3.create_bucket(Bucket=bucket)
    bodies = {bytes([65 + n]) * 4096 for n in range(6)}

    def work() -> None:
        client = cloud.client("s3", retries={"max_attempts": 0})  # a 500 must not be retried away
        for body in sorted(bodies) * 8:
            try:
                client.put_object(Bucket=bucket, Key="report.json", Body=body)
                read = client.get_object(Bucket=bucket, Key="report.json")["Body"].read()
                if read not in bodies:
                    errors.append(f"read {len(read)} bytes that no writer wrote")
            except ClientError as exc:
                errors.append(exc.response["Error"])

    _in_threads(6, work)
    assert errors == []
    assert s3.get_object(Bucket=bucket, Key="report.json")["Body"].read() in bodies


def test_a_lambda_that_s3_notifies_can_call_s3_back_before_the_put_returns(cloud: LocalCloud) -> None:
    s3, bucket = cloud.client("s3"), f"serial-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    copier = deploy(cloud, f"copier-{uuid.uuid4().hex[:8]}", "copies", timeout=10)
    only_in = {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": copier, "Events": ["s3:ObjectCreated:*"], "Filter": only_in}
            ]
        },
    )

    s3.put_object(Bucket=bucket, Key="in/report.json", Body=b'{"ok": true}')

    assert s3.get_object(Bucket=bucket, Key="copies/in/report.json")["Body"].read() == b'{"ok": true}'
