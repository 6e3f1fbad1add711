"""The edges the shared error policy (workflows/policies.py) gives every workflow, which the coverage
gate wants reached: both retriers of each Lambda task, and the alert's own, its SNS retries and its
Catch to Failed Without Alert. They are reached alike in every workflow; its test file gives what
differs, the state that fails, its error and the input:

    def test_every_lambda_task_survives_a_transient_error_and_a_throttle(lottery):
        every_function_survives_a_transient_error_and_a_throttle(lottery, "lottery", {"winners": 2})

    def test_a_flaky_alert_is_retried_and_sent(lottery):
        a_flaky_alert_is_retried_and_sent(lottery, "lottery", "Draw Winners", "EmployeeNotFound", {"winners": 2})

    def test_a_malformed_task_event_is_alerted(lottery):
        a_malformed_task_event_is_alerted(lottery, "lottery", "Validate Request", {"winners": 2})

Each returns the run, for the test to assert what its workflow does besides.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from typing import Any

from console.graph.runs import places
from localcloud import mock_config
from localcloud.engine import clock
from tasks.shared.alerts import EMAILED
from tasks.shared.errors import MalformedTaskInput
from tests.conftest import Inbox
from tests.workflows.conftest import Deployed, Run, mocks
from workflows import definitions, get, policies
from workflows.policies import UNALERTED_CAUSE
from workflows.registry import ALERT_WINDOWS, ALERTS_TOPIC

# the states of policies.alert_and_fail
WINDOW_STATE, ALERT_STATE, RELEASE_STATE = policies.ALERT_WINDOW, "Alert Failure", policies.RELEASE_WINDOW
FAILED_STATE = "Failed"
# the last states of a run that fails: alerted, with an alert that could not be sent, and rejected
# (policies.rejected, unalerted)
ALERT = [WINDOW_STATE, ALERT_STATE, FAILED_STATE]
UNALERTED = [WINDOW_STATE, ALERT_STATE, RELEASE_STATE, policies.UNALERTED]
REJECTED = [policies.REJECTED]
# what Step Functions reads when Lambda answers an injected "service_error", then a "throttle"
TRANSIENT_THEN_THROTTLED = ["Lambda.ServiceException", "Lambda.TooManyRequestsException"]

# Mocked answers of an SNS publish (localcloud.mock_config), one per attempt: a transient error and
# a throttle, which its two retriers take, then what the third attempt gets.
SNS_FLAKY = {
    "0": {"Throw": {"Error": "SNS.InternalErrorException", "Cause": "internal error"}},
    "1": {"Throw": {"Error": "SNS.ThrottledException", "Cause": "rate exceeded"}},
}
SNS_FLAKY_THEN_SENT = {**SNS_FLAKY, "2": {"Return": {"MessageId": "mocked-message"}}}
SNS_DENIED = {"Error": "SNS.AuthorizationErrorException", "Cause": "topic policy denies"}
SNS_FLAKY_THEN_DENIED = {**SNS_FLAKY, "2": {"Throw": SNS_DENIED}}
SNS_FLAKY_ERRORS = [SNS_FLAKY["0"]["Throw"]["Error"], SNS_FLAKY["1"]["Throw"]["Error"]]

# the test cases alert_mocks makes, and the cause its failing state fails with
ALERT_SENT_CASE = "AlertRetriedThenSent"
ALERT_NOT_SENT_CASE = "AlertNotSent"
MOCKED_CAUSE = "failed as the test case mocks it"


def failed_errors(run: Run) -> list[str]:
    """The error of each failed task attempt, in order, but the alert window's (whose refusal says
    an email went out for the error lately, or that another execution's window is open)."""
    return [error for state, error in _task_failures(run) if state not in (WINDOW_STATE, RELEASE_STATE)]


def window_errors(run: Run) -> list[tuple[str | None, str]]:
    """(the state, its error) of each refused write of the alert window (policies.alert_window,
    release_window): refused while a window is open, or when it is another execution's."""
    return [(state, error) for state, error in _task_failures(run) if state in (WINDOW_STATE, RELEASE_STATE)]


def _task_failures(run: Run) -> list[tuple[str | None, str]]:
    """(the state, the error) of each failed task attempt, in order."""
    where = places(run.events)
    return [
        (where[e["id"]][0], e["taskFailedEventDetails"]["error"])
        for e in run.events
        if e["type"] == "TaskFailed"
    ]


def invoked_functions(workflow: str) -> list[str]:
    """The functions the workflow's definition invokes (not those only its routes serve)."""
    declared = get(workflow)
    text = json.dumps(definitions.load(declared))
    return [fn.name for fn in declared.functions if "${" + fn.token + "}" in text]


