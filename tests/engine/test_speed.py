"""The speed patches compute what moto computes."""

from __future__ import annotations

import copy
import datetime
import enum
import json
import logging
import threading
import time
from typing import Any

import pytest

from localcloud import engine
from localcloud.engine.clock import iso_millis
from localcloud.engine.speed import json_copy
from tests.engine.conftest import Run, Runner, inline_map


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


def test_events_are_recorded_as_moto_records_them() -> None:
    """Each event, its ids and its context's ids, as moto's own add_event records them (this one
    records an execution's events without CloudWatch logging in one call)."""
    engine.install()
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext, EventManager

    from localcloud.engine import _hooks

    moto_add_event = _hooks.original(
        "moto.stepfunctions.parser.asl.eval.event.event_manager:EventManager.add_event"
    )
    entered = {
        "stateEnteredEventDetails": {"name": "P", "input": '{"a":1}', "inputDetails": {"truncated": False}}
    }
    steps = [
        (HistoryEventType.ExecutionStarted, {"executionStartedEventDetails": {"input": "{}"}}, 1.0, True),
        (HistoryEventType.PassStateEntered, entered, 1.0005, True),
        (HistoryEventType.MapIterationStarted, None, 2.25, False),  # no details; the source id stays
        (
            HistoryEventType.PassStateExited,
            {"stateExitedEventDetails": {"name": "P", "output": "{}"}},
            None,
            True,
        ),
    ]
    ours, moto = EventManager(), EventManager()
    our_contexts = [EventHistoryContext.of_program_start(), EventHistoryContext(previous_event_id=7)]
    moto_contexts = [EventHistoryContext.of_program_start(), EventHistoryContext(previous_event_id=7)]

    for (event_type, details, stamp, move), ours_in, moto_in in zip(
        steps * 2, our_contexts * 4, moto_contexts * 4, strict=True
    ):
        assert ours.add_event(ours_in, event_type, details, stamp, move) == moto_add_event(
            moto, moto_in, event_type, details, stamp, move
        )

    recorded, expected = ours.get_event_history(), moto.get_event_history()
    stamped = [i for i, (_, _, stamp, _) in enumerate(steps * 2) if stamp is None]
    for i in stamped:  # read from the clock at the moment: the same format, not the same instant
        assert len(recorded[i].pop("timestamp")) == len(expected[i].pop("timestamp")) == 24
    assert recorded == expected and len(recorded) == 8
    assert [(c.source_event_id, c.last_published_event_id) for c in our_contexts] == [
        (c.source_event_id, c.last_published_event_id) for c in moto_contexts
    ]
    assert recorded[1]["timestamp"] == "1970-01-01T00:00:01.000Z"


def test_program_state_copies_every_state_but_a_running_one() -> None:
    engine.install()
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramRunning

    env = object.__new__(Environment)
    env._program_state = ProgramRunning()
    assert env.program_state() is env._program_state  # only ever tested for its type
    env._program_state = ProgramError({"error": "E", "cause": "C"})
    copied = env.program_state()
    assert type(copied) is ProgramError and copied is not env._program_state
    assert copied.error == {"error": "E", "cause": "C"} and copied.error is not env._program_state.error


def test_moto_s_debug_logging_runs_moto_s_eval_to_the_same_result(
    run_definition: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    # a Map whose second iteration fails, caught: every path of eval (running, failing, pruned)
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                **inline_map(
                    {
                        "StartAt": "Pick",
                        "States": {
                            "Pick": {
                                "Type": "Choice",
                                "Choices": [{"Variable": "$.n", "NumericEquals": 2, "Next": "Bad"}],
                                "Default": "Good",
                            },
                            "Bad": {"Type": "Fail", "Error": "Two", "Cause": "n is 2"},
                            "Good": {"Type": "Pass", "Parameters": {"m.$": "$.n"}, "End": True},
                        },
                    }
                ),
                "ItemsPath": "$.items",
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Done"}],
                "Next": "Done",
            },
            "Done": {"Type": "Pass", "End": True},
        },
    }
    inpt = {"items": [{"n": n} for n in range(4)]}

    def seen(run: Run) -> tuple[Any, ...]:
        return run.status, run.output, run.types

    with caplog.at_level(logging.INFO, logger="moto.stepfunctions.parser.asl.component.eval_component"):
        lean = run_definition(definition, inpt)
    assert caplog.records == []  # a state's failure is the history's to tell, not an ERROR line
    with caplog.at_level(logging.DEBUG, logger="moto.stepfunctions.parser.asl.component.eval_component"):
        logged = run_definition(definition, inpt)
    assert any("[ASL]" in r.getMessage() for r in caplog.records)  # moto's eval wrote its lines
    assert seen(logged) == seen(lean)
    assert lean.output == {**inpt, "caught": {"Error": "Two", "Cause": "n is 2"}}
    assert "MapIterationFailed" in lean.types and "FailStateEntered" in lean.types


