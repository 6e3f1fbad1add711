"""DynamoDB tables: on-demand, point-in-time recovery, TTL where the registry sets one, GSIs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from infra.environments import ConfigError
from infra.plan import UNDECLARED, Action, Context, owned, tag_dict, tag_list
from infra.waits import BACKUPS_NOT_READY, retry, until, until_gone
from workflows.registry import Index, Table, Workflow


def _keys(partition: tuple[str, str], sort: tuple[str, str] | None) -> list[dict[str, str]]:
    keys = [{"AttributeName": partition[0], "KeyType": "HASH"}]
    return keys + ([{"AttributeName": sort[0], "KeyType": "RANGE"}] if sort else [])


def _attributes(table: Table) -> list[dict[str, str]]:
    pairs = {table.partition_key, *([table.sort_key] if table.sort_key else [])}
    for index in table.indexes:
        pairs |= {index.partition_key, *([index.sort_key] if index.sort_key else [])}
    return [{"AttributeName": n, "AttributeType": t} for n, t in sorted(pairs)]


# Every index holds whole items: a function reads what it finds there without a second GetItem.
PROJECTION = {"ProjectionType": "ALL"}


def _index(index: Index) -> dict[str, Any]:
    return {
        "IndexName": index.name,
        "KeySchema": _keys(index.partition_key, index.sort_key),
        "Projection": PROJECTION,
    }


# DynamoDB takes one TTL change per table and hour, refusing another (ValidationException) while
# the last one is ENABLING or DISABLING, and enables TTL on one attribute only, refusing another
# while it is on ("TimeToLive is active on a different AttributeName"): a renamed attribute takes
# two deploys an hour apart, the first turning the old one off.
TTL_SETTLING = frozenset(("ENABLING", "DISABLING"))
# DynamoDB builds a new index from every item of the table (backfilling) before it is ACTIVE and
# may be read: minutes on a large table, which the deploy waits out before the functions that read it.
INDEX_TIMEOUT, INDEX_INTERVAL = 30 * 60.0, 5.0


def ensure(ctx: Context, table: Table, name: str) -> None:
    dynamodb = ctx.client("dynamodb")
    current = _table(ctx, name)
    if current is not None and current.get("TableStatus") == "DELETING":
        # counts as none: its backups and TTL calls would fail, and DynamoDB refuses a new table
        # of its name until it is gone
        if ctx.apply:
            until_gone(
                lambda: dynamodb.describe_table(TableName=name),
                dynamodb.exceptions.ResourceNotFoundException,
                f"table {name} deleted",
                sleep=ctx.sleep,
            )
            ctx.remember("table", name, None)
        current = None
    if current is None:
        if ctx.change("table", name, Action.CREATE):
            _create(ctx, table, name)
        return
    problems = _unchangeable(table, name, current)
    if problems:  # `check` refuses them before any change; this is for one changed since
        raise ConfigError("; ".join(problems))
    if ctx.apply and not _active(current):
        # an index a deploy stopped waiting for is still backfilling (the functions deployed next
        # may read it), or one is being deleted (DynamoDB takes no index change until it is gone)
        _wait_active(ctx, name, timeout=INDEX_TIMEOUT, interval=INDEX_INTERVAL)
    drift = []
    existing = {i["IndexName"] for i in current.get("GlobalSecondaryIndexes", [])}
    missing = [i for i in table.indexes if i.name not in existing]
    drift += [f"add index {i.name}" for i in missing]
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    pitr = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") == "ENABLED"
    drift += [] if pitr else ["point-in-time recovery"]
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    ttl_status = ttl.get("TimeToLiveStatus")
    live_ttl = ttl.get("AttributeName") if ttl_status in ("ENABLED", "ENABLING") else None
    ttl_drift = live_ttl != table.ttl_attribute
    if ttl_drift and ttl_status in TTL_SETTLING:  # no change DynamoDB would take now: said, not counted
        wanted = f"on for {table.ttl_attribute}" if table.ttl_attribute else "off"
        ctx.say(
            f"    {name}: time to live is still {ttl_status.lower()} (DynamoDB takes one change an "
            f"hour): deploy again in an hour to turn it {wanted}"
        )
        ttl_drift = False
    drift += ["time to live"] if ttl_drift else []
    if not drift:
        ctx.same("table", name)
        return
    if not ctx.change("table", name, Action.UPDATE, ", ".join(drift)):
        return
    for index in missing:  # DynamoDB adds one index per call, each after the table is ACTIVE again
        ctx.forget("table", name)
        dynamodb.update_table(
            TableName=name,
            AttributeDefinitions=_attributes(table),
            GlobalSecondaryIndexUpdates=[{"Create": _index(index)}],
        )
        _wait_active(ctx, name, timeout=INDEX_TIMEOUT, interval=INDEX_INTERVAL)
    _settings(
        ctx,
        table,
        name,
        pitr=not pitr,
        ttl=ttl_drift,
        live_ttl=live_ttl,
    )


def check(ctx: Context, workflows: Iterable[Workflow]) -> None:
    """ConfigError, before any change, for a deployed table whose key, or an index's keys or
    projection, differ from the registry's: DynamoDB changes neither in place."""
    problems = []
    for wf in workflows:
        for table in wf.tables:
            name = ctx.names.resource(wf, table.name)
            current = _described(ctx, name)
            problems += [] if current is None else _unchangeable(table, name, current)
    if problems:
        raise ConfigError("; ".join(problems))