def errors_by_function(app: Deployed, workflow: str, run: Run) -> dict[str, list[str]]:
    """The errors of the run's failed Lambda attempts, by the function each invoked (a TaskFailed
    follows its task's TaskScheduled by previousEventId, Map items interleaving or not)."""
    by_id = {e["id"]: e for e in run.events}
    names = {app.function(workflow, fn.name): fn.name for fn in get(workflow).functions}
    found: dict[str, list[str]] = {}
    for event in run.events:
        if event["type"] != "TaskFailed":
            continue
        scheduled = by_id[event["previousEventId"]]
        while scheduled["type"] != "TaskScheduled":
            scheduled = by_id[scheduled["previousEventId"]]
        details = scheduled["taskScheduledEventDetails"]
        if details["resourceType"] == "lambda":
            # a name, or an ARN that may end in a qualifier (the environment's alias)
            invoked = json.loads(details["parameters"])["FunctionName"].split(":function:")[-1].split(":")[0]
            found.setdefault(names.get(invoked, invoked), []).append(event["taskFailedEventDetails"]["error"])
    return found


def every_function_survives_a_transient_error_and_a_throttle(
    app: Deployed, workflow: str, payload: Any, besides: Collection[str] = ()
) -> Run:
    """Every function the definition invokes, but `besides` (those this run does not reach, whose
    retriers another test reaches), answers once with a transient Lambda error, then once
    throttled: both retriers of every Lambda task, those of a Map's item processor included, take
    them and the run succeeds. The functions are read from the registry, so that one added later
    is held to it without a change to the test."""
    for name in besides:
        get(workflow).function(name)  # a misspelt name fails here, not as a function left out
    names = [name for name in invoked_functions(workflow) if name not in besides]
    for name in names:
        app.inject(workflow, name, "service_error", times=1)
        app.inject(workflow, name, "throttle", times=1)

    run = app.run(workflow, payload)

    assert run.status == "SUCCEEDED"
    transient = {  # sorted: a Map's items invoke the function at once, in any order
        name: sorted(lambda_errors)
        for name, errors in errors_by_function(app, workflow, run).items()
        if (lambda_errors := [e for e in errors if e in TRANSIENT_THEN_THROTTLED])
    }
    expected = dict.fromkeys(names, sorted(TRANSIENT_THEN_THROTTLED))
    assert transient == expected, "a function this run does not invoke goes in besides="
    return run


def alert_mocks(workflow: str, failing_state: str, error: str) -> dict[str, Any]:
    """A mock configuration of two test cases of `workflow` in which `failing_state` (a Task that
    does not retry `error`) fails with `error`, then SNS answers the alert with a transient error
    and a throttle: ALERT_SENT_CASE then sends it, ALERT_NOT_SENT_CASE refuses it."""
    return mocks(
        {
            workflow: {
                ALERT_SENT_CASE: {failing_state: "Fails", ALERT_STATE: "SnsFlakyThenSent"},
                ALERT_NOT_SENT_CASE: {failing_state: "Fails", ALERT_STATE: "SnsFlakyThenDenied"},
            }
        },
        {
            "Fails": {"0": {"Throw": {"Error": error, "Cause": MOCKED_CAUSE}}},
            "SnsFlakyThenSent": SNS_FLAKY_THEN_SENT,
            "SnsFlakyThenDenied": SNS_FLAKY_THEN_DENIED,
        },
    )


def _alerted(app: Deployed, workflow: str, failing_state: str, error: str, payload: Any, case: str) -> Run:
    with mock_config.loaded(alert_mocks(workflow, failing_state, error)):
        run = app.run(f"{workflow}#{case}", payload)
    assert run.status == "FAILED" and run.error == error
    assert failing_state in run.states
    return run


def a_flaky_alert_is_retried_and_sent(
    app: Deployed, workflow: str, failing_state: str, error: str, payload: Any
) -> Run:
    """`failing_state` fails with `error`; SNS refuses the alert for a moment (a transient error,
    then a throttle), then sends it: the run fails with that error, as if SNS had not hesitated."""
    run = _alerted(app, workflow, failing_state, error, payload, ALERT_SENT_CASE)
    assert run.cause == MOCKED_CAUSE
    assert failed_errors(run)[-3:] == [error, *SNS_FLAKY_ERRORS]
    assert run.states[-3:] == ALERT
    return run


