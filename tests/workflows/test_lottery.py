"""The lottery's real definition with its real handlers on the local cloud, one test per path.

Each test asserts the final status, the states entered (from the execution history), the
winners table and the messages published on the announcement and alerts topics.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from infra.environments import Environment
from infra.iam import POLICY_NAME
from infra.parameters import aws_cli
from localcloud import LocalCloud, mock_config
from localcloud.engine import clock
from tasks.lottery import announce
from tasks.lottery.draw import announcement, draw_order
from tasks.shared.errors import cause_message
from tests.conftest import Inbox
from tests.workflows.conftest import Deployed, deploy_workflows, mocks
from tests.workflows.policy_edges import (
    ALERT,
    REJECTED,
    SNS_DENIED,
    SNS_FLAKY_ERRORS,
    SNS_FLAKY_THEN_SENT,
    UNALERTED,
    a_flaky_alert_is_retried_and_sent,
    a_malformed_task_event_is_alerted,
    an_alert_that_cannot_be_sent_does_not_hide_the_failure,
    every_function_survives_a_transient_error_and_a_throttle,
    failed_errors,
    repeated_alerts_are_emailed_once_an_hour,
)
from workflows import cli, policies
from workflows.lottery import MAX_REDRAWS

EMPLOYEES = 20
DRAW = ["Validate Request", "Draw Winners", "Check Past Winners", "Any Past Winner?"]
RECORD_AND_ANNOUNCE = ["Record Winners", "Notify Winners", "Draw Complete"]


@pytest.fixture(scope="module")
def app(local_cloud: LocalCloud) -> Deployed:
    return deploy_workflows(local_cloud, "lottery")


@pytest.fixture
def lottery(app: Deployed) -> Deployed:
    """The lottery with no past winners and no injected faults."""
    app.empty("lottery", "winners")
    app.clear_faults()
    return app


@pytest.fixture
def announcements(lottery: Deployed) -> Inbox:
    return lottery.inbox(lottery.resource("lottery", "announcements"))


@pytest.fixture
def alerts(lottery: Deployed) -> Inbox:
    return lottery.inbox(lottery.resource("lottery", "alerts"))


def winners_table(app: Deployed) -> dict[str, str]:
    items = app.client("dynamodb").scan(TableName=app.resource("lottery", "winners"))["Items"]
    return {i["employee_id"]["S"]: i["draw_id"]["S"] for i in items}


def past_winners(app: Deployed, *employee_ids: str) -> None:
    for employee_id in employee_ids:
        app.client("dynamodb").put_item(
            TableName=app.resource("lottery", "winners"),
            Item={"employee_id": {"S": employee_id}, "draw_id": {"S": "an-earlier-draw"}},
        )


def employee(serial: int) -> str:
    return f"E{serial:03d}"  # the seed data numbers employees E001.. by lottery serial


def drawn(app: Deployed, execution_arn: str) -> list[str]:
    """The employees Draw Winners took, once it has (the execution still running)."""
    sfn = app.client("stepfunctions")
    while True:
        events = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True)["events"]
        done = [e for e in events if e["type"] == "TaskSucceeded"]
        outputs = [json.loads(e["taskSucceededEventDetails"]["output"])["Payload"] for e in done]
        winners = [o["winners"] for o in outputs if isinstance(o.get("winners"), list)]
        if winners:
            return [w["employee_id"] for w in winners[0]]
        time.sleep(0.01)


def test_a_draw_announces_and_records_the_winners(
    lottery: Deployed, announcements: Inbox, alerts: Inbox
) -> None:
    run = lottery.run("lottery", {"winners": 3, "seed": 1}, name="draw-happy")

    assert run.status == "SUCCEEDED"
    assert run.states == [*DRAW, *RECORD_AND_ANNOUNCE]
    assert run.output["draw_id"] == "draw-happy" and run.output["redraws"] == 0
    winners = run.output["winners"]
    assert sorted(w["lottery_serial"] for w in winners) == sorted(
        draw_order(EMPLOYEES, seed=1, attempt=0)[:3]
    )
    assert winners_table(lottery) == {w["employee_id"]: "draw-happy" for w in winners}
    [message] = announcements.messages()
    assert message == run.output["message"]
    assert all(w["employee_name"] in message for w in winners)
    assert alerts.messages() == []


def test_past_winners_are_never_drawn(lottery: Deployed, announcements: Inbox) -> None:
    past_winners(lottery, *(employee(s) for s in range(1, 17)))

    run = lottery.run("lottery", {"winners": 4})

    assert run.status == "SUCCEEDED" and run.output["redraws"] == 0
    assert sorted(w["lottery_serial"] for w in run.output["winners"]) == [17, 18, 19, 20]
    assert len(announcements.messages()) == 1


def test_a_winner_claimed_by_another_draw_meanwhile_is_redrawn(
    lottery: Deployed, announcements: Inbox
) -> None:
    # Check Past Winners waits until "another draw" has claimed one of the drawn first
    lottery.inject("lottery", "check-winners", "hold", times=1)
    with clock.instant():
        arn = lottery.start("lottery", {"winners": 2, "seed": 5})
        first = drawn(lottery, arn)
        past_winners(lottery, first[0])
        lottery.release("lottery", "check-winners")
        run = lottery.wait(arn, "lottery")

    assert run.status == "SUCCEEDED"
    assert run.states == [*DRAW, "Count Redraw", *DRAW[1:], *RECORD_AND_ANNOUNCE]
    assert run.output["redraws"] == 1
    second = [w["employee_id"] for w in run.output["winners"]]
    assert first[0] not in second
    recorded = winners_table(lottery)
    assert recorded[first[0]] == "an-earlier-draw"
    assert set(second) <= recorded.keys()
    assert len(announcements.messages()) == 1


def test_too_many_winners_is_rejected_unalerted_and_records_nothing(
    lottery: Deployed, announcements: Inbox, alerts: Inbox
) -> None:
    """The caller's mistake: the execution fails saying why, and pages no one."""
    past_winners(lottery, *(employee(s) for s in range(1, 19)))

    run = lottery.run("lottery", {"winners": 3})

    assert run.status == "FAILED"
    assert run.error == "NotEnoughEligibleEmployees"
    assert "3 winners requested but only 2 of 20 employees can still win" in (run.cause or "")
    assert run.states == ["Validate Request", *REJECTED]
    assert set(winners_table(lottery).values()) == {"an-earlier-draw"}
    assert announcements.messages() == []
    assert alerts.messages() == []


