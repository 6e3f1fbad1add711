"""DescribeExecution returns the output as JSON text whatever its type."""

from __future__ import annotations

import json
import sys
import uuid

from moto.stepfunctions.responses import get_backend

from localcloud import LocalCloud
from localcloud.server import ACCOUNT_ID
from tests.engine.conftest import ROLE_ARN, Runner


def test_a_string_output_is_described_as_a_json_string(run_definition: Runner) -> None:
    run = run_definition({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "done", "End": True}}})
    assert run.status == "SUCCEEDED"
    assert run.output == "done"  # the fixture json.loads DescribeExecution's output


def test_an_execution_is_never_described_succeeded_without_its_output(local_cloud: LocalCloud) -> None:
    """moto marked an execution SUCCEEDED before it copied the output in, which takes a while for
    a large one: a poll in between saw SUCCEEDED and no output."""
    sfn = local_cloud.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"engine-{uuid.uuid4().hex[:12]}",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=ROLE_ARN,
    )["stateMachineArn"]
    big = [
        {"n": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(4_000)
    ]  # within the 256 KiB limit
    seen = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the threads take turns all the time: a poll lands in any gap
    try:
        for _ in range(10):
            executed = sfn.start_execution(stateMachineArn=arn, input=json.dumps(big))["executionArn"]
            execution = get_backend(ACCOUNT_ID, "us-east-1").describe_execution(executed)
            while execution.exec_status == "RUNNING":  # read as DescribeExecution does, without waiting
                pass
            seen.append((execution.exec_status.value, execution.output is not None))
    finally:
        sys.setswitchinterval(interval)
    assert seen == [("SUCCEEDED", True)] * 10