def _unchangeable(table: Table, name: str, current: dict[str, Any]) -> list[str]:
    """What the deployed table `current` has otherwise than `table` declares and no UpdateTable
    changes: its key, an attribute's type, and the keys and projection of an index of a name the
    registry keeps (one being deleted is going anyway)."""
    problems = []
    if current["KeySchema"] != _keys(table.partition_key, table.sort_key):
        problems.append(f"table {name}: its key changed in the registry; DynamoDB cannot change a key")
    # The local cloud keeps only the attributes an UpdateTable listed (AWS keeps every key's): a
    # key whose type the table does not give has the registry's.
    wanted = {a["AttributeName"]: a["AttributeType"] for a in _attributes(table)}
    types = {
        **wanted,
        **{a["AttributeName"]: a["AttributeType"] for a in current.get("AttributeDefinitions", [])},
    }
    problems += [
        f"table {name}: attribute {attribute} is {types[attribute]} in the table and {kind} in the "
        "registry; a table gives each key attribute one type, which DynamoDB does not change while a "
        "key or an index uses it (a new index of the new type would be refused too): give the "
        "attribute a new name, which the items must then carry"
        for attribute, kind in wanted.items()
        if types[attribute] != kind
    ]
    deployed = {
        i["IndexName"]: i
        for i in current.get("GlobalSecondaryIndexes", [])
        if i.get("IndexStatus") != "DELETING"
    }
    for index in table.indexes:
        changes = _index_changes(index, deployed[index.name], types) if index.name in deployed else []
        if changes:
            problems.append(
                f"table {name}, index {index.name} changed: {'; '.join(changes)}; "
                "DynamoDB cannot change an index's keys or projection: give the index a new name in "
                "the registry, and deploy makes the new one, waits until it is ACTIVE, then deletes "
                f"{index.name} once the functions that read it are deployed"
            )
    return problems


def _index_changes(index: Index, deployed: dict[str, Any], types: Mapping[str, str]) -> list[str]:
    """How the deployed index differs from the registry's: its keys (named with their types as
    the table gives them; a type of its own is the attribute's, said apart), and its projection."""
    changes = []
    live = sorted(
        (k["KeyType"], k["AttributeName"], types.get(k["AttributeName"], "?")) for k in deployed["KeySchema"]
    )
    wanted = [("HASH", *index.partition_key), *([("RANGE", *index.sort_key)] if index.sort_key else [])]
    if [key[:2] for key in live] != [key[:2] for key in wanted]:
        changes.append(f"keys {_said(live)} -> {_said(wanted)}")
    projection = deployed.get("Projection", {})
    if projection != PROJECTION:
        changes.append(f"projection {_projection(projection)} -> {_projection(PROJECTION)}")
    return changes


def _said(keys: Iterable[tuple[str, str, str]]) -> str:
    """(KeyType, attribute, type) as 'partition kind (S), sort at (N)'."""
    roles = {"HASH": "partition", "RANGE": "sort"}
    return ", ".join(f"{roles.get(role, role)} {attribute} ({kind})" for role, attribute, kind in keys)


def _projection(projection: Mapping[str, Any]) -> str:
    attributes = projection.get("NonKeyAttributes")
    listed = f" ({', '.join(attributes)})" if attributes else ""
    return f"{projection.get('ProjectionType', 'none')}{listed}"


def shape(table: Table, name: str) -> dict[str, Any]:
    """CreateTable arguments for the registry's table: keys, attributes, indexes, on demand."""
    extra: dict[str, Any] = (
        {"GlobalSecondaryIndexes": [_index(i) for i in table.indexes]} if table.indexes else {}
    )
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": _keys(table.partition_key, table.sort_key),
        "AttributeDefinitions": _attributes(table),
        **extra,
    }


def _create(ctx: Context, table: Table, name: str) -> None:
    dynamodb = ctx.client("dynamodb")
    ctx.forget("table", name)
    dynamodb.create_table(
        **shape(table, name), SSESpecification={"Enabled": True}, Tags=tag_list(ctx.env.tags())
    )
    _wait_active(ctx, name)
    _settings(ctx, table, name, pitr=True, ttl=table.ttl_attribute is not None)


