"""Serialised, cached parsing of ASL definitions.

moto's ANTLR-generated parsers share mutable state (the DFA caches of the lexer and parser
classes), so two executions parsing at the same time crash or mis-parse: every parse goes through
one lock. moto also parses a definition again on every create, describe and execution (tens of ms
for a large one); the evaluation tree it builds is not mutated while it runs (per-execution state
lives in the Environment), so each definition text is parsed once and the result reused.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from localcloud.engine import _hooks

_ASL = "moto.stepfunctions.parser.asl"
_MAX_ENTRIES = 512

# Re-entrant: parsing a definition parses its intrinsic functions (another ANTLR parser) inside.
PARSE_LOCK = threading.RLock()
_cache: OrderedDict[str, Any] = OrderedDict()
stats = {"hits": 0, "misses": 0}
# called with each newly parsed program (e.g. to index it)
POST_PARSE: list[Callable[[Any], None]] = []


def _cached(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse_once(definition: str) -> Any:
        with PARSE_LOCK:
            hit = _cache.get(definition)
            if hit is not None:
                _cache.move_to_end(definition)
                stats["hits"] += 1
                return hit
            result = parse(definition)  # a syntax error raises and is not cached
            for hook in POST_PARSE:
                hook(result[0])
            stats["misses"] += 1
            _cache[definition] = result
            if len(_cache) > _MAX_ENTRIES:
                _cache.popitem(last=False)
            return result

    return parse_once


def _serialised(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse_locked(src: str) -> Any:
        with PARSE_LOCK:
            return parse(src)

    return parse_locked


def _heap_key(self: Any) -> str:
    # moto assigns the key lazily; with a shared tree two executions could each assign a different
    # one and then read each other's. dict.setdefault is atomic, so the first key wins for everyone.
    key = self.__dict__.get("_EvalComponent__heap_key")
    if key is None:
        key = self.__dict__.setdefault("_EvalComponent__heap_key", _long_uid())
    return key


def _long_uid() -> str:
    from moto.stepfunctions.parser.utils import long_uid

    return long_uid()


def clear_cache() -> None:
    with PARSE_LOCK:
        _cache.clear()


def install() -> None:
    _hooks.resolve("moto.stepfunctions.parser.utils:long_uid")
    _hooks.patch(
        f"{_ASL}.parse.asl_parser:AmazonStateLanguageParser.parse",
        lambda orig: staticmethod(_cached(orig.__func__)),
    )
    _hooks.patch(
        f"{_ASL}.parse.intrinsic.intrinsic_parser:IntrinsicParser.parse",
        lambda orig: staticmethod(_serialised(orig.__func__)),
    )
    _hooks.patch(
        f"{_ASL}.parse.test_state.asl_parser:TestStateAmazonStateLanguageParser.parse",
        lambda orig: staticmethod(_serialised(orig.__func__)),
    )
    _hooks.patch(f"{_ASL}.component.eval_component:EvalComponent.heap_key", lambda _orig: property(_heap_key))
