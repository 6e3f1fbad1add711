"""Mocked test cases (Step Functions Local's format) force any path without touching handlers."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud, mock_config
from localcloud.engine import clock

DEFINITION = {
    "StartAt": "Call",
    "States": {
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "not-deployed", "Payload.$": "$"},
            "ResultSelector": {"value.$": "$.Payload.value"},
            "Retry": [
                {"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 5, "MaxAttempts": 2}
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
            "End": True,
        },
        "Caught": {"Type": "Pass", "End": True},
    },
}
CONFIG = {
    "StateMachines": {
        "mocked": {
            "TestCases": {
                "HappyPath": {"Call": "Answers"},
                "ThrottledTwice": {"Call": "ThrottledThenAnswers"},
                "Broken": {"Call": "AlwaysFails"},
            }
        }
    },
    "MockedResponses": {
        "Answers": {"0": {"Return": {"StatusCode": 200, "Payload": {"value": 1}}}},
        "ThrottledThenAnswers": {
            "0-1": {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "slow down"}},
            "2": {"Return": {"StatusCode": 200, "Payload": {"value": 2}}},
        },
        "AlwaysFails": {"0": {"Throw": {"Error": "BrokenThing", "Cause": "it broke"}}},
    },
}


@pytest.fixture
def express(cloud: LocalCloud) -> Any:
    sfn = cloud.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="mocked",
        definition=json.dumps(DEFINITION),
        roleArn="arn:aws:iam::123456789012:role/sfn",
        type="EXPRESS",
    )["stateMachineArn"]
    with mock_config.loaded(CONFIG):
        yield sfn, arn


@pytest.fixture
def machine(cloud: LocalCloud) -> Any:
    sfn = cloud.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="mocked", definition=json.dumps(DEFINITION), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]

    def run(case: str) -> tuple[dict[str, Any], list[str]]:
        with clock.instant():
            execution = sfn.start_execution(stateMachineArn=f"{arn}#{case}", input="{}")["executionArn"]
            while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
                time.sleep(0.02)
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution)
        events = [event for page in pages for event in page["events"]]
        return described, [e["type"] for e in events]

    with mock_config.loaded(CONFIG):  # installing again (the local cloud did at start) is harmless
        yield run


def test_a_mocked_return_replaces_the_call(machine: Any) -> None:
    described, events = machine("HappyPath")
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"value": 1}
    assert events.count("TaskScheduled") == 1


def test_mocked_throws_per_attempt_drive_the_retry_path(machine: Any) -> None:
    described, events = machine("ThrottledTwice")
    assert json.loads(described["output"]) == {"value": 2}
    assert events.count("TaskFailed") == 2 and events.count("TaskScheduled") == 3


def test_a_mocked_error_drives_the_catch_path(machine: Any) -> None:
    described, events = machine("Broken")
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["error"] == {"Error": "BrokenThing", "Cause": "it broke"}
    assert "PassStateEntered" in events


def test_an_unknown_test_case_is_refused_by_name() -> None:
    with (
        mock_config.loaded(CONFIG),
        pytest.raises(
            mock_config.MockConfigError, match="no mocked test case 'Nope' for state machine 'mocked'"
        ),
    ):
        mock_config.test_case("mocked", "Nope")


def test_a_configuration_loaded_for_a_block_gives_back_the_one_before() -> None:
    """A test's own cases do not wipe those SFN_MOCK_CONFIG loaded for the whole local cloud."""
    mine = {"StateMachines": {"other": {"TestCases": {"Only": {}}}}, "MockedResponses": {}}
    mock_config.load(CONFIG)
    try:
        with mock_config.loaded(mine):
            assert mock_config.test_case("other", "Only").test_case_name == "Only"
            with pytest.raises(mock_config.MockConfigError):
                mock_config.test_case("mocked", "HappyPath")
        assert mock_config.test_case("mocked", "HappyPath").test_case_name == "HappyPath"
    finally:
        mock_config.clear()


def test_an_express_workflow_started_synchronously_runs_its_test_case(express: Any) -> None:
    """Express workflows are started synchronously by their callers: a test case must run so too."""
    sfn, arn = express
    with clock.instant():
        ended = sfn.start_sync_execution(stateMachineArn=f"{arn}#ThrottledTwice", input="{}")
    assert ended["status"] == "SUCCEEDED" and json.loads(ended["output"]) == {"value": 2}


