"""The local cloud counts the requests each AWS operation answers, whoever sends them, and when
asked the bytes put to each log group."""

import time
from typing import Any

from localcloud import LocalCloud, metering
from tests.localcloud.helpers import deploy_source, invoke, on_demand_table


def test_requests_are_counted_per_service_and_operation(cloud: LocalCloud) -> None:
    metering.install()
    dynamodb, sns, s3 = cloud.client("dynamodb"), cloud.client("sns"), cloud.client("s3")
    on_demand_table(cloud, "t", key="k")
    topic = sns.create_topic(Name="t")["TopicArn"]
    s3.create_bucket(Bucket="metered-bucket")
    metering.reset()

    for key in ("a", "b"):
        dynamodb.put_item(TableName="t", Item={"k": {"S": key}})
    sns.publish(TopicArn=topic, Message="hello")
    s3.put_object(Bucket="metered-bucket", Key="k", Body=b"x")
    s3.get_object(Bucket="metered-bucket", Key="k")

    counts = metering.counts()
    assert counts[("dynamodb", "PutItem")] == 2
    assert counts[("sns", "Publish")] == 1
    assert counts[("s3", "PutObject")] == 1 and counts[("s3", "GetObject")] == 1


def test_batch_writes_count_their_items(cloud: LocalCloud) -> None:
    metering.install()
    dynamodb = cloud.client("dynamodb")
    on_demand_table(cloud, "batched", key="k")
    metering.reset()
    dynamodb.batch_write_item(
        RequestItems={"batched": [{"PutRequest": {"Item": {"k": {"S": str(i)}}}} for i in range(7)]}
    )
    assert metering.counts()[("dynamodb", "BatchWriteItem")] == 7


def test_batch_reads_transactions_and_stream_puts_count_their_billed_units(cloud: LocalCloud) -> None:
    """A transaction bills two units per item; BatchGetItem and PutRecords one per key or record."""
    metering.install()
    dynamodb, kinesis = cloud.client("dynamodb"), cloud.client("kinesis")
    on_demand_table(cloud, "units", key="k")
    kinesis.create_stream(StreamName="units", ShardCount=1)
    metering.reset()

    dynamodb.transact_write_items(
        TransactItems=[{"Put": {"TableName": "units", "Item": {"k": {"S": str(i)}}}} for i in range(3)]
    )
    dynamodb.transact_get_items(
        TransactItems=[{"Get": {"TableName": "units", "Key": {"k": {"S": str(i)}}}} for i in range(2)]
    )
    dynamodb.batch_get_item(RequestItems={"units": {"Keys": [{"k": {"S": str(i)}} for i in range(3)]}})
    kinesis.put_records(
        StreamName="units", Records=[{"Data": b"x", "PartitionKey": str(i)} for i in range(4)]
    )

    counts = metering.counts()
    assert counts[("dynamodb", "TransactWriteItems")] == 6
    assert counts[("dynamodb", "TransactGetItems")] == 4
    assert counts[("dynamodb", "BatchGetItem")] == 3
    assert counts[("kinesis", "PutRecords")] == 4


def test_s3_object_requests_are_counted_by_what_they_do(cloud: LocalCloud) -> None:
    metering.install()
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="metered-objects")
    metering.reset()

    s3.put_object(Bucket="metered-objects", Key="k", Body=b"x")
    s3.delete_object(Bucket="metered-objects", Key="k")

    counts = metering.counts()
    assert counts[("s3", "PutObject")] == 1 and counts[("s3", "DeleteObject")] == 1


def _units(kind: str) -> float:
    return metering.counts().get(("dynamodb", kind), 0)


