"""The local cloud counts the requests each AWS operation answers, whoever sends them."""

from localcloud import LocalCloud, metering
from tests.localcloud.helpers import on_demand_table


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
