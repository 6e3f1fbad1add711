"""The definition linter catches each breach of the error policy."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from workflows import WORKFLOWS, cli, definitions, lint, policies
from workflows.lottery import WORKFLOW as LOTTERY

LOTTERY_DEFINITION = json.loads(definitions.render(LOTTERY))


def lottery() -> dict[str, Any]:
    return copy.deepcopy(LOTTERY_DEFINITION)


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_every_workflow_passes_the_linter(name: str) -> None:
    workflow = WORKFLOWS[name]
    standard = workflow.type == "STANDARD"
    assert lint.lint(definitions.load(workflow), standard=standard, map_items=workflow.max_map_items) == []


def test_a_lambda_task_without_transient_retries_is_reported() -> None:
    definition = lottery()
    definition["States"]["Draw Winners"]["Retry"] = definition["States"]["Draw Winners"]["Retry"][1:]
    assert "Draw Winners: does not retry AWS's transient Lambda errors" in lint.lint(definition)


@pytest.mark.parametrize("field", ["JitterStrategy", "MaxDelaySeconds"])
def test_throttling_without_jitter_or_a_delay_cap_is_reported(field: str) -> None:
    definition = lottery()
    del definition["States"]["Check Past Winners"]["Retry"][1][field]
    assert "Check Past Winners: does not retry throttling with jitter and a delay cap" in lint.lint(
        definition
    )


@pytest.mark.parametrize("error", ["States.ALL", "NotEnoughEligibleEmployees", "InvalidInput"])
def test_retrying_a_business_error_is_reported(error: str) -> None:
    definition = lottery()
    definition["States"]["Validate Request"]["Retry"].append({"ErrorEquals": [error], "MaxAttempts": 2})
    assert f"Validate Request: retries business or validation errors ['{error}']" in lint.lint(definition)


def test_a_task_without_catch_is_reported() -> None:
    definition = lottery()
    del definition["States"]["Record Winners"]["Catch"]
    assert "Record Winners: no Catch for States.ALL leading to the alert" in lint.lint(definition)


@pytest.mark.parametrize(
    ("result_path", "said"),
    [
        ("$", "ResultPath '$': the error replaces the input"),
        (None, "no ResultPath, so '$', the default: the error replaces the input"),
    ],
)
def test_a_catch_that_drops_the_input_is_reported(result_path: str | None, said: str) -> None:
    """ResultPath "$", or none (which is "$"): the error replaces the input, as the message says."""
    definition = lottery()
    catch = definition["States"]["Draw Winners"]["Catch"][-1]
    if result_path is None:
        del catch["ResultPath"]
    else:
        catch["ResultPath"] = result_path
    problems = lint.lint(definition)
    assert f"Draw Winners: Catch does not keep the input ({said})" in problems
    assert not any("None" in p for p in problems), problems


@pytest.mark.parametrize("kind", ["Retry", "Catch"])
def test_an_empty_error_equals_is_named_by_state_before_the_parsers_message(kind: str) -> None:
    """AWS refuses an empty ErrorEquals; the ASL parser names only a line and a bracket."""
    definition = lottery()
    definition["States"]["Draw Winners"][kind][0]["ErrorEquals"] = []
    problems = definitions.file_problems(json.dumps(definition))
    assert problems[0].startswith(f"Draw Winners: a {kind}'s ErrorEquals is empty"), problems


@pytest.mark.parametrize("kind", ["Retry", "Catch"])
def test_states_all_not_alone_and_last_is_named_by_state(kind: str) -> None:
    """AWS refuses States.ALL beside other errors, or in a retrier or catcher before another."""
    definition = lottery()
    blocks = definition["States"]["Draw Winners"][kind]
    blocks.insert(0, {**blocks[-1], "ErrorEquals": ["States.ALL", "Custom.Error"]})
    problems = definitions.file_problems(json.dumps(definition))
    assert (
        f'Draw Winners: a {kind}\'s ErrorEquals ["States.ALL", "Custom.Error"] holds States.ALL with other'
        f" errors: {lint.ALL_ALONE}"
    ) in problems
    assert f"Draw Winners: a {kind} of States.ALL comes before another {kind}: {lint.ALL_ALONE}" in problems
    blocks[0]["ErrorEquals"] = ["States.ALL"]
    blocks[-1]["ErrorEquals"] = ["Custom.Error"]
    assert [p for p in lint.lint(definition) if "States.ALL must" in p] == [
        f"Draw Winners: a {kind} of States.ALL comes before another {kind}: {lint.ALL_ALONE}"
    ]


def test_provider_retries_refuse_an_empty_error_list_naming_it() -> None:
    with pytest.raises(ValueError, match="provider_retries: throttled is empty"):
        policies.provider_retries(["ProviderUnavailable"], [])
    with pytest.raises(ValueError, match="provider_retries: unavailable is empty"):
        policies.provider_retries([], ["ProviderThrottled"])
    with pytest.raises(ValueError, match="contention_retry: errors is empty"):
        policies.contention_retry([])


def test_a_catch_that_skips_the_alert_is_reported() -> None:
    definition = lottery()
    definition["States"]["Draw Winners"]["Catch"][-1]["Next"] = "Failed"
    assert "Draw Winners: Catch goes to 'Failed', which does not lead to the alert" in lint.lint(definition)


def test_a_catch_that_runs_another_task_before_the_alert_is_reported() -> None:
    """That task could fail too, or do what the failure should have stopped."""
    definition = lottery()
    definition["States"]["Draw Winners"]["Catch"][-1]["Next"] = "Check Past Winners"
    assert "Draw Winners: Catch goes to 'Check Past Winners', which does not lead to the alert" in lint.lint(
        definition
    )


def test_a_fail_state_without_cause_is_reported() -> None:
    definition = lottery()
    del definition["States"]["Failed"]["CausePath"]
    assert "Failed: Fail state without Error and Cause" in lint.lint(definition)


def test_an_unbounded_loop_is_reported() -> None:
    definition = lottery()
    choice = definition["States"]["Any Past Winner?"]
    choice["Choices"] = [r for r in choice["Choices"] if r["Next"] != "Redraw Limit Reached"]
    problems = lint.lint(definition)
    assert any("loop" in p and "has no counter that ends it" in p for p in problems)


def test_a_loop_whose_counter_never_moves_is_reported() -> None:
    definition = lottery()
    definition["States"]["Count Redraw"]["Parameters"]["attempt.$"] = "$.draw.attempt"
    assert any("has no counter that ends it" in p for p in lint.lint(definition))


def test_a_history_over_the_limit_is_reported() -> None:
    definition = lottery()
    definition["States"]["Any Past Winner?"]["Choices"][1]["NumericGreaterThanEquals"] = 5000
    assert any("history events, over AWS's limit of 25000" in p for p in lint.lint(definition))
    assert not any("history events" in p for p in lint.lint(definition, standard=False))


def etf_signal() -> dict[str, Any]:
    return copy.deepcopy(json.loads(definitions.render(WORKFLOWS["etf-signal"])))


def loop_problems(definition: dict[str, Any]) -> list[str]:
    return [p for p in lint.lint(definition) if "loop" in p]


def test_a_counter_written_elsewhere_is_reported() -> None:
    definition = lottery()
    definition["States"]["Count Redraw"]["ResultPath"] = "$.unused"
    assert loop_problems(definition) == [
        "loop Draw Winners → Check Past Winners → Any Past Winner? → Count Redraw has no counter that"
        " ends it: Count Redraw writes States.MathAdd($.draw.attempt, 1) to $.unused.attempt, not back to"
        " $.draw.attempt, which Any Past Winner? leaves the loop on: write it back (ResultPath/Parameters)"
    ]


def test_a_counter_that_goes_down_is_reported() -> None:
    definition = lottery()
    definition["States"]["Count Redraw"]["Parameters"]["attempt.$"] = "States.MathAdd($.draw.attempt, -1)"
    assert loop_problems(definition) == [
        "loop Draw Winners → Check Past Winners → Any Past Winner? → Count Redraw has no counter that"
        " ends it: Count Redraw sets $.draw.attempt to States.MathAdd($.draw.attempt, -1), so it does not"
        " grow: set it to States.MathAdd($.draw.attempt, 1)"
    ]


def test_a_loop_through_a_catch_is_reported() -> None:
    definition = lottery()
    draw = definition["States"]["Draw Winners"]
    draw["Catch"].insert(
        0, {"ErrorEquals": ["EmployeeNotFound"], "ResultPath": "$.draw_error", "Next": "Draw Again"}
    )
    definition["States"]["Draw Again"] = {"Type": "Pass", "Next": "Draw Winners"}
    problems = loop_problems(definition)
    assert len(problems) == 1
    assert problems[0].startswith("loop Draw Winners (Catch) → Draw Again has no counter that ends it: ")


def test_a_loop_through_a_catch_and_a_counted_choice_is_bounded() -> None:
    definition = lottery()
    draw = definition["States"]["Draw Winners"]
    draw["Catch"].insert(
        0, {"ErrorEquals": ["EmployeeNotFound"], "ResultPath": "$.draw_error", "Next": "Any Past Winner?"}
    )
    assert lint.lint(definition) == []
    assert lint.worst_case_events(definition, 1) == lint.worst_case_events(lottery(), 1)


def test_a_loop_inside_a_map_is_reported() -> None:
    definition = etf_signal()
    processor = definition["States"]["Fetch Prices"]["ItemProcessor"]["States"]
    del processor["Fund Missing"]["End"]
    processor["Fund Missing"]["Next"] = "Fetch Fund Prices"
    problems = loop_problems(definition)
    assert len(problems) == 1
    assert problems[0].startswith(
        "Fetch Prices/item: loop Fetch Fund Prices (Catch) → Fund Missing has no counter that ends it: "
    )


def counted_map(limit: int) -> dict[str, Any]:
    """A Map whose every item goes round a loop counted by $.n until $.n >= limit."""
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "End": True,
                "ItemProcessor": {
                    "StartAt": "Start",
                    "States": {
                        "Start": {"Type": "Pass", "Result": 0, "ResultPath": "$.n", "Next": "Again?"},
                        "Again?": {
                            "Type": "Choice",
                            "Choices": [
                                {"Variable": "$.n", "NumericGreaterThanEquals": limit, "Next": "Done"}
                            ],
                            "Default": "Count",
                        },
                        "Count": {
                            "Type": "Pass",
                            "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                            "Next": "Again?",
                        },
                        "Done": {"Type": "Succeed"},
                    },
                },
            }
        },
    }


def test_a_loop_inside_a_map_counts_its_rounds_for_every_item() -> None:
    # Map 4 + 10 items x (Start 2 + 4 rounds x (Again? 2 + Count 2) + Done 2)
    assert lint.worst_case_events(counted_map(3), 10) == 4 + 10 * (2 + 4 * 4 + 2)
    assert not any("loop" in p for p in lint.lint(counted_map(3)))


@pytest.mark.parametrize(
    "rule",
    [
        {"Not": {"Variable": "$.draw.attempt", "NumericLessThan": 5}},
        {
            "And": [
                {"Variable": "$.draw.attempt", "IsNumeric": True},
                {"Variable": "$.draw.attempt", "NumericGreaterThanEquals": 5},
            ]
        },
        {
            "Or": [
                {"Variable": "$.check.past_winners", "IsPresent": False},
                {"Variable": "$.draw.attempt", "NumericGreaterThanEquals": 5},
            ]
        },
    ],
    ids=["Not", "And", "Or"],
)
def test_a_counter_rule_inside_and_or_not_ends_the_loop(rule: dict[str, Any]) -> None:
    definition = lottery()
    definition["States"]["Any Past Winner?"]["Choices"][1] = {**rule, "Next": "Redraw Limit Reached"}
    assert lint.lint(definition) == []
    assert lint.worst_case_events(definition, 1) == lint.worst_case_events(lottery(), 1)


def test_a_choice_that_stays_in_the_loop_before_its_counter_rule_is_reported() -> None:
    definition = lottery()
    definition["States"]["Any Past Winner?"]["Choices"].insert(
        1, {"Variable": "$.check.eligible", "BooleanEquals": False, "Next": "Count Redraw"}
    )
    assert any(
        "Any Past Winner? can go round again however large $.draw.attempt grows" in p
        for p in loop_problems(definition)
    )


def test_a_transient_retry_of_no_attempts_is_reported_as_no_retry() -> None:
    definition = lottery()
    definition["States"]["Draw Winners"]["Retry"][0]["MaxAttempts"] = 0
    problems = lint.lint(definition)
    assert not any("without backoff" in p for p in problems)
    assert any(p.startswith("Draw Winners: never retries AWS's transient Lambda errors") for p in problems)


def test_a_transient_error_whose_own_retrier_makes_no_attempt_is_reported() -> None:
    """The transient errors split over two retriers: one of no attempts leaves its errors unretried."""
    definition = lottery()
    retries = definition["States"]["Draw Winners"]["Retry"]
    errors = retries[0]["ErrorEquals"]
    retries[0]["ErrorEquals"] = errors[:2]
    retries.insert(1, {**retries[0], "ErrorEquals": errors[2:], "MaxAttempts": 0})
    problems = lint.lint(definition)
    assert any(p.startswith("Draw Winners: never retries AWS's transient Lambda errors") for p in problems)


def test_transient_retries_without_backoff_are_reported() -> None:
    definition = lottery()
    definition["States"]["Draw Winners"]["Retry"][0]["BackoffRate"] = 1.0
    assert (
        "Draw Winners: retries transient Lambda errors without backoff: give their Retry a BackoffRate above 1"
        in lint.lint(definition)
    )


def test_every_retrier_counts_toward_the_history_limit_at_its_most_attempts() -> None:
    """Each retrier keeps its own count: error A three times, then error B six times."""
    retries = [{"ErrorEquals": ["A"], "MaxAttempts": 3}, {"ErrorEquals": ["B"], "MaxAttempts": 6}]
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Retry": retries, "End": True}
    # a Task's five events when it runs once, and three (scheduled, started, failed) per retry
    assert lint.worst_case_events({"StartAt": "T", "States": {"T": task}}, map_items=1) == 5 + 3 * (3 + 6)


def test_a_throttling_retry_of_no_attempts_is_reported_as_no_retry() -> None:
    definition = lottery()
    definition["States"]["Draw Winners"]["Retry"][1]["MaxAttempts"] = 0
    assert any(p.startswith("Draw Winners: never retries throttling") for p in lint.lint(definition))


def test_a_catch_that_puts_the_error_where_the_alert_does_not_read_it_is_reported() -> None:
    definition = lottery()
    definition["States"]["Draw Winners"]["Catch"][-1]["ResultPath"] = "$.errors"
    assert lint.lint(definition) == [
        "Draw Winners: Catch of States.ALL writes the error to '$.errors', but Alert Failure and Failed"
        " read $.error (its Error and Cause): set the Catch's ResultPath to '$.error'"
    ]


def test_a_catch_under_a_caught_error_is_accepted_only_after_one() -> None:
    """flight-deals' Park Batch writes its own error under the one it is parking, which exists
    there; a Catch on the normal path writing under $.error leaves $.error.Error unset."""
    definition = lottery()
    definition["States"]["Draw Winners"]["Catch"][-1]["ResultPath"] = "$.error.parking"
    assert any(p.startswith("Draw Winners: Catch of States.ALL writes") for p in lint.lint(definition))


def test_a_choice_branch_taken_only_when_an_error_is_there_may_read_it() -> None:
    """Failed Without Alert reads $.alert_error: reached through a Choice (and the window's
    release), only the branch taken when it is present may lead there; a branch taken without it
    would read nothing."""
    definition = lottery()
    definition["States"]["Alert Failure"]["Catch"][0]["Next"] = "Alert Sent?"
    definition["States"]["Alert Failure"]["Next"] = "Alert Sent?"  # sent: no $.alert_error
    definition["States"]["Alert Sent?"] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.alert_error", "IsPresent": True, "Next": policies.RELEASE_WINDOW}],
        "Default": "Failed",
    }
    assert lint.lint(definition) == []
    definition["States"]["Alert Sent?"]["Choices"][0]["IsPresent"] = False
    problems = lint.lint(definition)
    assert problems and all("Failed Without Alert read $.alert_error" in p for p in problems)


def test_a_choice_without_default_is_reported() -> None:
    definition = etf_signal()
    del definition["States"]["Market Open?"]["Default"]
    assert any(p.startswith("Market Open?: Choice without Default") for p in lint.lint(definition))


def test_a_choice_without_default_is_reported_when_its_default_was_the_only_way_to_a_state() -> None:
    """The Choice is the cause, the state it leaves unreachable the consequence: both are said."""
    definition = lottery()
    del definition["States"]["Any Past Winner?"]["Default"]  # its only way to Count Redraw
    problems = definitions.file_problems(json.dumps(definition))
    assert problems[0].startswith("Any Past Winner?: Choice without Default"), problems
    assert "Count Redraw: not reachable from 'Validate Request'" in problems


def test_one_file_is_linted_from_the_command_line(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "lottery.asl.json"
    good.write_text(json.dumps(lottery()))
    assert cli.main(["lint", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: no problems\n"

    definition = lottery()
    definition["States"]["Count Redraw"]["ResultPath"] = "$.unused"
    bad = tmp_path / "redraw.asl.json"
    bad.write_text(json.dumps(definition))
    assert cli.main(["lint", str(good), str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}: loop Draw Winners → Check Past Winners → Any Past Winner? → Count Redraw")
    assert str(good) not in err

    assert cli.main(["lint", str(tmp_path / "missing.asl.json")]) == 2
    assert "missing.asl.json: cannot read" in capsys.readouterr().err


def test_a_file_that_is_not_utf8_is_said_in_one_line_exit_2(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a file it cannot read, not a UnicodeDecodeError's traceback; a UTF-8 byte order mark is
    read past."""
    text = json.dumps(lottery())
    powershell = tmp_path / "utf16.asl.json"
    powershell.write_bytes(text.encode("utf-16"))  # with its byte order mark, as PowerShell's > writes
    latin = tmp_path / "latin.asl.json"
    latin.write_bytes(b'{"Comment": "caf\xe9"}')
    assert cli.main(["lint", str(powershell), str(latin)]) == 2
    assert capsys.readouterr().err == (
        f"{powershell}: cannot read: not UTF-8 text: UTF-16, as PowerShell's > writes; save it as UTF-8\n"
        f"{latin}: cannot read: not UTF-8 text (byte 0xe9 at offset 16: invalid continuation byte)\n"
    )
    marked = tmp_path / "bom.asl.json"
    marked.write_bytes(text.encode("utf-8-sig"))
    assert cli.main(["lint", str(marked)]) == 0


