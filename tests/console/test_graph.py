"""The execution graph model from a definition and a history (no cloud): statuses, retries,
Parallel branches, Map iterations, redrives; and the Graphviz drawing of each shape."""

from __future__ import annotations

from typing import Any

from console.graph import build
from console.graph.definition import rule_label
from console.graph.render import COLOURS, to_svg
from console.graph.runs import places
from workflows import policies

DEFINITION: dict[str, Any] = {
    "StartAt": "Fetch",
    "States": {
        "Fetch": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Both"},
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Task", "Resource": "x", "End": True}}},
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recover"}],
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Item",
                "States": {"Item": {"Type": "Task", "Resource": "x", "End": True}},
            },
            "Next": "Done",
        },
        "Recover": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


class History:
    """Builds events the way Step Functions chains them (ids, previousEventId, timestamps)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, previous: int | None = None, **details: Any) -> int:
        event_id = len(self.events) + 1
        event: dict[str, Any] = {
            "id": event_id,
            "previousEventId": event_id - 1 if previous is None else previous,
            "type": kind,
            "timestamp": f"2026-01-01T00:00:{event_id:02d}+00:00",
        }
        if details:
            key = {
                "Entered": "stateEnteredEventDetails",
                "Exited": "stateExitedEventDetails",
                "Failed": "taskFailedEventDetails",
            }
            suffix = next((s for s in key if kind.endswith(s)), None)
            event[key[suffix] if suffix else "mapIterationStartedEventDetails"] = details
        self.events.append(event)
        return event_id

    def task(self, name: str, failures: list[str], succeed: bool = True, previous: int | None = None) -> int:
        last = self.add("TaskStateEntered", previous, name=name, input='{"in": 1}')
        for error in failures:
            self.add("TaskScheduled")
            last = self.add("TaskFailed", error=error, cause="boom")
        self.add("TaskScheduled")
        if succeed:
            self.add("TaskSucceeded")
            last = self.add("TaskStateExited", name=name, output='{"out": 2}')
        return last


def statuses(graph: dict[str, Any]) -> dict[str, str]:
    return {name: state["status"] for name, state in graph["states"].items()}


def test_workflow_graph_has_every_state_not_reached_and_its_edges() -> None:
    graph = build(DEFINITION)
    assert set(statuses(graph).values()) == {"not_reached"}
    edges = {(e["from"], e["to"], e["kind"]) for e in graph["edges"]}
    assert ("__start__", "Fetch", "next") in edges
    assert ("Both", "Left", "branch") in edges and ("Both", "Right", "branch") in edges
    assert ("Left", "Both__join", "join") in edges
    assert ("Both__join", "Each", "next") in edges
    assert ("Both__join", "Recover", "catch") in edges
    assert ("Each", "Item", "branch") in edges
    assert ("Done", "__end__", "next") in edges
    assert [s["label"] for s in graph["scopes"]["scopes"]] == ["Branch 1", "Branch 2", "Iterator"]


def test_flow_order_follows_the_transitions_not_the_definition() -> None:
    """Branches before the Parallel's Next, Choice rules then Default, Catch targets last; a state
    nothing reaches still has a place."""
    choice = {
        "StartAt": "Ask",
        "States": {
            "Fallback": {"Type": "Pass", "End": True},
            "Ask": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.a", "BooleanEquals": True, "Next": "Yes"}],
                "Default": "Fallback",
            },
            "Orphan": {"Type": "Pass", "End": True},
            "Yes": {"Type": "Pass", "Next": "Fallback"},
        },
    }
    assert build(DEFINITION)["order"] == ["Fetch", "Both", "Left", "Right", "Each", "Item", "Done", "Recover"]
    assert build(choice)["order"] == ["Ask", "Yes", "Fallback", "Orphan"]


def test_retried_task_then_caught_parallel_branch_failure() -> None:
    h = History()
    h.add("ExecutionStarted", 0)
    h.task("Fetch", ["Lambda.ServiceException"])
    h.add("ParallelStateEntered", name="Both", input="{}")
    started = h.add("ParallelStateStarted")
    h.add("PassStateEntered", started, name="Left", input="{}")
    h.add("PassStateExited", name="Left", output='"l"')
    h.task("Right", ["Oops"], succeed=False, previous=started)
    h.add("ParallelStateFailed")
    h.add("ParallelStateExited", name="Both", output="{}")
    h.add("PassStateEntered", name="Recover", input="{}")
    h.add("PassStateExited", name="Recover", output="{}")
    h.add("SucceedStateEntered", name="Done", input="{}")
    h.add("SucceedStateExited", name="Done", output="{}")
    h.add("ExecutionSucceeded")
    graph = build(DEFINITION, {"status": "SUCCEEDED"}, h.events)
    assert statuses(graph) == {
        "Fetch": "retried",
        "Both": "caught",
        "Left": "succeeded",
        "Right": "failed",
        "Each": "not_reached",
        "Item": "not_reached",
        "Recover": "succeeded",
        "Done": "succeeded",
    }
    fetch = graph["states"]["Fetch"]
    assert fetch["retries"] == 1
    assert fetch["input"] == {"in": 1} and fetch["output"] == {"out": 2}
    assert fetch["error"] == "Lambda.ServiceException"
    assert fetch["durationMs"] == 5000
    assert graph["states"]["Right"]["error"] == "Oops"
    assert graph["execution"]["failedIn"] is None  # it succeeded: the caught failure is not where it failed


def test_map_iterations_and_a_running_state() -> None:
    h = History()
    h.add("ExecutionStarted", 0)
    h.task("Fetch", [])
    h.add("ParallelStateEntered", name="Both", input="{}")
    started = h.add("ParallelStateStarted")
    h.add("PassStateEntered", started, name="Left", input="{}")
    left = h.add("PassStateExited", name="Left", output='"l"')
    right = h.task("Right", [], previous=started)
    h.add("ParallelStateSucceeded", right)
    h.add("ParallelStateExited", name="Both", output="{}")
    h.add("MapStateEntered", name="Each", input="[1, 2]")
    h.add("MapStateStarted")
    for index in range(2):
        h.add("MapIterationStarted", name="Each", index=index)
        h.task("Item", [], succeed=index == 0)
        if index == 0:
            h.add("MapIterationSucceeded", name="Each", index=index)
    assert left  # the branches interleave; runs are matched by name, not by position
    graph = build(DEFINITION, {"status": "RUNNING"}, h.events)
    found = statuses(graph)
    assert found["Each"] == "running"
    assert found["Item"] == "running"  # one iteration done, one still running
    assert graph["states"]["Item"]["runs"] == 2
    assert graph["states"]["Each"]["iterations"] == {"started": 2, "succeeded": 1}
    assert found["Done"] == "not_reached"


def test_a_state_that_ran_often_shows_the_input_of_the_run_whose_error_it_shows() -> None:
    """A Map item's Task that failed for one item and succeeded for the next: the state's error,
    input, output and duration are all the failed item's, not the error of one item beside the
    input of another (which would name the wrong fund, performance...)."""
    h = History()
    h.add("ExecutionStarted", 0)
    h.add("MapStateEntered", name="Each", input="[1, 2]")
    started = h.add("MapStateStarted")
    h.add("MapIterationStarted", started, name="Each", index=0)
    h.add("TaskStateEntered", name="Item", input='{"item": "broken"}')
    h.add("TaskScheduled")
    h.add("TaskFailed", error="Unavailable", cause="HTTP 503")
    h.add("TaskStateExited", name="Item", output='{"item": "broken", "missing": true}')
    h.add("MapIterationSucceeded", name="Each", index=0)
    h.add("MapIterationStarted", name="Each", index=1)
    h.task("Item", [])
    h.add("MapIterationSucceeded", name="Each", index=1)
    graph = build(DEFINITION, {"status": "RUNNING"}, h.events)
    item = graph["states"]["Item"]
    assert (item["status"], item["error"], item["runs"]) == ("caught", "Unavailable", 2)
    assert item["input"] == {"item": "broken"}
    assert item["output"] == {"item": "broken", "missing": True}
    assert (item["enteredAt"], item["durationMs"]) == ("2026-01-01T00:00:05+00:00", 3000)


def test_failed_execution_marks_the_state_that_failed_it() -> None:
    h = History()
    h.add("ExecutionStarted", 0)
    h.add("TaskStateEntered", name="Fetch", input="{}")
    h.add("TaskScheduled")
    h.add("TaskSucceeded")
    h.add("ExecutionFailed", error="States.Runtime", cause="bad ResultSelector")
    graph = build(DEFINITION, {"status": "FAILED"}, h.events)
    fetch = graph["states"]["Fetch"]
    assert fetch["status"] == "failed"
    assert fetch["error"] == "States.Runtime"


def fetch_failed_and_caught() -> History:
    """A run so far: Fetch failed with Boom, and a Catch led it on."""
    h = History()
    h.add("ExecutionStarted", 0)
    h.add("TaskStateEntered", name="Fetch", input="{}")
    h.add("TaskScheduled")
    h.add("TaskFailed", error="Boom", cause="it broke")
    h.add("TaskStateExited", name="Fetch", output="{}")
    return h


def test_the_run_failed_in_the_state_that_failed_with_its_error_not_in_the_alert_that_failed_after() -> None:
    """A Task failed and was caught; sending the alert failed too and was caught, so as not to hide
    the first failure: the run failed with the Task's error, in the Task."""
    h = fetch_failed_and_caught()
    h.add("TaskStateEntered", name="Alert Failure", input="{}")
    h.add("TaskScheduled")
    h.add("TaskFailed", error="SNS.AuthorizationErrorException", cause="not allowed")
    h.add("TaskStateExited", name="Alert Failure", output="{}")
    h.add("FailStateEntered", name="Failed", input="{}")
    h.add("ExecutionFailed", error="Boom", cause="it broke")
    graph = build(DEFINITION, {"status": "FAILED"}, h.events)
    assert graph["execution"]["failedIn"] == "Fetch"


