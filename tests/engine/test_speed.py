"""The speed patches compute what moto computes."""

from __future__ import annotations

import copy
import enum
from typing import Any

from localcloud import engine
from localcloud.engine.speed import json_copy


class Colour(enum.Enum):
    RED = "red"


def test_json_copy_is_a_deep_copy() -> None:
    value: dict[str, Any] = {"a": [1, 2.5, {"b": None, "c": True}], "d": "x", "e": Colour.RED, "f": (1, [2])}
    copied = json_copy(value)
    assert copied == copy.deepcopy(value)
    assert copied["a"] is not value["a"] and copied["a"][2] is not value["a"][2]
    assert copied["f"][1] is not value["f"][1]  # other containers still go through deepcopy


def test_a_jsonpath_is_parsed_once() -> None:
    engine.install()
    from moto.stepfunctions.parser.asl.utils import json_path

    assert json_path.parse("$.a.b[0]") is json_path.parse("$.a.b[0]")
    assert json_path.extract_json("$.a.b[0]", {"a": {"b": [7]}}) == 7
