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