def test_a_failure_a_pass_state_names_is_not_said_to_be_in_the_alert_window_that_held_its_email() -> None:
    """A Task failed and was caught; a Pass then made the run's own error (as the lottery's Not
    Announced does); the alert window, open from an earlier run, refused its write: the run failed
    after the Task's failure, not in the window."""
    h = fetch_failed_and_caught()
    h.add("PassStateEntered", name="Not Fetched", input="{}")
    h.add("PassStateExited", name="Not Fetched", output="{}")
    h.add("TaskStateEntered", name=policies.ALERT_WINDOW, input="{}")
    h.add("TaskScheduled")
    h.add("TaskFailed", error="DynamoDB.ConditionalCheckFailedException", cause="window open")
    h.add("TaskStateExited", name=policies.ALERT_WINDOW, output="{}")
    h.add("TaskStateEntered", name="Alert Failure", input="{}")
    h.add("TaskStateExited", name="Alert Failure", output="{}")
    h.add("FailStateEntered", name="Failed", input="{}")
    h.add("ExecutionFailed", error="NotFetched", cause="made by the Pass")
    graph = build(DEFINITION, {"status": "FAILED"}, h.events)
    assert graph["execution"]["failedIn"] == "Fetch"


SIBLINGS: dict[str, Any] = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Slow", "States": {"Slow": {"Type": "Task", "Resource": "x", "End": True}}},
                {"StartAt": "Broken", "States": {"Broken": {"Type": "Task", "Resource": "x", "End": True}}},
            ],
            "End": True,
        }
    },
}


