"""UpdateItem answers ConsumedCapacity only when it is asked for, as DynamoDB does."""

from __future__ import annotations

from localcloud import LocalCloud


def test_update_item_reports_capacity_only_when_asked(cloud: LocalCloud) -> None:
    dynamodb = cloud.client("dynamodb")
    dynamodb.create_table(
        TableName="capacity",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    update = {
        "TableName": "capacity",
        "Key": {"pk": {"S": "a"}},
        "UpdateExpression": "SET n = :n",
        "ExpressionAttributeValues": {":n": {"N": "1"}},
        "ReturnValues": "ALL_NEW",
    }

    plain = dynamodb.update_item(**update)
    asked = dynamodb.update_item(**update, ReturnConsumedCapacity="TOTAL")

    assert "ConsumedCapacity" not in plain and plain["Attributes"]["n"] == {"N": "1"}
    assert asked["ConsumedCapacity"]["TableName"] == "capacity"