def test_states_write_json_as_moto_s_encoder_writes_it() -> None:
    from moto.stepfunctions.parser.asl.component.state import state
    from moto.stepfunctions.parser.asl.utils.encoding import _DateTimeEncoder

    engine.install()
    values: list[Any] = [
        {"n": 1, "f": 1.5, "big": 10**30, "neg": -0.0, "none": None, "t": True, "s": 'é ✓ \n "q"'},
        [{"nested": [[], {}, [1, [2, [3]]]]}, "x", 2.0e-7, float("inf")],
        {"when": datetime.datetime(2024, 1, 2, 3, 4, 5, 678000), "kind": Colour.RED, 7: "int key"},
        [],
        {},
    ]
    for value in values:
        for separators in (None, (",", ":")):
            expected = json.dumps(value, cls=_DateTimeEncoder, separators=separators)
            assert state.to_json_str(value, separators=separators) == expected


def test_a_lambda_task_measures_and_sends_json_as_moto_does() -> None:
    """Its size quota counts moto's spaced text (not the compact one the other states count), and
    its payload is the text its LambdaFunctionScheduled event shows, whichever value came before."""
    from moto.stepfunctions.parser import quotas
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
        lambda_eval_utils,
        state_task_lambda,
    )
    from moto.stepfunctions.parser.asl.utils.encoding import _DateTimeEncoder

    engine.install()
    limit = quotas.MAX_STATE_SIZE_UTF8_BYTES
    # '{"a": 1}, ' is 10 bytes: around n = limit / 10 the spaced text crosses the limit (the compact
    # one, 8 bytes an item, stays well under it); "é" is 2 bytes as a str, 6 as JSON text
    values: list[Any] = [{"items": [{"a": 1}] * n} for n in range(limit // 10 - 2, limit // 10 + 2)]
    values += ["é" * (limit // 2 - 1), "é" * (limit // 2), {"s": "é" * (limit // 6 - 3)}]
    answers = [quotas.is_within_size_quota(value) for value in values]
    assert True in answers[:4] and False in answers[:4]
    assert [state_task_lambda.is_within_size_quota(value) for value in values] == answers
    first, second = {"n": 1, "s": "é"}, {"n": 2}
    for payload in (first, first, second, first, None, "text", '{"j": 1}', [1, 2]):
        shown = state_task_lambda.to_json_str(payload)
        assert shown == json.dumps(payload, cls=_DateTimeEncoder)
        sent = lambda_eval_utils.to_payload_type(payload)
        moto_s = json.dumps({} if payload is None else payload, cls=_DateTimeEncoder)
        assert sent == (payload if payload == '{"j": 1}' else moto_s).encode()


def test_a_frame_s_event_wakes_its_waiter_as_threading_s_event_does() -> None:
    from localcloud.engine.speed import _PulsedEvent

    event = _PulsedEvent()
    assert not event.is_set() and event.wait(0.01) is False  # nothing set: the timeout
    event.set()
    assert event.is_set() and event.wait(5) is True  # set before the wait
    event.clear()
    woken: list[bool] = []
    waiter = threading.Thread(target=lambda: woken.append(event.wait(5)))
    waiter.start()
    while event._cond is None or not event._cond._waiters:  # type: ignore[attr-defined]
        time.sleep(0.001)
    event.set()  # moto pulses it: set, then clear at once
    event.clear()
    waiter.join(5)
    assert woken == [True] and not event.is_set()


def test_a_path_that_is_not_there_logs_no_error_where_the_definition_asks_for_it(
    run_definition: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    """An IsPresent rule on an absent field is its answer, false, not an error: moto logged one,
    which `python -m localcloud` printed for every such Choice."""
    definition = {
        "StartAt": "Sent?",
        "States": {
            "Sent?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.alert_error", "IsPresent": True, "Next": "Unsent"}],
                "Default": "Sent",
            },
            "Unsent": {"Type": "Fail", "Error": "Unsent"},
            "Sent": {"Type": "Succeed"},
        },
    }
    with caplog.at_level(logging.ERROR, logger="moto.stepfunctions"):
        assert run_definition(definition, {}).status == "SUCCEEDED"
        assert run_definition(definition, {"alert_error": {}}).error == "Unsent"
    assert [r.getMessage() for r in caplog.records if r.name.startswith("moto.stepfunctions")] == []
