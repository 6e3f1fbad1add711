"""JSONata states evaluate with jsonata-python: $states, variables (Assign), AWS's functions, errors."""

from __future__ import annotations

from tests.engine.conftest import Runner


def _pass(**fields: object) -> dict[str, object]:
    return {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", **fields, "End": True}},
    }


def test_output_reads_states_input(run_definition: Runner) -> None:
    run = run_definition(_pass(Output={"greeting": "{% 'hello ' & $states.input.name %}"}), {"name": "ada"})
    assert run.status == "SUCCEEDED"
    assert run.output == {"greeting": "hello ada"}


def test_strings_with_quotes_survive_variables(run_definition: Runner) -> None:
    # moto would splice variables into the expression text unescaped
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"quote": "{% $states.input.q %}"}, "Next": "B"},
            "B": {"Type": "Pass", "Output": {"back": "{% $quote %}"}, "End": True},
        },
    }
    run = run_definition(definition, {"q": 'say "hi"\n'})
    assert run.output == {"back": 'say "hi"\n'}


def test_aws_functions(run_definition: Runner) -> None:
    run = run_definition(
        _pass(
            Output={
                "parts": "{% $partition([1,2,3,4,5], 2) %}",
                "range": "{% $range(0, 10, 5) %}",
                "hash": "{% $hash('abc', 'SHA-256') %}",
                "parsed": "{% $parse('{\"a\":[1]}') %}",
                "uuid": "{% $length($uuid()) %}",
            }
        )
    )
    assert run.status == "SUCCEEDED"
    assert run.output == {
        "parts": [[1, 2], [3, 4], [5]],
        "range": [0, 5, 10],
        "hash": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "parsed": {"a": [1]},
        "uuid": 36,
    }


def test_null_is_a_value_and_undefined_an_error(run_definition: Runner) -> None:
    ok = run_definition(_pass(Output={"v": "{% $states.input.v %}"}), {"v": None})
    assert ok.output == {"v": None}
    failed = run_definition(_pass(Output={"v": "{% $nothing %}"}))
    assert failed.status == "FAILED"
    assert failed.error == "States.QueryEvaluationError"
    assert failed.cause == (
        "An error occurred while executing the state 'P' (entered at the event id #2). "
        "The JSONata expression '$nothing' specified for the field 'Output/v' returned nothing (undefined)."
    )
    assert failed.types == ["ExecutionStarted", "PassStateEntered", "EvaluationFailed", "ExecutionFailed"]
    assert failed.event("EvaluationFailed")["evaluationFailedEventDetails"]["location"] == "Output/v"


def test_an_evaluation_error_names_the_jsonata_code(run_definition: Runner) -> None:
    run = run_definition(_pass(Output="{% $notAFunction(1) %}"))
    assert run.error == "States.QueryEvaluationError"
    assert run.cause is not None
    assert run.cause.endswith(
        "The JSONata expression '$notAFunction(1)' specified for the field 'Output' threw an error during "
        "evaluation. T1006: Attempted to invoke a non-function"
    )


def test_choice_condition_on_a_variable(run_definition: Runner) -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"n": "{% $states.input.n * 2 %}"}, "Next": "C"},
            "C": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $n > 5 %}", "Next": "Big"}],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Output": "big", "End": True},
            "Small": {"Type": "Pass", "Output": "small", "End": True},
        },
    }
    assert run_definition(definition, {"n": 3}).output == "big"
    assert run_definition(definition, {"n": 2}).output == "small"
