"""The moto hook points the local cloud relies on, checked when a hook is installed.

The local cloud patches moto only at a few named attributes. When moto moves one of them, the
local cloud must fail at start with the name, not misbehave later.
"""

from __future__ import annotations

import importlib
from typing import Any

import moto

# The moto range the hooks were verified against (pyproject pins the same range).
TESTED_MOTO = ">=5.2.5,<5.3"


class MotoHookMissing(RuntimeError):
    """moto no longer has an attribute the local cloud hooks."""


def resolve(module_name: str, *path: str) -> Any:
    """Return module_name.path[0].path[1]..., or raise MotoHookMissing naming what is gone."""
    dotted = ".".join((module_name, *path))
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise MotoHookMissing(_message(dotted)) from exc
    for name in path:
        if not hasattr(obj, name):
            raise MotoHookMissing(_message(dotted))
        obj = getattr(obj, name)
    return obj


def original(function: Any) -> Any:
    """moto's own function behind a local cloud replacement, which keeps it as
    `__localcloud_original__` (so that installing twice wraps moto's function, not ours)."""
    return getattr(function, "__localcloud_original__", function)


def _message(dotted: str) -> str:
    return (
        f"localcloud hooks {dotted}, which moto {moto.__version__} does not have; "
        f"the local cloud was tested with moto{TESTED_MOTO}"
    )
