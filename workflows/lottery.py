"""Lottery: draw N winners among the employees, redraw past winners, record and announce.

    Validate Request -> Draw Winners -> Check Past Winners -> Choice
        all new winners       -> Record Winners -> Notify Winners (SNS publish) -> Draw Complete
                                 (not announced -> Not Announced -> Alert Failure -> Failed)
        past winner, attempts left -> Count Redraw -> Draw Winners
        past winner, no attempts   -> Redraw Limit Reached -> Alert Failure -> Failed
    InvalidInput | NotEnoughEligibleEmployees -> Request Rejected (no alert)
    anything else -> Alert Failure -> Failed

The request is checked against the employees who can still win (NotEnoughEligibleEmployees),
the draw takes only employees who have not won, and a redraw happens only when a draw running at
the same time claimed one of them first; the redraw loop is bounded. Winners are recorded before
they are announced; a claim never recorded (its draw failed or was stopped first) lapses after an
hour (tasks.lottery.winners), so no employee is kept from winning by a draw that did not happen.
A draw recorded and not announced fails with DrawNotAnnounced: it is announced by hand
(tasks.lottery.announce), never started afresh, which would draw others. A claim or record that
DynamoDB cancelled for a moment (a conflicting transaction, throttling: WinnersContended) is run
again after a backoff, neither redrawn nor taken for a winner of another draw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stepfunctions.steps.choice_rule import ChoiceRule

from tasks.lottery.announce import COMMAND, NOT_ANNOUNCED, SUBJECT, when_announced
from tasks.lottery.schemas import DRAW_REQUEST
from tasks.lottery.winners import WinnersContended
from workflows import asl
from workflows.policies import (
    ALERT_ACCESS,
    ERROR_PATH,
    alert_and_fail,
    catch_to,
    contention_retry,
    lambda_task,
    rejected,
    sns_publish,
)
from workflows.registry import ENVIRONMENT, Access, Function, Index, Table, Topic, Workflow

MAX_REDRAWS = 5
# Errors that are the request's fault (more winners than can still win, a malformed request):
# the execution fails with them, unalerted. Validate Request raises them; Draw Winners too, when
# draws running at the same time took some of the employees left.
REJECTIONS = ["InvalidInput", "NotEnoughEligibleEmployees"]
# A claim or record DynamoDB cancelled for a moment (a conflicting transaction, throttling): run
# again after a backoff, not taken for a winner of another draw; alerted once the retries run out.
CONTENDED = [WinnersContended.__name__]


def build() -> dict[str, Any]:
    alert = alert_and_fail("lottery")
    rejection = rejected()

    validate = lambda_task(
        "Validate Request",
        "ValidateRequestFunctionArn",
        "$",
        result_selector={
            "winners.$": "$.Payload.winners",
            "employees.$": "$.Payload.employees",
            "seed.$": "$.Payload.seed",
            "attempt": 0,
        },
        result_path="$.draw",
        comment="Checks the request against the employees who can still win",
    )
    draw = lambda_task(
        "Draw Winners",
        "DrawWinnersFunctionArn",
        "$.draw",
        result_selector={"winners.$": "$.Payload.winners"},
        result_path="$.selection",
    )
    check = lambda_task(
        "Check Past Winners",
        "CheckWinnersFunctionArn",
        {"draw_id.$": "$$.Execution.Name", "winners.$": "$.selection.winners"},
        result_selector={
            "eligible.$": "$.Payload.eligible",
            "past_winners.$": "$.Payload.past_winners",
            "message.$": "$.Payload.message",
        },
        result_path="$.check",
        extra_retries=[contention_retry(CONTENDED)],
    )
    count_redraw = asl.Pass(
        "Count Redraw",
        parameters={
            "winners.$": "$.draw.winners",
            "employees.$": "$.draw.employees",
            "seed.$": "$.draw.seed",
            "attempt.$": "States.MathAdd($.draw.attempt, 1)",
        },
        result_path="$.draw",
    )
    limit_reached = asl.Pass(
        "Redraw Limit Reached",
        parameters={
            "Error": "RedrawLimitReached",
            "Cause.$": f"States.Format('Past winners were drawn {MAX_REDRAWS + 1} times in a row: {{}}', "
            "States.JsonToString($.check.past_winners))",
        },
        result_path="$.error",
    )

    record = lambda_task(
        "Record Winners",
        "RecordWinnersFunctionArn",
        {"draw_id.$": "$$.Execution.Name", "winners.$": "$.selection.winners"},
        result_selector={"recorded.$": "$.Payload.recorded"},
        result_path="$.outcome",
        extra_retries=[contention_retry(CONTENDED)],
        comment="Before the announcement: no winner is told of a draw that was not recorded",
    )
    notify = sns_publish(
        "Notify Winners",
        "AnnouncementsTopicArn",
        {"Subject": SUBJECT, "Message.$": "$.check.message"},
        result_path="$.announcement",
    )
    # a failed announcement leaves the draw recorded: the alert gives the command that announces
    # it, since starting afresh would draw (and announce) others, and a redrive would only run
    # Failed again. Its own error marks the run (the console offers no Start again for it).
    not_announced = asl.Pass(
        "Not Announced",
        parameters={
            "Error": NOT_ANNOUNCED,
            "Cause.$": "States.Format('Draw {} is recorded, but its winners were not told ({}: {}). Once "
            f"that is fixed, announce it with: {COMMAND} --env ${{{ENVIRONMENT}}} --draw {{}} (do not "
            "start it afresh, which would draw others). The announcement: {}', $$.Execution.Name, "
            "$.error.Error, $.error.Cause, $$.Execution.Name, $.check.message)",
        },
        result_path="$.error",
    )

    complete = asl.Pass(
        "Draw Complete",
        parameters={
            "draw_id.$": "$$.Execution.Name",
            "winners.$": "$.selection.winners",
            "message.$": "$.check.message",
            "message_id.$": "$.announcement.MessageId",
            "redraws.$": "$.draw.attempt",
        },
    )

    is_new = asl.Choice("Any Past Winner?")
    is_new.add_choice(ChoiceRule.BooleanEquals(variable="$.check.eligible", value=True), next_step=record)
    is_new.add_choice(
        ChoiceRule.NumericGreaterThanEquals(variable="$.draw.attempt", value=MAX_REDRAWS),
        next_step=limit_reached,
    )
    is_new.default_choice(count_redraw)

    catch_to(validate, alert, REJECTIONS, rejection)
    catch_to(draw, alert, ["NotEnoughEligibleEmployees"], rejection)
    for state in (check, record):
        catch_to(state, alert)
    notify.add_catch(asl.Catch(error_equals=["States.ALL"], next_step=not_announced, result_path=ERROR_PATH))
    not_announced.next(alert)
    limit_reached.next(alert)
    count_redraw.next(draw)
    record.next(notify)
    notify.next(complete)

    chain = asl.Chain([validate, draw, check, is_new])
    graph = asl.Graph(chain, comment="Lottery: draw winners, redraw past winners, record and announce")
    return graph.to_dict()


def announced_warning(env: Any, execution: Mapping[str, Any]) -> str | None:
    """Once its draw was announced by hand, why a DrawNotAnnounced run is still not started afresh;
    None while it is not (the draw's id is the run's name)."""
    at = when_announced(env, execution["name"])
    if at is None:
        return None
    return f"its draw is recorded, and was announced at {at} ({COMMAND}): a new one would draw other winners."


WORKFLOW = Workflow(
    name="lottery",
    description="Draw N winners among employees, redraw past winners, notify them and record the draw",
    type=asl.StateMachineType.STANDARD,
    build=build,
    input_schema=DRAW_REQUEST,
    # The longest path is 15 Lambda tasks of 10 s at most (Validate Request, Draw Winners and Check
    # Past Winners six times at the redraw bound, Record Winners): 2.5 minutes with each at its
    # limit, a minute more for one throttled through its whole back-off (up to 51 s) or its write
    # contended through its five retries (up to 25 s of back-off). A draw still
    # running at 15 minutes is stuck, and ends long before its claims on its winners lapse (an hour,
    # tasks.lottery.winners.CLAIM_LEASE), after which another draw could take them.
    timeout_seconds=15 * 60,
    example_input={"winners": 2},
    functions=(
        Function(
            name="validate-request",
            handler="tasks.lottery.validate_request.handler",
            description="Checks the number of winners against the employees who can still win",
            access=(Access("employees", ("dynamodb:Scan",)), Access("winners", ("dynamodb:Scan",))),
            environment={"EMPLOYEES_TABLE": "employees", "WINNERS_TABLE": "winners"},
        ),
        Function(
            name="draw-winners",
            handler="tasks.lottery.draw_winners.handler",
            description="Draws employees who have not won yet, in a random (seedable) order",
            access=(Access("employees", ("dynamodb:Query",)), Access("winners", ("dynamodb:Scan",))),
            environment={"EMPLOYEES_TABLE": "employees", "WINNERS_TABLE": "winners"},
        ),
        Function(
            name="check-winners",
            handler="tasks.lottery.check_winners.handler",
            description="Claims the drawn employees for the draw unless one already won",
            access=(Access("winners", ("dynamodb:UpdateItem",)),),  # TransactWriteItems of Updates
            environment={"WINNERS_TABLE": "winners"},
        ),
        Function(
            name="record-winners",
            handler="tasks.lottery.record_winners.handler",
            description="Records the winners of a draw, once, whatever retries or redrives happen",
            access=(Access("winners", ("dynamodb:UpdateItem",)),),  # TransactWriteItems of Updates
            environment={"WINNERS_TABLE": "winners"},
        ),
    ),
    tables=(
        Table(
            name="employees",
            partition_key=("employee_id", "S"),
            indexes=(Index("lottery_serial-index", ("lottery_serial", "N")),),
            seed="lottery-employees.json",
        ),
        Table(name="winners", partition_key=("employee_id", "S"), reset_with_demo=True),
    ),
    topics=(Topic("announcements", "Lottery winners", declared_subscribers=True),),
    integrations=(Access("announcements", ("sns:Publish",)), *ALERT_ACCESS),
    fresh_start_warnings={
        NOT_ANNOUNCED: "its draw is recorded: a new one would draw other winners. Announce this one "
        "as its cause says."
    },
    made_good_by_hand={NOT_ANNOUNCED: announced_warning},
)