def test_too_few_left_when_the_draw_runs_is_rejected_unalerted(lottery: Deployed, alerts: Inbox) -> None:
    """Draws running at the same time took the employees left between the check and the draw."""
    lottery.inject("lottery", "draw-winners", "error", error_type="NotEnoughEligibleEmployees")

    run = lottery.run("lottery", {"winners": 2})

    assert run.status == "FAILED" and run.error == "NotEnoughEligibleEmployees"
    assert run.states == ["Validate Request", "Draw Winners", *REJECTED]
    assert winners_table(lottery) == {}
    assert alerts.messages() == []


def test_a_transient_lambda_error_is_retried_and_the_draw_succeeds(lottery: Deployed) -> None:
    lottery.inject("lottery", "draw-winners", "service_error", times=1)

    run = lottery.run("lottery", {"winners": 1})

    assert run.status == "SUCCEEDED"
    types = run.event_types()
    assert types.count("TaskFailed") == 1
    failed = next(e for e in run.events if e["type"] == "TaskFailed")
    assert failed["taskFailedEventDetails"]["error"] == "Lambda.ServiceException"
    assert run.states.count("Draw Winners") == 1  # retried inside the state, not re-entered


def test_a_task_that_keeps_failing_exhausts_its_retries_then_alerts(lottery: Deployed, alerts: Inbox) -> None:
    lottery.inject("lottery", "check-winners", "throttle")

    run = lottery.run("lottery", {"winners": 1})

    assert run.status == "FAILED" and run.error == "Lambda.TooManyRequestsException"
    retriers = lottery.definition("lottery")["States"]["Check Past Winners"]["Retry"]
    throttled = next(r for r in retriers if "Lambda.TooManyRequestsException" in r["ErrorEquals"])
    assert run.event_types().count("TaskFailed") == throttled["MaxAttempts"] + 1
    assert run.states[-3:] == ALERT
    assert winners_table(lottery) == {}
    assert len(alerts.messages()) == 1


