"""Input validation at the door: JSON Schema errors named by the field that is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError


def field_of(error: ValidationError) -> str:
    """The dotted path of the offending field; a missing required property names itself."""
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            path.append(missing[0])
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(name for name in error.instance if name not in allowed)
        if extra:
            path.append(extra[0])
    return ".".join(path) or "$"


def errors(schema: Mapping[str, Any], document: Any) -> list[dict[str, str]]:
    """[{field, message}] sorted by field; empty when the document is valid."""
    validator = Draft7Validator(schema)
    found = [{"field": field_of(e), "message": e.message} for e in validator.iter_errors(document)]
    return sorted(found, key=lambda e: e["field"])