def _slow_beside(h: History) -> None:
    h.add("ExecutionStarted", 0)
    h.add("ParallelStateEntered", name="Both", input="{}")
    started = h.add("ParallelStateStarted")
    h.add("TaskStateEntered", started, name="Slow", input="{}")
    h.add("TaskScheduled")
    h.add("TaskStateEntered", started, name="Broken", input="{}")
    h.add("TaskScheduled")


def test_a_state_cut_short_by_its_siblings_failure_is_cancelled_and_by_a_stop_aborted() -> None:
    failed = History()
    _slow_beside(failed)
    failed.add("TaskFailed", error="Boom", cause="it broke")
    failed.add("ParallelStateFailed")
    failed.add("ExecutionFailed", error="Boom", cause="it broke")
    assert statuses(build(SIBLINGS, {"status": "FAILED"}, failed.events)) == {
        "Both": "failed",
        "Slow": "cancelled",
        "Broken": "failed",
    }
    stopped = History()
    _slow_beside(stopped)
    stopped.add("ExecutionAborted")
    stop = {"status": "ABORTED", "stopDate": "2026-01-01T00:00:09+00:00"}
    graph = build(SIBLINGS, stop, stopped.events)
    assert statuses(graph) == {"Both": "aborted", "Slow": "aborted", "Broken": "aborted"}
    # how long it ran: until the stop, not until whenever the page is looked at
    assert graph["states"]["Slow"]["durationMs"] == 5000  # entered at 00:00:04


