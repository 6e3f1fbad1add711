"""Patching helpers: every hook point in moto is resolved by name, checked, and recorded.

moto is pinned to >=5.2.5,<5.3; when a later version moves one of the attributes we rely on,
`install()` fails at start with the dotted name instead of misbehaving at run time.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import Any

import moto

from localcloud.pins import TESTED_MOTO, MotoHookMissing


class EngineHookError(MotoHookMissing):
    """A moto attribute that the engine patches is missing (moto moved it)."""

    def __init__(self, dotted: str, detail: str = "") -> None:
        super().__init__(
            f"localcloud.engine hooks {dotted}, which moto {moto.__version__} does not have"
            f"{' (' + detail + ')' if detail else ''}; the engine was tested with moto{TESTED_MOTO}"
        )
        self.dotted = dotted


_ORIGINALS: dict[tuple[int, str], tuple[Any, str, Any]] = {}


def resolve(dotted: str) -> tuple[Any, str, Any]:
    """'pkg.module:Class.attr' -> (owner, attr name, current value); raise EngineHookError if absent."""
    module_name, _, attr_path = dotted.partition(":")
    try:
        owner: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise EngineHookError(dotted, str(exc)) from exc
    parts = attr_path.split(".")
    for part in parts[:-1]:
        if not hasattr(owner, part):
            raise EngineHookError(dotted, f"no {part!r}")
        owner = getattr(owner, part)
    name = parts[-1]
    # look in the class dict first so staticmethod/property objects come back unwrapped
    value = (
        owner.__dict__.get(name, getattr(owner, name, _MISSING)) if hasattr(owner, "__dict__") else _MISSING
    )
    if value is _MISSING:
        raise EngineHookError(dotted)
    return owner, name, value


_MISSING = object()


def patch(dotted: str, make: Callable[[Any], Any]) -> None:
    """Replace the attribute named by `dotted` with `make(current)`.

    Two concerns may wrap the same attribute: each wraps what is there. The value moto had is
    kept (see original())."""
    owner, name, current = resolve(dotted)
    _ORIGINALS.setdefault((id(owner), name), (owner, name, current))
    setattr(owner, name, make(current))


def original(dotted: str) -> Any:
    """The value the attribute had before the engine patched it (the current one when unpatched)."""
    owner, name, value = resolve(dotted)
    saved = _ORIGINALS.get((id(owner), name))
    return saved[2] if saved else value


def module_with(module: types.ModuleType, **replacements: Any) -> types.ModuleType:
    """A stand-in for `module` with some names replaced, to put in a moto module's globals so that
    only that module sees the replacements."""
    shim = types.ModuleType(module.__name__)
    shim.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    shim.__dict__.update(replacements)
    return shim
