"""Where moto's interpreter spends its time per state, made cheap without changing what it computes.

- JSONPath: moto builds a new jsonpath-ng (PLY) parser for every path it evaluates, about 1 ms
  each, several times per state. A parsed path is an immutable expression tree: each path text
  is parsed once.
- Copies: moto deep-copies the state's data on every read and write (`copy.deepcopy`, generic
  and slow, and the data grows along the execution). The values are JSON: built-in dicts, lists
  and scalars, which a marshal round trip (C code, same structure and types, shared references
  kept) copies about 8 times faster; any other value still goes through copy.deepcopy.
  Copies that nothing can mutate are skipped: the state input read to write the entered/exited
  events (it is only serialised), and the second copy moto makes for the default InputPath and
  OutputPath `$` (the value is already a private copy).
- A state's output text (its StateExited event) is the next state's input text (its StateEntered
  event): the same stored object, which moto replaces (reset) but never changes in place, is
  serialised once.
- `Environment.program_state()` deep-copies the program state object on every check (hundreds
  of times in a Map); its fields are strings, a timestamp and the error details dict, so a
  shallow copy with a copied error dict protects the same.
- ResultPath `$.field` on an object input is a key assignment; jsonpath-ng's update_or_create
  also walks the whole input to clean list keys, which costs more as the data grows.
"""

from __future__ import annotations

import copy
import marshal
import re
import threading
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


_reading = threading.local()


def _read_only(method: Callable[..., Any]) -> Callable[..., Any]:
    def serialise_without_copy(self: Any, env: Any) -> Any:
        _reading.active = True
        try:
            return method(self, env)
        finally:
            _reading.active = False

    return serialise_without_copy


def _extract(original: Any) -> Any:
    def _extract(query: str | None, data: Any) -> Any:
        if query is None and getattr(_reading, "active", False):
            return data
        return original.__func__(query, data)

    return staticmethod(_extract)


def _is_root(sampler: Any) -> bool:
    return getattr(sampler, "json_path", None) == "$" and type(sampler).__name__ == "StringJsonPath"


def _input_path(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _eval_body(self: Any, env: Any) -> None:
        if _is_root(self.string_sampler):
            env.stack.append(env.states.get_input())  # already a copy
            return
        eval_body(self, env)

    return _eval_body


def _output_path(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _eval_body(self: Any, env: Any) -> None:
        if _is_root(self.string_sampler):
            env.states.reset(env.stack.pop())  # reset copies it
            return
        eval_body(self, env)

    return _eval_body


_FIELD_PATH = re.compile(r"^\$\.([A-Za-z_][A-Za-z0-9_]*)$")


def _result_path(eval_body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    def _eval_body(self: Any, env: Any) -> None:
        src = self.result_path_src
        match = _FIELD_PATH.match(src) if src else None
        if match:
            state_input = env.states.get_input()
            if type(state_input) is dict:
                state_input[match.group(1)] = json_copy(env.stack.pop())
                env.stack.append(state_input)
                return
        eval_body(self, env)

    return _eval_body


def _serialise_once(to_json_str: Callable[..., str]) -> Callable[..., str]:
    last = threading.local()

    def cached_to_json_str(obj: Any, separators: Any = None) -> str:
        if type(obj) is dict or type(obj) is list:
            if getattr(last, "obj", None) is obj and last.separators == separators:
                return str(last.text)
            text = to_json_str(obj, separators)
            # keeping a reference keeps the id from being reused by another object
            last.obj, last.separators, last.text = obj, separators, text
            return text
        return to_json_str(obj, separators)

    return cached_to_json_str


def _program_state(self: Any) -> Any:
    state = copy.copy(self._program_state)
    if isinstance(getattr(state, "error", None), dict):
        state.error = dict(state.error)
    return state


def install() -> None:
    _hooks.patch(f"{_ASL}.eval.environment:Environment.program_state", lambda _orig: _program_state)
    _hooks.patch(f"{_ASL}.component.state.state:to_json_str", _serialise_once)
    _hooks.patch(f"{_ASL}.eval.states:States._extract", _extract)
    for method in ("_get_state_entered_event_details", "_get_state_exited_event_details"):
        _hooks.patch(f"{_ASL}.component.state.state:CommonStateField.{method}", _read_only)
    _hooks.patch(f"{_ASL}.component.common.path.input_path:InputPath._eval_body", _input_path)
    _hooks.patch(f"{_ASL}.component.common.path.output_path:OutputPath._eval_body", _output_path)
    _hooks.patch(f"{_ASL}.component.common.path.result_path:ResultPath._eval_body", _result_path)
    _hooks.patch(f"{_ASL}.utils.json_path:parse", _parse_once)
    _hooks.patch(f"{_ASL}.component.common.path.result_path:parse", _parse_once)
    shim = _hooks.module_with(copy, deepcopy=json_copy)
    for module in _COPY_USERS:
        _hooks.patch(f"{_ASL}.{module}:copy", lambda _orig: shim)
