"""Malformed inputs derived from a JSON Schema, plus generic ones every door must refuse.

    for case in cases(schema, valid_example):
        case.text    # the JSON text to send (may be invalid JSON on purpose)
        case.field   # the field the error must name ("$": the whole document)

Schema-derived: each required field missing, wrong types, values past each bound, strings that
break a pattern or length (injection strings, control characters, unicode), arrays too short,
too long or with duplicates, extra fields where additionalProperties is false. Generic: not the
schema's top-level type, invalid JSON text, non-standard JSON numbers (NaN, Infinity, 1e400),
deep nesting, and a payload over Step Functions' 256 KB input limit.

Every generated case is checked against the schema here (a case the schema accepts is not
malformed and is dropped), so the generator cannot pass off a valid input as a bad one.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator

# Step Functions rejects larger execution inputs; the doors must refuse them first.
MAX_PAYLOAD = 256 * 1024
HUGE = 300 * 1024

INJECTIONS = (
    "'; DROP TABLE winners; --",
    "{{7*7}}",
    "${7*7}",
    "$(rm -rf /)",
    "`id`",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "arn:aws:states:::*",
)
ODD_TEXT = (
    "nul\u0000byte",
    "bell\u0007\u001b[31mred",
    "right-to-left \u202eevil",
    "emoji \U0001f984\U0001f984",
    "zero\u200bwidth",
    "line\r\nbreak",
    "\ud800",  # a lone surrogate: JSON can carry it, UTF-8 cannot
)
# Replaced after json.dumps: number tokens Python's json accepts but JSON (RFC 8259) does not.
_RAW = "__raw_token__"


@dataclass(frozen=True)
class Case:
    label: str
    text: str  # the input as JSON text
    field: str  # what the error must name; "$" for the whole document

    @property
    def size(self) -> int:
        return len(self.text.encode("utf-8", "surrogatepass"))


def _dumps(document: Any, raw: str | None = None) -> str:
    text = json.dumps(document)
    return text.replace(f'"{_RAW}"', raw) if raw is not None else text


def _set(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A copy of `document` with the value at `path` replaced (or removed when value is _MISSING)."""
    if not path:
        return copy.deepcopy(value)
    found = copy.deepcopy(document)
    target = found
    for part in path[:-1]:
        target = target[part]
    if value is _MISSING:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return found


_MISSING = object()

_WRONG_TYPES: dict[str, tuple[Any, ...]] = {
    "integer": ("1", 1.5, True, None, [1], {"n": 1}),
    "number": ("47.6", True, None, [1.0]),
    "string": (123, True, None, ["x"], {"s": "x"}),
    "array": ("x", {"a": 1}, 1),
    "object": ("x", [1], 1, None),
    "boolean": ("true", 1, None),
}


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path) or "$"


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _wrong_types(schema: Mapping[str, Any]) -> list[Any]:
    allowed = set(_types(schema))
    wrong = [v for t in allowed for v in _WRONG_TYPES.get(t, ())]
    # e.g. an integer is also a valid number: keep only values of no allowed type
    return [v for v in wrong if not Draft7Validator({"type": sorted(allowed)}).is_valid(v)]


