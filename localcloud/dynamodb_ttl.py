"""DynamoDB Time to Live: items whose TTL attribute has passed are deleted, as DynamoDB deletes them.

moto records a table's TTL setting and never deletes anything. An app that counts on expiry then
behaves otherwise locally (ticket-ranking announces a deal again once its "told" record has
expired), and a table written on a schedule grows without end (ticket-ranking's rankings, kept a
week, slow each Query as they pile up). `expire(now)` deletes every item of a TTL-enabled table
whose TTL attribute is a number of epoch seconds at or before `now`; like DynamoDB, it leaves an
item whose attribute is missing or not a number, or more than five years in the past. A deletion
is a stream REMOVE record, as on AWS (where it comes within a few days of the expiry; here within
the sweep interval). `start()` sweeps on the wall clock every minute (what `python -m localcloud`
does); tests call `expire(now=...)`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from localcloud import pins, serial_backends
from localcloud.ticker import Ticker, Ticking, regional

_BACKENDS = pins.resolve("moto.dynamodb.models", "dynamodb_backends")
pins.resolve("moto.dynamodb.models.table", "Table", "delete_item")
FIVE_YEARS = 5 * 365 * 24 * 3600  # DynamoDB ignores TTL values further in the past


class Expiry(Ticking):
    interval = 60.0

    def __init__(self) -> None:
        self._ticker = Ticker("localcloud-ttl", self.expire, "TTL sweep failed")

    def expire(self, now: float | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Delete the items expired at `now` (epoch seconds; default the wall clock): their tables'
        names and keys, as DynamoDB JSON."""
        now = time.time() if now is None else now
        deleted = []
        for account, region, backend in regional(_BACKENDS):
            with serial_backends.lock_for("dynamodb", account, region):
                for table in list(backend.tables.values()):
                    deleted += [(table.name, key) for key in _expire_table(table, now)]
        return deleted


def _expire_table(table: Any, now: float) -> list[dict[str, Any]]:
    if table.ttl.get("TimeToLiveStatus") != "ENABLED":
        return []
    attribute = table.ttl.get("AttributeName")
    expired = [item for item in _items(table) if _expired(item.attrs.get(attribute), now)]
    keys = []
    for item in expired:
        table.delete_item(item.hash_key, item.range_key)
        key = {table.hash_key_attr: item.hash_key.to_json()}
        if table.range_key_attr:
            key[table.range_key_attr] = item.range_key.to_json()
        keys.append(key)
    return keys


def _items(table: Any) -> Iterator[Any]:
    for by_hash in table.items.values():
        if table.range_key_attr:
            yield from by_hash.values()
        else:
            yield by_hash


def _expired(value: Any, now: float) -> bool:
    if value is None or value.type != "N":
        return False
    try:
        moment = float(value.value)
    except ValueError:
        return False
    return now - FIVE_YEARS <= moment <= now