@pytest.mark.parametrize("start", ["start_execution", "start_sync_execution"])
def test_a_misspelt_test_case_is_a_client_error_naming_it(express: Any, start: str) -> None:
    """Not a server error's HTML page, retried by the SDK, with the reason only in the server's log."""
    sfn, arn = express
    with pytest.raises(ClientError) as refused:
        getattr(sfn, start)(stateMachineArn=f"{arn}#HapyPath", input="{}")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "no mocked test case 'HapyPath' for state machine 'mocked'" in str(refused.value)
    assert refused.value.response["ResponseMetadata"]["RetryAttempts"] == 0


@pytest.mark.parametrize("start", ["start_execution", "start_sync_execution"])
def test_a_test_case_naming_a_state_the_machine_lacks_is_refused_naming_its_states(
    express: Any, start: str
) -> None:
    """Unrefused, the state it meant would run for real and the test fail far from the misspelling."""
    sfn, arn = express
    config = {
        "StateMachines": {"mocked": {"TestCases": {"Typo": {"call": "Answers"}}}},
        "MockedResponses": CONFIG["MockedResponses"],
    }
    with mock_config.loaded(config), pytest.raises(ClientError) as refused:
        getattr(sfn, start)(stateMachineArn=f"{arn}#Typo", input="{}")
    assert refused.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "test case 'Typo' of state machine 'mocked' names no state of it: "
        "'call' (did you mean 'Call'?); its states: 'Call', 'Caught'",
    }


NESTED = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}}],
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "One", "States": {"One": {"Type": "Pass", "End": True}}},
            "Next": "Legacy",
        },
        "Legacy": {
            "Type": "Map",
            "Iterator": {"StartAt": "Old", "States": {"Old": {"Type": "Pass", "End": True}}},
            "End": True,
        },
    },
}


def test_the_states_of_parallel_branches_and_map_iterators_are_the_machines_states() -> None:
    assert mock_config.state_names(NESTED) == ["Both", "Left", "Each", "One", "Legacy", "Old"]


def test_a_test_case_may_name_a_state_inside_a_parallel_or_map(cloud: LocalCloud) -> None:
    sfn = cloud.client("stepfunctions")
    definition = json.loads(json.dumps(NESTED))
    definition["States"]["Each"]["ItemProcessor"]["States"]["One"] = DEFINITION["States"]["Call"] | {
        "End": True
    }
    del definition["States"]["Each"]["ItemProcessor"]["States"]["One"]["Catch"]
    arn = sfn.create_state_machine(
        name="nested", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    config = {"StateMachines": {"nested": {"TestCases": {"Inner": {"One": "Answers", "Left": "Answers"}}}}}
    with mock_config.loaded({**config, "MockedResponses": CONFIG["MockedResponses"]}), clock.instant():
        execution = sfn.start_execution(stateMachineArn=f"{arn}#Inner", input="[1]")["executionArn"]
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            time.sleep(0.02)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == [{"value": 1}]


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"StateMachines": {}}, "MockedResponses must be an object"),
        ({"StateMachines": [], "MockedResponses": {}}, "StateMachines must be an object"),
        (
            {"StateMachines": {"m": {"TestCases": {"C": {"Call": "Missing"}}}}, "MockedResponses": {}},
            "test case 'C': no mocked response named 'Missing'",
        ),
        (
            {
                "StateMachines": {"m": {"TestCases": {"C": {"Call": "Empty"}}}},
                "MockedResponses": {"Empty": {"0": {"Returns": {}}}},
            },
            "mocked response 'Empty' attempt '0': needs Return or Throw",
        ),
        (
            {
                "StateMachines": {"m": {"TestCases": {"C": {"Call": "Odd"}}}},
                "MockedResponses": {"Odd": {"first": {"Return": {}}}},
            },
            "mocked response range 'first' is not N or N-M",
        ),
    ],
    ids=[
        "no-responses",
        "machines-not-an-object",
        "missing-response",
        "neither-return-nor-throw",
        "bad-range",
    ],
)
def test_a_malformed_configuration_is_refused_saying_what_is_wrong(
    config: dict[str, Any], reason: str
) -> None:
    with pytest.raises(mock_config.MockConfigError) as refused, mock_config.loaded(config):
        mock_config.test_case("m", "C")
    assert str(refused.value).endswith(reason)
