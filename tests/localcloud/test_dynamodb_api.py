"""DynamoDB's request checks and UpdateItem's ConsumedCapacity, as DynamoDB answers them."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud
from tests.localcloud.helpers import on_demand_table


def test_update_item_reports_capacity_only_when_asked(cloud: LocalCloud) -> None:
    dynamodb = cloud.client("dynamodb")
    on_demand_table(cloud, "capacity")
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


def test_a_table_name_outside_the_pattern_and_a_missing_item_are_validation_errors(cloud: LocalCloud) -> None:
    # parameter validation off: botocore would refuse the missing Item before sending it
    dynamodb = cloud.client("dynamodb", parameter_validation=False)
    with pytest.raises(ClientError) as bad_name:
        dynamodb.put_item(TableName="/not-a-table", Item={"pk": {"S": "a"}})
    with pytest.raises(ClientError) as no_item:
        dynamodb.put_item(TableName="capacity")
    for refused, field in ((bad_name, "'/not-a-table' at 'tableName'"), (no_item, "null at 'item'")):
        error = refused.value.response["Error"]
        assert error["Code"] == "ValidationException" and field in error["Message"]