def test_a_state_shows_the_run_that_failed_the_execution_not_a_later_caught_one() -> None:
    """Item 0's Task failed the Map; item 1's failed afterwards and was caught: the state's error,
    input and status are item 0's."""
    h = History()
    h.add("ExecutionStarted", 0)
    h.add("MapStateEntered", name="Each", input="[0, 1]")
    started = h.add("MapStateStarted")
    h.add("MapIterationStarted", started, name="Each", index=0)
    h.add("TaskStateEntered", name="Item", input='{"item": 0}')
    h.add("TaskScheduled")
    h.add("TaskFailed", error="Fatal", cause="no such fund")
    h.add("MapIterationStarted", started, name="Each", index=1)
    h.add("TaskStateEntered", name="Item", input='{"item": 1}')
    h.add("TaskScheduled")
    h.add("TaskFailed", error="Unavailable", cause="HTTP 503")
    h.add("TaskStateExited", name="Item", output='{"item": 1, "missing": true}')
    h.add("MapStateFailed")
    h.add("ExecutionFailed", error="Fatal", cause="no such fund")
    item = build(DEFINITION, {"status": "FAILED"}, h.events)["states"]["Item"]
    assert (item["status"], item["error"], item["input"]) == ("failed", "Fatal", {"item": 0})


def test_aborted_execution_and_a_redrive() -> None:
    h = History()
    h.add("ExecutionStarted", 0)
    h.task("Fetch", ["Boom"], succeed=False)
    h.add("ExecutionFailed", error="Boom", cause="boom")
    aborted = build(DEFINITION, {"status": "ABORTED"}, h.events[:-1])
    assert aborted["states"]["Fetch"]["status"] == "failed"  # its last attempt failed
    h.add("ExecutionRedriven")
    h.task("Fetch", [])
    graph = build(DEFINITION, {"status": "RUNNING"}, h.events)
    assert graph["states"]["Fetch"]["status"] == "succeeded"  # only the runs since the redrive count
    assert graph["states"]["Fetch"]["runs"] == 1


def test_choice_labels() -> None:
    assert rule_label({"Variable": "$.n", "NumericGreaterThanEquals": 5, "Next": "x"}) == "$.n >= 5"
    assert rule_label({"Variable": "$.ok", "BooleanEquals": True, "Next": "x"}) == "$.ok == true"
    assert rule_label({"Variable": "$.s", "IsPresent": True, "Next": "x"}) == "$.s IsPresent true"
    both = {
        "And": [{"Variable": "$.a", "StringEquals": "x"}, {"Not": {"Variable": "$.b", "NumericLessThan": 1}}]
    }
    assert rule_label(both) == '$.a == "x" and not ($.b < 1)'
    assert rule_label({"Condition": "{% $states.input.n > 1 %}", "Next": "x"}) == "{% $states.input.n > 1 %}"
    assert len(rule_label({"Variable": "$." + "x" * 80, "StringEquals": "y"})) == 42


def test_svg_draws_clusters_labels_and_colours() -> None:
    h = History()
    h.add("ExecutionStarted", 0)
    h.task("Fetch", ["Lambda.ServiceException"])
    svg = to_svg(build(DEFINITION, {"status": "RUNNING"}, h.events))
    assert svg.startswith("<svg")
    assert svg.count('class="cluster"') == 5  # Parallel + 2 branches, Map + iterator
    assert "Branch 1" in svg and "Iterator" in svg and "States.ALL" in svg
    assert COLOURS["retried"][0] in svg and COLOURS["not_reached"][1] in svg
    assert "1 retry" in svg


