"""The speed patches compute what moto computes."""

from __future__ import annotations

import copy
import datetime
import enum
import json
from typing import Any

from localcloud import engine
from localcloud.engine.clock import iso_millis
from localcloud.engine.speed import json_copy
from tests.engine.conftest import Run, Runner


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


def _entered(run: Run, name: str) -> Any:
    event = next(e for e in run.events if e.get("stateEnteredEventDetails", {}).get("name") == name)
    return json.loads(event["stateEnteredEventDetails"]["input"])


def _exited(run: Run, name: str) -> Any:
    event = next(e for e in run.events if e.get("stateExitedEventDetails", {}).get("name") == name)
    return json.loads(event["stateExitedEventDetails"]["output"])


def test_each_state_records_its_own_data_when_outputs_share_values(run_definition: Runner) -> None:
    # A writes an object, B writes a field deep inside it (a deep copy), C adds a field beside it:
    # none of the later writes may show in an earlier state's recorded output
    run = run_definition(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Result": {"k": 1}, "ResultPath": "$.a", "Next": "B"},
                "B": {"Type": "Pass", "Result": 2, "ResultPath": "$.a.k2", "Next": "C"},
                "C": {"Type": "Pass", "Result": [3], "ResultPath": "$.c", "End": True},
            },
        },
        {"x": {"y": 0}},
    )
    assert run.status == "SUCCEEDED"
    assert _entered(run, "A") == {"x": {"y": 0}}
    assert _exited(run, "A") == {"x": {"y": 0}, "a": {"k": 1}}
    assert _exited(run, "B") == {"x": {"y": 0}, "a": {"k": 1, "k2": 2}}
    assert _entered(run, "C") == _exited(run, "B")
    assert run.output == {"x": {"y": 0}, "a": {"k": 1, "k2": 2}, "c": [3]}


def test_the_size_quota_counts_the_compact_text(run_definition: Runner) -> None:
    # {"a":1} is 8 bytes with its comma, {"a": 1} with spaces 10: 30,000 of them are 240 KB as
    # the history records them, under the 256 KB limit (300 KB if the spaces counted)
    def run_with(entries: int, copies: int) -> Run:
        params = {f"c{n}.$": "$.items" for n in range(copies)}
        definition = {
            "StartAt": "Big",
            "States": {"Big": {"Type": "Pass", "Parameters": params, "End": True}},
        }
        return run_definition(definition, {"items": [{"a": 1}] * entries})

    assert run_with(30_000, copies=1).status == "SUCCEEDED"
    over = run_with(20_000, copies=2)  # 320 KB
    assert (over.status, over.error) == ("FAILED", "States.DataLimitExceeded")


def test_a_map_returns_every_iteration_output_in_item_order(run_definition: Runner) -> None:
    run = run_definition(
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "MaxConcurrency": 5,
                    "ItemProcessor": {
                        "StartAt": "Tag",
                        "States": {
                            "Tag": {"Type": "Pass", "Result": "t", "ResultPath": "$.tag", "End": True}
                        },
                    },
                    "End": True,
                }
            },
        },
        [{"i": i} for i in range(40)],
    )
    assert run.status == "SUCCEEDED"
    assert run.output == [{"i": i, "tag": "t"} for i in range(40)]
    assert run.types.count("MapIterationSucceeded") == 40


def test_event_timestamps_keep_moto_s_text() -> None:
    from moto.core.utils import iso_8601_datetime_with_milliseconds

    for value in (
        datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC),
        datetime.datetime(2026, 1, 2, 3, 4, 5),
        datetime.datetime(2026, 11, 23, 23, 59, 59, 999999),
    ):
        assert iso_millis(value) == iso_8601_datetime_with_milliseconds(value)
