"""Demo data: tables whose registry `seed` names a file under workflows/data/ are loaded with it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from infra.environments import ConfigError, Environment
from tasks.shared.numbers import to_dynamo
from workflows import WORKFLOWS
from workflows.registry import DATA_DIR, Workflow


def seed(
    env: Environment, workflows: Iterable[Workflow] | None = None, out: Callable[[str], None] = print
) -> dict[str, int]:
    """Put every item of each seed file (idempotent: same keys, same items); table -> count."""
    dynamodb = env.session.resource("dynamodb", endpoint_url=env.endpoint)
    loaded = {}
    for wf in workflows if workflows is not None else WORKFLOWS.values():
        for table in (t for t in wf.tables if t.seed):
            path = DATA_DIR / str(table.seed)
            try:
                items = json.loads(path.read_text())
            except (OSError, ValueError) as error:
                raise ConfigError(f"workflow {wf.name}, table {table.name}: seed {path}: {error}") from None
            name = env.resource_name(wf.name, table.name)
            with dynamodb.Table(name).batch_writer() as batch:
                for item in items:
                    batch.put_item(Item=to_dynamo(item))
            loaded[name] = len(items)
            out(f"  seeded       {name} ({len(items)} items from {path.name})")
    return loaded
