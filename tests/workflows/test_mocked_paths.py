"""Paths that need AWS itself to misbehave (SNS failing), forced with mocked test cases.

The mock configuration is Step Functions Local's format (see localcloud/mock_config.py): the
named Task states answer the mocked responses, one per attempt, so Retry edges can be driven.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud, mock_config
from tests.workflows.conftest import Deployed, deploy_workflows, mocks
from tests.workflows.policy_edges import SNS_FLAKY_THEN_SENT, failed_errors


def returns(payload: dict[str, Any]) -> dict[str, Any]:
    """A mocked Lambda answer: the integration's response with the handler's payload."""
    return {"0": {"Return": {"StatusCode": 200, "Payload": payload}}}


INVENTORY = {
    "run_id": "mocked-run",
    "show": "hamilton",
    "fetched_at": "2026-11-23T12:00:00Z",
    "dates": {"from": "2026-11-23", "to": "2027-03-23"},
    "listings": 0,
    "performances": [],
    "skipped_theatres": [],
}
MOCKS = mocks(
    {
        "ticket-ranking": {
            "DealsAnnouncedAfterFlakySns": {
                "Fetch Inventory": "Inventory",
                "Mark Current": "Marked",
                "Find New Deals": "OneDeal",
                "Notify Subscribers": "FlakyPublish",
                "Record Deals Told": "Recorded",
            },
            "BrokerDownAlertFlaky": {"Fetch Inventory": "BrokerDown", "Alert Failure": "FlakyPublish"},
            "MisspeltState": {"Fetch Inventory": "BrokerDown", "Alert failure": "FlakyPublish"},
        },
        "flight-deals": {
            "DealRulesUnreadableOnce": {
                "Decode Batch": "EmptyBatch",
                "Store Records": "NothingStored",
                "Find Deals": "RulesUnreadableThenNone",
            }
        },
        "etf-signal": {"PlanFailsAlertFlaky": {"Plan Day": "PlanBroken", "Alert Failure": "FlakyPublish"}},
    },
    {
        "Inventory": returns(INVENTORY),
        "Marked": returns({"current": True, "dates": [INVENTORY["dates"]]}),
        "OneDeal": returns(
            {"count": 1, "deals": [{"listing_id": "L1"}], "subject": "1 deal", "message": "L1"}
        ),
        "Recorded": returns({"recorded": 1}),
        "FlakyPublish": SNS_FLAKY_THEN_SENT,
        "BrokerDown": {"0-20": {"Throw": {"Error": "BrokerUnavailable", "Cause": "broker answered 503"}}},
        "EmptyBatch": returns(
            {"batch_id": "b-1", "received": 0, "records": [], "rejected": 0, "rejected_key": None}
        ),
        "NothingStored": returns({"stored": 0}),
        "RulesUnreadableThenNone": {
            "0": {
                "Throw": {"Error": "SettingUnavailable", "Cause": "DEAL_RULES_PARAMETER: ThrottlingException"}
            },
            "1": returns({"batch_id": "b-1", "count": 0, "subject": "", "message": ""})["0"],
        },
        "PlanBroken": {"0": {"Throw": {"Error": "InvalidInput", "Cause": "date: not a trading day format"}}},
    },
)


@pytest.fixture(scope="module")
def app(local_cloud: LocalCloud) -> Iterator[Deployed]:
    deployed = deploy_workflows(local_cloud, "ticket-ranking", "etf-signal", "flight-deals")
    with mock_config.loaded(MOCKS):
        yield deployed


def test_deals_are_announced_after_a_flaky_sns_publish(app: Deployed) -> None:
    run = app.run("ticket-ranking#DealsAnnouncedAfterFlakySns", {"show": "hamilton"})

    assert run.status == "SUCCEEDED"
    assert failed_errors(run) == ["SNS.InternalErrorException", "SNS.ThrottledException"]
    assert run.states[-3:] == ["Notify Subscribers", "Record Deals Told", "Deals Announced"]


def test_deal_rules_that_cannot_be_read_once_are_read_again(app: Deployed) -> None:
    """Not the default rule: a settings store that failed is retried, not taken as unset."""
    run = app.run("flight-deals#DealRulesUnreadableOnce", [])

    assert run.status == "SUCCEEDED"
    assert failed_errors(run) == ["SettingUnavailable"]
    assert run.states[-2:] == ["No Deals", "Batch Done"]


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("ticket-ranking#BrokerDownAlertFlaky", "BrokerUnavailable"),
        ("etf-signal#PlanFailsAlertFlaky", "InvalidInput"),
    ],
)
def test_a_flaky_alert_is_retried_and_the_run_fails_with_the_original_error(
    app: Deployed, case: str, error: str
) -> None:
    run = app.run(case, {})

    assert run.status == "FAILED" and run.error == error
    assert failed_errors(run)[-3:] == [error, "SNS.InternalErrorException", "SNS.ThrottledException"]
    assert run.states[-2:] == ["Alert Failure", "Failed"]


def test_a_test_case_naming_a_state_the_workflow_lacks_is_refused_at_the_start(app: Deployed) -> None:
    """Not the real alert run in its place, failing the test far from the misspelling."""
    with pytest.raises(ClientError) as refused:
        app.start("ticket-ranking#MisspeltState", {})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    message = refused.value.response["Error"]["Message"]
    assert "test case 'MisspeltState' of state machine 'pyflows-local-ticket-ranking'" in message
    assert "'Alert failure' (did you mean 'Alert Failure'?)" in message
    assert "its states: 'Fetch Inventory'," in message
