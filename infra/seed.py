"""Demo data: tables whose registry `seed` names a file under workflows/data/ are loaded with it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from infra.environments import ConfigError, Environment
from tasks.shared.numbers import to_dynamo
from workflows import WORKFLOWS
from workflows.registry import DATA_DIR, Workflow


def seed(
    env: Environment, workflows: Iterable[Workflow] | None = None, out: Callable[[str], None] = print
) -> dict[str, int]:
    """Put every item of each seed file (idempotent: same keys, same items); table -> count.
    Every file is read and every table looked up first: nothing is loaded when one is missing."""
    dynamodb = env.session.resource("dynamodb", endpoint_url=env.endpoint)
    files: list[tuple[str, Any, str]] = []  # (table, items, file name)
    for wf in workflows if workflows is not None else WORKFLOWS.values():
        for table in (t for t in wf.tables if t.seed):
            path = DATA_DIR / str(table.seed)
            try:
                items = json.loads(path.read_text())
            except (OSError, ValueError) as error:
                raise ConfigError(f"workflow {wf.name}, table {table.name}: seed {path}: {error}") from None
            files.append((env.resource_name(wf.name, table.name), items, path.name))
    missing = [name for name, _, _ in files if not _exists(dynamodb.meta.client, name)]
    if missing:
        raise ConfigError(
            f"the demo data's tables are not deployed in {env.name} ({', '.join(missing)}): "
            f"run {env.deploy_command} first"
        )
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
