"""The alarms deploy makes (infra/alarms.py) alarm in the local cloud, and their alerts reach the
alerts inbox, read as `python -m workflows alerts` reads it."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

from console.alerts import AlertInbox
from console.service import ExecutionService
from infra import alarms as infra_alarms
from infra.plan import Action
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


def test_a_route_function_failing_at_import_alarms_its_errors(deployment: Deployment) -> None:
    _alerts(deployment)
    function = f"{PREFIX}ride-request-api-ride"
    name = f"{function}-errors"
    [alarm] = deployment.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": function}]
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 300, 1.0)
    assert alarm["AlarmActions"] == [f"arn:aws:sns:us-east-1:123456789012:{PREFIX}alerts"]
    assert alarm["AlarmDescription"].startswith(f"POST /ride answered 500: its function {function} failed")
    assert f"logs tail /aws/lambda/{function} " in alarm["AlarmDescription"]
    runtime = deployment.cloud.lambda_runtime
    runtime.inject(function, "error", times=1, error_type="Runtime.ImportModuleError", message="No module")
    # as API Gateway invokes it for POST /ride
    answer = deployment.client("lambda").invoke(FunctionName=function, Qualifier="atest", Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"

    assert _evaluate(deployment) == {name: "ALARM"}
    [alert] = _alerts(deployment)
    assert alert["alarm"] == name
    assert alert["reason"].startswith("ALARM: Threshold Crossed: 1 out of the last 1 datapoints")


def test_every_route_function_has_its_errors_alarm(deployment: Deployment) -> None:
    alarms = deployment.client("cloudwatch").describe_alarms(AlarmNamePrefix=PREFIX)["MetricAlarms"]
    errors = {a["Dimensions"][0]["Value"] for a in alarms if a["MetricName"] == "Errors"}
    routed = {f"{PREFIX}{wf.name}-{route.function}" for wf in WORKFLOWS.values() for route in wf.routes}
    assert (
        errors
        == routed
        == {
            f"{PREFIX}ride-request-api-ride",
            f"{PREFIX}ticket-ranking-api-search",
            f"{PREFIX}etf-signal-api-subscribe",
            f"{PREFIX}etf-signal-api-signals",
        }
    )


def test_the_alarms_the_cost_estimate_bills_are_those_deploy_makes(deployment: Deployment) -> None:
    alarms = deployment.client("cloudwatch").describe_alarms(AlarmNamePrefix=PREFIX)["MetricAlarms"]
    made = {
        wf.name: sum(a["AlarmName"].startswith(f"{PREFIX}{wf.name}-") for a in alarms)
        for wf in WORKFLOWS.values()
    }
    assert made == {wf.name: infra_alarms.count(wf) for wf in WORKFLOWS.values()}
    assert made["flight-deals"] == 2 and made["etf-signal"] == 3  # a dead-letter queue's; two routes'


def test_a_route_removed_from_its_function_removes_its_errors_alarm_and_a_redeploy_changes_nothing(
    deployment: Deployment,
) -> None:
    """Last: it changes the deployment."""
    assert deployment.deploy()[0].changed == []
    unrouted = [
        dataclasses.replace(wf, routes=()) if wf.name == "ride-request" else wf for wf in deployment.workflows
    ]

    result, _ = deployment.deploy(workflows=unrouted)

    assert ("alarm", f"{PREFIX}ride-request-api-ride-errors", Action.DELETE) in [
        (c.kind, c.name, c.action) for c in result.changed
    ]
    left = deployment.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{PREFIX}ride-request-")[
        "MetricAlarms"
    ]
    assert [a["AlarmName"] for a in left] == [f"{PREFIX}ride-request-timed-out"]
