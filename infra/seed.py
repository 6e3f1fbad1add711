"""Demo data: tables whose registry `seed` names a file under workflows/data/ are loaded with it.

A deploy loads it and keeps what runs recorded since; restoring it (deploy.py --seed-only) also
empties the tables whose registry entry says `reset_with_demo` (the lottery's past winners, who
could not win again), so that the demo starts over.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from infra.environments import ConfigError, Environment
from tasks.shared.numbers import to_dynamo
from workflows import WORKFLOWS
from workflows.registry import DATA_DIR, Table, Workflow


def seed(
    env: Environment,
    workflows: Iterable[Workflow] | None = None,
    out: Callable[[str], None] = print,
    *,
    restore: bool = False,
) -> dict[str, int]:
    """Put every item of each seed file (idempotent: same keys, same items); table -> count.
    `restore` first empties the tables to reset with the demo data. Every file is read and every
    table looked up first: nothing is changed when one is missing."""
    dynamodb = env.session.resource("dynamodb", endpoint_url=env.endpoint)
    files: list[tuple[str, Any, str]] = []  # (table, items, file name)
    resets: list[tuple[str, Table]] = []  # (table, its declaration)
    for wf in workflows if workflows is not None else WORKFLOWS.values():
        for table in (t for t in wf.tables if t.seed):
            path = DATA_DIR / str(table.seed)
            try:
                items = json.loads(path.read_text())
            except (OSError, ValueError) as error:
                raise ConfigError(f"workflow {wf.name}, table {table.name}: seed {path}: {error}") from None
            files.append((env.resource_name(wf.name, table.name), items, path.name))
        if restore:
            resets += [(env.resource_name(wf.name, t.name), t) for t in wf.tables if t.reset_with_demo]
    names = [name for name, _, _ in files] + [name for name, _ in resets]
    missing = [name for name in names if not _exists(dynamodb.meta.client, name)]
    if missing:
        raise ConfigError(
            f"the demo data's tables are not deployed in {env.name} ({', '.join(missing)}): "
            f"run {env.deploy_command} first"
        )
    for name, table in resets:
        out(f"  emptied      {name} ({_empty(dynamodb.Table(name), table)} items)")
    loaded = {}
    for name, items, file_name in files:
        with dynamodb.Table(name).batch_writer() as batch:
            for item in items:
                batch.put_item(Item=to_dynamo(item))
        loaded[name] = len(items)
        out(f"  seeded       {name} ({len(items)} items from {file_name})")
    return loaded


def _exists(client: Any, table: str) -> bool:
    try:
        client.describe_table(TableName=table)
    except client.exceptions.ResourceNotFoundException:
        return False
    return True


def _empty(table: Any, declared: Table) -> int:
    """Delete every item of `table` (a boto3 Table shaped as `declared`); how many there were."""
    keys = [declared.partition_key[0], *([declared.sort_key[0]] if declared.sort_key else [])]
    names = {f"#k{i}": key for i, key in enumerate(keys)}  # a key may be a reserved word
    scan: dict[str, Any] = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    deleted = 0
    with table.batch_writer() as batch:
        while True:
            page = table.scan(**scan)
            for key in page["Items"]:
                batch.delete_item(Key=key)
            deleted += len(page["Items"])
            if "LastEvaluatedKey" not in page:
                return deleted
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
