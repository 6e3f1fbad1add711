"""Shared error policy: the Retry and Catch every workflow uses, and the alert-then-fail tail.

Handlers raise named exceptions and never retry themselves; what is retried, how often and
where a failure goes is decided here, once, for every workflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tasks.shared.alerts import (
    ALERT_WINDOW_SECONDS,
    EMAILED,
    EMAILED_ONCE,
    FREE,
    FREE_NAMES,
    OWNED,
    OWNED_NAMES,
    TOPIC_VARIABLE,
    WINDOWS_VARIABLE,
)
from workflows import asl
from workflows.registry import ALERT_WINDOWS, ALERT_WINDOWS_TABLE, ALERTS_TOPIC, EXECUTION_LINK, Access

# Errors AWS documents as transient for Lambda invocations: always worth another attempt.
LAMBDA_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
]
LAMBDA_THROTTLED = ["Lambda.TooManyRequestsException"]
SNS_TRANSIENT = ["SNS.InternalErrorException", "SNS.ThrottledException", "SNS.KMSThrottlingException"]
# A task's settings store (SSM, Secrets Manager) could not be read (tasks.shared.parameters).
SETTING_UNAVAILABLE = "SettingUnavailable"
ERROR_PATH = "$.error"
# where a failure whose alert could not be sent ends (policies.alert_and_fail)
UNALERTED = "Failed Without Alert"
# its cause: the alert's error and cause, then the failure's own cause
UNALERTED_CAUSE = "the alert was not sent ({}: {}): {}"
# The email subscription's filter on the alert's EMAILED attribute: alerts a window let through,
# and what carries no such attribute (CloudWatch alarms), which is always emailed.
# (AWS matches any of the rules in any order; moto's matcher gives up at a string rule when the
# attribute is absent, so the absence is asked first)
EMAIL_FILTER = {EMAILED: [{"exists": False}, "yes"]}
# what a role needs to alert through the window: every state machine's (each workflow's
# `integrations` has it), and a function's that alerts itself (tasks.shared.alerts; with
# ALERT_ENVIRONMENT, its `environment`)
ALERT_ACCESS = (
    Access(ALERTS_TOPIC, ("sns:Publish",)),
    Access(ALERT_WINDOWS, ("dynamodb:PutItem", "dynamodb:DeleteItem")),
)
ALERT_ENVIRONMENT = {TOPIC_VARIABLE: ALERTS_TOPIC, WINDOWS_VARIABLE: ALERT_WINDOWS}
# the states that decide whether an alert is emailed (alert_window), and that take the decision
# back when the alert could not be sent (release_window): their refused writes are no failures
ALERT_WINDOW, RELEASE_WINDOW = "Alert Window", "Release Alert Window"
# where a request the workflow cannot serve as sent ends, unalerted (policies.rejected); the
# console tells a business rejection by it, in executions that ran under any earlier definition too
REJECTED = "Request Rejected"


def _retried(errors: list[str], what: str) -> list[str]:
    """The errors a Retry retries; none (an empty ErrorEquals, which AWS refuses and the ASL parser
    names only by its line) is refused here, naming the argument that was given none."""
    if not errors:
        raise ValueError(f"{what} is empty: a Retry must name the errors it retries")
    return errors


def transient_retry(errors: list[str] = LAMBDA_TRANSIENT) -> asl.Retry:
    return asl.Retry(
        error_equals=_retried(errors, "transient_retry: errors"),
        interval_seconds=1,
        max_attempts=3,
        backoff_rate=2.0,
    )


def throttle_retry(errors: list[str] = LAMBDA_THROTTLED) -> asl.Retry:
    """Throttling backs off with full jitter so that retries from many executions spread out."""
    return asl.Retry(
        error_equals=_retried(errors, "throttle_retry: errors"),
        interval_seconds=1,
        max_attempts=6,
        backoff_rate=2.0,
        max_delay_seconds=20,
        jitter_strategy="FULL",
    )


def provider_retries(unavailable: list[str], throttled: list[str]) -> list[asl.Retry]:
    """Retries for an external API a task calls: outages back off (with jitter, so that many
    executions do not hammer a recovering provider together), throttling as `throttle_retry`.
    The names are the exception classes the task raises; never business errors."""
    _retried(throttled, "provider_retries: throttled")
    outage = asl.Retry(
        error_equals=_retried(unavailable, "provider_retries: unavailable"),
        interval_seconds=2,
        max_attempts=3,
        backoff_rate=2.0,
        max_delay_seconds=30,
        jitter_strategy="FULL",
    )
    return [outage, throttle_retry(throttled)]


def contention_retry(errors: list[str]) -> asl.Retry:
    """A write refused because another execution changed the item since it was read: the task
    reads and writes again, after a jittered backoff so that the executions that collided spread out."""
    return asl.Retry(
        error_equals=_retried(errors, "contention_retry: errors"),
        interval_seconds=1,
        max_attempts=5,
        backoff_rate=2.0,
        max_delay_seconds=10,
        jitter_strategy="FULL",
    )


def lambda_task(
    state_id: str,
    function_token: str,
    payload: dict[str, Any] | str = "$",
    *,
    result_selector: dict[str, Any] | None = None,
    result_path: str | None = "$",
    extra_retries: list[asl.Retry] | None = None,
    timeout_seconds: int | None = None,
    comment: str | None = None,
) -> asl.Task:
    """A Lambda task through the optimised integration, with the standard retries.

    The event is the envelope of `tasks.shared.handler`: the execution ARN (the logs'
    correlation id) and the input, which `payload` gives as a JSONPath or a Parameters-style
    dict. The handler's return value is under `Payload`; `result_selector` picks from it.
    """
    envelope = {
        "execution.$": "$$.Execution.Id",
        **({"input.$": payload} if isinstance(payload, str) else {"input": payload}),
    }
    parameters: dict[str, Any] = {"FunctionName": "${" + function_token + "}", "Payload": envelope}
    fields: dict[str, Any] = {
        "resource": "arn:aws:states:::lambda:invoke",
        "parameters": parameters,
        "result_selector": result_selector or {"Payload.$": "$.Payload"},
        "result_path": result_path,
    }
    if timeout_seconds is not None:
        fields["timeout_seconds"] = timeout_seconds
    if comment:
        fields["comment"] = comment
    task = asl.Task(state_id, **fields)
    task.add_retry([transient_retry(), throttle_retry(), *(extra_retries or [])])
    return task


def sns_publish(
    state_id: str,
    topic_token: str,
    message: dict[str, Any],
    *,
    result_path: str | None = None,
    comment: str | None = None,
) -> asl.Task:
    """SNS publish through the service integration; `message` holds Message/Message.$ and Subject."""
    task = asl.Task(
        state_id,
        resource="arn:aws:states:::sns:publish",
        parameters={"TopicArn": "${" + topic_token + "}", **message},
        result_selector={"MessageId.$": "$.MessageId"},
        result_path=result_path,
        comment=comment,
    )
    task.add_retry([transient_retry(SNS_TRANSIENT[:1]), throttle_retry(SNS_TRANSIENT[1:])])
    return task


def alert_and_fail(workflow: str, note_path: str | None = None) -> asl.Task:
    """The tail every failure path ends in: publish to the alerts topic, then Fail.

    The caught error sits under `$.error` ({"Error", "Cause"}); the Fail state re-raises it, so
    the execution's error is the original one, not "alert sent". An alert that cannot be sent
    (its error under `$.alert_error`) ends in Failed Without Alert instead, whose cause says so
    first: that failure paged nobody, and a cause cut short (`executions --status FAILED`) must
    still show it. `note_path` names a text the alert adds after its link (what to do next).
    Every alert reaches the inbox; the email subscription takes only those `alert_window` marks
    emailed. Returns where failure paths go: the window.
    """
    failed = asl.Fail(
        "Failed",
        comment="Ends the execution with the caught error",
        error_path="$.error.Error",
        cause_path="$.error.Cause",
    )
    unalerted = asl.Fail(
        UNALERTED,
        comment="Ends the execution with the caught error, saying first that no alert was sent",
        error_path="$.error.Error",
        cause_path=f"States.Format('{UNALERTED_CAUSE}', $.alert_error.Error, $.alert_error.Cause, "
        "$.error.Cause)",
    )
    # the note's place in the message's template, and its argument
    note_slot, note_argument = (" {}", f", {note_path}") if note_path else ("", "")
    alert = sns_publish(
        "Alert Failure",
        "AlertsTopicArn",
        {
            "Subject": f"[{workflow}] execution failed",
            "Message.$": f"States.Format('Workflow {workflow} execution {{}} failed with {{}}: {{}} "
            f"(see it: ${{{EXECUTION_LINK}}}{{}}){note_slot} {EMAILED_ONCE}', $$.Execution.Id, "
            f"$.error.Error, $.error.Cause, $$.Execution.Id{note_argument})",
            "MessageAttributes": {EMAILED: {"DataType": "String", "StringValue.$": "$.alert_emailed"}},
        },
        result_path=None,
        comment="Tell the on-call people, then fail with the original error",
    )
    # An alert that cannot be sent must not hide the failure it was reporting, nor hold back the
    # next alert of its error from the email.
    release = release_window(workflow, unalerted)
    alert.add_catch(asl.Catch(error_equals=["States.ALL"], next_step=release, result_path="$.alert_error"))
    alert.next(failed)
    return alert_window(workflow, alert)


def _window_key(workflow: str) -> dict[str, Any]:
    """The alert window's item key: the workflow and the caught error's name."""
    return {"alert": {"S": f"{{% '{workflow} ' & $states.input.error.Error %}}"}}


def release_window(workflow: str, unalerted: asl.Fail) -> asl.JsonataTask:
    """The window this execution opened (none if another's was open) deleted: its alert was not
    sent, so the next one of its error must be emailed. Whatever DynamoDB answers, on to `unalerted`."""
    release = asl.JsonataTask(
        RELEASE_WINDOW,
        resource="arn:aws:states:::dynamodb:deleteItem",
        arguments={
            "TableName": "${" + ALERT_WINDOWS_TABLE.token + "}",
            "Key": _window_key(workflow),
            "ConditionExpression": OWNED,
            "ExpressionAttributeNames": OWNED_NAMES,
            "ExpressionAttributeValues": {":owner": {"S": "{% $states.context.Execution.Id %}"}},
        },
        output="{% $states.input %}",
        comment="The alert was not sent: the next one of its error is emailed",
    )
    release.add_catch(
        asl.JsonataCatch(error_equals=["States.ALL"], next_step=unalerted, output="{% $states.input %}")
    )
    release.next(unalerted)
    return release


def alert_window(workflow: str, alert: asl.Task) -> asl.JsonataTask:
    """Whether `alert` is emailed (`$.alert_emailed`, "yes" or "no"): yes for the workflow's first
    alert of its error in ALERT_WINDOW_SECONDS, which opens the window in DynamoDB; no while one is
    open. A window that cannot be read emails: better a second email than none."""
    now = "$floor($toMillis($states.context.State.EnteredTime) / 1000)"

    def emailed(answer: str) -> str:
        return f'{{% $merge([$states.input, {{"alert_emailed": "{answer}"}}]) %}}'

    window = asl.JsonataTask(
        ALERT_WINDOW,
        resource="arn:aws:states:::dynamodb:putItem",
        arguments={
            "TableName": "${" + ALERT_WINDOWS_TABLE.token + "}",
            "Item": {
                **_window_key(workflow),
                "expires": {"N": f"{{% $string({now} + {ALERT_WINDOW_SECONDS}) %}}"},
                "owner": {"S": "{% $states.context.Execution.Id %}"},
            },
            "ConditionExpression": FREE,
            "ExpressionAttributeNames": FREE_NAMES,
            "ExpressionAttributeValues": {":now": {"N": f"{{% $string({now}) %}}"}},
        },
        output=emailed("yes"),
        comment=f"Email the first alert of an error in {ALERT_WINDOW_SECONDS // 60} minutes, not one per run",
    )
    window.add_catch(
        asl.JsonataCatch(
            error_equals=["DynamoDB.ConditionalCheckFailedException"], next_step=alert, output=emailed("no")
        )
    )
    window.add_catch(asl.JsonataCatch(error_equals=["States.ALL"], next_step=alert, output=emailed("yes")))
    window.next(alert)
    return window


def rejected() -> asl.Fail:
    """Where a business rejection ends: the caller's mistake (too many winners asked for, a request
    id reused), not the system's, so it pages no one; the execution fails with the error and cause
    the task raised, for the caller to read why."""
    return asl.Fail(
        REJECTED,
        comment="The request cannot be served as sent: failed with its error, unalerted",
        error_path="$.error.Error",
        cause_path="$.error.Cause",
    )


def catch_to(
    state: Any, alert: asl.Task, rejections: Sequence[str] = (), rejected: asl.Fail | None = None
) -> None:
    """Every error not retried away is kept under `$.error` (the input is preserved) and alerted,
    but `rejections` (business errors, the caller's mistake), which go to `rejected` unalerted."""
    if rejections:
        if rejected is None:
            raise ValueError(f"{state.state_id}: rejections {list(rejections)} need the state they end in")
        state.add_catch(asl.Catch(error_equals=list(rejections), next_step=rejected, result_path=ERROR_PATH))
    state.add_catch(asl.Catch(error_equals=["States.ALL"], next_step=alert, result_path=ERROR_PATH))