def _strings(schema: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    if "pattern" in schema or "minLength" in schema:
        yield "empty", ""
    if "maxLength" in schema:
        yield "too long", "a" * (schema["maxLength"] + 1)
    if "pattern" in schema or "maxLength" in schema:
        yield "huge", "a" * HUGE
        for text in (*INJECTIONS, *ODD_TEXT):
            yield f"odd {text[:12]!r}", text


def _numbers(schema: Mapping[str, Any]) -> Iterator[tuple[str, Any, str | None]]:
    step = 1 if "integer" in _types(schema) else 0.001
    if "minimum" in schema:
        yield "below minimum", schema["minimum"] - step, None
        yield "hugely negative", -(10**40), None
    if "maximum" in schema:
        yield "above maximum", schema["maximum"] + step, None
        yield "huge", 10**40, None
        yield "1e400 (infinite)", _RAW, "1e400"
    yield "NaN", _RAW, "NaN"
    yield "Infinity", _RAW, "Infinity"


def _schema_cases(
    schema: Mapping[str, Any], example: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[str, Any, str | None, str]]:
    """(label, document, raw number token or None, expected field) for the value at `path`."""
    where = _dotted(path)
    if path:
        for value in _wrong_types(schema):
            yield f"{where}: wrong type {json.dumps(value)}", _set(example, path, value), None, where
    types = _types(schema)
    if "string" in types:
        for label, text in _strings(schema):
            yield f"{where}: {label}", _set(example, path, text), None, where
    if "integer" in types or "number" in types:
        for label, value, raw in _numbers(schema):
            yield f"{where}: {label}", _set(example, path, value), raw, where
    if "array" in types:
        current = _get(example, path)
        item = current[0] if current else None
        if "minItems" in schema:
            yield f"{where}: no items", _set(example, path, []), None, where
        if "maxItems" in schema and item is not None:
            too_many = [_vary(item, i) for i in range(schema["maxItems"] + 1)]
            yield f"{where}: too many items", _set(example, path, too_many), None, where
        if schema.get("uniqueItems") and item is not None:
            yield f"{where}: duplicate items", _set(example, path, [item, item]), None, where
        if isinstance(schema.get("items"), Mapping) and item is not None:
            yield from _schema_cases(schema["items"], example, (*path, 0))
    if "object" in types:
        current = _get(example, path)
        for name in schema.get("required", []):
            if name in current:
                yield (
                    f"{_dotted((*path, name))}: missing",
                    _set(example, (*path, name), _MISSING),
                    None,
                    _dotted((*path, name)),
                )
        if schema.get("additionalProperties") is False:
            for extra in ("unexpected", "__proto__", "ключ"):
                field = _dotted((*path, extra))
                yield f"{field}: extra field", _set(example, (*path, extra), 1), None, field
        for name, sub in schema.get("properties", {}).items():
            if name in current:
                yield from _schema_cases(sub, example, (*path, name))


def _get(document: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


def _vary(item: Any, i: int) -> Any:
    """Distinct copies of an array item, so that 'too many' is not also 'duplicates'."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        return {**item, **{k: f"{v}{i}" for k, v in item.items() if isinstance(v, str)}}
    return item


def _nested(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def _nested_lists(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def _generic_cases(schema: Mapping[str, Any], example: Any) -> Iterator[tuple[str, Any, str | None, str]]:
    top = _types(schema)
    wrong: tuple[Any, ...] = (
        ([], [1, 2], "text", 42, None, True) if "object" in top else ({}, "text", 42, None)
    )
    for value in wrong:
        yield (
            f"$: not {'an object' if 'object' in top else 'an array'}: {json.dumps(value)}",
            value,
            None,
            "$",
        )
    if "object" in top:
        # deep nesting under a field the schema does not allow
        yield "$: deep nesting (200 levels)", {**example, "nested": _nested(200)}, None, "nested"
        yield "$: payload over 256 KB", {**example, "padding": "x" * HUGE}, None, "padding"
    else:
        item = example[0]
        yield "$: deep nesting (200 levels)", [_nested_lists(200)], None, "0"
        # each field within its own limits; the whole is too large for a Step Functions input
        big = [{**item, "data": "x" * 1000, "sequenceNumber": str(i)} for i in range(300)]
        yield "$: payload over 256 KB", big, None, "$"


def _invalid_json(example: Any) -> Iterator[tuple[str, str]]:
    valid = json.dumps(example)
    yield "invalid JSON: truncated", valid[:-1]
    yield "invalid JSON: single quotes", valid.replace('"', "'")
    yield "invalid JSON: trailing garbage", valid + " x"
    yield "invalid JSON: empty", ""
    yield "invalid JSON: deeper than any parser (100000 levels)", "[" * 100_000 + "]" * 100_000


def cases(schema: Mapping[str, Any], example: Any) -> list[Case]:
    """The malformed inputs for `schema`; `example` must be valid (each case changes one thing)."""
    validator = Draft7Validator(schema)
    if not validator.is_valid(example):
        raise ValueError(f"the example is not valid: {next(validator.iter_errors(example)).message}")
    found: list[Case] = []
    seen: set[str] = set()
    for label, document, raw, field in (
        *_schema_cases(schema, example, ()),
        *_generic_cases(schema, example),
    ):
        text = _dumps(document, raw)
        if raw is None and len(text) <= MAX_PAYLOAD and validator.is_valid(document):
            continue  # e.g. an injection string in a free-text field: not malformed
        if text not in seen:
            seen.add(text)
            found.append(Case(label, text, field))
    found += [Case(label, text, "$") for label, text in _invalid_json(example)]
    return found