def an_alert_that_cannot_be_sent_does_not_hide_the_failure(
    app: Deployed, workflow: str, failing_state: str, error: str, payload: Any
) -> Run:
    """`failing_state` fails with `error`; the alert, retried, is refused: the run ends in Failed
    Without Alert, still with that error, its cause saying first that nobody was paged."""
    run = _alerted(app, workflow, failing_state, error, payload, ALERT_NOT_SENT_CASE)
    # first, so that a cause cut short (executions --status FAILED) still says nobody was paged
    assert run.cause == UNALERTED_CAUSE.format(SNS_DENIED["Error"], SNS_DENIED["Cause"], MOCKED_CAUSE)
    assert failed_errors(run)[-4:] == [error, *SNS_FLAKY_ERRORS, SNS_DENIED["Error"]]
    assert run.states[-4:] == UNALERTED
    return run


def repeated_alerts_are_emailed_once_an_hour(
    app: Deployed, workflow: str, failing_state: str, payload: Any
) -> list[Run]:
    """`failing_state` fails with an error of this test's own (no other run has opened a window
    for it) in three runs: the first alert is emailed, the second, in the same hour, only goes to
    the inbox, the third, an hour later, is emailed; a fourth, whose window cannot be read, is
    emailed too. With a second error of its own, an alert SNS refuses releases the window it
    opened, so the next alert of that error is emailed; one refused while another's window is
    open leaves that window be. What the email subscription's filter lets through is read on a
    queue subscribed with it: an alarm's message, which carries no `emailed`, among them. Returns
    the runs that alerted."""
    error, other = (f"Outage{uuid.uuid4().hex[:8]}" for _ in range(2))
    topic = app.resource(workflow, ALERTS_TOPIC)
    inbox = Inbox(app.cloud.client, topic, raw=False)
    by_email = Inbox(app.cloud.client, topic, raw=False, filter_policy=policies.EMAIL_FILTER)
    cases = {
        "Outage": {failing_state: "Fails"},
        "WindowDown": {failing_state: "Fails", WINDOW_STATE: "Throttled"},
        "Other": {failing_state: "FailsOtherwise"},
        "OtherNotSent": {failing_state: "FailsOtherwise", ALERT_STATE: "Denied"},
    }
    responses = {
        "Fails": {"0": {"Throw": {"Error": error, "Cause": MOCKED_CAUSE}}},
        "FailsOtherwise": {"0": {"Throw": {"Error": other, "Cause": MOCKED_CAUSE}}},
        "Throttled": {
            "0": {"Throw": {"Error": "DynamoDB.ProvisionedThroughputExceededException", "Cause": "slow"}}
        },
        "Denied": {"0": {"Throw": SNS_DENIED}},
    }
    runs = []
    with mock_config.loaded(mocks({workflow: cases}, responses)):
        for case, wait in [
            ("Outage", 0),
            ("Outage", 0),
            ("Outage", policies.ALERT_WINDOW_SECONDS),
            ("WindowDown", 0),
            ("OtherNotSent", 0),
            ("Other", 0),
            ("OtherNotSent", 0),
        ]:
            with clock.instant() as virtual:
                virtual.wait(wait)
            runs.append(app.run(f"{workflow}#{case}", payload))
    alerted, not_sent = runs[:4] + runs[5:6], [runs[4], runs[6]]
    for run, failed_with in zip(alerted, [error] * 4 + [other], strict=True):
        assert run.status == "FAILED" and run.error == failed_with and run.states[-3:] == ALERT
    for run in not_sent:
        assert run.status == "FAILED" and run.error == other and run.states[-4:] == UNALERTED
    refused = "DynamoDB.ConditionalCheckFailedException"
    assert [window_errors(run) for run in runs] == [
        [],
        [(WINDOW_STATE, refused)],
        [],
        [(WINDOW_STATE, "DynamoDB.ProvisionedThroughputExceededException")],
        [],  # its window opened, then released
        [],  # so this one opened it again
        [(WINDOW_STATE, refused), (RELEASE_STATE, refused)],  # that one's window open: left be
    ]
    alerts = [json.loads(body) for body in inbox.messages()]
    assert [next(i for i, run in enumerate(runs) if run.arn in a["Message"]) for a in alerts] == [
        0,
        1,
        2,
        3,
        5,
    ]
    emailed = ["yes", "no", "yes", "yes", "yes"]
    assert [a["MessageAttributes"][policies.EMAILED]["Value"] for a in alerts] == emailed
    alarm = json.dumps({"AlarmName": "pyflows-local-schedules-dropped", "NewStateValue": "ALARM"})
    app.client("sns").publish(TopicArn=topic, Subject="ALARM", Message=alarm)
    sent = [json.loads(body)["Message"] for body in by_email.messages()]
    assert sent == [*(a["Message"] for a, e in zip(alerts, emailed, strict=True) if e == "yes"), alarm]
    return alerted


