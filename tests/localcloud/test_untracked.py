"""What an application deletes is freed: moto keeps no list of every item, log line, record and
message it ever made."""

from __future__ import annotations

import gc
import importlib
import weakref

from localcloud import LocalCloud, untracked
from tests.localcloud.helpers import deploy, invoke, on_demand_table


def _tracked() -> dict[str, int]:
    return {
        name: len(getattr(importlib.import_module(module), name).instances_tracked)
        for module, name in untracked.UNTRACKED
    }


def test_deleted_items_are_freed_and_nothing_is_listed(cloud: LocalCloud) -> None:
    from moto.dynamodb.models import dynamodb_backends

    dynamodb = cloud.client("dynamodb")
    on_demand_table(cloud, "freed")
    for n in range(20):
        dynamodb.put_item(TableName="freed", Item={"pk": {"S": f"k{n}"}, "v": {"N": "1"}})
        dynamodb.put_item(TableName="freed", Item={"pk": {"S": f"k{n}"}, "v": {"N": "2"}})  # a new Item
    table = dynamodb_backends["123456789012"][cloud.region].tables["freed"]
    stored = [weakref.ref(item) for item in table.all_items()]
    assert len(stored) == 20
    for n in range(20):
        dynamodb.delete_item(TableName="freed", Key={"pk": {"S": f"k{n}"}})
    del table

    kinesis = cloud.client("kinesis")
    kinesis.create_stream(StreamName="freed", ShardCount=1)
    kinesis.put_record(StreamName="freed", Data=b"{}", PartitionKey="p")
    sqs = cloud.client("sqs")
    queue = sqs.create_queue(QueueName="freed")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="{}")
    for message in sqs.receive_message(QueueUrl=queue)["Messages"]:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    deploy(cloud, "freed", "echo")
    invoke(cloud, "freed")  # its START, END and REPORT log lines

    gc.collect()
    assert [ref for ref in stored if ref() is not None] == []
    assert _tracked() == {name: 0 for _, name in untracked.UNTRACKED}