def test_a_first_task_lambda_cannot_run_is_alerted_not_rejected(lottery: Deployed, alerts: Inbox) -> None:
    """Only the request's own faults are rejections: Lambda failing is the system's, and pages."""
    lottery.inject("lottery", "validate-request", "service_error")

    run = lottery.run("lottery", {"winners": 2})

    assert run.status == "FAILED" and run.error == "Lambda.ServiceException"
    assert run.states == ["Validate Request", *ALERT]
    [alert] = alerts.messages()
    assert "Lambda.ServiceException" in alert and run.arn in alert


def test_a_malformed_request_is_rejected_in_the_first_task_naming_the_field(
    lottery: Deployed, alerts: Inbox
) -> None:
    run = lottery.run("lottery", {"winners": "three"})

    assert run.status == "FAILED" and run.error == "InvalidInput"
    assert "winners: " in (run.cause or "")
    assert run.states == ["Validate Request", *REJECTED]
    assert alerts.messages() == []


# the original's start ({"input": N}), refused saying what this workflow takes instead
ORIGINALS_INPUT, SAID = {"input": 2}, 'input: "input" is the original\'s name: send {"winners": 2}'


def test_the_originals_input_is_rejected_by_the_door_saying_what_to_send(
    lottery: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    sfn, machine = lottery.client("stepfunctions"), lottery.outputs["lottery"]["state_machine_arn"]
    started = len(sfn.list_executions(stateMachineArn=machine)["executions"])

    code = cli.main(["start", "lottery", f"--input={json.dumps(ORIGINALS_INPUT)}"])

    assert code == 2 and capsys.readouterr().err.startswith(f"invalid input: {SAID}\n")
    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == started


def test_the_originals_input_is_rejected_by_the_first_task_saying_what_to_send(
    lottery: Deployed, alerts: Inbox
) -> None:
    run = lottery.run("lottery", ORIGINALS_INPUT)

    assert run.status == "FAILED" and run.error == "InvalidInput" and cause_message(run.cause) == SAID
    assert run.states == ["Validate Request", *REJECTED]
    assert alerts.messages() == []


def test_a_definition_that_sends_the_first_task_no_envelope_is_alerted_not_rejected(
    lottery: Deployed, alerts: Inbox
) -> None:
    """The request bare instead of the envelope is the definition's mistake, not the caller's:
    the request is never checked, and on-call is paged, as no rejection pages them."""
    run = a_malformed_task_event_is_alerted(lottery, "lottery", "Validate Request", {"winners": 2})

    assert run.states == ["Validate Request", *ALERT]
    [alert] = alerts.messages()
    assert "MalformedTaskInput" in alert and run.arn in alert
    assert winners_table(lottery) == {}


def scheduled_payload(app: Deployed, execution_arn: str, state: str) -> Any:
    """The Payload of the Lambda task `state` once it is scheduled (the execution still running)."""
    sfn = app.client("stepfunctions")
    while True:
        events = sfn.get_execution_history(executionArn=execution_arn)["events"]
        entered = [
            i for i, e in enumerate(events) if e.get("stateEnteredEventDetails", {}).get("name") == state
        ]
        scheduled = [e for e in events[entered[0] :] if e["type"] == "TaskScheduled"] if entered else []
        if scheduled:
            return json.loads(scheduled[0]["taskScheduledEventDetails"]["parameters"])["Payload"]
        time.sleep(0.01)


def test_a_retried_record_records_each_winner_once(lottery: Deployed) -> None:
    """Lambda may run an attempt and still answer an error (its answer lost): the retry records
    the draw a second time, which must change nothing. The attempt that ran is the test's own
    invocation, with the payload Step Functions sent, while Step Functions' own is held; Step
    Functions' then runs the handler again."""
    lottery.inject("lottery", "record-winners", "hold", times=1)
    table, lam = lottery.resource("lottery", "winners"), lottery.client("lambda")
    with clock.instant():
        arn = lottery.start("lottery", {"winners": 2, "seed": 5}, name="draw-retried")
        payload = scheduled_payload(lottery, arn, "Record Winners")
        answered = lam.invoke(
            FunctionName=lottery.function("lottery", "record-winners"), Payload=json.dumps(payload)
        )
        first = json.loads(answered["Payload"].read())
        won_at = {
            i["employee_id"]["S"]: i["won_at"]["S"]
            for i in lottery.client("dynamodb").scan(TableName=table)["Items"]
        }
        lottery.release("lottery", "record-winners")
        run = lottery.wait(arn, "lottery")

    assert "FunctionError" not in answered, first
    winners = [w["employee_id"] for w in payload["input"]["winners"]]
    assert first == {"recorded": winners}
    assert run.status == "SUCCEEDED" and run.states == [*DRAW, *RECORD_AND_ANNOUNCE]
    assert "TaskFailed" not in run.event_types()  # the repeat was answered as the first was
    assert winners_table(lottery) == dict.fromkeys(winners, "draw-retried")
    items = lottery.client("dynamodb").scan(TableName=table)["Items"]
    assert {i["employee_id"]["S"]: i["won_at"]["S"] for i in items} == won_at  # stamped once


def test_a_claim_and_a_record_dynamodb_cancelled_for_a_moment_are_run_again_not_redrawn(
    lottery: Deployed, announcements: Inbox, alerts: Inbox
) -> None:
    """A transaction DynamoDB cancelled without a failed condition (a conflicting transaction,
    throttling: WinnersContended, tests/unit/test_lottery_tasks.py) is no winner of another draw:
    the same winners are claimed and recorded again after a backoff, unalerted."""
    for fn in ("check-winners", "record-winners"):
        lottery.inject("lottery", fn, "error", times=1, error_type="WinnersContended")
    with clock.instant():
        run = lottery.run("lottery", {"winners": 2, "seed": 5}, name="draw-contended")

    assert run.status == "SUCCEEDED" and run.output["redraws"] == 0
    assert run.states == [*DRAW, *RECORD_AND_ANNOUNCE]  # no Count Redraw
    assert failed_errors(run) == ["WinnersContended", "WinnersContended"]
    assert winners_table(lottery) == {w["employee_id"]: "draw-contended" for w in run.output["winners"]}
    assert len(announcements.messages()) == 1 and alerts.messages() == []


def test_a_record_still_contended_after_its_retries_alerts_with_what_it_is(
    lottery: Deployed, announcements: Inbox, alerts: Inbox
) -> None:
    lottery.inject("lottery", "record-winners", "error", error_type="WinnersContended", message="throttled")
    with clock.instant():
        run = lottery.run("lottery", {"winners": 2, "seed": 5})

    assert run.status == "FAILED" and run.error == "WinnersContended"
    assert run.states == [*DRAW, "Record Winners", *ALERT]
    assert failed_errors(run) == ["WinnersContended"] * 6  # 1 + MaxAttempts 5, then alerted
    [alert] = alerts.messages()
    assert "WinnersContended" in alert and "recorded by another draw" not in alert
    assert announcements.messages() == []


def test_every_lambda_task_survives_a_transient_error_and_a_throttle(lottery: Deployed) -> None:
    run = every_function_survives_a_transient_error_and_a_throttle(lottery, "lottery", {"winners": 2})

    assert winners_table(lottery) == {w["employee_id"]: run.output["draw_id"] for w in run.output["winners"]}


def test_a_business_error_in_a_task_is_caught_alerted_and_not_retried(
    lottery: Deployed, alerts: Inbox
) -> None:
    lottery.inject("lottery", "draw-winners", "error", error_type="EmployeeNotFound")

    run = lottery.run("lottery", {"winners": 2})

    assert run.status == "FAILED" and run.error == "EmployeeNotFound"
    assert run.event_types().count("TaskFailed") == 1
    assert run.states == ["Validate Request", "Draw Winners", *ALERT]
    assert len(alerts.messages()) == 1


def test_winners_are_announced_only_once_recorded(
    lottery: Deployed, announcements: Inbox, alerts: Inbox
) -> None:
    """A draw that could not be recorded tells no one they won: starting it afresh then draws
    others, who would otherwise be the second set of winners announced for one draw."""
    lottery.inject("lottery", "record-winners", "error", error_type="WinnerAlreadyRecorded")

    run = lottery.run("lottery", {"winners": 2})

    assert run.status == "FAILED" and run.error == "WinnerAlreadyRecorded"
    assert run.states == [*DRAW, "Record Winners", *ALERT]
    assert announcements.messages() == []
    [alert] = alerts.messages()
    # the local console's page of the run, then that the inbox has every alert, emailed or not
    assert f"(see it: http://127.0.0.1:8080/#/executions/{run.arn}) {policies.EMAILED_ONCE}" in alert


def test_a_grant_deploy_forgot_fails_the_announcement_as_on_aws(lottery: Deployed, alerts: Inbox) -> None:
    """The state machine acts as its role: without sns:Publish on the announcements topic, Notify
    Winners fails as it would on AWS, and is alerted, instead of passing here and failing there."""
    iam, role = lottery.client("iam"), lottery.env.resource_name("lottery", "sfn")
    granted = iam.get_role_policy(RoleName=role, PolicyName=POLICY_NAME)["PolicyDocument"]
    topic = lottery.resource("lottery", "announcements")
    forgot = json.loads(json.dumps(granted))
    for statement in forgot["Statement"]:
        statement["Resource"] = [r for r in statement["Resource"] if r != topic]
    forgot["Statement"] = [statement for statement in forgot["Statement"] if statement["Resource"]]
    assert forgot != granted  # the topic was granted
    iam.put_role_policy(RoleName=role, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(forgot))
    try:
        run = lottery.run("lottery", {"winners": 2})
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(granted))

    # the draw stands, recorded: its own error marks it, and the alert gives the command that
    # announces it in this environment, not a fresh start, which would draw others
    assert run.status == "FAILED" and run.error == "DrawNotAnnounced"
    assert "(SNS.AuthorizationErrorException: " in str(run.cause)
    assert f"not authorized to perform: SNS:Publish on resource: {topic}" in str(run.cause)
    assert run.states == [*DRAW, "Record Winners", "Notify Winners", "Not Announced", *ALERT]
    name = run.arn.rsplit(":", 1)[1]
    assert sorted(winners_table(lottery).values()) == [name] * 2
    assert str(run.cause).startswith(f"Draw {name} is recorded, but its winners were not told (")
    command = f"announce it with: python -m tasks.lottery.announce --env local --draw {name} (do not start"
    assert command in str(run.cause)
    assert "The announcement: Congrats! [" in str(run.cause)
    [alert] = alerts.messages()
    assert command in alert