def miswired(app: Deployed, workflow: str, state: str, sends: dict[str, Any]) -> str:
    """A state machine of its own (with the workflow's role) running the workflow's deployed
    definition but that `state`, a Lambda task, sends its function `sends` (the Payload fields of
    its Parameters) instead: a definition's mistake, as a hand edit could make it. Its ARN."""
    sfn = app.client("stepfunctions")
    deployed = sfn.describe_state_machine(stateMachineArn=app.outputs[workflow]["state_machine_arn"])
    definition = json.loads(deployed["definition"])
    task = _state(definition, state)
    task["Parameters"] = {"FunctionName": task["Parameters"]["FunctionName"], **sends}
    return str(
        sfn.create_state_machine(
            name=f"{deployed['name']}-miswired-{uuid.uuid4().hex[:8]}",
            definition=json.dumps(definition),
            roleArn=deployed["roleArn"],
            type=deployed.get("type", "STANDARD"),
        )["stateMachineArn"]
    )


def _state(machine: dict[str, Any], name: str) -> dict[str, Any]:
    """The state named `name` in `machine`, at any depth (a Parallel's branch, a Map's processor)."""
    found = _found(machine, name)
    if found is None:
        raise KeyError(f"no state {name!r}")
    return found


def _found(machine: dict[str, Any], name: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = machine["States"].get(name)
    for state in machine["States"].values():
        for inner in [*state.get("Branches", []), *filter(None, [state.get("ItemProcessor")])]:
            found = found or _found(inner, name)
    return found


def a_malformed_task_event_is_alerted(app: Deployed, workflow: str, state: str, payload: Any) -> Run:
    """`state`'s function is sent its input bare, not in the envelope every task takes: the
    definition's mistake, which the run fails with (MalformedTaskInput) after alerting on-call,
    whatever the workflow rejects unalerted as the caller's (a request its schema refuses)."""
    machine = miswired(app, workflow, state, {"Payload.$": "$"})
    sfn = app.client("stepfunctions")
    with clock.instant():
        execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))["executionArn"]
        run = app.wait(execution, workflow)
    assert run.status == "FAILED" and run.error == MalformedTaskInput.__name__
    assert "event: expected {'execution': ..., 'input': {...}}" in (run.cause or "")
    assert state in run.states and run.states[-3:] == ALERT
    return run


def an_unexpected_api_failure_is_alerted_once_an_hour(
    app: Deployed,
    workflow: str,
    function: str,
    event: dict[str, Any],
    wrong: str,
    error: str,
    status: int = 500,
) -> list[dict[str, Any]]:
    """A route's deployed `function`, its environment variable `wrong` naming a resource that is
    not there (nor granted), fails twice on `event` with `error`: each answer is `status` with its
    request id and nothing of the error; each is alerted naming the function and the error, the
    first emailed, the second, in the same hour, only kept in the inbox (tasks.shared.api.route).
    Returns the alerts."""
    lam, name = app.client("lambda"), app.function(workflow, function)
    variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    topic = app.resource(workflow, ALERTS_TOPIC)
    inbox = Inbox(app.cloud.client, topic, raw=False)
    by_email = Inbox(app.cloud.client, topic, raw=False, filter_policy=policies.EMAIL_FILTER)
    app.empty(workflow, ALERT_WINDOWS)  # no earlier test's window of the error
    broken = {**variables, wrong: f"{variables[wrong]}-missing"}
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": broken})
    try:
        answers = [lam.invoke(FunctionName=name, Payload=json.dumps(event)) for _ in range(2)]
    finally:
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
    for answer in answers:
        assert "FunctionError" not in answer  # answered, not crashed
        result = json.loads(answer["Payload"].read())
        body = json.loads(result["body"])
        assert result["statusCode"] == status and body["error"] == "InternalError", result
        assert (
            body["request_id"] in body["message"] and result["headers"]["X-Request-Id"] == body["request_id"]
        )
        assert error not in result["body"] and "Traceback" not in result["body"]
    alerts = inbox.notifications()
    assert [a["Subject"] for a in alerts] == [f"[{workflow}] {function} failed: {error}"] * 2
    assert all(function in a["Message"] and error in a["Message"] for a in alerts)
    assert [a["MessageAttributes"][EMAILED]["Value"] for a in alerts] == ["yes", "no"]
    assert [a["Message"] for a in by_email.notifications()] == [alerts[0]["Message"]]
    return alerts
