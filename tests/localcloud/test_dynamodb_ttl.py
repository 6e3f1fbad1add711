"""DynamoDB Time to Live: expired items are deleted, as DynamoDB deletes them, and nothing else."""

from __future__ import annotations

import time
from typing import Any

from localcloud import LocalCloud

NOW = 1_800_000_000.0
FIVE_YEARS = 5 * 365 * 24 * 3600


def _table(
    cloud: LocalCloud, name: str, ttl: bool = True, range_key: bool = False, stream: bool = False
) -> Any:
    dynamodb = cloud.client("dynamodb")
    keys = [("pk", "HASH")] + ([("sk", "RANGE")] if range_key else [])
    extra: dict[str, Any] = {}
    if stream:
        extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    if ttl:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
        )
    return dynamodb


def _keys(dynamodb: Any, table: str) -> set[str]:
    return {item["pk"]["S"] for item in dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]}


def test_items_past_their_ttl_are_deleted_and_no_others(cloud: LocalCloud) -> None:
    dynamodb = _table(cloud, "ttl-items")
    items = {
        "past": {"N": str(int(NOW) - 60)},
        "exactly-now": {"N": str(int(NOW))},
        "fraction-past": {"N": f"{NOW - 0.5}"},
        "future": {"N": str(int(NOW) + 60)},
        "a-string": {"S": str(int(NOW) - 60)},  # DynamoDB only reads numbers
        "over-five-years-ago": {"N": str(int(NOW - FIVE_YEARS) - 60)},  # DynamoDB ignores those
        "milliseconds": {"N": str(int(NOW * 1000))},  # far in the future as seconds
        "no-attribute": None,
    }
    for key, expires in items.items():
        item = {"pk": {"S": key}, **({"expires_at": expires} if expires else {})}
        dynamodb.put_item(TableName="ttl-items", Item=item)

    deleted = cloud.expiry.expire(now=NOW)

    assert sorted(deleted, key=str) == sorted(
        [("ttl-items", {"pk": {"S": k}}) for k in ("past", "exactly-now", "fraction-past")], key=str
    )
    assert _keys(dynamodb, "ttl-items") == set(items) - {"past", "exactly-now", "fraction-past"}
    assert cloud.expiry.expire(now=NOW) == []


def test_a_table_without_ttl_keeps_its_items(cloud: LocalCloud) -> None:
    dynamodb = _table(cloud, "ttl-off", ttl=False)
    dynamodb.put_item(TableName="ttl-off", Item={"pk": {"S": "a"}, "expires_at": {"N": "1"}})
    dynamodb.update_time_to_live(
        TableName="ttl-off", TimeToLiveSpecification={"Enabled": False, "AttributeName": "x"}
    )

    assert cloud.expiry.expire(now=NOW) == []
    assert _keys(dynamodb, "ttl-off") == {"a"}


def test_items_with_a_range_key_are_deleted_by_their_whole_key(cloud: LocalCloud) -> None:
    dynamodb = _table(cloud, "ttl-ranged", range_key=True)
    for sk, expires in (("old", NOW - 1), ("new", NOW + 1)):
        item = {"pk": {"S": "p"}, "sk": {"S": sk}, "expires_at": {"N": str(expires)}}
        dynamodb.put_item(TableName="ttl-ranged", Item=item)

    assert cloud.expiry.expire(now=NOW) == [("ttl-ranged", {"pk": {"S": "p"}, "sk": {"S": "old"}})]
    left = dynamodb.query(
        TableName="ttl-ranged", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}
    )["Items"]
    assert [item["sk"]["S"] for item in left] == ["new"]


def test_an_expiry_is_a_stream_remove_record(cloud: LocalCloud) -> None:
    dynamodb = _table(cloud, "ttl-streamed", stream=True)
    dynamodb.put_item(TableName="ttl-streamed", Item={"pk": {"S": "gone"}, "expires_at": {"N": str(NOW - 1)}})
    cloud.expiry.expire(now=NOW)

    streams = cloud.client("dynamodbstreams")
    arn = dynamodb.describe_table(TableName="ttl-streamed")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [(r["eventName"], r["dynamodb"]["Keys"]) for r in records] == [
        ("INSERT", {"pk": {"S": "gone"}}),
        ("REMOVE", {"pk": {"S": "gone"}}),
    ]


def test_the_background_sweep_deletes_on_the_wall_clock(cloud: LocalCloud) -> None:
    dynamodb = _table(cloud, "ttl-swept")
    dynamodb.put_item(
        TableName="ttl-swept", Item={"pk": {"S": "gone"}, "expires_at": {"N": str(int(time.time()) - 1)}}
    )
    dynamodb.put_item(
        TableName="ttl-swept", Item={"pk": {"S": "kept"}, "expires_at": {"N": str(int(time.time()) + 3600)}}
    )
    cloud.expiry.start(interval=0.05)
    try:
        deadline = time.monotonic() + 30
        while "gone" in _keys(dynamodb, "ttl-swept") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        cloud.expiry.stop()
    assert _keys(dynamodb, "ttl-swept") == {"kept"}


def test_every_table_with_ttl_is_swept(cloud: LocalCloud) -> None:
    names = ["ttl-first", "ttl-second", "ttl-third"]
    expired = {"N": str(int(NOW) - 60)}
    for name in names:
        _table(cloud, name).put_item(TableName=name, Item={"pk": {"S": "gone"}, "expires_at": expired})
    _table(cloud, "ttl-off", ttl=False).put_item(
        TableName="ttl-off", Item={"pk": {"S": "kept"}, "expires_at": expired}
    )

    deleted = cloud.expiry.expire(now=NOW)

    assert sorted(deleted, key=str) == [(name, {"pk": {"S": "gone"}}) for name in names]
