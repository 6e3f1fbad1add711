"""A definite JSONPath selects the value itself; indefinite paths select lists."""

from __future__ import annotations

from tests.engine.conftest import Runner, only


def test_index_then_field_selects_the_value(run_definition: Runner) -> None:
    run = run_definition(
        {
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Parameters": {"id.$": "$[0].MessageId"}, "End": True}},
        },
        [{"MessageId": "m-1"}, {"MessageId": "m-2"}],
    )
    assert run.output == {"id": "m-1"}


def test_wildcard_selects_a_list(run_definition: Runner) -> None:
    run = run_definition(
        {
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Parameters": {"ids.$": "$[*].MessageId"}, "End": True}},
        },
        [{"MessageId": "m-1"}],
    )
    assert run.output == {"ids": ["m-1"]}


def test_slices_and_index_unions_select_lists_even_of_one_match(run_definition: Runner) -> None:
    parameters = {"slice.$": "$.messages[0:1].MessageId", "union.$": "$.messages[0,5].MessageId"}
    run = run_definition(
        only({"Type": "Pass", "Parameters": parameters}),
        {"messages": [{"MessageId": "m-1"}, {"MessageId": "m-2"}]},
    )
    assert run.output == {"slice": ["m-1"], "union": ["m-1"]}