def test_places_puts_each_event_in_its_state_and_map_item() -> None:
    """Item 0's retries come after item 1 began, and a Map's end follows a Task's failure in an
    item (as moto chains them): each event is placed by previousEventId, not by the row above it;
    a Map inside an item numbers its items under it."""
    h = History()
    h.add("ExecutionStarted", 0)
    h.add("MapStateEntered", name="Each", input="[1, 2]")
    started = h.add("MapStateStarted")
    h.add("MapIterationStarted", started, name="Each", index=0)
    h.add("TaskStateEntered", name="Item", input="{}")
    first = h.add("TaskScheduled")
    h.add("MapIterationStarted", started, name="Each", index=1)
    h.add("TaskStateEntered", name="Item", input="{}")
    failed = h.add("TaskFailed", first, error="Unavailable", cause="HTTP 503")  # item 0's
    h.add("TaskScheduled", failed)
    h.add("MapStateEntered", failed + 1, name="Inner", input="[1]")
    inner = h.add("MapStateStarted")
    h.add("MapIterationStarted", inner, name="Inner", index=0)
    h.add("TaskStateEntered", name="Item", input="{}")
    broken = h.add("TaskFailed", error="Broken", cause="no")
    map_failed = h.add("MapStateFailed")
    h.add("MapStateExited", name="Inner", output="{}")
    h.add("MapStateSucceeded", started)  # no item ran to the end: outside the items
    h.add("MapStateExited", name="Each", output="{}")
    h.add("ExecutionSucceeded")
    where = places(h.events)
    assert where[failed] == ("Item", "0") and where[failed + 1] == ("Item", "0")
    assert where[7] == ("Each", "1") and where[8] == ("Item", "1")
    assert where[inner + 1] == ("Inner", "0.0") and where[broken] == ("Item", "0.0")
    assert where[map_failed] == ("Inner", "0") and where[map_failed + 1] == ("Inner", "0")
    assert where[map_failed + 2] == ("Each", None) and where[map_failed + 3] == ("Each", None)
    assert where[1] == where[len(h.events)] == (None, None)


def test_interleaved_map_items_each_keep_their_own_input_output_and_duration() -> None:
    """Item 0 enters, item 1 enters, then item 0 ends first: each run pairs its own input with its
    own output (followed through previousEventId), not with the output of the item that entered
    last, which would show one fund's input beside another's output and error."""
    h = History()
    h.add("ExecutionStarted", 0)
    h.add("MapStateEntered", name="Each", input="[0, 1]")
    started = h.add("MapStateStarted")
    h.add("MapIterationStarted", started, name="Each", index=0)
    entered0 = h.add("TaskStateEntered", name="Item", input='{"item": 0}')
    scheduled0 = h.add("TaskScheduled")
    h.add("MapIterationStarted", started, name="Each", index=1)
    h.add("TaskStateEntered", name="Item", input='{"item": 1}')
    scheduled1 = h.add("TaskScheduled")
    failed0 = h.add("TaskFailed", scheduled0, error="Unavailable", cause="item 0: HTTP 503")
    h.add("TaskStateExited", failed0, name="Item", output='{"item": 0, "missing": true}')
    succeeded1 = h.add("TaskSucceeded", scheduled1)
    h.add("TaskStateExited", succeeded1, name="Item", output='{"item": 1}')
    graph = build(DEFINITION, {"status": "RUNNING"}, h.events)
    item = graph["states"]["Item"]
    runs = {run["input"]["item"]: run for run in item["history"]}
    assert (runs[0]["mapItem"], runs[1]["mapItem"]) == ("0", "1")  # the console names each run by it
    assert runs[0]["output"] == {"item": 0, "missing": True}
    assert (runs[0]["status"], runs[0]["error"]) == ("caught", "Unavailable")
    assert runs[1]["output"] == {"item": 1}
    assert runs[1]["status"] == "succeeded"
    assert runs[0]["durationMs"] == (failed0 + 1 - entered0) * 1000
