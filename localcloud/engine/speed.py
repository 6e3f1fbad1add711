"""Where moto's interpreter spends its time per state, made cheap without changing what it computes.

- JSONPath: moto builds a new jsonpath-ng (PLY) parser for every path it evaluates, about 1 ms
  each, several times per state. A parsed path is an immutable expression tree: each path text
  is parsed once.
- Copies: moto deep-copies the state's data on every read and write (`copy.deepcopy`, generic
  and slow, and the data grows along the execution). The values are JSON: built-in dicts, lists
  and scalars, which a marshal round trip (C code, same structure and types, shared references
  kept) copies about 8 times faster; any other value still goes through copy.deepcopy.
"""

from __future__ import annotations

import copy
import marshal
import threading
import types
from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks

_ASL = "moto.stepfunctions.parser.asl"
_SCALARS = frozenset({str, int, float, bool, type(None)})

# modules whose `copy.deepcopy` copies execution data
_COPY_USERS = (
    "eval.states",
    "eval.environment",
    "eval.event.event_manager",
    "component.common.string.string_expression",
    "component.common.path.result_path",
    "component.state.exec.execute_state",
    "component.state.exec.state_map.state_map",
    "component.state.exec.state_map.iteration.job",
    "component.state.exec.state_parallel.state_parallel",
    "component.state.exec.state_task.service.state_task_service",
)


def json_copy(value: Any, memo: Any = None) -> Any:
    """A deep copy for JSON-like data; same result as copy.deepcopy on it."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    if cls is dict or cls is list:
        try:
            return marshal.loads(marshal.dumps(value))
        except ValueError:  # holds something marshal does not know (a datetime, an enum, ...)
            pass
    return copy.deepcopy(value, memo)


def _copy_module() -> types.ModuleType:
    shim = types.ModuleType("copy")
    shim.__dict__.update({k: v for k, v in vars(copy).items() if not k.startswith("__")})
    shim.deepcopy = json_copy  # type: ignore[attr-defined]
    return shim


def _parse_once(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    cache: dict[str, Any] = {}
    lock = threading.Lock()

    def parse_cached(path: str) -> Any:
        expr = cache.get(path)
        if expr is None:
            with lock:  # PLY's table setup is not safe to run twice at once
                expr = cache.get(path)
                if expr is None:
                    expr = cache[path] = parse(path)
        return expr

    return parse_cached


def install() -> None:
    _hooks.patch(f"{_ASL}.utils.json_path:parse", _parse_once)
    _hooks.patch(f"{_ASL}.component.common.path.result_path:parse", _parse_once)
    shim = _copy_module()
    for module in _COPY_USERS:
        _hooks.patch(f"{_ASL}.{module}:copy", lambda _orig: shim)
