"""The plan/diff model: every resource step records one Change, whether it is applied or planned.

A resource module reads the current state, compares it with the desired one and calls
`ctx.change(...)`; it writes only when that returns True (a change, and not `--plan`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from infra.environments import Environment
from infra.names import Names

# The detail of a removal by a deploy: the registry no longer has it.
UNDECLARED = "no workflow declares it"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Change:
    kind: str
    name: str
    action: Action
    detail: str = ""

    def line(self, planned: bool) -> str:
        verb = f"would {self.action}" if planned else str(self.action)
        detail = f" ({self.detail})" if self.detail else ""
        return f"  {verb:<16} {self.kind:<14} {self.name}{detail}"


# AWS throttles control-plane calls per account (Lambda's and IAM's limits are a few to tens of
# calls a second) and a deploy makes many at once, polling too: botocore's default 3 attempts give
# up within seconds and stop the deploy half done. The local cloud does not throttle, and a local
# cloud that is not running should be said at once (Environment.client's default).
AWS_RETRIES = {"mode": "standard", "max_attempts": 10}


@dataclass
class Context:
    """What every resource step needs: the environment, its names, clients, and where changes go."""

    env: Environment
    names: Names
    apply: bool = True
    out: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep
    changes: list[Change] = field(default_factory=list)
    # handler -> its zip, built once per deploy while checking the configuration
    packages: dict[str, Any] = field(default_factory=dict)
    # the version ARN of the dependencies layer that every function lists, once ensured
    dependencies_layer: str = ""
    # the functions whose declared reserved concurrency the account cannot spare: left unreserved
    # (infra/functions.py `unreservable`)
    unreservable: frozenset[str] = frozenset()
    # (kind, name) of the deletions the user confirmed, once listed to them: only those are made,
    # and not said again; None when nothing was asked
    confirmed: frozenset[tuple[str, str]] | None = None
    _clients: dict[str, Any] = field(default_factory=dict)
    _inventories: dict[str, dict[str, Any]] = field(default_factory=dict)
    _reads: dict[tuple[str, str], Any] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _out_lock: threading.Lock = field(default_factory=threading.Lock)

    def inventory(self, kind: str, load: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """What exists of one kind, listed once per deploy: one paginated call instead of one
        per resource keeps a no-op deploy fast. Each resource is looked up once, so it stays true."""
        with self._lock:
            if kind not in self._inventories:
                self._inventories[kind] = load()
            return self._inventories[kind]

    def read(self, kind: str, name: str, load: Callable[[], Any]) -> Any:
        """What `load()` answers of one resource, asked once per deploy (DescribeTable is throttled
        at 10 a second per account) and kept until the deploy changes the resource (`forget`)."""
        with self._lock:
            if (kind, name) in self._reads:
                return self._reads[kind, name]
        # not under the lock: the workflows read their own resources side by side
        return self.remember(kind, name, load())

    def remember(self, kind: str, name: str, value: Any) -> Any:
        """`value` as what the resource is now: the last answer of a wait for it."""
        with self._lock:
            self._reads[kind, name] = value
        return value

    def forget(self, kind: str, name: str) -> None:
        """The deploy changed the resource: the next `read` asks again."""
        with self._lock:
            self._reads.pop((kind, name), None)

    def forget_all(self) -> None:
        with self._lock:
            self._reads.clear()

    def client(self, service: str) -> Any:
        # Workflows deploy in parallel: clients are thread-safe, creating them is not.
        with self._lock:
            if service not in self._clients:
                config = {} if self.env.is_local else {"retries": AWS_RETRIES}
                client = self._clients[service] = self.env.client(service, **config)
                # botocore makes a client's error classes when first asked, without a lock: two
                # threads asking at once can each get their own classes, and an `except` naming
                # one misses the other's error (a table's ResourceNotFound not caught as absent)
                client.exceptions  # noqa: B018 (made here, under the lock)
            return self._clients[service]

    def change(self, kind: str, name: str, action: Action, detail: str = "") -> bool:
        """Record a change; True when the caller should make it."""
        asked = action is Action.DELETE and self.confirmed is not None
        if asked and (kind, name) not in (self.confirmed or ()):
            # it appeared after the user saw the list: nobody agreed to delete it
            self.changes.append(Change(kind, name, Action.UNCHANGED))
            self.say(f"  {'left':<16} {kind:<14} {name} ({detail}, but not listed when asked: deploy again)")
            return False
        change = Change(kind, name, action, detail)
        self.changes.append(change)
        if action is not Action.UNCHANGED and not asked:  # a confirmed deletion was listed already
            self.say(change.line(planned=not self.apply))
        return self.apply and action is not Action.UNCHANGED

    def say(self, line: str) -> None:
        # One line at a time: print() from parallel workflows would interleave its parts.
        with self._out_lock:
            self.out(line)

    def same(self, kind: str, name: str) -> None:
        self.change(kind, name, Action.UNCHANGED)

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.action is not Action.UNCHANGED]


def tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    """Tags in the list shape most AWS APIs take."""
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def tag_dict(tags: list[dict[str, str]], key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t[value] for t in tags}


def owned(env: Environment, tags: dict[str, str]) -> bool:
    """A resource is this environment's when it carries the environment's app and env tags."""
    return all(tags.get(k) == v for k, v in env.tags().items())