def test_a_flaky_alert_is_retried_and_sent(lottery: Deployed) -> None:
    a_flaky_alert_is_retried_and_sent(lottery, "lottery", "Draw Winners", "EmployeeNotFound", {"winners": 2})


def test_an_alert_that_cannot_be_sent_does_not_hide_the_failure(lottery: Deployed) -> None:
    run = an_alert_that_cannot_be_sent_does_not_hide_the_failure(
        lottery, "lottery", "Draw Winners", "EmployeeNotFound", {"winners": 2}
    )

    assert run.states == ["Validate Request", "Draw Winners", *UNALERTED]


# Paths that need AWS itself to misbehave (SNS failing), or draws racing without end, are forced
# with mocked test cases.
SNS_MOCKS = mocks(
    {
        "lottery": {
            "AnnouncementRetried": {"Notify Winners": "SnsFlakyThenSent"},
            "NotAnnounced": {"Notify Winners": "SnsDenied"},
            "AlwaysClaimedMeanwhile": {"Check Past Winners": "ClaimedByAnotherDraw"},
        }
    },
    {
        "SnsFlakyThenSent": SNS_FLAKY_THEN_SENT,
        "ClaimedByAnotherDraw": {
            f"0-{MAX_REDRAWS}": {
                "Return": {
                    "StatusCode": 200,
                    "Payload": {"eligible": False, "past_winners": ["E001"], "message": ""},
                }
            }
        },
        "SnsDenied": {"0": {"Throw": SNS_DENIED}},
    },
)


