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
from datetime import date, datetime, timedelta, timezone
from typing import Any

from jsonschema import Draft7Validator, validators
from jsonschema.exceptions import ValidationError

MAX_INPUT_BYTES = 262_144  # Step Functions' limit for an execution's input
FORMATS = Draft7Validator.FORMAT_CHECKER  # without it "format" is only a note: 2026-02-30 would pass
# a calendar date: its shape, then the calendar (2026-02-30 has the shape)
DATE: dict[str, Any] = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}$",
    "x-pattern": "a date written YYYY-MM-DD",
    "format": "date",
}
FORMAT_NAMES = {"date": "calendar date"}


def _not_after_today(validator: Any, where: Mapping[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
    """`"x-not-after-today": {"zone": name, "utc_offset_hours": hours}`: a calendar date no later
    than today in that zone (a fixed offset: the Lambda runtime need not carry a tz database)."""
    if not isinstance(instance, str):
        return
    try:
        day = date.fromisoformat(instance)
    except ValueError:
        return  # its pattern or format says what is wrong
    today = datetime.now(timezone(timedelta(hours=where["utc_offset_hours"]))).date()
    if day > today:
        yield ValidationError(f"{instance!r} is in the future (today is {today} in {where['zone']})")


# Draft 7, and the keywords of this project's own that a document can break
VALIDATOR = validators.extend(Draft7Validator, {"x-not-after-today": _not_after_today})
SHOWN_CHARS = 120  # of a wrong value in a message: the field is named, a whole batch need not be


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


def _json(value: Any, limit: int | None = None) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text.encode("utf-8", "backslashreplace").decode()  # a lone surrogate as JSON escapes it
    return text if limit is None or len(text) <= limit else f"{text[: limit - 3]}..."


def _missing(error: ValidationError) -> str | None:
    """The property a "required" error is about: one error per missing property, which
    jsonschema's message names ("'to' is a required property")."""
    missing = [name for name in error.validator_value if name not in error.instance]
    named = [name for name in missing if error.message.startswith(repr(name))]
    return (named or missing or [None])[0]


def _unexpected(error: ValidationError) -> list[str]:
    """Properties the schema does not know, but those it says the original named otherwise."""
    known = {*error.schema.get("properties", {}), *error.schema.get("x-renamed", {})}
    return sorted(name for name in error.instance if name not in known)


def _renamed(error: ValidationError) -> list[dict[str, str]]:
    """A property sent by the original's name (the schema's "x-renamed": {old: new}), said with
    what to send instead: in place of its being unexpected and the new name missing."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return []
    path = [str(part) for part in error.absolute_path]
    said = []
    for old, new in error.schema.get("x-renamed", {}).items():
        if old in error.instance:
            value = _json(error.instance[old], SHOWN_CHARS)
            instead = (
                f"send {_json(new)} alone" if new in error.instance else f"send {{{_json(new)}: {value}}}"
            )
            said.append(
                {
                    "field": ".".join([*path, old]),
                    "message": f"{_json(old)} is the original's name: {instead}",
                }
            )
    return said


def _said_by_renamed(error: ValidationError) -> bool:
    """Whether `_renamed` says it: an unexpected property that was renamed, or the new name missing
    where the old one was sent."""
    if not isinstance(error.instance, dict):
        return False
    if error.validator == "additionalProperties":
        return not _unexpected(error)
    renamed = error.schema.get("x-renamed", {})
    sent = {new for old, new in renamed.items() if old in error.instance}
    return error.validator == "required" and _missing(error) in sent


def field_of(error: ValidationError) -> str:
    """The dotted path of the offending field; a missing required property names itself."""
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        path += [name for name in [_missing(error)] if name is not None]
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        path += _unexpected(error)[:1]
    return ".".join(path) or "$"


def message_of(error: ValidationError) -> str:
    """jsonschema's message with values written as JSON, as they were sent (true, "two", null),
    not as Python (True, 'two', None); a pattern as it is written, not as a Python repr ('^\\d{4}'),
    after what it means when the schema says so in `x-pattern` (jsonschema ignores the keyword)."""
    value, expected = _json(error.instance, SHOWN_CHARS), error.validator_value
    if error.validator == "type":
        types = [expected] if isinstance(expected, str) else expected
        return f"{value} is not of type {', '.join(_json(t) for t in types)}"
    if error.validator == "enum":
        return f"{value} is not one of {_json(expected)}"
    if error.validator == "const":
        return f"{_json(expected)} was expected"
    if error.validator == "pattern":  # in words where the schema gives them ("x-pattern")
        said = error.schema.get("x-pattern")
        return (
            f"{value} is not {said} (the pattern {expected})"
            if said
            else f"{value} does not match the pattern {expected}"
        )
    if error.validator == "format":
        return f"{value} is not a {FORMAT_NAMES.get(expected, expected)}"
    if error.validator == "not":
        return f"{value} should not be valid under {_json(expected)}"
    if error.validator == "required" and isinstance(error.instance, dict):
        return f"{_json(_missing(error))} is a required property"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        extra = _unexpected(error)
        were = "was" if len(extra) == 1 else "were"
        return f"Additional properties are not allowed ({', '.join(map(_json, extra))} {were} unexpected)"
    python = repr(error.instance)  # the other messages start with the value ("[] is too short")
    return value + error.message[len(python) :] if error.message.startswith(python) else error.message


def schema_errors(schema: Mapping[str, Any], document: Any) -> list[dict[str, str]]:
    """[{field, message}] of every way `document` breaks `schema`, formats ("date") checked too.

    A value that breaks its pattern is not also said to break its format: one is enough. A property
    the original named otherwise (x-renamed) is said with the name to send, not as unexpected."""
    found = list(VALIDATOR(schema, format_checker=FORMATS).iter_errors(document))
    shaped = {tuple(e.absolute_path) for e in found if e.validator == "pattern"}
    kept = [e for e in found if not (e.validator == "format" and tuple(e.absolute_path) in shaped)]
    said = [{"field": field_of(e), "message": message_of(e)} for e in kept if not _said_by_renamed(e)]
    return sorted(said + [r for e in kept for r in _renamed(e)], key=lambda e: e["field"])


def described(found: list[dict[str, str]]) -> str:
    """Errors as one line: "field: message; field: message"."""
    return "; ".join(f"{e['field']}: {e['message']}" for e in found)


def errors(schema: Mapping[str, Any], document: Any) -> list[dict[str, str]]:
    """[{field, message}] sorted by field; empty when the document is valid and small enough.

    Wrong fields are named first; a document wrong only as a whole (too large) names "$"."""
    try:
        found = [
            {"field": p, "message": "not a JSON number (NaN or infinite)"} for p in _not_numbers(document)
        ]
        found += schema_errors(schema, document)
        if not found and too_large(document):
            found = [{"field": "$", "message": f"the input is larger than {MAX_INPUT_BYTES // 1024} KB"}]
    except RecursionError:
        return [{"field": "$", "message": "nested too deeply"}]
    return sorted(found, key=lambda e: e["field"])
