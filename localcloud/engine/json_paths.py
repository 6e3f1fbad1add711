"""JSONPath (QueryLanguage JSONPath) results as AWS returns them.

A definite path (no wildcard, slice, filter, union or descent) selects one value and AWS returns
that value: `$[0].MessageId` on `[{"MessageId": "m"}]` is `"m"`. moto returns a list whenever
the match's parent was reached through an array index (its fix for moto#7825), so that same path
gives `["m"]`. Indefinite paths return the list of matches, as before.
"""

from __future__ import annotations

import re
from typing import Any

from localcloud.engine import _hooks

_ASL = "moto.stepfunctions.parser.asl"
_USERS = (
    "utils.json_path",
    "component.common.string.string_expression",
    "component.intrinsic.argument.argument",
    "component.state.choice.comparison.operator.factory",
    "component.state.choice.comparison.operator.implementations.timestamp_operators",
    "component.state.choice.comparison.operator.implementations.boolean_equals",
    "component.state.choice.comparison.operator.implementations.numeric",
    "component.state.choice.comparison.operator.implementations.string_operators",
    "eval.states",
)
_INDEFINITE = re.compile(r"\*|\.\.|\?\(|@|\[[^\]]*[:,][^\]]*\]")


def is_definite(path: str) -> bool:
    return _INDEFINITE.search(path) is None


def extract_json(path: str, data: Any) -> Any:
    from moto.stepfunctions.parser.asl.utils import json_path

    if not is_definite(path):
        return _original(path, data)
    matches = json_path.parse(path).find(data)  # json_path.parse: parsed once (see speed.py)
    if len(matches) != 1:
        return _original(path, data)  # none: moto raises NoSuchJsonPathError
    return matches[0].value


_original: Any = None


def install() -> None:
    global _original
    _original = _hooks.original(f"{_ASL}.utils.json_path:extract_json")
    _hooks.resolve(f"{_ASL}.utils.json_path:parse")
    for module in _USERS:
        _hooks.patch(f"{_ASL}.{module}:extract_json", lambda _orig: extract_json)