@pytest.fixture
def sns_mocks(lottery: Deployed) -> Iterator[Deployed]:
    with mock_config.loaded(SNS_MOCKS):
        yield lottery


def test_a_flaky_sns_publish_is_retried_and_the_draw_succeeds(sns_mocks: Deployed) -> None:
    run = sns_mocks.run("lottery#AnnouncementRetried", {"winners": 1})

    assert run.status == "SUCCEEDED"
    assert run.output["message_id"] == "mocked-message"
    assert failed_errors(run) == SNS_FLAKY_ERRORS


def test_draws_raced_without_end_stop_at_the_redraw_limit(sns_mocks: Deployed, alerts: Inbox) -> None:
    run = sns_mocks.run("lottery#AlwaysClaimedMeanwhile", {"winners": 2})

    assert run.status == "FAILED" and run.error == "RedrawLimitReached"
    assert run.states.count("Draw Winners") == MAX_REDRAWS + 1
    assert run.states[-4:] == ["Redraw Limit Reached", *ALERT]
    assert len(alerts.messages()) == 1


def not_announced(app: Deployed) -> str:
    """A draw recorded whose announcement SNS refused: the name of its run, which is its id."""
    with mock_config.loaded(SNS_MOCKS):
        run = app.run("lottery#NotAnnounced", {"winners": 2})
    assert run.error == "DrawNotAnnounced" and run.states[-5:] == ["Notify Winners", "Not Announced", *ALERT]
    return run.arn.rsplit(":", 1)[1]


