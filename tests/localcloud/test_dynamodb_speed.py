"""The faster DynamoDB paths answer what moto's own do: every attribute type back as it was put,
keys in DynamoDB's order, the item size limit where it was."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud, dynamodb_speed

EVERY_TYPE = {
    "text": {"S": "naïve ☃"},
    "empty": {"S": ""},
    "number": {"N": "-12.50"},
    "blob": {"B": b"\x00\xffbytes"},
    "strings": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"\x01", b"\x02"]},
    "yes": {"BOOL": True},
    "no": {"BOOL": False},
    "nothing": {"NULL": True},
    "nested": {
        "M": {
            "list": {"L": [{"S": "x"}, {"N": "3"}, {"BOOL": False}, {"M": {}}, {"L": []}]},
            "blob": {"B": b"\x7f"},
        }
    },
}


def _table(cloud: LocalCloud, name: str) -> Any:
    dynamodb = cloud.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "group", "AttributeType": "S"},
            {"AttributeName": "score", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-score",
                "KeySchema": [
                    {"AttributeName": "group", "KeyType": "HASH"},
                    {"AttributeName": "score", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    return dynamodb


def _by_score(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Group g's items on the index, by score."""
    items: list[dict[str, Any]] = dynamodb.query(
        TableName=table,
        IndexName="by-score",
        KeyConditionExpression="#g = :g",
        ExpressionAttributeNames={"#g": "group"},
        ExpressionAttributeValues={":g": {"S": "g"}},
    )["Items"]
    return items


def test_every_attribute_type_comes_back_as_it_was_put(cloud: LocalCloud) -> None:
    dynamodb = _table(cloud, "every-type")
    item = {"pk": {"S": "a"}, "sk": {"N": "1"}, "group": {"S": "g"}, "score": {"N": "5"}, **EVERY_TYPE}
    dynamodb.put_item(TableName="every-type", Item=item)

    got = dynamodb.get_item(TableName="every-type", Key={"pk": {"S": "a"}, "sk": {"N": "1"}})["Item"]
    queried = _by_score(dynamodb, "every-type")
    scanned = dynamodb.scan(TableName="every-type")["Items"]

    assert got == item
    assert queried == [item] and scanned == [item]


def test_queries_order_numbers_as_numbers_on_the_table_and_on_an_index(cloud: LocalCloud) -> None:
    dynamodb = _table(cloud, "ordered")
    ranks = ["10", "9", "100", "1.5", "-2", "0"]
    scores = {"10": "3", "9": "1", "100": "3", "1.5": "20", "-2": "1", "0": "2"}  # ties: by sk
    for rank in ranks:
        dynamodb.put_item(
            TableName="ordered",
            Item={"pk": {"S": "p"}, "sk": {"N": rank}, "group": {"S": "g"}, "score": {"N": scores[rank]}},
        )

    def table(forward: bool) -> list[str]:
        items = dynamodb.query(
            TableName="ordered",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            ScanIndexForward=forward,
        )["Items"]
        return [i["sk"]["N"] for i in items]

    by_score = _by_score(dynamodb, "ordered")

    assert table(True) == ["-2", "0", "1.5", "9", "10", "100"]
    assert table(False) == ["100", "10", "9", "1.5", "0", "-2"]
    assert [(i["score"]["N"], i["sk"]["N"]) for i in by_score] == [
        ("1", "-2"),
        ("1", "9"),
        ("2", "0"),
        ("3", "10"),
        ("3", "100"),
        ("20", "1.5"),
    ]


def test_an_item_over_the_size_limit_is_refused_whole(cloud: LocalCloud) -> None:
    dynamodb = _table(cloud, "sizes")
    key = {"pk": {"S": "big"}, "sk": {"N": "1"}}
    half = "x" * 210_000
    just_under = {f"a{i:02d}": {"S": "y" * 9_990} for i in range(40)}  # 40 attributes, ~400 KB

    with pytest.raises(ClientError) as refused:
        dynamodb.put_item(TableName="sizes", Item={**key, "one": {"S": half}, "two": {"S": half}})
    dynamodb.put_item(TableName="sizes", Item={"pk": {"S": "fits"}, "sk": {"N": "1"}, **just_under})

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert refused.value.response["Error"]["Message"] == "Item size has exceeded the maximum allowed size"
    assert "Item" not in dynamodb.get_item(TableName="sizes", Key=key)
    stored = dynamodb.get_item(TableName="sizes", Key={"pk": {"S": "fits"}, "sk": {"N": "1"}})["Item"]
    assert len(stored) == 42
    # an update that grows the item past the limit is still refused, attribute by attribute
    with pytest.raises(ClientError) as grown:
        dynamodb.update_item(
            TableName="sizes",
            Key={"pk": {"S": "fits"}, "sk": {"N": "1"}},
            UpdateExpression="SET extra = :x",
            ExpressionAttributeValues={":x": {"S": "z" * 20_000}},
        )
    assert "size" in grown.value.response["Error"]["Message"]


def _random_value(rng: random.Random, kind: str) -> dict[str, Any]:
    if kind == "N":
        return {"N": str(Decimal(rng.randint(-20, 20)) / Decimal(rng.choice([1, 10])))}  # ties too
    if kind == "B":
        return {"B": bytes(rng.randrange(256) for _ in range(rng.randint(1, 3)))}
    return {"S": "".join(rng.choice("aAbZ0é") for _ in range(rng.randint(1, 4)))}