def test_dynamodb_request_units_follow_item_size_indexes_and_consistency(cloud: LocalCloud) -> None:
    """On-demand pricing: a write unit per KB of the item, again for each index holding it; a read
    unit per 4 KB, half when eventually consistent; a Query billed on what it read before its filter."""
    dynamodb = cloud.client("dynamodb")
    dynamodb.create_table(
        TableName="indexed",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "k", "AttributeType": "S"},
            {"AttributeName": "rank", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-rank",
                "KeySchema": [{"AttributeName": "rank", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    metering.install()
    metering.count_capacity()
    try:
        metering.reset()
        big = "x" * 2500  # 3 KB with its key and name: 3 units
        dynamodb.put_item(TableName="indexed", Item={"k": {"S": "a"}, "body": {"S": big}})
        assert _units("WriteRequestUnits") == 3  # not in the index: it has no rank
        metering.reset()
        dynamodb.put_item(TableName="indexed", Item={"k": {"S": "b"}, "rank": {"N": "1"}, "body": {"S": big}})
        assert _units("WriteRequestUnits") == 6  # the table's 3 and the index's 3
        metering.reset()
        dynamodb.delete_item(TableName="indexed", Key={"k": {"S": "b"}})
        assert _units("WriteRequestUnits") == 6  # the item deleted, from both

        metering.reset()
        dynamodb.get_item(TableName="indexed", Key={"k": {"S": "a"}})
        assert _units("ReadRequestUnits") == 0.5
        dynamodb.get_item(TableName="indexed", Key={"k": {"S": "a"}}, ConsistentRead=True)
        assert _units("ReadRequestUnits") == 1.5

        for i in range(10):
            dynamodb.put_item(TableName="indexed", Item={"k": {"S": f"q{i}"}, "body": {"S": big}})
        metering.reset()
        answer = dynamodb.scan(
            TableName="indexed",
            FilterExpression="k = :k",
            ExpressionAttributeValues={":k": {"S": "q1"}},
        )
        assert answer["Count"] == 1 and answer["ScannedCount"] == 11
        assert _units("ReadRequestUnits") == 0.5 * 7  # eleven items of 2.5 KB read: 28 KB, 7 units
    finally:
        metering.count_capacity(False)


def test_request_units_are_not_counted_unless_asked(cloud: LocalCloud) -> None:
    metering.install()
    on_demand_table(cloud, "uncounted", key="k")
    metering.reset()
    cloud.client("dynamodb").put_item(TableName="uncounted", Item={"k": {"S": "a"}})
    assert metering.counts() == {("dynamodb", "PutItem"): 1}


def _messages(cloud: LocalCloud, group: str) -> list[str]:
    logs = cloud.client("logs")
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    return [
        event["message"]
        for stream in streams
        for event in logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]
    ]


TALKS = """
    def handler(event, context):
        for line in range(event.get("lines", 0)):
            print(f"line {line} of what the handler has to say")
        return {}
"""


def test_the_bytes_each_function_logs_are_counted_as_cloudwatch_logs_sizes_them(cloud: LocalCloud) -> None:
    """Every line the Lambda runtime writes, START, END and REPORT included: its UTF-8 bytes and
    the 26 more PutLogEvents counts for each event. A function that logs more is counted more."""
    for name in ("quiet", "talkative"):
        deploy_source(cloud, name, TALKS)
    metering.install()
    metering.count_logs()
    try:
        metering.reset()
        invoke(cloud, "quiet")
        invoke(cloud, "talkative", {"lines": 40})
        logged = metering.logged()
    finally:
        metering.count_logs(False)

    for name in ("quiet", "talkative"):
        group = f"/aws/lambda/{name}"
        assert logged[group] == sum(len(m.encode()) + 26 for m in _messages(cloud, group))
    assert logged["/aws/lambda/talkative"] > logged["/aws/lambda/quiet"] + 40 * (35 + 26)
    assert len(_messages(cloud, "/aws/lambda/quiet")) == 3  # START, END, REPORT


def test_what_is_put_through_the_api_is_counted_in_utf8_bytes(cloud: LocalCloud) -> None:
    logs = cloud.client("logs")
    logs.create_log_group(logGroupName="/aws/apigateway/access")
    logs.create_log_stream(logGroupName="/aws/apigateway/access", logStreamName="s")
    metering.install()
    metering.count_logs()
    try:
        metering.reset()
        now = int(time.time() * 1000)
        events: list[Any] = [{"timestamp": now, "message": "héllo"}, {"timestamp": now, "message": "x" * 100}]
        logs.put_log_events(logGroupName="/aws/apigateway/access", logStreamName="s", logEvents=events)
        assert metering.logged() == {"/aws/apigateway/access": (6 + 26) + (100 + 26)}
        metering.reset()
        assert metering.logged() == {}
    finally:
        metering.count_logs(False)


def test_log_bytes_are_not_counted_unless_asked(cloud: LocalCloud) -> None:
    deploy_source(cloud, "uncounted", TALKS)
    metering.install()
    metering.reset()
    invoke(cloud, "uncounted", {"lines": 3})
    assert metering.logged() == {}
