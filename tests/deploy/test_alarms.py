"""The alarms deploy makes (infra/alarms.py) alarm in the local cloud, and their alerts reach the
alerts inbox, read as `python -m workflows alerts` reads it."""

from __future__ import annotations

import json
import time
from typing import Any

from console.alerts import AlertInbox
from console.service import ExecutionService
from localcloud.engine import clock
from tests.deploy.conftest import Deployment
from workflows import WORKFLOWS

ENVIRONMENT = "atest"
PREFIX = "pyflows-atest-"


def _alerts(deployment: Deployment) -> list[dict[str, Any]]:
    """The inbox's alerts, acknowledged: each test reads its own."""
    return AlertInbox(ExecutionService(deployment.env, WORKFLOWS)).read(limit=100, ack=True)


def _state(deployment: Deployment, name: str) -> str:
    [alarm] = deployment.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarm["StateValue"])


def _evaluate(deployment: Deployment, after: float = 0.0) -> dict[str, str]:
    """The alarms of this environment that changed state `after` seconds on, and their new state.
    The engine's clock jumps ahead: every test after this one evaluates later still."""
    with clock.instant():
        clock.CLOCK.sleep(after)
    return {e.alarm: e.state for e in deployment.cloud.alarms.evaluate(prefix=PREFIX) if e.changed}


def test_a_timed_out_execution_alarms_and_its_alert_reaches_the_inbox(deployment: Deployment) -> None:
    _alerts(deployment)
    runtime = deployment.cloud.lambda_runtime
    held = [f"{PREFIX}lottery-{fn.name}" for fn in WORKFLOWS["lottery"].functions]
    for name in held:
        runtime.inject(name, "hold")  # the run outlasts its 15 minutes
    sfn = deployment.client("stepfunctions")
    machine = f"arn:aws:states:us-east-1:123456789012:stateMachine:{PREFIX}lottery"
    try:
        with clock.speed(2000):  # 15 minutes in half a second
            execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"winners": 1}))
            deadline = time.monotonic() + 30
            while sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
                assert time.monotonic() < deadline, "the execution did not time out"
                time.sleep(0.02)
    finally:
        for name in held:
            runtime.clear_faults(name)
    assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "TIMED_OUT"

    assert _evaluate(deployment) == {f"{PREFIX}lottery-timed-out": "ALARM"}

    [alert] = _alerts(deployment)
    assert alert["alarm"] == f"{PREFIX}lottery-timed-out"
    assert alert["subject"] == f'ALARM: "{PREFIX}lottery-timed-out" in US East (N. Virginia)'
    assert alert["reason"].startswith("ALARM: Threshold Crossed: 1 out of the last 1 datapoints [1.0 (")
    assert json.loads(alert["message"])["AlarmDescription"] == f"An execution of {PREFIX}lottery timed out"
    # five minutes on, with no run timed out since: OK again, which alerts no one
    assert _evaluate(deployment, 301) == {f"{PREFIX}lottery-timed-out": "OK"}
    assert _alerts(deployment) == []


def test_a_batch_in_the_pipes_dead_letter_queue_alarms(deployment: Deployment) -> None:
    _alerts(deployment)
    name = f"{PREFIX}flight-deals-price-records-dead-letters"
    sqs = deployment.client("sqs")
    assert _evaluate(deployment) == {}

    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"], MessageBody='{"a": "batch"}')

    assert _evaluate(deployment, 60) == {name: "ALARM"}
    assert _state(deployment, name) == "ALARM"
    [alert] = _alerts(deployment)
    assert alert["alarm"] == name
    assert "gave up on a batch" in json.loads(alert["message"])["AlarmDescription"]