def _moto_table(
    hash_type: str, range_type: str | None, indexes: list[dict[str, Any]] | None = None
) -> tuple[list[tuple[str, str, str]], Any]:
    """moto's own Table keyed `h` (and `r`), its indexes over `g` (S) and `s` (N): the key names,
    types and roles, and the table."""
    from moto.dynamodb.models.table import Table

    keys = [("h", hash_type, "HASH"), *([("r", range_type, "RANGE")] if range_type else [])]
    indexed = [("g", "S"), ("s", "N")] if indexes else []
    table = Table(
        "t",
        account_id="123456789012",
        region="us-east-1",
        schema=[{"AttributeName": name, "KeyType": role} for name, _, role in keys],
        attr=[{"AttributeName": name, "AttributeType": kind} for name, kind, *_ in keys + indexed],
        global_indexes=indexes,
    )
    return keys, table


@pytest.mark.parametrize("hash_type,range_type", [("S", "N"), ("N", "S"), ("B", "N"), ("S", None)])
def test_sorting_matches_moto_on_random_keys(hash_type: str, range_type: str | None) -> None:
    """The table and index orders are moto's, compared with moto's own sorting on the same items."""
    from moto.dynamodb.models.table import Table

    dynamodb_speed.install()
    rng = random.Random(f"{hash_type}{range_type}")
    keys, table = _moto_table(hash_type, range_type)
    for _ in range(300):
        table.put_item(
            {
                **{name: _random_value(rng, kind) for name, kind, _ in keys},
                "g": {"S": "g"},
                "s": _random_value(rng, "N"),
            }
        )

    moto_all = Table.all_items.__localcloud_original__(table)
    ranges = ["s", "r" if range_type else None]
    moto_sorted = Table.sorted_items.__localcloud_original__(table, ["g", "h"], ranges, list(moto_all))

    assert len(moto_all) > 50
    assert table.all_items() == moto_all
    assert table.sorted_items(["g", "h"], ranges, list(moto_all)) == moto_sorted


def _query_cases(rng: random.Random, table: Any, range_type: str | None) -> list[dict[str, Any]]:
    """Queries on the table and on its indexes: each direction, range conditions, limits."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_keys = [*list(table.items)[:6], DynamoType(_random_value(rng, table.hash_key_type))]
    cases = []
    for hash_key in hash_keys:
        for forward in (True, False):
            case = {"hash_key": hash_key, "scan_index_forward": forward, "limit": rng.choice([None, 1, 3])}
            cases.append(case)
            if range_type:
                low, high = sorted([DynamoType(_random_value(rng, range_type)) for _ in range(2)])
                cases.append({**case, "range_comparison": "BETWEEN", "range_objs": [low, high]})
                cases.append({**case, "range_comparison": ">=", "range_objs": [low]})
    for group, index in (("g", "by-s"), ("other", "by-s"), ("g", "by-g")):
        for forward in (True, False):
            cases.append(
                {
                    "hash_key": DynamoType({"S": group}),
                    "index_name": index,
                    "hash_key_conditions": [("g", DynamoType({"S": group}))],
                    "scan_index_forward": forward,
                    "limit": rng.choice([None, 7]),
                }
            )
    return cases


def _run_query(query: Any, table: Any, case: dict[str, Any]) -> tuple[Any, ...]:
    """Every page of one query, with the keys each page gave to start the next."""
    pages, start = [], None
    while True:
        items, scanned, last = query(
            table,
            case["hash_key"],
            case.get("range_comparison"),
            case.get("range_objs", []),
            case["limit"],
            start,
            case["scan_index_forward"],
            None,
            case.get("index_name"),
            False,
            None,
            hash_key_conditions=case.get("hash_key_conditions"),
        )
        pages.append(([item.to_json() for item in items], scanned, last))
        if not last or len(pages) > 400:
            return tuple(pages)
        start = last


@pytest.mark.parametrize("hash_type,range_type", [("S", "N"), ("N", "S"), ("S", None)])
def test_queries_answer_what_moto_answers_on_random_tables(hash_type: str, range_type: str | None) -> None:
    """A query reads only its hash key's items (or, on an index, the table unsorted) and sizes each
    result once: every page, count and start key are moto's own query's on the same table."""
    from moto.dynamodb.models.table import Table

    dynamodb_speed.install()
    rng = random.Random(f"query{hash_type}{range_type}")
    keys, table = _moto_table(
        hash_type,
        range_type,
        [
            {
                "IndexName": "by-s",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "s", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {  # no range key: the table's keys order its items
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
    )
    for _ in range(400):
        table.put_item(
            {
                **{name: _random_value(rng, kind) for name, kind, _ in keys},
                "g": {"S": rng.choice(["g", "g", "other"])},
                "s": _random_value(rng, "N"),
                "pad": {"S": "x" * rng.randint(0, 50)},
            }
        )
    moto_query = Table.query.__localcloud_original__

    cases = _query_cases(rng, table, range_type)
    answers = [_run_query(Table.query, table, case) for case in cases]

    assert answers == [_run_query(moto_query, table, case) for case in cases]
    assert sum(len(items) for answer in answers for items, _, _ in answer) > 300
    assert any(len(answer) > 1 for answer in answers)  # paginated ones among them


def test_attribute_names_count_toward_the_item_size(cloud: LocalCloud) -> None:
    """As DynamoDB counts them: 400 KB of values under a 10 KB name is over the limit."""
    dynamodb = _table(cloud, "named")
    item = {"pk": {"S": "long-name"}, "sk": {"N": "1"}, "n" * 10_000: {"S": "v" * 400_000}}

    with pytest.raises(ClientError) as refused:
        dynamodb.put_item(TableName="named", Item=item)

    assert refused.value.response["Error"]["Message"] == "Item size has exceeded the maximum allowed size"
