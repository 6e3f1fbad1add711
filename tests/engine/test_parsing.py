"""Definitions are parsed one at a time (moto's ANTLR parser is not thread-safe) and once each."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from localcloud import engine
from localcloud.engine import parsing


def _definition(i: int) -> str:
    states: dict[str, object] = {
        f"S{j}": {"Type": "Pass", "Result": {"n": j}, "ResultPath": f"$.r{j}", "Next": f"S{j + 1}"}
        for j in range(20)
    }
    states["S20"] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.x", "NumericEquals": i, "Next": "End"}],
        "Default": "End",
    }
    states["End"] = {"Type": "Succeed"}
    return json.dumps({"StartAt": "S0", "States": states, "Comment": f"definition {i}"})


def test_concurrent_parses_of_different_definitions_all_succeed() -> None:
    engine.install()
    texts = [_definition(i) for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        programs = list(pool.map(lambda t: AmazonStateLanguageParser.parse(t)[0], texts))
    comments = [p.comment.comment for p in programs]  # type: ignore[attr-defined]
    assert comments == [f"definition {i}" for i in range(40)]


def test_a_definition_is_parsed_once() -> None:
    engine.install()
    text = _definition(1000)
    misses = parsing.stats["misses"]
    first = AmazonStateLanguageParser.parse(text)
    second = AmazonStateLanguageParser.parse(text)
    assert first is second
    assert parsing.stats["misses"] == misses + 1
