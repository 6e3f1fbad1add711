"""JSON documents at the door: parsed as AWS would accept them, checked against a JSON Schema.

Every entry point (the console's API and CLI, the workflows' own HTTP routes) reads input
through here, so each refuses the same things with the same field names: not JSON, nesting too
deep to parse, NaN or Infinity (Python's parser accepts them; JSON has no such numbers, so they
are refused by field), and more than Step Functions' 256 KB input limit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

MAX_INPUT_BYTES = 262_144  # Step Functions' limit for an execution's input


class NotJson(ValueError):
    """The text is not a JSON document AWS would accept; the message says why."""


def loads(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise NotJson("nested too deeply") from None
    except ValueError as error:
        raise NotJson(str(error)) from None


def too_large(document: Any) -> bool:
    return len(json.dumps(document, separators=(",", ":")).encode()) > MAX_INPUT_BYTES


def _not_numbers(document: Any, path: tuple[str, ...] = ()) -> Iterator[str]:
    """Paths of NaN and infinite numbers."""
    if isinstance(document, float) and not math.isfinite(document):
        yield ".".join(path) or "$"
    elif isinstance(document, dict):
        for key, value in document.items():
            yield from _not_numbers(value, (*path, str(key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _not_numbers(value, (*path, str(index)))


def field_of(error: ValidationError) -> str:
    """The dotted path of the offending field; a missing required property names itself."""
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        # one error per missing property, which its message names ("'to' is a required property")
        missing = [name for name in error.validator_value if name not in error.instance]
        named = [name for name in missing if error.message.startswith(repr(name))]
        path += (named or missing)[:1]
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        path += sorted(name for name in error.instance if name not in error.schema.get("properties", {}))[:1]
    return ".".join(path) or "$"


def message_of(error: ValidationError) -> str:
    """jsonschema's message, but a pattern as it is written, not as a Python repr ('^\\d{4}')."""
    if error.validator == "pattern":
        return f"{error.instance!r} does not match the pattern {error.validator_value}"
    return error.message


def errors(schema: Mapping[str, Any], document: Any) -> list[dict[str, str]]:
    """[{field, message}] sorted by field; empty when the document is valid and small enough.

    Wrong fields are named first; a document wrong only as a whole (too large) names "$"."""
    try:
        found = [
            {"field": p, "message": "not a JSON number (NaN or infinite)"} for p in _not_numbers(document)
        ]
        found += [
            {"field": field_of(e), "message": message_of(e)}
            for e in Draft7Validator(schema).iter_errors(document)
        ]
        if not found and too_large(document):
            found = [{"field": "$", "message": f"the input is larger than {MAX_INPUT_BYTES // 1024} KB"}]
    except RecursionError:
        return [{"field": "$", "message": "nested too deeply"}]
    return sorted(found, key=lambda e: e["field"])