def _settings(
    ctx: Context,
    table: Table,
    name: str,
    *,
    pitr: bool,
    ttl: bool,
    live_ttl: str | None = None,
) -> None:
    dynamodb = ctx.client("dynamodb")
    if pitr:
        retry(
            lambda: dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            ),
            BACKUPS_NOT_READY,
            sleep=ctx.sleep,
        )
    if not ttl:
        return
    if table.ttl_attribute and live_ttl:
        spec = {"Enabled": False, "AttributeName": live_ttl}
        ctx.say(
            f"    {name}: time to live turned off for {live_ttl}; deploy again in an hour to turn it "
            f"on for {table.ttl_attribute} (DynamoDB takes one change an hour, on one attribute)"
        )
    elif table.ttl_attribute:
        spec = {"Enabled": True, "AttributeName": table.ttl_attribute}
    elif live_ttl:
        spec = {"Enabled": False, "AttributeName": live_ttl}
    else:
        return
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)


def _active(table: dict[str, Any]) -> bool:
    """Whether DynamoDB takes a change of the table, and its indexes may be read."""
    indexes = table.get("GlobalSecondaryIndexes", [])
    return table["TableStatus"] == "ACTIVE" and all(
        i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes
    )


def _wait_active(ctx: Context, name: str, **wait: float) -> None:
    """Until the table is ACTIVE, read anew each time; what it then is, the deploy reads after."""
    dynamodb = ctx.client("dynamodb")
    described = until(
        lambda: dynamodb.describe_table(TableName=name)["Table"],
        _active,
        f"table {name}",
        sleep=ctx.sleep,
        **wait,
    )
    ctx.remember("table", name, described)


def index_name(table: str, index: str) -> str:
    """An index as a change names it: the end of its ARN."""
    return f"{table}/index/{index}"


def remove_undeclared_indexes(ctx: Context, declared: Mapping[str, Table]) -> None:
    """Delete the indexes the registry no longer declares of the environment's tables it does
    (deployed name -> table). An index is derived from its table's items, which stay. Run after
    the functions are deployed, so that none reads one any longer, and after `ensure` made and
    waited out its successor; one index per UpdateTable, each once the table is ACTIVE again."""
    dynamodb = ctx.client("dynamodb")
    for name, table in sorted(declared.items()):
        undeclared = _undeclared_indexes(ctx, table, name)
        if undeclared and not _owned(ctx, name):
            continue
        for index in undeclared:
            detail = f"{UNDECLARED}; the table keeps its items"
            if ctx.change("index", index_name(name, index), Action.DELETE, detail):
                _wait_active(ctx, name, timeout=INDEX_TIMEOUT, interval=INDEX_INTERVAL)
                ctx.forget("table", name)
                dynamodb.update_table(
                    TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index}}]
                )


def _undeclared_indexes(ctx: Context, table: Table, name: str) -> list[str]:
    """The indexes of the deployed table `name` that `table` does not declare, but those going."""
    current = _described(ctx, name)
    if current is None:
        return []
    declared = {i.name for i in table.indexes}
    return [
        i["IndexName"]
        for i in current.get("GlobalSecondaryIndexes", [])
        if i["IndexName"] not in declared and i.get("IndexStatus") != "DELETING"
    ]


def _table(ctx: Context, name: str) -> dict[str, Any] | None:
    """The table `name` as DescribeTable gives it, None when there is none: asked once per deploy
    (its check, ensure and removal pass all need it), again once the deploy changed it."""
    dynamodb = ctx.client("dynamodb")

    def describe() -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = dynamodb.describe_table(TableName=name)["Table"]
        except dynamodb.exceptions.ResourceNotFoundException:  # not made yet (a plan), or deleted
            return None
        return found

    described: dict[str, Any] | None = ctx.read("table", name, describe)
    return described


def _described(ctx: Context, name: str) -> dict[str, Any] | None:
    """The deployed table `name`; None when there is none, or it is being deleted."""
    current = _table(ctx, name)
    return None if current is None or current["TableStatus"] == "DELETING" else current


def _mine(ctx: Context, keep: set[str]) -> list[str]:
    """The environment's tables, but those in `keep`."""
    dynamodb, prefix = ctx.client("dynamodb"), ctx.env.resource_name("")
    names = [n for page in dynamodb.get_paginator("list_tables").paginate() for n in page["TableNames"]]
    return [n for n in names if n.startswith(prefix) and n not in keep and _owned(ctx, n)]


def undeclared(ctx: Context, keep: set[str]) -> list[str]:
    """The environment's tables not in `keep`: data, which a deploy never deletes."""
    return _mine(ctx, keep)


def _owned(ctx: Context, name: str) -> bool:
    dynamodb, current = ctx.client("dynamodb"), _table(ctx, name)
    if current is None:  # deleted since it was listed
        return False
    arn = current["TableArn"]
    return owned(ctx.env, tag_dict(dynamodb.list_tags_of_resource(ResourceArn=arn).get("Tags", [])))


def destroy(ctx: Context) -> None:
    for name in _mine(ctx, set()):
        if ctx.change("table", name, Action.DELETE):
            ctx.forget("table", name)
            ctx.client("dynamodb").delete_table(TableName=name)