def test_a_workflow_is_linted_by_its_name_from_the_command_line(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its definition file, from wherever the command runs; a name that is neither a file nor a
    workflow is said with the workflow it is likely a typo of (exit 2), and the others are linted."""
    monkeypatch.chdir(tmp_path)  # not where the definitions are
    assert cli.main(["lint", "lottery", "flight-deals"]) == 0
    assert capsys.readouterr().out == "lottery: no problems\nflight-deals: no problems\n"

    assert cli.main(["lint", "lotery", "lottery"]) == 2
    captured = capsys.readouterr()
    known = ", ".join(sorted(WORKFLOWS))  # every workflow: one added later changes no test
    assert captured.err == (
        f"lotery: no such file, and no workflow named 'lotery' (did you mean 'lottery'? known: {known})\n"
    )
    assert captured.out == "lottery: no problems\n"


def test_the_command_line_lints_an_express_file_without_the_history_limit(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = lottery()
    definition["States"]["Any Past Winner?"]["Choices"][1]["NumericGreaterThanEquals"] = 5000
    path = tmp_path / "big.asl.json"
    path.write_text(json.dumps(definition))
    assert cli.main(["lint", str(path)]) == 1
    assert "history events, over AWS's limit" in capsys.readouterr().err
    assert cli.main(["lint", "--type", "EXPRESS", str(path)]) == 0


def test_a_file_that_is_no_definition_is_reported(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.asl.json"
    path.write_text("{")
    assert cli.main(["lint", str(path)]) == 1
    assert capsys.readouterr().err.startswith(f"{path}: not JSON: ")


def test_an_error_built_where_the_alert_does_not_read_it_is_reported() -> None:
    definition = lottery()
    definition["States"]["Redraw Limit Reached"]["ResultPath"] = "$.limit_error"
    assert lint.lint(definition) == [
        "Alert Failure and Failed read $.error (Error and Cause), which no state on the way from"
        " Validate Request sets: have the Pass before them set it (ResultPath '$.error')"
    ]


def test_a_task_on_the_way_to_the_alert_that_goes_nowhere_else_is_accepted() -> None:
    """flight-deals parks its batch before alerting: failed or not, Park Batch goes on to the alert."""
    assert lint.lint(json.loads(definitions.render(WORKFLOWS["flight-deals"]))) == []
    definition = lottery()
    definition["States"]["Draw Winners"]["Catch"][-1]["Next"] = "Keep Evidence"
    definition["States"]["Keep Evidence"] = {
        **definition["States"]["Record Winners"],
        "Next": "Alert Failure",
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error.keeping", "Next": "Alert Failure"}],
    }
    assert lint.lint(definition) == []


@pytest.mark.parametrize("way", ["Next", "Catch"])
def test_a_task_on_the_way_to_the_alert_that_can_go_elsewhere_is_reported(way: str) -> None:
    definition = lottery()
    definition["States"]["Draw Winners"]["Catch"][-1]["Next"] = "Keep Evidence"
    keep = {
        **definition["States"]["Record Winners"],
        "Next": "Alert Failure",
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error.keeping", "Next": "Alert Failure"}],
    }
    if way == "Next":
        keep["Next"] = "Failed"
    else:
        keep["Catch"][0]["Next"] = "Failed"
    definition["States"]["Keep Evidence"] = keep
    assert "Draw Winners: Catch goes to 'Keep Evidence', which does not lead to the alert" in lint.lint(
        definition
    )


def merging(entries: str) -> str:
    return f"{{% $merge([$states.input, {entries}]) %}}"


def test_an_output_merging_over_the_error_is_reported_as_a_result_path_there_is() -> None:
    """Alert Window keeps its input and merges alert_emailed in: merging an `error` of its own in
    too leaves the alert without the error it reports."""
    definition = lottery()
    window = definition["States"][policies.ALERT_WINDOW]
    window["Output"] = merging('{"alert_emailed": "yes", "error": "window open"}')
    problems = lint.lint(definition)
    del window["QueryLanguage"], window["Output"]  # the same write, as a JSONPath ResultPath
    window["ResultPath"] = "$.error"
    assert problems and problems == lint.lint(definition)


def test_an_output_merging_an_error_it_builds_keeps_it_readable() -> None:
    definition = lottery()
    window = definition["States"][policies.ALERT_WINDOW]
    window["Output"] = merging('{"alert_emailed": "yes", "error": {"Error": "E", "Cause": "C"}}')
    assert lint.lint(definition) == []


def test_a_catch_merging_over_the_error_is_reported() -> None:
    """A JSONata Catch's error is $states.errorOutput: merged in under `error` the alert reads it;
    anything else merged there takes the error the alert would have read."""
    definition = lottery()
    catch = definition["States"][policies.ALERT_WINDOW]["Catch"][0]
    catch["Output"] = merging('{"error": $states.errorOutput}')
    assert lint.lint(definition) == []
    catch["Output"] = merging('{"alert_emailed": "no", "error": "window open"}')
    assert lint.lint(definition) == [
        f"{policies.ALERT_WINDOW}: Catch of DynamoDB.ConditionalCheckFailedException merges 'alert_emailed',"
        " 'error' into its input, but Alert Failure and Failed read $.error (its Error and Cause):"
        ' merge {"error": $states.errorOutput} into its input'
    ]


def test_an_output_merging_over_a_loop_counter_is_reported() -> None:
    definition = lottery()
    check = definition["States"]["Check Past Winners"]
    del check["ResultPath"]
    check.update(QueryLanguage="JSONata", Output=merging('{"draw": $states.result}'))
    assert loop_problems(definition) == [
        "loop Draw Winners → Check Past Winners → Any Past Winner? → Count Redraw has no counter that"
        " ends it: Check Past Winners overwrites $.draw.attempt inside the loop (its Output's $merge):"
        " write its result elsewhere"
    ]


@pytest.mark.parametrize("merged", ["$states.result", '{"draw": 1}, {"error": 2}', '{$string(1): "x"}'])
def test_an_output_merging_what_is_no_object_literal_is_taken_to_write_nothing(merged: str) -> None:
    """Its keys are known only at run time."""
    definition = lottery()
    definition["States"][policies.ALERT_WINDOW]["Output"] = merging(merged)
    assert lint.lint(definition) == []


@pytest.mark.parametrize(
    ("literal", "entries"),
    [
        ("{}", {}),
        ('{"alert_emailed": "yes"}', {"alert_emailed": '"yes"'}),
        (
            """{ 'a, b': $f(1, {"c": 2}), "d:": "}\\"" }""",
            {"a, b": '$f(1, {"c": 2})', "d:": '"}\\""'},
        ),
        ('{"a": 1}, {"b": 2}', None),
        ('{"a" & "b": 1}', None),
        ("$states.result", None),
    ],
)
def test_the_entries_of_a_merged_object_literal(literal: str, entries: dict[str, str] | None) -> None:
    assert lint.object_entries(literal) == entries