def draw_items(app: Deployed, draw: str) -> list[dict[str, Any]]:
    return announce.draw_items(app.client("dynamodb"), app.resource("lottery", "winners"), draw)


def announce_by_hand(capsys: pytest.CaptureFixture[str], draw: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = announce.main(["--env", "local", "--draw", draw])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_draw_recorded_but_not_announced_is_announced_by_hand_once(
    lottery: Deployed,
    announcements: Inbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The command its cause gives tells the recorded winners, and only once: a second run, or
    one that read the draw before the first marked it, sends nothing."""
    draw = not_announced(lottery)
    read_before = draw_items(lottery, draw)
    names = sorted(item["employee_name"]["S"] for item in read_before)
    assert announcements.messages() == []

    code, out, _ = announce_by_hand(capsys, draw)

    assert code == 0 and out.startswith(f"draw {draw}: announced {', '.join(names)} (message ")
    assert announcements.messages() == [announcement(names)]
    assert all("announced_at" in item for item in draw_items(lottery, draw))
    code, out, err = announce_by_hand(capsys, draw)
    assert (code, out) == (2, "") and err.startswith(f"not announced: draw {draw} was announced already, at ")
    monkeypatch.setattr(announce, "draw_items", lambda *_: read_before)  # as if read meanwhile
    code, _, err = announce_by_hand(capsys, draw)
    assert code == 2 and f"draw {draw} was announced meanwhile, by another announcement" in err
    assert announcements.messages() == []


def test_announcing_by_hand_refuses_a_draw_that_needs_no_announcement(
    lottery: Deployed, announcements: Inbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """A draw the workflow announced, one rejected before anyone won, one there is no run of."""
    assert lottery.run("lottery", {"winners": 1}, name="draw-told").status == "SUCCEEDED"
    assert lottery.run("lottery", {"winners": 99}, name="draw-rejected").status == "FAILED"
    assert len(announcements.messages()) == 1  # the first draw's own

    for draw, said in (
        ("draw-told", "draw draw-told SUCCEEDED, not DrawNotAnnounced"),
        ("draw-rejected", "draw draw-rejected FAILED with NotEnoughEligibleEmployees, not DrawNotAnnounced"),
        ("draw-never-run", "no lottery draw 'draw-never-run'"),
    ):
        code, out, err = announce_by_hand(capsys, draw)
        assert (code, out) == (2, "") and said in err, err
    assert announcements.messages() == []


def refusing_to_publish(client: Any, service: str) -> Any:
    """The client; an SNS one answers its Publish with SNS being down."""
    if service == "sns":
        stub = Stubber(client)
        stub.add_client_error("publish", "InternalError", "SNS is down", 500)
        stub.activate()
    return client


def test_a_send_that_fails_unmarks_the_draw_for_another_try(
    lottery: Deployed,
    announcements: Inbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    draw = not_announced(lottery)
    made = Environment.client

    def sns_down(env: Environment, service: str, **config: Any) -> Any:
        return refusing_to_publish(made(env, service, **config), service)

    with monkeypatch.context() as patched:
        patched.setattr(Environment, "client", sns_down)
        code, _, err = announce_by_hand(capsys, draw)

    assert code == 1 and "SNS is down" in err
    assert not any("announced_at" in item for item in draw_items(lottery, draw))
    assert announce_by_hand(capsys, draw)[0] == 0
    assert len(announcements.messages()) == 1


def test_a_send_that_fails_when_the_mark_cannot_be_taken_back_says_the_draw_stays_marked(
    lottery: Deployed,
    announcements: Inbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No winner was told, yet the draw is marked announced, which refuses another try: the error
    says so, not only that the send failed, and how to take the mark back by hand."""
    draw = not_announced(lottery)
    made = Environment.client

    def sns_down_then_dynamodb_down(env: Environment, service: str, **config: Any) -> Any:
        client = refusing_to_publish(made(env, service, **config), service)
        if service == "dynamodb":  # the mark is set; any write after it (taking it back) is refused
            mark, marked = client.transact_write_items, []

            def refused(**_: Any) -> Any:
                error = {"Error": {"Code": "InternalServerError", "Message": "DynamoDB is down"}}
                raise ClientError(error, "write")  # type: ignore[arg-type]

            def mark_once(**request: Any) -> Any:
                if marked:
                    refused()
                marked.append(request)
                return mark(**request)

            client.transact_write_items, client.update_item = mark_once, refused
        return client

    with monkeypatch.context() as patched:
        patched.setattr(Environment, "client", sns_down_then_dynamodb_down)
        code, _, err = announce_by_hand(capsys, draw)

    assert code == 1
    assert err.startswith(f"not announced, still marked: draw {draw}: the announcement was not sent (")
    assert "SNS is down" in err and "DynamoDB is down" in err
    assert "the draw stays marked announced though no winner was told" in err
    items = draw_items(lottery, draw)
    assert all("announced_at" in item for item in items)
    table = lottery.resource("lottery", "winners")
    for item in items:
        key = json.dumps({"employee_id": item["employee_id"]})
        assert (
            f"{aws_cli(lottery.env)} dynamodb update-item --table-name {table} --key '{key}' "
            "--update-expression 'REMOVE announced_at'"
        ) in err
    assert err.endswith(f"then announce it: python -m tasks.lottery.announce --env local --draw {draw}\n")
    assert announcements.messages() == []

    for item in items:  # what it says to do
        lottery.client("dynamodb").update_item(
            TableName=table, Key={"employee_id": item["employee_id"]}, UpdateExpression="REMOVE announced_at"
        )
    assert announce_by_hand(capsys, draw)[0] == 0
    assert len(announcements.messages()) == 1


def test_a_send_whose_answer_is_lost_keeps_the_draw_marked_and_says_how_to_send_it(
    lottery: Deployed,
    announcements: Inbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A read timeout may come after SNS sent the message: unmarked, another try could tell the
    winners twice."""
    from botocore.exceptions import ReadTimeoutError

    draw = not_announced(lottery)
    made = Environment.client

    def answer_lost(env: Environment, service: str, **config: Any) -> Any:
        client = made(env, service, **config)
        if service == "sns":

            def publish(**_: Any) -> Any:
                raise ReadTimeoutError(endpoint_url=lottery.env.endpoint)

            client.publish = publish
        return client

    with monkeypatch.context() as patched:
        patched.setattr(Environment, "client", answer_lost)
        code, _, err = announce_by_hand(capsys, draw)

    assert code == 1 and err.startswith(f"announcement unconfirmed: draw {draw}: unknown whether SNS sent")
    # the environment's region, and locally the local cloud's endpoint: not the user's default AWS
    assert f"send it by hand: {aws_cli(lottery.env)} sns publish --topic-arn arn:aws:sns:" in err
    assert all("announced_at" in item for item in draw_items(lottery, draw))  # still marked
    code, _, err = announce_by_hand(capsys, draw)
    assert code == 2 and announcements.messages() == []  # refused: nothing told twice


def test_repeated_alerts_are_emailed_once_an_hour(lottery: Deployed) -> None:
    repeated_alerts_are_emailed_once_an_hour(lottery, "lottery", "Draw Winners", {"winners": 2})
