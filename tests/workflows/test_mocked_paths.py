"""A mocked test case is checked against the workflow it runs on, as Step Functions Local does.

The mock configuration is Step Functions Local's format (see localcloud/mock_config.py). Each
workflow's own tests drive its mocked paths (SNS failing, through `policy_edges.alert_mocks`);
this one is about a test case that names a state its workflow lacks.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from localcloud import LocalCloud, mock_config
from tests.workflows.conftest import Deployed, deploy_workflows, mocks
from tests.workflows.policy_edges import SNS_FLAKY_THEN_SENT

MOCKS = mocks(
    {"ticket-ranking": {"MisspeltState": {"Fetch Inventory": "BrokerDown", "Alert failure": "FlakyPublish"}}},
    {
        "FlakyPublish": SNS_FLAKY_THEN_SENT,
        "BrokerDown": {"0-20": {"Throw": {"Error": "BrokerUnavailable", "Cause": "broker answered 503"}}},
    },
)


@pytest.fixture(scope="module")
def app(local_cloud: LocalCloud) -> Iterator[Deployed]:
    deployed = deploy_workflows(local_cloud, "ticket-ranking")
    with mock_config.loaded(MOCKS):
        yield deployed


def test_a_test_case_naming_a_state_the_workflow_lacks_is_refused_at_the_start(app: Deployed) -> None:
    """Not the real alert run in its place, failing the test far from the misspelling."""
    with pytest.raises(ClientError) as refused:
        app.start("ticket-ranking#MisspeltState", {})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    message = refused.value.response["Error"]["Message"]
    assert "test case 'MisspeltState' of state machine 'pyflows-local-ticket-ranking'" in message
    assert "'Alert failure' (did you mean 'Alert Failure'?)" in message
    assert "its states: 'Fetch Inventory'," in message
