"""install() is idempotent and names the moto attribute it cannot find."""

from __future__ import annotations

import re

import pytest

from localcloud import engine
from localcloud.engine import _hooks
from localcloud.pins import MotoHookMissing


def test_install_twice_patches_once() -> None:
    engine.install()
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    patched = AmazonStateLanguageParser.__dict__["parse"]
    engine.install()
    assert AmazonStateLanguageParser.__dict__["parse"] is patched
    assert engine.installed()


def test_a_moved_hook_point_is_named() -> None:
    with pytest.raises(MotoHookMissing, match=re.escape("retrier_decl:RetrierDecl.no_such_attribute")):
        _hooks.resolve(
            "moto.stepfunctions.parser.asl.component.common.retry.retrier_decl:RetrierDecl.no_such_attribute"
        )
    with pytest.raises(_hooks.EngineHookError, match=re.escape("moto.no_such_module")):
        _hooks.resolve("moto.no_such_module:thing")
