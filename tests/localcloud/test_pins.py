"""A moto that moved a hook point fails loudly, naming it."""

from __future__ import annotations

import pytest

from localcloud import pins


def test_missing_hook_point_is_named() -> None:
    with pytest.raises(pins.MotoHookMissing, match=r"moto\.awslambda\.models\.LambdaFunction\._gone"):
        pins.resolve("moto.awslambda.models", "LambdaFunction", "_gone")


def test_missing_module_is_named() -> None:
    with pytest.raises(pins.MotoHookMissing, match=r"moto\.no_such_module\.X"):
        pins.resolve("moto.no_such_module", "X")
